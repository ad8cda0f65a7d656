"""The record page and its forms: sections generated from the SDM-MR definition (sdm_forms),
diagnoses, activities (also from a site's day list), pregnancies and foetuses, opposition and
consents, and the « avis sur dossier » of an external patient.

Every view reaches the patient through the access wall (``access.get_patient``) and leaves
exactly one audit entry per request that touches a patient: a view, or the creation, change
or deletion it made. Every page works without JavaScript; with htmx, the « Modifier » buttons
swap a section for its form and back (``hx-target`` = the section).
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
from typing import Any

from django import forms
from django.contrib import messages
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from bamara.accounts.decorators import login_and_otp_required
from bamara.audit import trail
from bamara.audit.models import Action
from bamara.organisations import access
from bamara.organisations.models import Site
from bamara.sdm import definition as sdm_definition
from bamara.sdm import oids

from . import sdm_forms
from . import search as patient_search
from .completeness import completeness
from .forms import SEX_CHOICES, PartialDateFormField
from .models import (
    Activity,
    CaptureMode,
    CareEpisode,
    Diagnosis,
    Foetus,
    Patient,
    Pregnancy,
    Source,
)
from .sdm_forms import SECTIONS, SECTIONS_BY_KEY, SdmForm, Section
from .validation import (
    ActivityData,
    CareEpisodeData,
    DiagnosisData,
    FoetusData,
    Message,
    PregnancyData,
    RecordData,
    record_data_from_patient,
    validate,
)

# Context codes of an « avis sur dossier » (VS-CONTEXTE).
EXTERNAL_REVIEW_CONTEXTS = (("ORG-029", oids.TA_ASIP), ("MED-095", oids.TA_ASIP))
# VS-PROFESSION code of the user's profession, to prefill the performer of an activity.
USER_PROFESSIONS = {"medecin": "G15_10", "infirmier": "G15_60", "conseiller_genetique": "329"}
# Where each row model sits in the validation RecordData.
DATA_LISTS = {Diagnosis: ("diagnoses", DiagnosisData), Activity: ("activities", ActivityData),
              CareEpisode: ("care_episodes", CareEpisodeData), Pregnancy: ("pregnancies", PregnancyData)}
QUICK_ACTIVITY_FIELDS = ("date", "context", "context_detail", "objectives", "professions",
                         "performer_name", "performer_rpps", "site", "foetus")
ACTIVITIES_SHOWN = 50


# --------------------------------------------------------------------------- helpers


def _version(patient: Patient) -> str:
    versions = sdm_definition.versions()
    return patient.sdm_version if patient.sdm_version in versions else sdm_definition.current_version()


def _section(key: str) -> Section:
    try:
        return SECTIONS_BY_KEY[key]
    except KeyError:
        raise Http404 from None


def _sites(request: HttpRequest, patient: Patient) -> QuerySet[Site]:
    """The sites the user works for that follow the patient (where an activity can be declared)."""
    return access.member_sites(request.user).filter(care_episodes__patient=patient).order_by("code").distinct()


def _writable(request: HttpRequest, patient: Patient) -> bool:
    """Whether the user may change the record (not only read it through a filière grant);
    asked once per request and record."""
    cache = request.__dict__.setdefault("_bamara_writable", {})
    if patient.pk not in cache:
        cache[patient.pk] = access.can_write(request.user, patient)
    return cache[patient.pk]


def _referent(request: HttpRequest, patient: Patient) -> bool:
    """Site referent of a site following the patient: value history and access report."""
    cache = request.__dict__.setdefault("_bamara_referent", {})
    if patient.pk not in cache:
        cache[patient.pk] = access.referent_of_patient(request.user, patient)
    return cache[patient.pk]


def _rows(section: Section, patient: Patient, request: HttpRequest) -> QuerySet:
    model = section.model
    if model is Foetus:
        return Foetus.objects.filter(mother=patient).select_related("pregnancy", "record").order_by("pregnancy_id", "rank", "pk")
    if model is Pregnancy:
        return Pregnancy.objects.filter(patient=patient).order_by("pk")
    rows = model.objects.filter(patient=patient)
    if model in (Activity, CareEpisode):
        # Care episodes and activities of the user's sites only (the wall between sites).
        rows = rows.filter(site__in=_user_sites(request)).select_related("site")
    if model is Activity:
        return rows.prefetch_related("objectives", "professions").order_by("-date", "-pk")
    if model is Diagnosis:
        return rows.prefetch_related("signs", "genes", "techniques", "investigations").order_by("pk")
    return rows.order_by("pk")


def _row(section: Section, patient: Patient, request: HttpRequest, pk: int, *, write: bool = False) -> Any:
    rows = _rows(section, patient, request)
    if write and section.model in (Activity, CareEpisode):
        # A site read through a filière grant is not the user's to change.
        rows = rows.filter(site__in=access.member_sites(request.user))
    return get_object_or_404(rows, pk=pk)


def _new_row(section: Section, patient: Patient) -> Any:
    if section.model is Foetus:
        return Foetus(mother=patient)
    return section.model(patient=patient)


def _form(section: Section, patient: Patient, instance: Any, request: HttpRequest,
          data: Any = None, initial: dict | None = None) -> SdmForm:
    form_class = sdm_forms.form_class(section.key, _version(patient))
    pregnancies = Pregnancy.objects.filter(patient=patient).order_by("pk") if section.model is Foetus else None
    return form_class(data, instance=instance, patient=patient, sites=_sites(request, patient),
                      pregnancies=pregnancies, initial=initial)


def _activity_initial(request: HttpRequest, patient: Patient, day: dt.date | None = None) -> dict[str, Any]:
    """A new activity: today (or the day list's date), performed by the user, at the site
    the user is working for."""
    user = request.user
    sites = _sites(request, patient)
    current = access.current_site(request)
    site = current if current is not None and current in sites else sites.first()
    profession = USER_PROFESSIONS.get(getattr(user, "profession", ""))
    return {
        "date": day or dt.date.today(),
        "performer_name": user.get_full_name(),
        "performer_rpps": getattr(user, "rpps", ""),
        "professions": [profession] if profession else [],
        "site": str(site.pk) if site else "",
    }


def _is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def _safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("retour") or request.GET.get("retour") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return fallback


def _record_url(patient: Patient, section: Section | None = None) -> str:
    url = reverse("records:patient", args=[patient.pk])
    return f"{url}#section-{section.key}" if section else url


# --------------------------------------------------------------------------- validation


def _data_with(patient: Patient, section: Section, instance: Any, values: dict[str, Any]) -> tuple[RecordData, str] | None:
    """The record's validation data with the form's values in place, and the path of the
    edited row ("" for the record); None when the validation layer does not see that row."""
    data = copy.deepcopy(record_data_from_patient(patient))
    if section.model is Patient:
        _assign(data, values)
        return data, ""
    if section.model is Foetus:
        pregnancy_id = instance.pregnancy_id or values.get("_pregnancy")
        pregnancies = list(Pregnancy.objects.filter(patient=patient).order_by("pk").values_list("pk", flat=True))
        if pregnancy_id not in pregnancies:
            return None
        i = pregnancies.index(pregnancy_id)
        foetuses = list(Foetus.objects.filter(pregnancy_id=pregnancy_id).order_by("pk").values_list("pk", flat=True))
        rows, row_class = data.pregnancies[i].foetuses, FoetusData
        j = foetuses.index(instance.pk) if instance.pk in foetuses else len(rows)
        prefix = f"pregnancies[{i}].foetuses[{j}]"
    elif section.model in DATA_LISTS:
        name, row_class = DATA_LISTS[section.model]
        pks = list(section.model.objects.filter(patient=patient).order_by("pk").values_list("pk", flat=True))
        rows = getattr(data, name)
        j = pks.index(instance.pk) if instance.pk in pks else len(rows)
        prefix = f"{name}[{j}]"
    else:
        return None
    row = rows[j] if j < len(rows) else row_class()
    _assign(row, values)
    if j < len(rows):
        rows[j] = row
    else:
        rows.append(row)
    return data, prefix


def _assign(target: Any, values: dict[str, Any]) -> None:
    names = {f.name for f in dataclasses.fields(target)}
    for name, value in values.items():
        if name in names:
            setattr(target, name, value)


def _check(patient: Patient, section: Section, form: SdmForm, instance: Any,
           site_codes: set[str]) -> tuple[bool, list[Message]]:
    """Run the domain validation layer on the record as it would be saved. New errors block
    (beside their field, or above the form); new warnings are returned to be shown."""
    values = form.values()
    if section.model is Foetus and instance.pk is None:
        values["_pregnancy"] = int(form.cleaned_data["pregnancy"])
    candidate = _data_with(patient, section, instance, values)
    if candidate is None:
        return True, []
    data, prefix = candidate
    version = _version(patient)
    before = {(m.code, m.path, m.text) for m in validate(record_data_from_patient(patient), sdm_version=version)}
    found = [m for m in validate(data, sdm_version=version) if (m.code, m.path, m.text) not in before]
    ok = True
    for message in found:
        if message.level != "error":
            continue
        ok = False
        if _other_site(data, message.path, site_codes):
            form.add_error(None, _("Cette modification rend incohérente une donnée saisie par un autre site qui suit "
                                   "le patient (contrôle « %(code)s »).") % {"code": message.code})
            continue
        form.add_error(_field_for(form, prefix, message.path), message.text)
    return ok, [m for m in found if m.level != "error" and not _other_site(data, m.path, site_codes)]


def _other_site(data: RecordData, path: str, site_codes: set[str]) -> bool:
    """Whether a message is about a care episode or activity of a site the user is not in
    (the wall between sites: its details are not shown)."""
    for name in ("care_episodes", "activities"):
        if path.startswith(f"{name}["):
            index = int(path[len(name) + 1:].split("]")[0])
            rows = getattr(data, name)
            return index < len(rows) and rows[index].site not in site_codes
    return False


def _user_sites(request: HttpRequest) -> list[Site]:
    """The sites whose records the user reads, asked once per request (a page shows ~15
    sections that each need them)."""
    if "_bamara_user_sites" not in request.__dict__:
        request.__dict__["_bamara_user_sites"] = list(access.user_sites(request.user))
    return request.__dict__["_bamara_user_sites"]


def _site_codes(request: HttpRequest) -> set[str]:
    return {site.code for site in _user_sites(request)}


def _field_for(form: SdmForm, prefix: str, path: str) -> str | None:
    if prefix and not (path == prefix or path.startswith(prefix + ".")):
        return None
    rest = path[len(prefix) + 1:] if prefix else path
    name = rest.split(".")[0].split("[")[0]
    if name in form.fields and not form.fields[name].disabled:
        return name
    return None


# --------------------------------------------------------------------------- display


def _row_title(section: Section, row: Any) -> str:
    if isinstance(row, Diagnosis):
        form_class = sdm_forms.form_class("diagnostics", _version(row.patient))
        disease = next(p for p in form_class.parts if p.name == "disease").display(row)
        status = next(p for p in form_class.parts if p.name == "status").display(row)
        if disease == "—":
            disease = _("Diagnostic sans code de maladie")
        return f"{disease} — {status}"
    if isinstance(row, Activity):
        label = sdm_forms.code_label(row.context_code, row.context_system) if row.context_code else "?"
        return f"{row.date:%d/%m/%Y} — {label} — {row.site.code}"
    if isinstance(row, CareEpisode):
        return f"{row.site.code} — {row.site.name}"
    if isinstance(row, Pregnancy):
        return sdm_forms._pregnancy_label(row)
    if isinstance(row, Foetus):
        return sdm_forms._foetus_label(row)
    for name in ("registry", "hgvs", "label", "icf_code"):
        if getattr(row, name, ""):
            return str(getattr(row, name))
    return section.title


def section_context(request: HttpRequest, patient: Patient, section: Section, **extra: Any) -> dict[str, Any]:
    """What _section.html shows: the values of a record section, or its rows."""
    version = _version(patient)
    form_class = sdm_forms.form_class(section.key, version)
    active = any(p.item.active for p in form_class.parts) and _writable(request, patient)
    context: dict[str, Any] = {
        "patient": patient, "section": section, "version": version, "editable": active,
        "can_add": active and section.rows and section.can_add, "notices": [],
        "history": _referent(request, patient),
    }
    if not section.rows:
        context["values"] = form_class.display(patient)
    else:
        rows = list(_rows(section, patient, request))
        hidden = 0
        if section.model is Activity and len(rows) > ACTIVITIES_SHOWN:
            hidden, rows = len(rows) - ACTIVITIES_SHOWN, rows[:ACTIVITIES_SHOWN]
        visible_records = set()
        if section.model is Foetus:
            records = [r.record_id for r in rows if r.record_id]
            visible_records = set(access.visible_patients(request.user).filter(pk__in=records).values_list("pk", flat=True))
        context["rows"] = [{
            "obj": row, "title": _row_title(section, row), "values": form_class.display(row),
            "record_visible": getattr(row, "record_id", None) in visible_records,
        } for row in rows]
        context["hidden_rows"] = hidden
    if section.model is Activity and context["can_add"]:
        quick = extra.pop("quick_form", None) or _form(section, patient, Activity(patient=patient), request,
                                                       initial=_activity_initial(request, patient))
        quick.decorate()
        context["quick_form"] = quick
        context["quick_fields"] = [quick[n] for n in QUICK_ACTIVITY_FIELDS if n in quick.fields]
        context["single_site"] = len(quick.fields["site"].choices) <= 1 if "site" in quick.fields else True
    context.update(extra)
    return context


def _visible(section: Section, patient: Patient, request: HttpRequest) -> bool:
    if section.model in (Pregnancy, Foetus) and (patient.is_foetus or patient.sex_code == "M"):
        return False
    parts = sdm_forms.form_class(section.key, _version(patient)).parts
    if any(p.item.active for p in parts):
        return True
    return section.rows and _rows(section, patient, request).exists()  # retired: values only


def _page_context(request: HttpRequest, patient: Patient) -> dict[str, Any]:
    sections = [s for s in SECTIONS if _visible(s, patient, request)]
    version = _version(patient)
    data = record_data_from_patient(patient)
    site_codes = _site_codes(request)
    checks = [m for m in validate(data, sdm_version=version) if not _other_site(data, m.path, site_codes)]
    mother_visible = bool(patient.mother_id) and access.visible_patients(request.user).filter(pk=patient.mother_id).exists()
    return {
        "patient": patient, "version": version,
        "sex_label": dict(SEX_CHOICES).get(patient.sex_code, patient.sex_code or "?"),
        "sections": [section_context(request, patient, s) for s in sections],
        "completeness": completeness(patient, _user_sites(request)),
        "errors": [m for m in checks if m.level == "error"],
        "warnings": [m for m in checks if m.level != "error"],
        "mother_visible": mother_visible,
        "ehr": patient.source == Source.EHR,
        "referent": _referent(request, patient),
        "read_only": not _writable(request, patient),
    }


def _oob(request: HttpRequest, patient: Patient, status: str) -> str:
    return render(request, "records/record/_oob.html", {
        "completeness": completeness(patient, _user_sites(request)), "status": status, "patient": patient,
    }).content.decode()


def _section_response(request: HttpRequest, patient: Patient, section: Section, status: str = "",
                      **extra: Any) -> HttpResponse:
    response = render(request, "records/record/_section.html", section_context(request, patient, section, **extra))
    if status:
        response.content += _oob(request, patient, status).encode()
    return response


def _form_response(request: HttpRequest, patient: Patient, section: Section, form: SdmForm,
                   action: str, row: Any = None, status: int = 200) -> HttpResponse:
    context = {"patient": patient, "section": section, "form": form, "action": action, "row": row,
               "fieldsets": form.fieldsets(), "title": _row_title(section, row) if row is not None else ""}
    template = "records/record/_section_form.html" if _is_htmx(request) else "records/record/edit.html"
    return render(request, template, context, status=status)


# --------------------------------------------------------------------------- the record page


@login_and_otp_required
def patient(request: HttpRequest, pk: int) -> HttpResponse:
    record = access.get_patient(request.user, pk)
    trail.record(request, Action.VIEW, patient=record, obj=record)
    return render(request, "records/patient.html", _page_context(request, record))


@login_and_otp_required
def section_view(request: HttpRequest, pk: int, key: str) -> HttpResponse:
    """A section's values (the « Annuler » of a form, with htmx)."""
    section = _section(key)
    record = access.get_patient(request.user, pk)
    if not _is_htmx(request):
        return redirect(_record_url(record, section))
    trail.record(request, Action.VIEW, patient=record, obj=record, detail=f"section {key}")
    return _section_response(request, record, section)


@login_and_otp_required
def section_edit(request: HttpRequest, pk: int, key: str) -> HttpResponse:
    """Edit a record-level section (opposition, identity, family, vital status...)."""
    section = _section(key)
    if section.rows:
        raise Http404
    record = access.get_patient(request.user, pk, write=True)
    action = reverse("records:section_edit", args=[record.pk, key])
    if request.method != "POST":
        trail.record(request, Action.VIEW, patient=record, obj=record, detail=f"formulaire {key}")
        return _form_response(request, record, section, _form(section, record, record, request), action)
    form = _form(section, record, record, request, data=request.POST)
    return _save(request, record, section, form, record, action, Action.UPDATE)


def _save(request: HttpRequest, record: Patient, section: Section, form: SdmForm, instance: Any,
          action: str, audit_action: Action, quick: bool = False) -> HttpResponse:
    warnings: list[Message] = []
    if form.is_valid():
        ok, warnings = _check(record, section, form, instance, _site_codes(request))
        if ok:
            with transaction.atomic():
                changes = form.save(instance)
                if section.model is Patient:
                    target = record
                else:
                    target = instance
                    # A change of any part of the record is a change of the record (dossier_date_maj).
                    Patient.objects.filter(pk=record.pk).update(updated_at=timezone.now())
                trail.record(request, audit_action, patient=record, obj=target, changes=changes,
                             detail=f"section {section.key}")
            record.refresh_from_db()
            status = _("Section « %(title)s » enregistrée.") % {"title": section.title}
            if _is_htmx(request):
                return _section_response(request, record, section, status=status,
                                         notices=[w.text for w in warnings])
            messages.success(request, status)
            for warning in warnings:
                messages.warning(request, warning.text)
            return redirect(_safe_next(request, _record_url(record, section)))
    # Rejected: the typed values come back with French messages beside the fields.
    trail.record(request, Action.VIEW, patient=record, obj=record, detail=f"saisie refusée, section {section.key}")
    if quick and _is_htmx(request):
        return _section_response(request, record, section, quick_form=form)
    return _form_response(request, record, section, form, action, row=instance if instance.pk else None)


# --------------------------------------------------------------------------- rows


@login_and_otp_required
def row_add(request: HttpRequest, pk: int, key: str) -> HttpResponse:
    section = _section(key)
    record = access.get_patient(request.user, pk, write=True)
    version = _version(record)
    if not section.rows or not section.can_add or not any(
            p.item.active for p in sdm_forms.form_class(key, version).parts):
        raise Http404
    if section.model in (Pregnancy, Foetus) and record.is_foetus:
        raise Http404
    action = reverse("records:row_add", args=[record.pk, key])
    instance = _new_row(section, record)
    if request.method != "POST":
        initial: dict[str, Any] = {}
        if section.model is Activity:
            initial = _activity_initial(request, record, _date_param(request))
        if section.model is Foetus and request.GET.get("grossesse"):
            initial["pregnancy"] = request.GET["grossesse"]
        trail.record(request, Action.VIEW, patient=record, obj=record, detail=f"ajout {key}")
        form = _form(section, record, instance, request, initial=initial)
        if request.GET.get("rapide") and section.model is Activity:
            return _quick_response(request, record, form)
        return _form_response(request, record, section, form, action)
    form = _form(section, record, instance, request, data=request.POST)
    return _save(request, record, section, form, instance, action, Action.CREATE,
                 quick=bool(request.POST.get("rapide")))


def _date_param(request: HttpRequest) -> dt.date | None:
    try:
        return dt.date.fromisoformat(request.GET.get("date", ""))
    except ValueError:
        return None


def _quick_response(request: HttpRequest, record: Patient, form: SdmForm) -> HttpResponse:
    section = SECTIONS_BY_KEY["activites"]
    form.decorate()
    template = "records/record/_activity_quick.html" if _is_htmx(request) else "records/record/quick.html"
    return render(request, template, {
        "patient": record, "section": section, "quick_form": form,
        "quick_fields": [form[n] for n in QUICK_ACTIVITY_FIELDS if n in form.fields],
        "single_site": len(form.fields["site"].choices) <= 1,
        "retour": _safe_next(request, ""), "standalone": True,
    })


@login_and_otp_required
def row_edit(request: HttpRequest, pk: int, key: str, row: int) -> HttpResponse:
    section = _section(key)
    record = access.get_patient(request.user, pk, write=True)
    if not section.rows:
        raise Http404
    instance = _row(section, record, request, row, write=True)
    action = reverse("records:row_edit", args=[record.pk, key, row])
    if request.method != "POST":
        trail.record(request, Action.VIEW, patient=record, obj=instance, detail=f"formulaire {key}")
        return _form_response(request, record, section, _form(section, record, instance, request), action, row=instance)
    form = _form(section, record, instance, request, data=request.POST)
    return _save(request, record, section, form, instance, action, Action.UPDATE)


@login_and_otp_required
def row_delete(request: HttpRequest, pk: int, key: str, row: int) -> HttpResponse:
    section = _section(key)
    record = access.get_patient(request.user, pk, write=True)
    if not section.rows or not section.can_delete:
        raise Http404
    instance = _row(section, record, request, row, write=True)
    title = _row_title(section, instance)
    if request.method != "POST":
        trail.record(request, Action.VIEW, patient=record, obj=instance, detail=f"suppression {key} ?")
        return render(request, "records/record/delete.html", {
            "patient": record, "section": section, "row": instance, "title": title,
            "action": reverse("records:row_delete", args=[record.pk, key, row])})
    changes = {name: [new, None] for name, (_old, new) in trail.diff(None, instance).items()}
    with transaction.atomic():
        trail.record(request, Action.DELETE, patient=record, obj=instance, changes=changes, detail=f"section {key}")
        instance.delete()
    status = _("« %(title)s » supprimé.") % {"title": title}
    if _is_htmx(request):
        return _section_response(request, record, section, status=status)
    messages.success(request, status)
    return redirect(_record_url(record, section))


# --------------------------------------------------------------------------- foetus record


@login_and_otp_required
@require_POST
def foetus_record(request: HttpRequest, pk: int, row: int) -> HttpResponse:
    """Open the foetus's own record from the mother's: identified through the mother, followed
    by the same site."""
    mother = access.get_patient(request.user, pk, write=True)
    foetus = get_object_or_404(Foetus, pk=row, mother=mother)
    if foetus.record_id:
        return redirect("records:patient", pk=foetus.record_id)
    site = access.current_site(request)
    sites = _sites(request, mother)
    if site is None or site not in sites:
        site = sites.first()
    if site is None:
        raise Http404
    with transaction.atomic():
        child = Patient(
            hospital=mother.hospital, capture_mode=CaptureMode.AUTONOMOUS, source=Source.WEB,
            record_created_on=dt.date.today(), sdm_version=sdm_definition.current_version(),
            birth_name=foetus.birth_name or mother.birth_name, first_birth_given_name=foetus.given_name,
            sex_code=foetus.sex_code or "UN", sex_system=foetus.sex_system or oids.HL7_GENDER,
            is_foetus=True, mother=mother, mother_birth_name=mother.birth_name,
            mother_used_name=mother.used_name, mother_first_name=mother.first_birth_given_name,
            foetus_local_id=foetus.local_id, foetus_rank=foetus.rank,
            birth_date=foetus.birth_date, birth_date_precision=foetus.birth_date_precision,
            multiple_birth=foetus.multiple, multiple_birth_rank=foetus.rank if foetus.multiple else None,
        )
        child.save()
        episode = CareEpisode(patient=child, site=site, source=Source.WEB)
        episode.inclusion_date_partial = dt.date.today()
        episode.save()
        foetus.record = child
        foetus.save(update_fields=["record", "updated_at"])
        trail.record(request, Action.CREATE, patient=child, obj=child, changes=trail.diff(None, child),
                     detail=f"dossier fœtus créé depuis le dossier {mother.pk} (prise en charge {site.code})")
    messages.success(request, _("Dossier du fœtus créé."))
    return redirect("records:patient", pk=child.pk)


# --------------------------------------------------------------------------- day list


def _member_site(request: HttpRequest, code: str) -> Site:
    site = access.user_sites(request.user).filter(code=code).first()
    if site is None:
        raise Http404
    return site


@login_and_otp_required
def day_list(request: HttpRequest, code: str) -> HttpResponse:
    """The activities of a site on one day, with an inline add (patient search, quick form)."""
    site = _member_site(request, code)
    day = _date_param(request) or dt.date.today()
    activities = list(
        Activity.objects.filter(site=site, date=day).select_related("patient")
        .prefetch_related("objectives", "professions").order_by("patient__birth_name", "pk")
    )
    for patient_id in dict.fromkeys(a.patient_id for a in activities):
        trail.record(request, Action.VIEW, patient=patient_id, detail=f"activités du {day:%d/%m/%Y} ({site.code})")
    rows = [{
        "activity": a,
        "context": sdm_forms.code_label(a.context_code, a.context_system) if a.context_code else "—",
        "objectives": " ; ".join(sdm_forms.code_label(o.objective_code, o.objective_system) for o in a.objectives.all()),
        "professions": " ; ".join(sdm_forms.code_label(p.profession_code, p.profession_system)
                                  for p in a.professions.all()),
    } for a in activities]
    return render(request, "records/record/day_list.html", {
        "site": site, "day": day, "rows": rows,
        # Read through a filière grant: no activity is added from here.
        "can_add": access.member_sites(request.user).filter(pk=site.pk).exists(),
        "referent": access.is_site_referent(request.user, site),
        "previous": day - dt.timedelta(days=1), "next": day + dt.timedelta(days=1),
        "sites": access.user_sites(request.user).order_by("code"),
        "retour": f"{reverse('records:day_list', args=[site.code])}?date={day.isoformat()}",
    })


@login_and_otp_required
def day_list_patients(request: HttpRequest, code: str) -> HttpResponse:
    """Patients of the site matching the search, to add an activity for one of them."""
    site = _member_site(request, code)
    text = request.GET.get("q", "").strip()
    day = _date_param(request) or dt.date.today()
    results = (patient_search.search(access.visible_patients(request.user, site), text, limit=10,
                                     sites=[site.pk]) if text else [])
    if text:
        trail.record_search(request, text, results, "recherche (activités du jour)")
    template = "records/record/_day_patients.html" if _is_htmx(request) else "records/record/day_patients.html"
    return render(request, template, {
        "site": site, "day": day, "q": text, "results": results,
        "retour": f"{reverse('records:day_list', args=[site.code])}?date={day.isoformat()}",
    })


# --------------------------------------------------------------------------- external review


class ExternalReviewForm(forms.Form):
    """« Avis sur dossier » for a patient unknown to the hospital: a minimal identity and the
    context of the expert-opinion activity."""

    birth_name = forms.CharField(label=gettext_lazy("Nom de naissance"), max_length=100)
    first_birth_given_name = forms.CharField(label=gettext_lazy("Premier prénom de naissance"), max_length=100)
    birth_date = PartialDateFormField(label=gettext_lazy("Date de naissance"))
    sex = forms.ChoiceField(label=gettext_lazy("Sexe"), choices=SEX_CHOICES)
    context = forms.ChoiceField(label=gettext_lazy("Contexte de l'activité"), widget=forms.RadioSelect)


@login_and_otp_required
def external_review(request: HttpRequest) -> HttpResponse:
    site = access.current_site(request)
    if site is None:
        raise Http404
    d = sdm_definition.current()
    contexts = d.value_set_for(d.item("activite_contexte"))
    context_choices = [(code, contexts.get(code, system).label_fr) for code, system in EXTERNAL_REVIEW_CONTEXTS]
    identity = ExternalReviewForm(request.POST or None, prefix="identite",
                                  initial={"context": EXTERNAL_REVIEW_CONTEXTS[0][0]})
    identity.fields["context"].choices = context_choices
    for name, field in identity.fields.items():
        if name != "context":
            field.widget.attrs["class"] = "fr-select" if isinstance(field.widget, forms.Select) else "fr-input"
    blank = Patient(hospital=site.hospital)
    activity = sdm_forms.form_class("activites")(
        request.POST or None, instance=Activity(patient=blank), patient=blank, sites=[site], prefix="activite",
        initial=_review_initial(request, site),
    )
    for name in list(activity.fields):
        # The review is declared by the user's current site; its context is chosen above.
        if name not in ("date", "objectives", "professions", "performer_name", "performer_rpps"):
            activity.fields.pop(name)
    if request.method == "POST" and identity.is_valid() and activity.is_valid() and _review_checks(identity, activity):
        record = _create_external_review(request, site, identity, activity)
        messages.success(request, _("Avis sur dossier enregistré."))
        return redirect("records:patient", pk=record.pk)
    return render(request, "records/record/external_review.html", {
        "site": site, "identity": identity, "activity": activity,
        "activity_fieldsets": activity.fieldsets(),
    })


def _review_checks(identity: ExternalReviewForm, activity: SdmForm) -> bool:
    """The domain validation layer on the new record (its errors block, beside the fields)."""
    data = identity.cleaned_data
    values = activity.values()
    code, system = next((c, s) for c, s in EXTERNAL_REVIEW_CONTEXTS if c == data["context"])
    record = RecordData(birth_name=data["birth_name"], first_birth_given_name=data["first_birth_given_name"],
                        birth_date=data["birth_date"], sex=(data["sex"], oids.HL7_GENDER), is_external_review=True,
                        activities=[ActivityData(**{**values, "context": (code, system)})])
    ok = True
    for message in validate(record):
        # The new record has no diagnosis nor care episode yet: those are not typed here.
        if message.level != "error" or message.path.startswith(("diagnoses", "care_episodes")):
            continue
        ok = False
        name = message.path.split(".")[-1].split("[")[0]
        if message.path.startswith("activities") and name in activity.fields:
            activity.add_error(name, message.text)
        elif name in identity.fields:
            identity.add_error(name, message.text)
        else:
            identity.add_error(None, message.text)
    return ok


def _review_initial(request: HttpRequest, site: Site) -> dict[str, Any]:
    user = request.user
    profession = USER_PROFESSIONS.get(getattr(user, "profession", ""))
    return {"date": dt.date.today(), "objectives": ["MED-097"], "performer_name": user.get_full_name(),
            "performer_rpps": getattr(user, "rpps", ""), "professions": [profession] if profession else []}


@transaction.atomic
def _create_external_review(request: HttpRequest, site: Site, identity: ExternalReviewForm,
                            activity_form: SdmForm) -> Patient:
    data = identity.cleaned_data
    record = Patient(hospital=site.hospital, capture_mode=CaptureMode.AUTONOMOUS, source=Source.WEB,
                     record_created_on=dt.date.today(), sdm_version=sdm_definition.current_version(),
                     birth_name=data["birth_name"].strip().upper(),
                     first_birth_given_name=data["first_birth_given_name"].strip(),
                     sex_code=data["sex"], sex_system=oids.HL7_GENDER, is_external_review=True)
    record.birth_date_partial = data["birth_date"]
    record.save()
    episode = CareEpisode(patient=record, site=site, source=Source.WEB)
    episode.inclusion_date_partial = dt.date.today()
    episode.save()
    context = dict(EXTERNAL_REVIEW_CONTEXTS)[data["context"]]
    activity = Activity(patient=record, site=site, context_code=data["context"], context_system=context,
                        source=Source.WEB)
    changes = activity_form.save(activity)
    # One action, one audit entry: the record, its care episode and the activity.
    changes = {**trail.diff(None, record), **{f"activite.{k}": v for k, v in changes.items()}}
    trail.record(request, Action.CREATE, patient=record, obj=record, changes=changes,
                 detail=f"avis sur dossier ({data['context']}), prise en charge {site.code}")
    return record

