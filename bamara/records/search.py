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
    """Patients born on one of `dates`, or in its month or year when only those are known.
    Ranges rather than year/month extraction, so that the birth date index serves them."""
    condition = Q()
    for day in dates:
        month_end = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
        condition |= Q(birth_date=day, birth_date_precision__in=["D", ""])
        condition |= Q(birth_date__range=(day.replace(day=1), month_end), birth_date_precision="M")
        condition |= Q(birth_date__range=(dt.date(day.year, 1, 1), dt.date(day.year, 12, 31)),
                       birth_date_precision="Y")
    return condition


def identifier_filter(identifiers: Iterable[str]) -> Q:
    condition = Q()
    for value in identifiers:
        condition |= Q(ipp=value) | Q(ins=value) | Q(national_id=value) | Q(foetus_local_id=value)
    return condition


# What a list of results shows (records/_results.html, the day list's patient picker): the
# other columns of a patient, a hundred of them, load only if something reads them.
SHOWN_FIELDS = ("hospital_id", "birth_name", "used_name", "first_birth_given_name", "used_given_name",
                "birth_date", "birth_date_precision", "sex_code", "sex_system", "ipp", "ins",
                "updated_at")


@dataclass
class Found:
    patients: list[Patient]
    more: bool  # more patients match than are shown: the user should narrow the search


def _word_keys(names: Iterable[str]) -> list[tuple[str, str]]:
    return [(key, phonetic_key(word)) for word in names if (key := name_key(word))]


def _name_rows(site_ids: list[int] | None) -> QuerySet[PatientName]:
    rows = PatientName.objects.all()
    return rows if site_ids is None else rows.filter(site_id__in=site_ids)


def _all_words(names: QuerySet[PatientName], words: list[tuple[str, str]], *, exact: bool) -> QuerySet:
    """The patient ids whose names match every word: exactly, or by prefix or sound.

    Nested rather than one `pk IN` per word, so that the words are intersected on the name
    keys (index-only scans) before any patient row is read; a union rather than OR, so that
    prefix and sound each use their own index."""
    (key, sound), rest = words[0], words[1:]
    halves = [names.filter(key=key)] if exact else [names.filter(key__startswith=key), names.filter(phonetic=sound)]
    if rest:
        inner = _all_words(names, rest, exact=exact)
        halves = [half.filter(patient_id__in=inner) for half in halves]
    ids = [half.values("patient_id") for half in halves]
    return ids[0].union(*ids[1:]) if len(ids) > 1 else ids[0]


def find(patients: QuerySet[Patient], text: str, *, limit: int = 50,
         sites: list[int] | None = None) -> Found:
    """Search within `patients` (the caller's visible patients, at the site ids `sites` when
    given).

    Exact spellings come first, then prefixes and sound-alikes, each in name order. Names are
    looked up in the per-site name keys of `sites` and only the `limit` patients shown are
    read in full; they are read through `patients`, so nothing outside the wall is returned
    even if the name keys lag behind the care episodes.
    """
    query = parse(text)
    words = _word_keys(query.names)
    if not (words or query.dates or query.identifiers):
        return Found([], False)
    # With name keys restricted to the user's sites, the keys stand in for the wall while
    # ranking (checking every candidate's care episodes costs more than the rest of the query)
    # and the wall is applied to the page. Without names or sites, the wall comes first.
    keys_as_wall = bool(words) and sites is not None
    # The site ids as literals: simpler SQL to build and to plan than the membership subquery.
    site_ids = sites if keys_as_wall else None
    base = Patient.objects.all() if keys_as_wall else patients
    if query.identifiers:
        base = base.filter(identifier_filter(query.identifiers))
    if query.dates:
        base = base.filter(birth_date_filter(query.dates))
    order = ("birth_name", "first_birth_given_name", "pk")

    def first(qs: QuerySet[Patient], count: int) -> list:
        qs = qs.order_by(*order)
        return list(qs.values_list("pk", flat=True)[:count] if keys_as_wall else qs.only(*SHOWN_FIELDS)[:count])

    rows = []
    if words:
        rows = first(base.filter(pk__in=_all_words(_name_rows(site_ids), words, exact=True)), limit + 1)
        base = base.filter(pk__in=_all_words(_name_rows(site_ids), words, exact=False))
    if len(rows) <= limit:
        taken = [row if keys_as_wall else row.pk for row in rows]
        rows += first(base.exclude(pk__in=taken) if taken else base, limit + 1 - len(rows))
    more, rows = len(rows) > limit, rows[:limit]
    if not keys_as_wall:
        return Found(rows, more)
    shown = patients.only(*SHOWN_FIELDS).in_bulk(rows)
    if len(shown) < len(rows):
        # Name keys out of step with the care episodes (a bulk load not yet reindexed): rank
        # again behind the wall rather than show a short page.
        return find(patients, text, limit=limit, sites=None)
    return Found([shown[pk] for pk in rows], more)


def search(patients: QuerySet[Patient], text: str, *, limit: int = 50,
           sites: list[int] | None = None) -> list[Patient]:
    """The patients of `find`, without the "more" flag."""
    return find(patients, text, limit=limit, sites=sites).patients


def index_patient(patient: Patient) -> None:
    """(Re)build the name keys of one patient, at each site that follows the patient."""
    PatientName.objects.filter(patient=patient).delete()
    sites = list(CareEpisode.objects.filter(patient=patient).values_list("site_id", flat=True))
    PatientName.objects.bulk_create(name_rows(patient, sites))


NAME_FIELDS = ("birth_name", "used_name", "first_birth_given_name", "used_given_name")
_NAME_KINDS = (NameKind.BIRTH, NameKind.USED, NameKind.GIVEN, NameKind.USED_GIVEN)


def name_keys(names: Iterable[str | None]) -> list[tuple[str, str, str]]:
    """(kind, key, phonetic key) of a patient's names, given in the order of ``NAME_FIELDS``:
    what ``name_rows`` writes per site, for bulk writers that build rows without models."""
    found = []
    for kind, value in zip(_NAME_KINDS, names, strict=True):
        key = name_key(value or "")
        if key:
            found.append((kind, key[:100], phonetic_key(value)[:32]))
    return found


def name_rows(patient: Patient, site_ids: list[int]) -> list[PatientName]:
    return [PatientName(patient_id=patient.pk, site_id=site, kind=kind, key=key, phonetic=sound)
            for kind, key, sound in name_keys(getattr(patient, f) for f in NAME_FIELDS)
            for site in site_ids]
