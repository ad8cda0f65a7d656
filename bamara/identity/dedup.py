"""Duplicate detection within a hospital: blocking, then Fellegi-Sunter scoring with splink.

One model, written once as splink settings (SQL run by DuckDB), scores both the bulk search
(`find_pairs`, splink's blocked ``predict``) and one pair (`score`, splink's ``score_pairs``):
the two can never disagree. The m and u probabilities are fixed and documented (docs/identity.md
§8) rather than trained by EM at each run: the result is deterministic and testable, and a
single hospital rarely has enough duplicates for EM to converge to the same values twice.

Works on plain records (`Traits`), so that imports can check a file before it is loaded;
`hospital_candidates` builds the traits of a hospital's patients from the database.
"""

from __future__ import annotations

import logging
import math
import re
import tempfile
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .normalise import first_given_name, name_key, normalise
from .phonetic import phonetic_key

if TYPE_CHECKING:
    from bamara.organisations.models import Hospital

DEFAULT_THRESHOLD = 0.9
# Prior probability that two records of one hospital are the same person: a rare-disease
# hospital file of ~4,000 patients with ~2 % duplicates gives 2 × 0.02 / 4,000 = 1e-5.
PRIOR = 1e-5
# The bulk search's DuckDB memory (it spills beyond), and the records read per chunk.
MEMORY_LIMIT = "256MB"
CHUNK = 10_000


@dataclass(frozen=True)
class Traits:
    key: str                 # caller's identifier (patient pk, import row number...)
    birth_name: str
    first_name: str
    birth_date: str          # "YYYY-MM-DD", "YYYY-MM", "YYYY" or "" (partial dates)
    sex: str                 # "F", "M", "" unknown
    birth_place: str = ""    # INSEE commune code or "" unknown
    used_name: str = ""
    group: str = ""          # only records of one group are compared (the hospital)


@dataclass(frozen=True)
class Pair:
    key_a: str               # the smaller key (string order), then the larger one
    key_b: str
    probability: float
    reasons: tuple[str, ...]  # French labels of what agrees and what differs


def _level(sql: str, m: float | None, u: float | None, label: str, null: bool = False) -> dict:
    level: dict[str, Any] = {"sql_condition": sql, "label_for_charts": label}
    if null:
        level["is_null_level"] = True
    else:
        level.update(m_probability=m, u_probability=u)
    return level


def _name_levels(col: str, *, cross: bool) -> list[dict]:
    """Exact key, (birth/used name swapped), same FONEM code, one typo, close spelling."""
    levels = [
        _level(f"{col}_l IS NULL OR {col}_r IS NULL", None, None, "inconnu", null=True),
        _level(f"{col}_l = {col}_r", 0.88 if cross else 0.9, 0.002 if cross else 0.01, "identique"),
    ]
    if cross:
        levels.append(_level(
            "(un_l IS NOT NULL AND (un_l = sn_r OR un_l = un_r)) OR (un_r IS NOT NULL AND un_r = sn_l)",
            0.02, 0.0004, "nom utilisé et nom de naissance"))
    levels += [
        _level(f"{col}_ph_l = {col}_ph_r", 0.04, 0.001 if cross else 0.003, "même phonétique"),
        _level(f"damerau_levenshtein({col}_l, {col}_r) <= 1", 0.03, 0.001 if cross else 0.002,
               "une faute de frappe"),
        _level(f"jaro_winkler_similarity({col}_l, {col}_r) >= 0.9", 0.015 if cross else 0.02,
               0.003 if cross else 0.01, "orthographe proche"),
    ]
    if not cross:
        # Twins share every trait but the first name, which the independence of the
        # comparisons cannot see: a different first name on the same full birth date weighs
        # against a match enough to cancel the date's weight (docs/identity.md §8).
        levels.append(_level("length(dob_l) = 10 AND dob_l = dob_r", 1e-7, 0.0005,
                             "différent, même date de naissance (jumeaux ?)"))
    m_else = 1 - sum(level.get("m_probability", 0) for level in levels)
    u_else = 1 - sum(level.get("u_probability", 0) for level in levels)
    levels.append(_level("ELSE", round(m_else, 6), round(u_else, 6), "différent"))
    return levels


