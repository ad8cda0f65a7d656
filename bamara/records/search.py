"""Find a patient: by name (accent-, case-, hyphen-insensitive and French-phonetic), birth date
(day and month swapped too), IPP, INS or national identifier; always behind the access wall."""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet

from bamara.identity.normalise import name_key
from bamara.identity.phonetic import phonetic_key

from .models import CareEpisode, NameKind, Patient, PatientName

_DATE_RE = re.compile(r"\b(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})\b|\b(\d{4})-(\d{1,2})-(\d{1,2})\b")
_DIGITS_RE = re.compile(r"^\d+$")


@dataclass
class Query:
    names: list[str] = field(default_factory=list)
    dates: list[dt.date] = field(default_factory=list)
    identifiers: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.names or self.dates or self.identifiers)


def dates_with_swap(day: int, month: int, year: int) -> list[dt.date]:
    found = []
    for d, m in ((day, month), (month, day)):  # a swapped day and month is a common typo
        with contextlib.suppress(ValueError):
            found.append(dt.date(year, m, d))
    return list(dict.fromkeys(found))


def parse(text: str) -> Query:
    query = Query()
    rest = text
    for match in _DATE_RE.finditer(text):
        if match.group(1):
            day, month, year = (int(g) for g in match.group(1, 2, 3))
        else:
            year, month, day = (int(g) for g in match.group(4, 5, 6))
        query.dates.extend(dates_with_swap(day, month, year))
        rest = rest.replace(match.group(0), " ")
    for token in rest.split():
        bare = token.strip(",;")
        if _DIGITS_RE.match(bare) or (any(c.isdigit() for c in bare) and len(bare) >= 4):
            query.identifiers.append(bare)
        elif bare:
            query.names.append(bare)
    return query


def name_filter(names: Iterable[str]) -> Q:
    """Patients whose names match every word, by normalised prefix or by sound."""
    condition = Q()
    for word in names:
        key = name_key(word)
        if not key:
            continue
        sound = phonetic_key(word)
        matches = PatientName.objects.filter(Q(key__startswith=key) | Q(phonetic=sound))
        condition &= Q(pk__in=matches.values("patient_id"))
    return condition


def birth_date_filter(dates: Iterable[dt.date]) -> Q:
    condition = Q()
    for day in dates:
        condition |= Q(birth_date=day, birth_date_precision__in=["D", ""])
        condition |= Q(birth_date__year=day.year, birth_date__month=day.month, birth_date_precision="M")
        condition |= Q(birth_date__year=day.year, birth_date_precision="Y")
    return condition


def identifier_filter(identifiers: Iterable[str]) -> Q:
    condition = Q()
    for value in identifiers:
        condition |= Q(ipp=value) | Q(ins=value) | Q(national_id=value) | Q(foetus_local_id=value)
    return condition


# Above this many name matches at the user's sites, the word is too common to narrow the
# search by itself: it is then applied as a filter instead.
CANDIDATES_MAX = 20_000


def name_candidates(word: str, sites: QuerySet) -> list[int] | None:
    """Patients of `sites` with a name matching `word`, starting from the name index (the
    planner would otherwise walk every visible patient), or None if there are too many."""
    key = name_key(word)
    if not key:
        return None
    site_ids = list(sites.values_list("pk", flat=True))
    matches = (
        PatientName.objects.filter(site_id__in=site_ids)
        .filter(Q(key__startswith=key) | Q(phonetic=phonetic_key(word)))
        .values_list("patient_id", flat=True)
        .distinct()
    )
    ids = list(matches[: CANDIDATES_MAX + 1])
    return None if len(ids) > CANDIDATES_MAX else ids


def search(patients: QuerySet[Patient], text: str, *, limit: int = 50,
           sites: QuerySet | None = None) -> list[Patient]:
    """Search within `patients` (the caller's visible patients, at `sites` when given)."""
    query = parse(text)
    if query.empty:
        return []
    qs = patients
    if query.names and sites is not None:
        candidates = name_candidates(max(query.names, key=len), sites)
        if candidates is not None:
            qs = qs.filter(pk__in=candidates)
    if query.identifiers:
        qs = qs.filter(identifier_filter(query.identifiers))
    if query.dates:
        qs = qs.filter(birth_date_filter(query.dates))
    if query.names:
        qs = qs.filter(name_filter(query.names))
    results = list(qs.order_by("birth_name", "first_birth_given_name", "pk")[: limit * 2])
    # Exact spellings first, then sound-alikes.
    keys = [name_key(n) for n in query.names]

    def rank(p: Patient) -> tuple[int, str]:
        exact = sum(1 for k in keys if k and k in (name_key(p.birth_name), name_key(p.used_name),
                                                     name_key(p.first_birth_given_name)))
        return (-exact, p.birth_name)

    return sorted(results, key=rank)[:limit]


def index_patient(patient: Patient) -> None:
    """(Re)build the name keys of one patient, at each site that follows the patient."""
    PatientName.objects.filter(patient=patient).delete()
    sites = list(CareEpisode.objects.filter(patient=patient).values_list("site_id", flat=True))
    PatientName.objects.bulk_create(name_rows(patient, sites))


def name_rows(patient: Patient, site_ids: list[int]) -> list[PatientName]:
    values = [
        (NameKind.BIRTH, patient.birth_name),
        (NameKind.USED, patient.used_name),
        (NameKind.GIVEN, patient.first_birth_given_name),
        (NameKind.USED_GIVEN, patient.used_given_name),
    ]
    rows = []
    for kind, value in values:
        key = name_key(value or "")
        if key:
            sound = phonetic_key(value)[:32]
            rows.extend(PatientName(patient_id=patient.pk, site_id=site, kind=kind, key=key[:100],
                                    phonetic=sound) for site in site_ids)
    return rows
