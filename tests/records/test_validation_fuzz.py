"""validate() never raises: arbitrary junk in, only Message objects out."""

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bamara.records.fields import AgeAt, Code, PartialDate
from bamara.records.validation import (
    RULES_BY_ID,
    ActivityData,
    CareEpisodeData,
    DiagnosisData,
    FoetusData,
    HpoInfo,
    Message,
    NoTerminologies,
    OrphaInfo,
    PregnancyData,
    RecordData,
    validate,
)
from bamara.sdm import oids

SYSTEMS = [
    oids.SNOMED_CT,
    oids.TA_ASIP,
    oids.ORPHA,
    oids.ORPHA_GROUPS,
    oids.HPO,
    oids.CIM10,
    oids.HL7_GENDER,
    oids.RPPS_PROFESSIONS,
    oids.SNOMED_35,
    "",
]
CODES = [
    "767023003",
    "303112003",
    "255407002",
    "373068000",
    "303113008",
    "MED-1288",
    "GEN-020",
    "255545003",
    "2931005",
    "GEN-035",
    "GEN-092.05.04",
    "ORG-019",
    "MED-097",
    "F",
    "M",
    "UN",
    "586",
    "98053",
    "ORPHA:586",
    "HP:0001250",
    "E84.0",
    "0",
    "-1",
    "",
    "HP:\x00",  # NUL: PostgreSQL refuses it in a query parameter
    "E8\x004",
    "586\x00",
]
TEXTS = [
    "2015-04-10",
    "2015",
    "201504",
    "10/04/2015",
    "2015-02-30",
    "9999-12-31",
    "0001",
    "255081416802538",
    "2550814168025",
    "10003456789",
    "010000024",
    "2A004",
    "99134",
    "FR",
    "oui",
    "non",
    "inconnu",
    "1e999999",
    "NaN",
    "-0",
    "2024.01",
    "2022.01",
    "  ",
    "\x00",
    "é" * 300,
]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.sampled_from([Decimal("1e999999999"), Decimal("-1e-999999999"), Decimal("sNaN")]),
    st.integers(min_value=4000, max_value=5000).map(
        lambda digits: 10**digits
    ),  # beyond int->str limits
    st.text(max_size=30),
    st.sampled_from(TEXTS + CODES),
    st.binary(max_size=10),
    st.dates(),
    st.datetimes(),
    st.dates().map(PartialDate.from_date),
    st.integers(min_value=1, max_value=9999).map(PartialDate),
)
codes = st.builds(
    Code,
    st.sampled_from(CODES) | st.text(max_size=20),
    st.sampled_from(SYSTEMS) | st.text(max_size=20),
)
ages = st.builds(
    AgeAt,
    st.sampled_from(CODES),
    st.sampled_from(SYSTEMS),
    st.none()
    | st.decimals(allow_nan=True, allow_infinity=True)
    | st.integers()
    | st.text(max_size=5),
    st.sampled_from([None, "mo", "a", "wk", "", 3]),
)
# Codes and ages whose own fields hold junk (frozen dataclasses do not check types).
odd_codes = st.builds(Code, scalars, scalars) | st.builds(AgeAt, scalars, scalars, scalars, scalars)
leaves = (
    scalars | codes | ages | odd_codes | st.tuples(st.sampled_from(CODES), st.sampled_from(SYSTEMS))
)
junk = st.recursive(
    leaves,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(["code", "system", "value", "unit", "x"]), inner, max_size=3
        )
    ),
    max_leaves=4,
)


def rows(
    data_class: type, children: dict[str, st.SearchStrategy] | None = None
) -> st.SearchStrategy:
    """A row of ``data_class``: as the data class, or as a mapping, with a few junk or
    plausible values (and its children, if any)."""
    names = [f.name for f in dataclasses.fields(data_class) if f.name not in (children or {})]
    value = st.one_of(leaves, st.sampled_from(TEXTS), st.lists(codes, max_size=2), junk)
    known = st.dictionaries(st.sampled_from(names), value, max_size=8)
    if children:
        known = st.tuples(known, st.fixed_dictionaries({}, optional=children)).map(
            lambda parts: {**parts[0], **parts[1]}
        )
    instance = known.map(lambda values: data_class(**values))
    mapping = st.tuples(
        known, st.dictionaries(st.text(max_size=5) | st.integers(), junk, max_size=2)
    ).map(lambda parts: {**parts[1], **parts[0]})
    return instance | mapping | junk


foetuses = st.lists(rows(FoetusData), max_size=3)
records = rows(
    RecordData,
    {
        "diagnoses": st.lists(rows(DiagnosisData), max_size=2) | junk,
        "activities": st.lists(rows(ActivityData), max_size=2) | junk,
        "care_episodes": st.lists(rows(CareEpisodeData), max_size=2) | junk,
        "pregnancies": st.lists(rows(PregnancyData, {"foetuses": foetuses | junk}), max_size=2)
        | junk,
    },
)