def settings() -> dict[str, Any]:
    """The splink model: blocking rules, comparisons and their fixed m/u probabilities."""
    return {
        "link_type": "dedupe_only",
        "unique_id_column_name": "key",
        "probability_two_random_records_match": PRIOR,
        "blocking_rules_to_generate_predictions": [
            # Within one group (a hospital: duplicates are merged within a hospital).
            # Same full date, or day and month swapped (both give the same sorted key), and a
            # birth name or first name of the same initial: in a million records, a date
            # alone paired each record with ~30 others.
            "l.grp = r.grp AND l.dob_sorted = r.dob_sorted AND (left(l.sn, 1) = left(r.sn, 1) OR left(l.fn, 1) = left(r.fn, 1))",
            # Same sounding names: catches typos in the date and partial dates.
            "l.grp = r.grp AND l.sn_ph = r.sn_ph AND l.fn_ph = r.fn_ph",
            # Same sounding birth name and birth year (and a sex that does not differ): a typo
            # in the first name and in the date.
            "l.grp = r.grp AND l.sn_ph = r.sn_ph AND l.year = r.year AND (l.sex IS NULL OR r.sex IS NULL OR l.sex = r.sex)",
            # A used name typed as the birth name, with the same first name and year.
            "l.grp = r.grp AND l.un_ph = r.sn_ph AND l.fn_ph = r.fn_ph",
            "l.grp = r.grp AND l.sn_ph = r.un_ph AND l.fn_ph = r.fn_ph",
        ],
        "comparisons": [
            {"output_column_name": "sn", "comparison_levels": _name_levels("sn", cross=True)},
            {"output_column_name": "fn", "comparison_levels": _name_levels("fn", cross=False)},
            {"output_column_name": "dob", "comparison_levels": [
                _level("dob_l IS NULL OR dob_r IS NULL", None, None, "inconnue", null=True),
                _level("dob_l = dob_r AND length(dob_l) = 10", 0.88, 0.00004, "identique"),
                _level("length(dob_l) = 10 AND length(dob_r) = 10 AND year_l = year_r"
                       " AND substr(dob_l, 6, 2) = substr(dob_r, 9, 2)"
                       " AND substr(dob_l, 9, 2) = substr(dob_r, 6, 2)",
                       0.03, 0.00004, "jour et mois inversés"),
                _level("length(dob_l) = 10 AND length(dob_r) = 10"
                       " AND levenshtein(dob_l, dob_r) <= 1", 0.03, 0.0009, "un chiffre différent"),
                _level("starts_with(dob_l, dob_r) OR starts_with(dob_r, dob_l)", 0.04, 0.0006,
                       "date partielle compatible"),
                _level("substr(dob_l, 1, 7) = substr(dob_r, 1, 7) AND length(dob_l) >= 7"
                       " AND length(dob_r) >= 7", 0.01, 0.001, "même mois"),
                _level("year_l = year_r", 0.005, 0.012, "même année"),
                _level("ELSE", 0.005, 0.98542, "différente"),
            ]},
            {"output_column_name": "sex", "comparison_levels": [
                _level("sex_l IS NULL OR sex_r IS NULL", None, None, "inconnu", null=True),
                _level("sex_l = sex_r", 0.995, 0.5, "identique"),
                _level("ELSE", 0.005, 0.5, "différent"),
            ]},
            {"output_column_name": "place", "comparison_levels": [
                _level("place_l IS NULL OR place_r IS NULL", None, None, "inconnu", null=True),
                _level("place_l = place_r", 0.90, 0.02, "identique"),
                _level("substr(place_l, 1, 2) = substr(place_r, 1, 2)", 0.05, 0.10, "même département"),
                _level("ELSE", 0.05, 0.88, "différent"),
            ]},
        ],
        "retain_matching_columns": False,
        "retain_intermediate_calculation_columns": True,
    }


# What the French reasons say about each comparison (the level labels complete them).
_TRAIT_LABELS = {"sn": "nom", "fn": "prénom", "dob": "date de naissance", "sex": "sexe",
                 "place": "lieu de naissance"}
