"""Small hand-made sources in the official formats, to load and to break on purpose."""

import csv
import gzip
import io
from pathlib import Path

ORPHA_CODES = 10839
ORPHA_REDIRECTIONS = 1124


# --- A tiny Orphanet pack in the official format ---------------------------------------------

DISORDERS = [
    # code, id, name_en, level, status, flag, type, synonyms, aggregation, associations
    (100, 1, "Rare group A", "Group of disorders", "Active", 1, "Category", [], [], []),
    (101, 2, "Beta disease", "Disorder", "Active", 1, "Disease", ["BD"], [101], []),
    (
        102,
        3,
        "Beta disease type 1",
        "Subtype of disorder",
        "Active",
        1,
        "Etiological subtype",
        [],
        [101],
        [],
    ),
    (
        103,
        4,
        "OBSOLETE: Old beta",
        "Disorder",
        "Inactive: Obsolete",
        8208,
        "Disease",
        [],
        [],
        [(4, 2, "Moved to")],
    ),
    (
        104,
        5,
        "NON RARE IN EUROPE: Common thing",
        "Disorder",
        "Inactive: Non rare disease in Europe",
        8225,
        "Disease",
        [],
        [],
        [],
    ),
    (
        105,
        6,
        "Gamma-delta syndrome",
        "Disorder",
        "Active",
        1,
        "Malformation syndrome",
        [],
        [105],
        [(4, 6, "Referred to")],
    ),
]
FR_NAMES = {
    100: "Groupe rare A",
    101: "Maladie bêta",
    102: "Maladie bêta type 1",
    103: "OBSOLETE : Ancienne bêta",
    104: "NON RARE EN EUROPE : Chose commune",
    105: "Syndrome gamma-delta",
}
FR_SYNONYMS = [(101, "Bêta-pathie"), (105, "Syndrome d'Œdipe-Gamma")]


def _disorder_xml(
    code, did, name, level, status, flag, dtype, synonyms, aggregation, associations, codes_by_id
) -> str:
    syn = "".join(f'<Synonym lang="en">{s}</Synonym>' for s in synonyms)
    assoc = ""
    for root_id, target_id, kind in associations:
        # As in the real pack: the disorder itself is a cycle="true" reference.
        def ref(tag, other_id):
            if other_id == did:
                return f'<{tag} id="{other_id}" cycle="true"/>'
            return f'<{tag} id="{other_id}"><OrphaCode>{codes_by_id[other_id]}</OrphaCode><Name lang="en">x</Name></{tag}>'

        assoc += (
            "<DisorderDisorderAssociation>"
            + ref("TargetDisorder", target_id)
            + ref("RootDisorder", root_id)
            + f'<DisorderDisorderAssociationType id="1"><Name lang="en">{kind}</Name></DisorderDisorderAssociationType>'
            "</DisorderDisorderAssociation>"
        )
    agg = "".join(
        f'<AggregationLevel><OrphaCode>{a}</OrphaCode><PreferredTerm lang="en">x</PreferredTerm></AggregationLevel>'
        for a in aggregation
    )
    return f"""
    <Disorder id="{did}">
      <OrphaCode>{code}</OrphaCode>
      <Name lang="en">{name}</Name>
      <FlagValue>{flag}</FlagValue>
      <Totalstatus lang="en">{status}</Totalstatus>
      <SynonymList count="{len(synonyms)}">{syn}</SynonymList>
      <DisorderType id="1"><Name lang="en">{dtype}</Name></DisorderType>
      <ClassificationLevel id="2"><Name lang="en">{level}</Name></ClassificationLevel>
      <DisorderDisorderAssociationList count="{len(associations)}">{assoc}</DisorderDisorderAssociationList>
      <AggregationLevelSection><AggregationLevelList count="{len(aggregation)}">{agg}</AggregationLevelList></AggregationLevelSection>
    </Disorder>"""


def nomenclature_xml(disorders=DISORDERS, count: int | None = None, root: str = "JDBOR") -> str:
    # Another disorder's association names this disorder by id only (cycle="true").
    codes_by_id = {d[1]: d[0] for d in disorders}
    body = "".join(_disorder_xml(*d, codes_by_id) for d in disorders)
    return (
        '<?xml version="1.0" encoding="ISO-8859-1"?>\n'
        f'<{root} ExtractionDate="2023-06-21 18:14:45" version="1.3.25 / 4.1.7 [2023-04-17] (orientdb version)">'
        f'<DisorderList count="{len(disorders) if count is None else count}">{body}</DisorderList></{root}>'
    )


def _node(code: int | None, children: list) -> str:
    disorder = (
        f'<Disorder id="9{code}"><OrphaCode>{code}</OrphaCode><Name lang="en">x</Name></Disorder>'
        if code
        else ""
    )
    inner = "".join(_node(c, cc) for c, cc in children)
    return f'<ClassificationNode>{disorder}<ClassificationNodeChildList count="{len(children)}">{inner}</ClassificationNodeChildList></ClassificationNode>'


def classification_xml(cid: int, tree: tuple) -> str:
    return (
        '<?xml version="1.0" encoding="ISO-8859-1"?>\n<JDBOR date="2023-06-21"><ClassificationList count="1">'
        f'<Classification id="{cid}"><OrphaNumber>{cid}000</OrphaNumber><Name lang="en">Classification {cid}</Name>'
        f'<ClassificationNodeRootList count="1">{_node(*tree)}</ClassificationNodeRootList></Classification>'
        "</ClassificationList></JDBOR>"
    )


# Two trees: 100 > 101 > 102 and (a root node without disorder, as classification 235) > 105,
# plus 100 > 105 again: a poly-hierarchy.
CLASSIFICATIONS = {
    1: (100, [(101, [(102, [])]), (105, [])]),
    2: (None, [(105, [])]),
}
EDGES = {(1, 100, 101), (1, 101, 102), (1, 100, 105)}


def write_tsv(path: Path, header: list[str], rows: list[tuple], encoding: str = "utf-8") -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter="\t", lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    data = buffer.getvalue().encode(encoding)
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(data))
    else:
        path.write_bytes(data)
    return path
