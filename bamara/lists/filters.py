"""The filters of the patient list, shared by the list page, the downloads and the
`export_patients` command.

    form = ListFilterForm(request.GET, sites=access.user_sites(user))
    if form.is_valid():
        patients = form.patients()   # a lazy QuerySet

The wall: the sites a user may choose are `access.user_sites(user)` (the form refuses any
other), and the list holds only patients with a care episode at the chosen sites, which is
`access.visible_patients(user, site)` for those sites. It is read from `lists.Entry`, one row
per care episode kept by triggers with the patient's sort keys and filtered columns, so that a
page is an ordered read of the site's index (1M patients). Other criteria are EXISTS on one
child table (diagnoses, activities) so that a patient appears once without DISTINCT. Diagnosis criteria (ORPHA, CIM-10, HPO, status, age at diagnosis) apply to
one and the same diagnosis. Completeness is stored on the entries once computed (the triggers
clear it when the record changes); filtering on it computes at most COMPLETENESS_LIMIT values.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import re
from collections.abc import Iterable, Iterator

from django import forms
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import QueryDict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from bamara.organisations.models import Site
from bamara.records.completeness import completeness
from bamara.records.models import Activity, ClinicalSign, Patient
from bamara.records.validation.data import PREFETCH
from bamara.sdm import definition as sdm_definition
from bamara.sdm import oids
from bamara.terminologies import hpo, orphanet
from bamara.terminologies.models import OrphaConcept, Terminology, TerminologyRelease

from . import entries
from .models import CodeSet, Entry, EntryDiagnosis

COMPLETENESS_LIMIT = 5000
FEW = 2000  # matching entries sorted after being found (ListFilterForm.ordered_ids)
PAGE_SIZE = 25

# Columns of both Patient and Entry (the patient's id is `patient_id` on Entry).
SORTS = {
    "nom": ("birth_name", "first_birth_given_name", "patient_id"),
    "-nom": ("-birth_name", "-first_birth_given_name", "-patient_id"),
    "naissance": ("birth_date", "patient_id"),
    "-naissance": ("-birth_date", "-patient_id"),
    "maj": ("updated_at", "patient_id"),
    "-maj": ("-updated_at", "-patient_id"),
}
SORT_LABELS = {
    "nom": gettext_lazy("Nom (A → Z)"),
    "-nom": gettext_lazy("Nom (Z → A)"),
    "naissance": gettext_lazy("Date de naissance (plus âgés d'abord)"),
    "-naissance": gettext_lazy("Date de naissance (plus jeunes d'abord)"),
    "-maj": gettext_lazy("Dernière mise à jour (récente d'abord)"),
    "maj": gettext_lazy("Dernière mise à jour (ancienne d'abord)"),
}

_DEPARTEMENT = re.compile(r"^(0[1-9]|1\d|2[1-9AB]|[3-8]\d|9[0-5]|97[1-8])$")
_CIM10 = re.compile(r"^[A-Z]\d{2}(\.?\w{1,4})?$")
_NONE = ("", "—")


def _value_set_choices(item_id: str) -> list[tuple[str, str]]:
    d = sdm_definition.current()
    value_set = d.value_set_for(d.item(item_id))
    return [("", _("Tous"))] + [(code.code, code.label_fr) for code in value_set.codes]


class SitesField(forms.MultipleChoiceField):
    """The sites to list, among the user's, cleaned to Site objects. Its choices come from a
    list read once (a ModelMultipleChoiceField reads its queryset again to render, through a
    server-side cursor on PostgreSQL)."""

    widget = forms.CheckboxSelectMultiple

    def set_sites(self, sites: Iterable[Site]) -> None:
        self.sites = {str(site.pk): site for site in sites}
        self.choices = [(key, str(site)) for key, site in self.sites.items()]

    def clean(self, value: object) -> list[Site]:
        return [self.sites[key] for key in super().clean(value)]


class ListFilterForm(forms.Form):
    sites = SitesField(
        label=gettext_lazy("Sites"), required=False,
        help_text=gettext_lazy("Par défaut, le site sur lequel vous travaillez."),
    )
    orpha = forms.CharField(
        label=gettext_lazy("Maladie ou groupe ORPHA"), required=False, max_length=20,
        help_text=gettext_lazy("ex. ORPHA:586 ; inclut toutes les maladies qu'il regroupe dans les classifications Orphanet."),
    )
    cim10 = forms.CharField(label=gettext_lazy("Code CIM-10"), required=False, max_length=8,
                            help_text=gettext_lazy("ex. E84 (inclut E84.0, E84.1…)"))
    hpo = forms.CharField(label=gettext_lazy("Signe clinique HPO"), required=False, max_length=12,
                          help_text=gettext_lazy("ex. HP:0002110 ; inclut les termes plus précis."))
    statut = forms.ChoiceField(label=gettext_lazy("Statut du diagnostic"), required=False)
    age_diag = forms.ChoiceField(label=gettext_lazy("Âge au diagnostic clinique"), required=False)
    age_min = forms.IntegerField(label=gettext_lazy("Âge minimum (ans)"), required=False, min_value=0, max_value=130)
    age_max = forms.IntegerField(label=gettext_lazy("Âge maximum (ans)"), required=False, min_value=0, max_value=130)
    sexe = forms.ChoiceField(label=gettext_lazy("Sexe"), required=False)
    vital = forms.ChoiceField(label=gettext_lazy("Statut vital"), required=False, choices=[
        ("", gettext_lazy("Tous")), ("vivant", gettext_lazy("Vivant")), ("decede", gettext_lazy("Décédé")),
        ("inconnu", gettext_lazy("Inconnu")),
    ])
    departement = forms.CharField(label=gettext_lazy("Département de résidence"), required=False, max_length=3,
                                  help_text=gettext_lazy("ex. 75, 2A, 974"))
    activite_du = forms.DateField(label=gettext_lazy("Activité du"), required=False,
                                  widget=forms.DateInput(attrs={"type": "date"}))
    activite_au = forms.DateField(label=gettext_lazy("Activité au"), required=False,
                                  widget=forms.DateInput(attrs={"type": "date"}))
    contexte = forms.ChoiceField(label=gettext_lazy("Contexte de l'activité"), required=False)
    inclusion_du = forms.DateField(label=gettext_lazy("Inclusion dans le site du"), required=False,
                                   widget=forms.DateInput(attrs={"type": "date"}))
    inclusion_au = forms.DateField(label=gettext_lazy("Inclusion dans le site au"), required=False,
                                   widget=forms.DateInput(attrs={"type": "date"}))
    completude_min = forms.IntegerField(label=gettext_lazy("Complétude minimale (%)"), required=False,
                                        min_value=0, max_value=100)
    completude_max = forms.IntegerField(label=gettext_lazy("Complétude maximale (%)"), required=False,
                                        min_value=0, max_value=100)
    opposition = forms.ChoiceField(label=gettext_lazy("Opposition"), required=False, choices=[
        ("", gettext_lazy("Tous")), ("non", gettext_lazy("Sans opposition")), ("oui", gettext_lazy("Avec opposition")),
    ])
    tri = forms.ChoiceField(label=gettext_lazy("Trier par"), required=False,
                            choices=list(SORT_LABELS.items()))

    def __init__(self, data: QueryDict | dict | None = None, *, sites: QuerySet[Site] | list[Site],
                 default_site: Site | None = None, **kwargs) -> None:
        super().__init__(data, **kwargs)
        self.fields["sites"].set_sites(sorted(sites, key=lambda site: site.code))
        self.default_site = default_site
        for name, item_id in (("statut", "statut_diagnostic"), ("age_diag", "age_diag_clinique"),
                              ("sexe", "sexe"), ("contexte", "activite_contexte")):
            self.fields[name].choices = _value_set_choices(item_id)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxSelectMultiple):
                continue
            widget.attrs["class"] = "fr-select" if isinstance(widget, forms.Select) else "fr-input"
        self._entries: QuerySet[Entry] | None = None
        self.orpha_codes: set[int] = set()
        self.hpo_terms: set[str] = set()

    # -- validation: a clear French message per field, nothing silently dropped

    def clean_orpha(self) -> int | None:
        text = self.cleaned_data["orpha"].strip()
        if not text:
            return None
        code = orphanet.parse_code(text)
        if code is None:
            raise forms.ValidationError(_("« %(value)s » n'est pas un code ORPHA (ex. ORPHA:586).") % {"value": text})
        if not OrphaConcept.objects.filter(code=code).exists():
            raise forms.ValidationError(_("Le code ORPHA:%(code)s est inconnu de la nomenclature Orphanet.") % {"code": code})
        self.orpha_codes = set(_orpha_codes(code))
        return code

    def clean_cim10(self) -> str:
        text = self.cleaned_data["cim10"].strip().upper()
        if text and not _CIM10.match(text):
            raise forms.ValidationError(_("« %(value)s » n'est pas un code CIM-10 (ex. E84 ou E84.0).") % {"value": text})
        return text

    def clean_hpo(self) -> str:
        text = self.cleaned_data["hpo"].strip()
        if not text:
            return ""
        term = hpo.resolve(text)
        if term is None:
            raise forms.ValidationError(_("« %(value)s » n'est pas un terme HPO connu (ex. HP:0002110).") % {"value": text})
        self.hpo_terms = {term, *hpo.descendants(term)}
        return term

    def clean_departement(self) -> str:
        text = self.cleaned_data["departement"].strip().upper()
        if text and not _DEPARTEMENT.match(text):
            raise forms.ValidationError(_("« %(value)s » n'est pas un code de département (ex. 75, 2A, 974).") % {"value": text})
        return text

    def clean(self) -> dict:
        data = super().clean()
        for low, high, message in (
            ("age_min", "age_max", _("L'âge minimum dépasse l'âge maximum.")),
            ("activite_du", "activite_au", _("La période d'activité se termine avant de commencer.")),
            ("inclusion_du", "inclusion_au", _("La période d'inclusion se termine avant de commencer.")),
            ("completude_min", "completude_max", _("La complétude minimale dépasse la maximale.")),
        ):
            if data.get(low) is not None and data.get(high) is not None and data[low] > data[high]:
                self.add_error(high, message)
        return data

    # -- the query

    def selected_sites(self) -> list[Site]:
        chosen = list(self.cleaned_data.get("sites") or [])
        if chosen:
            return chosen
        if self.default_site is not None:
            return [self.default_site]
        return list(self.fields["sites"].sites.values())

    def sort(self) -> tuple[str, ...]:
        """The order, as columns of lists.Entry."""
        return SORTS.get(self.cleaned_data.get("tri") or "nom", SORTS["nom"])

    def patient_sort(self) -> tuple[str, ...]:
        """The same order, as columns of Patient."""
        return tuple(key.replace("patient_id", "pk") for key in self.sort())

    def entries(self) -> QuerySet[Entry]:
        """The list entries (care episodes) at the selected sites (a subset of the sites the
        form was given: the user's) of the patients meeting every criterion. Patient criteria
        read the entry's copies of the patient's columns; diagnosis and activity criteria are
        EXISTS on those tables. Built once per form (the count and the page both use it)."""
        if self._entries is None:
            self._entries = self._build_entries()
        return self._entries

    def _build_entries(self) -> QuerySet[Entry]:
        data = self.cleaned_data
        site_ids = [site.pk for site in self.selected_sites()]
        entries = Entry.objects.filter(site_id__in=site_ids)
        if data.get("inclusion_du"):
            entries = entries.filter(inclusion_date__gte=data["inclusion_du"])
        if data.get("inclusion_au"):
            entries = entries.filter(inclusion_date__lte=data["inclusion_au"])
        today = dt.date.today()
        if data.get("age_min") is not None:
            entries = entries.filter(birth_date__lte=_years_before(today, data["age_min"]))
        if data.get("age_max") is not None:
            # Born after the day the patient would have turned age_max + 1.
            entries = entries.filter(birth_date__gt=_years_before(today, data["age_max"] + 1))
        if data.get("sexe"):
            entries = entries.filter(sex_code=data["sexe"])
        vital = data.get("vital")
        if vital == "vivant":
            entries = entries.filter(deceased=False)
        elif vital == "decede":
            entries = entries.filter(deceased=True)
        elif vital == "inconnu":
            entries = entries.filter(deceased__isnull=True)
        if data.get("departement"):
            entries = entries.filter(residence_commune__startswith=data["departement"])
        if data.get("opposition"):
            entries = entries.filter(opposition=data["opposition"] == "oui")
        diagnoses = self._diagnoses(site_ids)
        if diagnoses is not None:
            entries = entries.filter(patient_id__in=diagnoses.values("patient_id"))
        if data.get("activite_du") or data.get("activite_au") or data.get("contexte"):
            activities = Activity.objects.filter(patient=OuterRef("patient_id"), site_id__in=site_ids)
            if data.get("activite_du"):
                activities = activities.filter(date__gte=data["activite_du"])
            if data.get("activite_au"):
                activities = activities.filter(date__lte=data["activite_au"])
            if data.get("contexte"):
                activities = activities.filter(context_code=data["contexte"])
            entries = entries.filter(Exists(activities))
        return entries

    def count(self) -> int:
        """The number of patients (a patient followed at two selected sites counts once)."""
        entries = self.entries()
        if len(self.selected_sites()) == 1:  # one entry per patient and site
            return entries.count()
        return entries.values("patient_id").distinct().count()

    def ordered_ids(self, count: int | None = None) -> QuerySet:
        """The patients' ids in the chosen order, read in order from the entries' per-site
        index (lists.Entry): a page costs its rows, not a sort of the site's patients.

        With `count` (from `count()`) at most FEW: the matching entries are taken first, then
        sorted. The planner cannot know that a code frequent nationally is rare at this site,
        and would otherwise walk the site's whole index probing each patient's diagnoses."""
        entries = self.entries()
        if count == 0:
            entries = entries.none()
        elif count is not None and count <= FEW:
            entries = Entry.objects.filter(pk__in=list(entries.values_list("pk", flat=True)))
        ids = entries.order_by(*self.sort()).values_list("patient_id", flat=True)
        if len(self.selected_sites()) > 1:
            ids = ids.distinct()  # the sort keys are the patient's: one row per patient
        return ids

    def patients(self) -> QuerySet[Patient]:
        """The filtered patients followed at the selected sites."""
        return Patient.objects.filter(pk__in=self.entries().values("patient_id"))

    def _diagnoses(self, site_ids: list[int]) -> QuerySet[EntryDiagnosis] | None:
        """The diagnoses, at the selected sites, meeting every diagnosis criterion (one and
        the same diagnosis). The entries take their patients as an uncorrelated IN: a listed
        patient's diagnoses are copied to each of its sites alike, and SQLite re-reads an IN
        list (the ORPHA group's CodeSet) once per row of a correlated EXISTS (330 ms → 2 ms
        for 136 patients)."""
        data = self.cleaned_data
        conditions = Q()
        if data.get("orpha"):
            # Groups may be recorded as diagnoses too (JDV Orpha groupes de maladies).
            conditions &= Q(disease_system__in=[oids.ORPHA, oids.ORPHA_GROUPS],
                            disease_code__in=code_set("orphanet", data["orpha"], self.orpha_codes))
        if data.get("cim10"):
            code = data["cim10"]
            # Stored dotted (E84.0) or not (E840): match the category and the exact code both ways.
            conditions &= Q(disease_system=oids.CIM10) & (
                Q(disease_code__startswith=code) | Q(disease_code__startswith=code.replace(".", ""))
            )
        if data.get("statut"):
            conditions &= Q(status_code=data["statut"])
        if data.get("age_diag"):
            conditions &= Q(clinical_diagnosis_age_code=data["age_diag"])
        if not conditions and not data.get("hpo"):
            return None
        diagnoses = EntryDiagnosis.objects.filter(conditions, site_id__in=site_ids)
        if data.get("hpo"):
            signs = ClinicalSign.objects.filter(diagnosis=OuterRef("diagnosis_id"), sign_system=oids.HPO,
                                                sign_code__in=sorted(self.hpo_terms))
            diagnoses = diagnoses.filter(Exists(signs))
        return diagnoses

    @property
    def filters_completeness(self) -> bool:
        return self.cleaned_data.get("completude_min") is not None or self.cleaned_data.get("completude_max") is not None

    def with_completeness(self, patients: QuerySet[Patient]) -> QuerySet[Patient] | None:
        """Narrow `patients` to the completeness bounds; None when more than COMPLETENESS_LIMIT
        values would have to be computed (then ask for other filters). For one site, the
        values stored on the list entries, computing the ones not yet known; for several,
        computed over the selected sites together."""
        if not self.filters_completeness:
            return patients
        low = self.cleaned_data.get("completude_min") or 0
        high = self.cleaned_data.get("completude_max")
        high = 100 if high is None else high
        sites = self.selected_sites()
        if len(sites) == 1:
            candidates = self.entries()
            unknown = list(candidates.filter(Q(completeness__isnull=True) | Q(completeness__lt=0))
                           .values_list("patient_id", flat=True)[:COMPLETENESS_LIMIT + 1])
            if len(unknown) > COMPLETENESS_LIMIT:
                return None
            values: dict[int, int] = {}
            for start in range(0, len(unknown), 200):
                values |= entries.fill_completeness(sites[0].pk, unknown[start:start + 200])
            # Stored values, and the ones computed now (not stored if the record changed meanwhile).
            kept = candidates.filter(completeness__gte=low, completeness__lte=high).values_list("patient_id", flat=True)
            ids = set(kept) | {pk for pk, value in values.items() if low <= value <= high}
            return patients.filter(pk__in=ids)
        candidates = list(patients.order_by().values_list("pk", flat=True)[:COMPLETENESS_LIMIT + 1])
        if len(candidates) > COMPLETENESS_LIMIT:
            return None
        kept = []
        for start in range(0, len(candidates), 500):
            chunk = Patient.objects.filter(pk__in=candidates[start:start + 500]).prefetch_related(*PREFETCH)
            for patient in chunk:
                if low <= completeness(patient, sites).mandatory_percent <= high:
                    kept.append(patient.pk)
        return patients.filter(pk__in=kept)

    def describe(self) -> dict[str, str]:
        """The filters in use, for the audit trail and the export's first sheet."""
        found = {}
        for name, value in self.cleaned_data.items():
            if value in (None, "", [], ()) or name == "sites":
                continue
            found[name] = value.isoformat() if isinstance(value, dt.date) else str(value)
        found["sites"] = ",".join(site.code for site in self.selected_sites())
        return found


@functools.lru_cache(maxsize=512)
def _orpha_codes(code: int) -> frozenset[int]:
    """The code, what it stands for when inactive, and everything under it in any Orphanet
    classification. Cached per process: a group such as ORPHA:98053 spans 6,000 codes, and the
    classifications change once a year (restart after loading a new release)."""
    codes = {code, *orphanet.resolve(code)}
    for start in list(codes):
        codes |= orphanet.descendants(start)
    return frozenset(codes)


LARGE_SET = 200


def code_set(kind: str, code: object, codes: Iterable[object]) -> list[str] | QuerySet:
    """`codes` for an IN filter: the list itself when small, else a subquery on the stored
    CodeSet (written once per terminology release, in one transaction)."""
    values = sorted({str(value) for value in codes})
    if len(values) <= LARGE_SET:
        return values
    release = TerminologyRelease.current(kind) if kind in Terminology.values else None
    key = f"{kind}:{code}:{release.sha256[:16] if release else '-'}:{len(values)}"
    if not CodeSet.objects.filter(key=key).exists():
        with transaction.atomic():
            CodeSet.objects.bulk_create([CodeSet(key=key, code=value) for value in values],
                                        ignore_conflicts=True, batch_size=2000)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:  # sizes the set for the planner (else a guess of ~7 rows)
                cursor.execute("ANALYZE lists_codeset")
    return CodeSet.objects.filter(key=key).values("code")


@contextlib.contextmanager
def serial_plans() -> Iterator[None]:
    """Run the list's queries without parallel workers (PostgreSQL, in a transaction): starting
    them took 10–20 ms on pages whose own work is a few milliseconds (ORPHA:98053 page: 12 ms
    → 0.9 ms at 1M patients). Analytical queries (reports, the warehouse) keep them."""
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        yield


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def too_many_for_completeness() -> str:
    return _("Plus de %(limit)s patients correspondent : précisez d'autres filtres avant de filtrer sur la "
             "complétude.") % {"limit": f"{COMPLETENESS_LIMIT:,}".replace(",", "\u202f")}


def querystring(form: ListFilterForm, drop: Iterable[str] = ("page",)) -> str:
    """The query string of the form's data without `drop` (pagination, format...)."""
    data = form.data.copy() if hasattr(form.data, "copy") else QueryDict(mutable=True)
    for name in drop:
        data.pop(name, None)
    return data.urlencode()
