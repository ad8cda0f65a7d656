"""Web pages of the patient record (autonomous mode). Every patient is reached through the
access wall (bamara.organisations.access) and every read or write is audited."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.db import transaction
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from bamara.accounts.decorators import login_and_otp_required as login_required
from bamara.audit import trail
from bamara.audit.models import Action
from bamara.organisations import access
from bamara.organisations.models import Site

from . import search as patient_search
from . import views_record
from .forms import IdentityForm
from .models import CaptureMode, CareEpisode, Diagnosis, Patient, Source


def _site_or_none(request: HttpRequest) -> Site | None:
    return access.current_site(request)


ATTENTION_WINDOW = 50


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    site = _site_or_none(request)
    recent: list[Patient] = []
    attention: list[Patient] = []
    if site is not None:
        at_site = access.visible_patients(request.user, site)
        # The most recently modified records of the site, newest first from the patient_recent
        # index; the records to complete are looked for among them only (at a site of 40,000
        # complete records, looking through them all took seconds).
        latest = list(at_site.order_by("-updated_at", "-pk").values_list("pk", flat=True)[:ATTENTION_WINDOW])
        diagnosed, incomplete = set(), set()
        for patient_id, status, onset in Diagnosis.objects.filter(patient_id__in=latest).values_list(
                "patient_id", "status_code", "onset_age_code"):
            diagnosed.add(patient_id)
            if not status or not onset:
                incomplete.add(patient_id)
        to_complete = [pk for pk in latest if pk in incomplete or pk not in diagnosed][:10]
        rows = Patient.objects.in_bulk(latest[:10] + to_complete)
        recent = [rows[pk] for pk in latest[:10]]
        attention = [rows[pk] for pk in to_complete]
        trail.record_views(request, list({p.pk: p for p in recent + attention}.values()),
                           "liste d'accueil")
    return render(request, "records/dashboard.html", {
        "site": site, "sites": access.user_sites(request.user).order_by("code"),
        "recent": recent, "attention": attention, "attention_window": ATTENTION_WINDOW,
    })


@login_required
@require_POST
def switch_site(request: HttpRequest) -> HttpResponse:
    site = get_object_or_404(Site, code=request.POST.get("site", ""))
    if not access.choose_site(request, site):
        raise Http404
    return redirect(request.POST.get("next") or "records:dashboard")


SEARCH_LIMIT = 50


@login_required
def search(request: HttpRequest) -> HttpResponse:
    text = request.GET.get("q", "").strip()
    found = patient_search.Found([], False)
    if text:
        found = patient_search.find(access.visible_patients(request.user), text,
                                    limit=SEARCH_LIMIT, sites=access.user_site_ids(request.user))
        trail.record_search(request, text, found.patients, "résultat de recherche")
    template = "records/_results.html" if request.htmx else "records/search.html"
    return render(request, template, {"q": text, "results": found.patients, "more": found.more,
                                      "limit": SEARCH_LIMIT})


def likely_matches(hospital_id: int, form: IdentityForm) -> list[Patient]:
    """Patients of the same hospital who may be the one being created."""
    data = form.cleaned_data
    birth = data["birth_date"]
    condition = patient_search.name_filter([data["birth_name"]])
    if birth is not None and birth.day is not None:
        condition &= patient_search.birth_date_filter(patient_search.dates_with_swap(birth.day, birth.month, birth.year))
    elif birth is not None:
        condition &= Q(birth_date__year=birth.year)
    identifiers = [v for v in (data.get("ipp"), data.get("ins")) if v]
    if identifiers:
        condition |= patient_search.identifier_filter(identifiers)
    return list(Patient.objects.filter(hospital_id=hospital_id).filter(condition)
                .order_by("birth_name")[:20])


@login_required
def create(request: HttpRequest) -> HttpResponse:
    site = _site_or_none(request)
    if site is None:
        raise Http404
    form = IdentityForm(request.POST or None)
    matches: list[Patient] = []
    visible_ids: set[int] = set()
    if request.method == "POST" and form.is_valid():
        matches = likely_matches(site.hospital_id, form)
        if not matches or request.POST.get("confirm") == "1":
            patient = _create_patient(request, site, form)
            messages.success(request, _("Dossier créé."))
            return redirect("records:patient", pk=patient.pk)
        visible_ids = set(access.visible_patients(request.user)
                          .filter(pk__in=[m.pk for m in matches]).values_list("pk", flat=True))
        trail.record_views(request, matches, "doublon possible")
    return render(request, "records/create.html", {
        "form": form, "site": site, "matches": matches, "visible_ids": visible_ids,
    })


@transaction.atomic
def _create_patient(request: HttpRequest, site: Site, form: IdentityForm) -> Patient:
    patient = Patient(hospital=site.hospital, capture_mode=CaptureMode.AUTONOMOUS,
                      source=Source.WEB, record_created_on=dt.date.today())
    form.apply(patient)
    patient.save()
    episode = CareEpisode.objects.create(patient=patient, site=site, source=Source.WEB)
    episode.inclusion_date_partial = dt.date.today()
    episode.save()
    # One event for the creation: the first care episode is part of it.
    changes = trail.diff(None, patient)
    changes["care_episode"] = [None, {"id": episode.pk, "site": site.code}]
    trail.record(request, Action.CREATE, patient=patient, obj=patient, changes=changes)
    return patient


@login_required
@require_POST
def attach(request: HttpRequest, pk: int) -> HttpResponse:
    """The patient exists at another site of the hospital: open a care episode at ours,
    without showing the other site's medical data."""
    site = _site_or_none(request)
    if site is None:
        raise Http404
    patient = get_object_or_404(Patient, pk=pk, hospital_id=site.hospital_id)
    episode, created = CareEpisode.objects.get_or_create(
        patient=patient, site=site, defaults={"source": Source.WEB, "inclusion_date": dt.date.today(),
                                              "inclusion_date_precision": "D"},
    )
    if created:
        trail.record(request, Action.CREATE, patient=patient, obj=episode, detail="rattachement au site")
        messages.success(request, _("Le patient est désormais suivi par votre site."))
    return redirect("records:patient", pk=patient.pk)


# The record page lives with its sections and forms (views_record).
patient = views_record.patient