_COMPARISONS = [c["output_column_name"] for c in settings()["comparisons"]]
# Level labels by match weight (log2 m/u): splink 5's predict gives each comparison's weight
# (mw_<name>), not its level; every level of a comparison has a distinct weight (tested).
_LABELS = {
    c["output_column_name"]: [(math.log2(level["m_probability"] / level["u_probability"]),
                               level["label_for_charts"])
                              for level in c["comparison_levels"] if not level.get("is_null_level")]
    for c in settings()["comparisons"]
}


def _reasons(weights: dict[str, float | None]) -> tuple[str, ...]:
    """French reasons from the match weight of each comparison (0 when a trait is unknown)."""
    reasons = []
    for name in _COMPARISONS:
        weight = weights.get(name)
        if weight is None:
            continue
        for level_weight, label in _LABELS[name]:
            if abs(level_weight - weight) < 1e-6:
                reasons.append(f"{_TRAIT_LABELS[name]} : {label}")
                break
    return tuple(reasons)


_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


def _date_columns(text: str) -> tuple[str | None, str | None, str | None]:
    """(date as known, year, sorted key for full dates), or Nones when unknown or malformed."""
    text = (text or "").strip()
    text = re.sub(r"^(\d{4})-00(-00)?$", r"\1", text)  # the INS zero convention
    text = re.sub(r"^(\d{4}-\d{2})-00$", r"\1", text)
    match = _DATE.match(text)
    if not match:
        return None, None, None
    year, month, day = match.groups()
    if day is None:
        return text, year, None
    low, high = sorted((month, day))
    return text, year, f"{year}-{low}-{high}"


def _or_none(text: str) -> str | None:
    return text or None


def features(traits: Traits) -> dict[str, Any]:
    """The comparison columns of one record: keys, FONEM codes and date parts."""
    sn = name_key(traits.birth_name)
    un = name_key(traits.used_name)
    fn = name_key(first_given_name("", traits.first_name))
    dob, year, dob_sorted = _date_columns(traits.birth_date)
    sex = normalise(traits.sex)[:1]
    place = (traits.birth_place or "").strip().upper()
    return {
        "key": str(traits.key),
        "sn": _or_none(sn), "sn_ph": _or_none(phonetic_key(sn)),
        "un": _or_none(un if un != sn else ""), "un_ph": _or_none(phonetic_key(un) if un != sn else ""),
        "fn": _or_none(fn), "fn_ph": _or_none(phonetic_key(fn)),
        "dob": dob, "year": year, "dob_sorted": dob_sorted,
        "sex": sex if sex in ("F", "M") else None,
        "place": place if len(place) == 5 else None,
        "grp": str(traits.group),
    }


_COLUMNS = list(features(Traits("0", "", "", "", "")))


def _arrow(rows: list[dict[str, Any]]):
    import pyarrow as pa

    return pa.table({name: pa.array([row[name] for row in rows], pa.string()) for name in _COLUMNS})


def _connection(memory_limit: str | None = None):
    import duckdb

    # DuckDB spills to a temporary directory of its own, never to the working directory.
    config = {"temp_directory": tempfile.gettempdir() + "/bamara-duckdb"}
    if memory_limit:
        config["memory_limit"] = memory_limit
    return duckdb.connect(config=config)


def _linker(rows: list[dict[str, Any]]):
    from splink import DuckDBAPI, Linker

    db_api = DuckDBAPI(_connection())
    return Linker(db_api.register(_arrow(rows)), settings(), log_level=None)


def _load(connection, records: Iterable[Traits]) -> int:
    """The records' features into the DuckDB table ``records``, CHUNK rows at a time: the
    Python side holds one chunk, never the whole file (a million rows of feature dicts took
    over a gigabyte). The row count."""
    names = ", ".join(f'"{name}" VARCHAR' for name in _COLUMNS)
    connection.execute(f"CREATE TABLE records ({names})")
    count = 0
    chunk: list[dict[str, Any]] = []

    def flush() -> None:
        connection.register("chunk", _arrow(chunk))
        connection.execute("INSERT INTO records SELECT * FROM chunk")
        connection.unregister("chunk")
        chunk.clear()

    for traits in records:
        chunk.append(features(traits))
        count += 1
        if len(chunk) == CHUNK:
            flush()
    if chunk:
        flush()
    return count