def valid_record() -> RecordData:
    postnatal = "767023003"
    return RecordData(
        birth_name="MARTIN",
        birth_date="2015-04-10",
        sex=Code("F", oids.HL7_GENDER),
        deceased=True,
        death_date="2024-02",
        diagnoses=[
            DiagnosisData(
                date="2019-06",
                disease=Code("586", oids.ORPHA),
                status=Code("255545003", oids.SNOMED_CT),
                onset_age=AgeAt(postnatal, oids.SNOMED_CT, Decimal(18), "mo"),
                clinical_diagnosis_age=AgeAt(postnatal, oids.SNOMED_CT, Decimal(3), "a"),
                genetic_diagnosis_age=AgeAt("303113008", oids.SNOMED_CT),
                signs=[Code("HP:0001250", oids.HPO)],
            )
        ],
        activities=[
            ActivityData(
                site="S0101",
                date=dt.date(2020, 1, 15),
                context=Code("11429006", oids.SNOMED_CT),
                objectives=[Code("MED-097", oids.TA_ASIP)],
                performer_rpps="10003456789",
            )
        ],
        care_episodes=[
            CareEpisodeData(
                site="S0101", inclusion_date="2019-05", referrals=[Code("ORG-019", oids.TA_ASIP)]
            )
        ],
        pregnancies=[
            PregnancyData(start="2010", end="2011", foetuses=[FoetusData(rank=1, multiple=True)])
        ],
    )


def _mutate(changes: list[tuple[int, int, object]]) -> RecordData:
    """The valid record with some attributes, of the patient or of a child row, set to junk."""
    record = valid_record()
    targets = [
        record,
        record.diagnoses[0],
        record.activities[0],
        record.care_episodes[0],
        record.pregnancies[0],
        record.pregnancies[0].foetuses[0],
    ]
    for target, field, value in changes:
        row = targets[target % len(targets)]
        names = [f.name for f in dataclasses.fields(row)]
        setattr(row, names[field % len(names)], value)
    return record


# A valid record with a few values replaced: junk deep inside otherwise coherent data.
mutated = st.lists(
    st.tuples(st.integers(0, 5), st.integers(0, 100), junk | codes | ages), min_size=1, max_size=4
).map(_mutate)


class EverythingKnown:
    """Terminologies that know every code (some inactive), to reach the terminology rules."""

    def orpha(self, codes):
        return {
            code: OrphaInfo(code % 2 == 0, "group" if code % 3 else "disorder", (code + 1,))
            for code in codes
        }

    def hpo(self, ids):
        return {term: HpoInfo(len(term) % 2 == 0, "HP:0000001") for term in ids}

    def cim10(self, codes):
        return set(codes)

    def communes(self, codes):
        return set()

    def countries(self, codes):
        return set(codes)


def assert_only_messages(messages) -> None:
    assert isinstance(messages, list)
    for message in messages:
        assert isinstance(message, Message)
        assert message.code in RULES_BY_ID
        assert message.code != "check_failed", message
        assert message.level in ("error", "warning")
        assert isinstance(message.text, str) and message.text
        assert isinstance(message.item_id, str) and isinstance(message.path, str)


@settings(
    max_examples=2000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    record=records | mutated,
    sdm_version=st.sampled_from([None, "2021.01", "2022.01", "2024.01", "1.0", ""])
    | st.text(max_size=8),
    today=st.none() | st.dates() | st.just("hier"),
    terminologies=st.sampled_from([NoTerminologies(), EverythingKnown()]),
)
def test_it_never_raises_on_junk(record, sdm_version, today, terminologies):
    assert_only_messages(
        validate(record, sdm_version=sdm_version, today=today, terminologies=terminologies)
    )


def load_some_terminologies() -> None:
    from bamara.terminologies.models import (
        Cim10Code,
        Country,
        HpoTerm,
        OrphaConcept,
        OrphaRedirection,
    )

    def orpha(code: int, level: str, status: str = "active") -> OrphaConcept:
        return OrphaConcept.objects.get_or_create(
            code=code,
            defaults={
                "name_fr": "x",
                "name_en": "x",
                "disorder_type": "Disease",
                "level": level,
                "status": status,
                "flag_value": 0,
            },
        )[0]

    orpha(586, "disorder")
    orpha(98053, "group")
    OrphaRedirection.objects.get_or_create(
        source=orpha(166068, "disorder", "obsolete"),
        target=orpha(166063, "disorder"),
        defaults={"association_type": "Moved to"},
    )
    HpoTerm.objects.get_or_create(id="HP:0001250", defaults={"name": "Seizure"})
    HpoTerm.objects.get_or_create(
        id="HP:0001425", defaults={"name": "old", "is_obsolete": True, "replaced_by": "HP:0001250"}
    )
    Cim10Code.objects.get_or_create(
        code="E840",
        defaults={"code_dotted": "E84.0", "label": "x", "category": "E84", "atih_type": 0},
    )
    Country.objects.get_or_create(
        code="FR",
        defaults={"alpha3": "FRA", "numeric": "250", "name_fr": "France", "name_en": "France"},
    )


@pytest.mark.django_db
@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(record=records | mutated)
def test_it_never_raises_with_the_database_terminologies(record):
    load_some_terminologies()  # idempotent: the examples share the test's transaction
    assert_only_messages(validate(record, today=dt.date(2025, 6, 1)))
