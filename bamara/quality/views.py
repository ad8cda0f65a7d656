"""The data-quality scorecard of a site and its follow-up lists, for the site's members only.

Everything starts from ``access.user_sites`` / ``access.visible_patients(user, site)``: a site
the user is not a member of answers 404. Each page of a list of names leaves one VIEW event
per patient shown (``trail.record_views``, one statement), naming the list and its count.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.paginator import Page, Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from bamara.accounts.decorators import login_and_otp_required
from bamara.audit import trail
from bamara.organisations import access
from bamara.organisations.models import Site
from bamara.records.completeness import completeness as record_completeness
from bamara.records.models import Patient
from bamara.records.validation import (
    CATEGORIES,
    RULES_BY_ID,
    DbTerminologies,
    record_data_from_patient,
    validate,
)
from bamara.sdm import concepts
from bamara.sdm import definition as sdm_definition

from . import completeness, followup
from .models import QualitySnapshot, RecordIssue

PER_PAGE = 50
# Above this many records, the scorecard shows the last snapshot rather than live figures.
LIVE_LIMIT = 5000
DEFAULT_MONTHS = 12
MONTH_CHOICES = (3, 6, 12, 18, 24, 36)
LISTS: dict[str, Any] = {
    "inactive": gettext_lazy("Patients sans activité depuis plus de %(months)s mois"),
    "dead_end": gettext_lazy("Patients sans diagnostic plus de deux ans après les premiers signes"),
    "missing": gettext_lazy("Dossiers incomplets (données obligatoires manquantes)"),
    "inactive_codes": gettext_lazy("Dossiers codés avec des codes ORPHA inactifs"),
    "to_fix": gettext_lazy("Dossiers à corriger (contrôles de plausibilité)"),
}


def _today() -> dt.date:
    return dt.date.today()


def _member_site(request: HttpRequest, code: str) -> Site:
    site = access.user_sites(request.user).filter(code=code).first()
    if site is None:
        raise Http404
    return site


def _months(request: HttpRequest) -> tuple[int, str]:
    """The N of « more than N months », from ?mois= (1 to 120), with a French error."""
    text = request.GET.get("mois", "").strip()
    if not text:
        return DEFAULT_MONTHS, ""
    if text.isdigit() and 1 <= int(text) <= 120:
        return int(text), ""
    return DEFAULT_MONTHS, _("Le nombre de mois doit être un entier de 1 à 120 : %(value)s a été remplacé par "
                             "%(default)s.") % {"value": text[:20], "default": DEFAULT_MONTHS}


@login_and_otp_required
def index(request: HttpRequest) -> HttpResponse:
    site = access.current_site(request)
    if site is not None:
        return redirect("quality:scorecard", code=site.code)
    return render(request, "quality/no_site.html")


def _from_snapshot(snapshot: QualitySnapshot) -> completeness.SiteCompleteness:
    labels = {}
    for version in sdm_definition.versions():
        for item in sdm_definition.get(version).active_items():
            labels[item.id] = (item.label, item.chapter.code)
    items = [completeness.ItemCompleteness(item_id, *labels.get(item_id, (item_id, "")), level, filled, total)
             for item_id, level, filled, total in snapshot.items]
    return completeness.SiteCompleteness(snapshot.patients, items)


@login_and_otp_required
def scorecard(request: HttpRequest, code: str) -> HttpResponse:
    """Aggregates only (no names). Up to LIVE_LIMIT records the figures are computed live
    (SQL aggregates); above, they come from the last snapshot of `bamara quality_snapshot`
    (about 40 s of queries for a 43,000-record site). Plausibility and the trend always come
    from the snapshots."""
    site = _member_site(request, code)
    today = _today()
    patients = access.visible_patients(request.user, site)
    snapshots = list(QualitySnapshot.objects.filter(site=site).order_by("-taken_on")[:12])
    last = snapshots[0] if snapshots else None
    live = last is None or patients.count() <= LIVE_LIMIT
    if live:
        figures = completeness.site_completeness(patients, site)
        counts = {
            "missing": completeness.missing_mandatory(patients, site).count(),
            "inactive_codes": followup.with_inactive_codes(patients).count(),
            "dead_end": len(followup.dead_ends(patients, today)),
            "inactive": followup.inactive_since(patients, site, DEFAULT_MONTHS, today).count(),
        }
    else:
        figures = _from_snapshot(last)
        counts = {"missing": last.records_missing_mandatory, "inactive_codes": last.records_with_inactive_codes,
                  "dead_end": last.dead_ends, "inactive": last.inactive_12_months}
    counts["to_fix"] = RecordIssue.objects.filter(site=site, patient__in=patients.values("pk")).count()
    rules = []
    if last is not None:
        for rule_id, (count, records) in sorted(last.rules.items(), key=lambda kv: (-kv[1][1], kv[0])):
            rule = RULES_BY_ID.get(rule_id)
            rules.append({"id": rule_id, "messages": count, "records": records,
                          "level": rule.level if rule else "", "description": rule.description_fr if rule else "",
                          "category": CATEGORIES.get(rule.category, "") if rule else ""})
    items = sorted(figures.items, key=lambda i: (i.level != "mandatory",
                                                 i.percent if i.percent is not None else 101, i.chapter))
    return render(request, "quality/scorecard.html", {
        "site": site, "live": live, "figures": figures, "items": items,
        "mandatory_percent": figures.percent("mandatory"), "recommended_percent": figures.percent("recommended"),
        "counts": counts, "months": DEFAULT_MONTHS, "last": last, "snapshots": snapshots, "rules": rules,
        "sites": access.user_sites(request.user).order_by("code"),
    })


@dataclass
class Row:
    patient: Patient
    details: list[str]
    date: Any = None


def _page(request: HttpRequest, items: Any) -> Page:
    return Paginator(items, PER_PAGE).get_page(request.GET.get("page"))


def _by_pk(ids: list[int]) -> dict[int, Patient]:
    return Patient.objects.in_bulk(ids)


def _status_label(code: str, system: str) -> str:
    return concepts.label(code, system, default=code)


@login_and_otp_required
def followup_list(request: HttpRequest, code: str, name: str) -> HttpResponse:
    site = _member_site(request, code)
    today = _today()
    patients = access.visible_patients(request.user, site)
    months, months_error = _months(request) if name == "inactive" else (DEFAULT_MONTHS, "")
    rows: list[Row] = []
    if name == "inactive":
        page = _page(request, followup.inactive_since(patients, site, months, today))
        for p in page.object_list:
            if p.last_activity:
                text = _("dernière activité au site le %(date)s") % {"date": f"{p.last_activity:%d/%m/%Y}"}
            elif p.inclusion:
                text = _("aucune activité au site ; inclus(e) le %(date)s") % {"date": f"{p.inclusion:%d/%m/%Y}"}
            else:
                text = _("aucune activité au site")
            rows.append(Row(p, [text], p.last_activity))
    elif name == "dead_end":
        page = _page(request, followup.dead_ends(patients, today))
        found = _by_pk([d.patient_id for d in page.object_list])
        for d in page.object_list:
            rows.append(Row(found[d.patient_id], [
                _("diagnostic : %(status)s") % {"status": _status_label(d.status_code, d.status_system)},
                _("premiers signes au plus tard le %(date)s") % {"date": f"{d.onset_latest:%d/%m/%Y}"},
            ]))
    elif name == "missing":
        page = _page(request, completeness.missing_mandatory(patients, site).order_by("birth_name", "pk"))
        for p in page.object_list:
            missing = record_completeness(p, sites=[site]).missing_mandatory
            rows.append(Row(p, [f"{m.label}{f' ({m.where})' if m.where else ''}" for m in missing]))
    elif name == "inactive_codes":
        page = _page(request, followup.with_inactive_codes(patients))
        details = followup.inactive_code_details([p.pk for p in page.object_list])
        for p in page.object_list:
            texts = []
            for d in details.get(p.pk, []):
                text = f"{d.where} : ORPHA:{d.code} {d.name} ({d.status})"
                if d.replacements:
                    text += " → " + _("remplacer par %(codes)s") % {
                        "codes": " ; ".join(f"ORPHA:{c} {n}" for c, n in d.replacements)}
                else:
                    text += " → " + _("aucun code de remplacement : à recoder")
                texts.append(text)
            rows.append(Row(p, texts))
    elif name == "to_fix":
        issues = (RecordIssue.objects.filter(site=site, patient__in=patients.values("pk"))
                  .select_related("patient").order_by("-errors", "-warnings", "patient__birth_name", "pk"))
        page = _page(request, issues)
        terminologies = DbTerminologies()
        for issue in page.object_list:
            # Live messages: the record may have been fixed since the snapshot.
            messages = validate(record_data_from_patient(issue.patient), today=today, terminologies=terminologies)
            texts = [f"{_('erreur') if m.level == 'error' else _('avertissement')} : {m.text}" for m in messages]
            rows.append(Row(issue.patient, texts or [_("corrigé depuis le dernier contrôle")], issue.checked_on))
    else:
        raise Http404
    title = LISTS[name] % {"months": months} if name == "inactive" else str(LISTS[name])
    trail.record_views(request, [r.patient for r in rows],
                       f"liste qualité « {title} » du site {site.code} : {page.paginator.count} dossiers, "
                       f"page {page.number}")
    return render(request, "quality/list.html", {
        "site": site, "name": name, "title": title, "page": page, "rows": rows,
        "months": months, "months_error": months_error, "query": f"mois={months}" if name == "inactive" else "", "month_choices": MONTH_CHOICES,
        "last": QualitySnapshot.objects.filter(site=site).order_by("-taken_on").first() if name == "to_fix" else None,
    })