def _pairs_from(records: list[dict[str, Any]]) -> list[Pair]:
    pairs = []
    for row in records:
        a, b = row["key_l"], row["key_r"]
        if b < a:
            a, b = b, a
        weights = {name: row.get(f"mw_{name}") for name in _COMPARISONS}
        pairs.append(Pair(a, b, float(row["match_probability"]), _reasons(weights)))
    return pairs


def find_pairs(records: Iterable[Traits], threshold: float = DEFAULT_THRESHOLD) -> list[Pair]:
    """Candidate pairs at or above the threshold, most probable first.

    The records are streamed into DuckDB, which works within MEMORY_LIMIT and spills the rest
    to disk. Raises ValueError when two records share a key.
    """
    from splink import DuckDBAPI, Linker

    connection = _connection(MEMORY_LIMIT)
    try:
        count = _load(connection, records)
        if count < 2:
            return []
        if connection.execute('SELECT count(DISTINCT "key") FROM records').fetchall()[0][0] != count:
            raise ValueError("deux enregistrements ont la même clé")
        logging.getLogger("splink").setLevel(logging.WARNING)
        linker = Linker(DuckDBAPI(connection).register("records"), settings(), log_level=None)
        predictions = linker.inference.predict(threshold_match_probability=threshold)
        relation = predictions.as_duckdbpyrelation()
        columns = relation.columns
        wanted = ["key_l", "key_r", "match_probability"] + [f"mw_{name}" for name in _COMPARISONS]
        selected = [name for name in wanted if name in columns]
        result = [dict(zip(selected, values, strict=True)) for values in relation.select(*selected).fetchall()]
    finally:
        connection.close()
    pairs = _pairs_from(result)
    pairs.sort(key=lambda pair: (-pair.probability, pair.key_a, pair.key_b))
    return pairs


_local = threading.local()


def score(a: Traits, b: Traits) -> float:
    """The match probability of two records, by the same splink model as `find_pairs`."""
    return explain(a, b).probability


def explain(a: Traits, b: Traits) -> Pair:
    """The scored pair with its reasons (no blocking: any two records can be compared)."""
    left, right = features(a), features(b)
    left["key"], right["key"] = "a", "b"
    linker = getattr(_local, "linker", None)
    if linker is None:
        # One linker per thread, kept: building it costs ~50 ms, scoring a pair ~30 ms.
        logging.getLogger("splink").setLevel(logging.WARNING)
        linker = _local.linker = _linker([left, right])
    row = linker.inference.score_pair(left, right).as_record_list()[0]
    weights = {name: row.get(f"mw_{name}") for name in _COMPARISONS}
    probability = float(row["match_probability"])
    if math.isnan(probability):
        probability = 0.0
    key_a, key_b = sorted((str(a.key), str(b.key)))
    return Pair(key_a, key_b, probability, _reasons(weights))


def _weight_sql(comparison: dict[str, Any]) -> str:
    """The comparison's match weight (log2 m/u; 0 when unknown) as one SQL CASE expression."""
    cases = []
    for level in comparison["comparison_levels"]:
        weight = 0.0 if level.get("is_null_level") else math.log2(level["m_probability"] / level["u_probability"])
        if level["sql_condition"] == "ELSE":
            cases.append(f"ELSE {weight!r}::DOUBLE")
        else:
            cases.append(f"WHEN {level['sql_condition']} THEN {weight!r}::DOUBLE")
    return "CASE " + " ".join(cases) + " END"


def score_many(pairs: Iterable[tuple[Traits, Traits]]) -> list[float]:
    """Match probabilities of many given pairs at once (no blocking), in their order.

    The same settings, evaluated in one DuckDB query rather than one splink call per pair:
    use it instead of `score` in loops (tested to agree with it).
    """
    import duckdb
    import pyarrow as pa

    lefts, rights = [], []
    for a, b in pairs:
        lefts.append(features(a))
        rights.append(features(b))
    if not lefts:
        return []
    columns = {"n": pa.array(range(len(lefts)), pa.int64())}
    for name in _COLUMNS:
        columns[f"{name}_l"] = pa.array([row[name] for row in lefts], pa.string())
        columns[f"{name}_r"] = pa.array([row[name] for row in rights], pa.string())
    connection = duckdb.connect()
    connection.register("pairs", pa.table(columns))
    prior = math.log2(PRIOR / (1 - PRIOR))
    total = " + ".join(f"({_weight_sql(c)})" for c in settings()["comparisons"])
    rows = connection.sql(f"SELECT n, {prior!r}::DOUBLE + {total} AS w FROM pairs ORDER BY n").fetchall()
    return [1 / (1 + 2 ** -weight) for _n, weight in rows]


# -- the database side --

def patient_traits(values: dict[str, Any]) -> Traits:
    """Traits from a Patient's columns (as read by `hospital_traits`)."""
    date = values["birth_date"]
    precision = values["birth_date_precision"]
    text = ""
    if date is not None:
        text = {"Y": date.strftime("%Y"), "M": date.strftime("%Y-%m")}.get(precision, date.isoformat())
    return Traits(
        key=str(values["pk"]),
        birth_name=values["birth_name"],
        first_name=values["first_birth_given_name"] or values["birth_given_names"],
        birth_date=text,
        sex=values["sex_code"] if values["sex_code"] in ("F", "M") else "",
        birth_place=values["birth_commune"],
        used_name=values["used_name"],
    )


TRAIT_COLUMNS = ("pk", "birth_name", "first_birth_given_name", "birth_given_names", "birth_date",
                 "birth_date_precision", "sex_code", "birth_commune", "used_name")


def hospital_patients(hospital: Hospital):
    """The hospital's person records: those with a care episode at one of its sites."""
    from django.db.models import Exists, OuterRef

    from bamara.records.models import CareEpisode, Patient

    episodes = CareEpisode.objects.filter(patient=OuterRef("pk"), site__hospital=hospital)
    return Patient.objects.filter(Exists(episodes), is_foetus=False).exclude(birth_name="")


def hospital_traits(hospital: Hospital) -> list[Traits]:
    return [patient_traits(values) for values in
            hospital_patients(hospital).values(*TRAIT_COLUMNS).iterator(chunk_size=5000)]


def hospital_candidates(hospital: Hospital, threshold: float = DEFAULT_THRESHOLD) -> list[Pair]:
    """Candidate pairs over the hospital's patients; keys are patient pks as text."""
    return find_pairs(hospital_traits(hospital), threshold)


def fill_queue(hospital: Hospital, pairs: list[Pair]) -> dict[str, int]:
    """Store the pairs in the review queue: new pairs pending, pending ones re-scored; pairs
    already decided (merged, rejected) stay as decided."""
    from django.db import transaction

    from .models import CandidateStatus, DuplicateCandidate

    counts = {"created": 0, "updated": 0, "decided": 0}
    wanted = {}
    for pair in pairs:
        low, high = sorted((int(pair.key_a), int(pair.key_b)))
        wanted[(low, high)] = pair
    existing = {(c.patient_a, c.patient_b): c for c in
                DuplicateCandidate.objects.filter(hospital=hospital)}
    new, changed = [], []
    for (low, high), pair in wanted.items():
        candidate = existing.get((low, high))
        if candidate is None:
            new.append(DuplicateCandidate(hospital=hospital, patient_a=low, patient_b=high,
                                          probability=pair.probability, reasons=list(pair.reasons)))
        elif candidate.status == CandidateStatus.PENDING:
            candidate.probability, candidate.reasons = pair.probability, list(pair.reasons)
            changed.append(candidate)
        else:
            counts["decided"] += 1
    with transaction.atomic():
        DuplicateCandidate.objects.bulk_create(new, batch_size=1000, ignore_conflicts=True)
        DuplicateCandidate.objects.bulk_update(changed, ["probability", "reasons"], batch_size=1000)
    counts["created"], counts["updated"] = len(new), len(changed)
    return counts
