"""Pages of the site referent: the history of a record's values, the per-patient access
report (a patient's right of access), and the filière referents' access to the site's records.

Patients are reached through the wall (``access.get_patient``: 404 for a record the user does
not see); the referent pages answer 403 to other users who see the record. Each request
leaves one audit event.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import IntegrityError, transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from bamara.accounts.decorators import login_and_otp_required
from bamara.organisations import access
from bamara.organisations.models import FiliereReferent, Site, SiteAccessGrant, User
from bamara.records.models import Patient
from bamara.records.sdm_forms import SECTIONS_BY_KEY

from . import trail
from .history import History
from .models import Action, AuditEvent

REPORT_PAGE = 100


def _referent_patient(request: HttpRequest, pk: int) -> Patient:
    patient = access.get_patient(request.user, pk)
    if not access.referent_of_patient(request.user, patient):
        raise PermissionDenied(_("Réservé au référent d'un site qui suit le patient."))
    return patient


# --------------------------------------------------------------------------- value history


@login_and_otp_required
def history(request: HttpRequest, pk: int) -> HttpResponse:
    """Every change of a section, a row or a field of the record: who, when, source, old → new."""
    patient = _referent_patient(request, pk)
    key = request.GET.get("section", "")
    section = SECTIONS_BY_KEY.get(key) if key else None
    if key and section is None:
        raise Http404
    row = request.GET.get("ligne", "")
    field = request.GET.get("champ", "")
    if row and (not row.isdigit() or section is None or not section.rows):
        raise Http404
    site_ids = set(access.user_sites(request.user).values_list("pk", flat=True))
    lines = History(patient, site_ids).lines(section, row, field)
    trail.record(request, Action.VIEW, patient=patient, obj=patient,
                 detail=" ".join(filter(None, ["historique des valeurs", key, row and f"ligne {row}", field])))
    page = Paginator(lines, REPORT_PAGE).get_page(request.GET.get("page"))
    field_label = next((line.label for line in lines if line.field == field), field) if field else ""
    return render(request, "audit/history.html", {
        "patient": patient, "section": section, "row": row, "field": field, "field_label": field_label,
        "page": page, "query": _query(request, exclude="page"),
    })


def _query(request: HttpRequest, exclude: str) -> str:
    query = request.GET.copy()
    query.pop(exclude, None)
    return query.urlencode()


# --------------------------------------------------------------------------- access report


class PeriodForm(forms.Form):
    du = forms.DateField(label=gettext_lazy("Du"), required=False,
                         widget=forms.DateInput(attrs={"type": "date", "class": "fr-input"}))
    au = forms.DateField(label=gettext_lazy("Au"), required=False,
                         widget=forms.DateInput(attrs={"type": "date", "class": "fr-input"}))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        start, end = cleaned.get("du"), cleaned.get("au")
        if start and end and start > end:
            raise forms.ValidationError(_("La date de début doit précéder la date de fin."))
        return cleaned


def report_rows(patient: Patient, start: dt.date | None, end: dt.date | None) -> list[dict[str, Any]]:
    events = AuditEvent.objects.filter(patient_id=patient.pk).order_by("at", "id")
    tz = timezone.get_current_timezone()
    if start:
        events = events.filter(at__gte=dt.datetime.combine(start, dt.time.min, tzinfo=tz))
    if end:
        events = events.filter(at__lt=dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=tz))
    events = list(events)
    names = {u.pk: u for u in User.objects.filter(pk__in={e.user_id for e in events if e.user_id})}
    rows = []
    for e in events:
        user = names.get(e.user_id)
        who = (f"{user.get_full_name()} <{e.user_email}>" if user and user.get_full_name() else e.user_email) \
            or (_("système (%(channel)s)") % {"channel": e.channel} if e.channel else _("système"))
        rows.append({
            "at": timezone.localtime(e.at), "who": who, "action": e.get_action_display(),
            "object": e.object_type.rsplit(".", 1)[-1] if e.object_type else "", "detail": e.detail,
            "ip": e.ip_address or "", "channel": e.channel,
        })
    return rows


HEADERS = [gettext_lazy("Date et heure"), gettext_lazy("Utilisateur"), gettext_lazy("Action"),
           gettext_lazy("Objet"), gettext_lazy("Détail"), gettext_lazy("Adresse IP"), gettext_lazy("Canal")]


def _values(row: dict[str, Any]) -> list[str]:
    return [row["at"].strftime("%d/%m/%Y %H:%M:%S"), row["who"], str(row["action"]), row["object"],
            row["detail"], row["ip"], row["channel"]]


@login_and_otp_required
def access_report(request: HttpRequest, pk: int) -> HttpResponse:
    """Every access to one patient's record (views, changes, exports): who, when, from where;
    for a period; as a page, CSV or PDF. Producing it is itself audited."""
    patient = _referent_patient(request, pk)
    form = PeriodForm(request.GET or None)
    start = end = None
    if form.is_bound and form.is_valid():
        start, end = form.cleaned_data["du"], form.cleaned_data["au"]
    output = request.GET.get("format", "")
    if output not in ("", "csv", "pdf"):
        raise Http404
    period = f"{start or '…'} → {end or '…'}"
    if form.is_bound and not form.is_valid():
        trail.record(request, Action.VIEW, patient=patient, obj=patient, detail="rapport des accès (période refusée)")
        return render(request, "audit/access_report.html", {"patient": patient, "form": form, "page": None},
                      status=400)
    # Recorded first: the report shows its own production.
    trail.record(request, Action.EXPORT if output else Action.VIEW, patient=patient, obj=patient,
                 detail=f"rapport des accès {output or 'page'} {period}")
    rows = report_rows(patient, start, end)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    if output == "csv":
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="acces-dossier-{patient.pk}-{stamp}.csv"'
        response.write("\ufeff")  # spreadsheets read the accents
        writer = csv.writer(response, delimiter=";")
        writer.writerow([str(h) for h in HEADERS])
        for row in rows:
            writer.writerow(_values(row))
        return response
    if output == "pdf":
        response = HttpResponse(_pdf(patient, rows, start, end, request.user), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="acces-dossier-{patient.pk}-{stamp}.pdf"'
        return response
    page = Paginator(rows, REPORT_PAGE).get_page(request.GET.get("page"))
    return render(request, "audit/access_report.html", {
        "patient": patient, "form": form, "page": page, "count": len(rows),
        "query": _query(request, exclude="page"), "download": _query(request, exclude="format"),
    })


def _pdf(patient: Patient, rows: list[dict[str, Any]], start: dt.date | None, end: dt.date | None,
         user: User) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import cm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=landscape(A4), leftMargin=1.5 * cm, rightMargin=1.5 * cm,
                            topMargin=1.5 * cm, bottomMargin=1.5 * cm,
                            title=_("Rapport des accès au dossier"), author="bamara")
    styles = getSampleStyleSheet()
    small = styles["BodyText"].clone("small", fontSize=7.5, leading=9)
    birth = patient.birth_date_partial or "?"
    story = [
        Paragraph(_("Rapport des accès au dossier"), styles["Title"]),
        Paragraph(f"{patient.birth_name} {patient.first_birth_given_name} — {_('né(e) le')} {birth}"
                  f" — {_('dossier n°')} {patient.pk}", styles["Heading3"]),
        Paragraph(_("Période : %(start)s au %(end)s. Produit le %(now)s par %(user)s.") % {
            "start": start.strftime("%d/%m/%Y") if start else _("début"),
            "end": end.strftime("%d/%m/%Y") if end else _("ce jour"),
            "now": timezone.localtime().strftime("%d/%m/%Y %H:%M"), "user": user.email}, styles["BodyText"]),
        Spacer(1, 0.4 * cm),
    ]
    data = [[Paragraph(str(h), small) for h in HEADERS]]
    data += [[Paragraph(_escape(v), small) for v in _values(row)] for row in rows]
    table = Table(data, repeatRows=1, colWidths=[3 * cm, 6 * cm, 2.6 * cm, 2.6 * cm, 8 * cm, 2.6 * cm, 1.8 * cm])
    table.setStyle(TableStyle([
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#000091")),
        ("TEXTCOLOR", (0, 0), (-1, 0), colors.white),
        ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]))
    story.append(table)
    if not rows:
        story.append(Paragraph(_("Aucun accès sur la période."), styles["BodyText"]))
    doc.build(story)
    return buffer.getvalue()


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# --------------------------------------------------------------------------- filière access


def _referent_site(request: HttpRequest, code: str) -> Site:
    site = access.user_sites(request.user).filter(code=code).first()
    if site is None:
        raise Http404
    if not access.is_site_referent(request.user, site):
        raise PermissionDenied(_("Réservé au référent du site."))
    return site


class GrantForm(forms.Form):
    user = forms.ModelChoiceField(label=gettext_lazy("Référent de la filière"), queryset=User.objects.none(),
                                  widget=forms.Select(attrs={"class": "fr-select"}))
    ends_on = forms.DateField(label=gettext_lazy("Dernier jour d'accès (facultatif)"), required=False,
                              widget=forms.DateInput(attrs={"type": "date", "class": "fr-input"}))
    reason = forms.CharField(label=gettext_lazy("Motif"), max_length=255, required=False,
                             widget=forms.TextInput(attrs={"class": "fr-input"}))

    def __init__(self, *args: Any, site: Site, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.site = site
        referents = FiliereReferent.objects.filter(filiere=site.filiere).values("user")
        self.fields["user"].queryset = User.objects.filter(pk__in=referents, is_active=True, is_national_team=False) \
            .order_by("last_name", "first_name", "email")
        self.fields["user"].label_from_instance = lambda u: f"{u.get_full_name() or u.email} ({u.email})"

    def clean_ends_on(self) -> dt.date | None:
        ends_on = self.cleaned_data.get("ends_on")
        if ends_on and ends_on < timezone.localdate():
            raise forms.ValidationError(_("La date de fin est déjà passée."))
        return ends_on

    def clean_user(self) -> User:
        user = self.cleaned_data["user"]
        if SiteAccessGrant.objects.filter(site=self.site, user=user, revoked_at__isnull=True).exists():
            raise forms.ValidationError(_("Ce référent a déjà un accès ouvert à ce site : révoquez-le d'abord."))
        return user


@login_and_otp_required
def grants(request: HttpRequest, code: str) -> HttpResponse:
    """The site referent opens the site's records to a referent of the site's filière."""
    site = _referent_site(request, code)
    form = GrantForm(request.POST or None, site=site)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                grant = SiteAccessGrant.objects.create(
                    site=site, user=form.cleaned_data["user"], granted_by=request.user,
                    ends_on=form.cleaned_data["ends_on"], reason=form.cleaned_data["reason"])
                trail.record(request, Action.GRANT, obj=grant, changes={
                    "site": [None, site.code], "user": [None, grant.user.email],
                    "ends_on": [None, str(grant.ends_on) if grant.ends_on else None]},
                    detail=f"accès aux dossiers du site {site.code} accordé à {grant.user.email}")
        except IntegrityError:
            form.add_error("user", _("Ce référent a déjà un accès ouvert à ce site : révoquez-le d'abord."))
        else:
            messages.success(request, _("Accès accordé à %(user)s.") % {"user": grant.user.email})
            return redirect("audit:grants", code=site.code)
    rows = SiteAccessGrant.objects.filter(site=site).select_related("user", "granted_by", "revoked_by")
    today = timezone.localdate()
    return render(request, "audit/grants.html", {
        "site": site, "form": form,
        "grants": [{"grant": g, "current": g.is_current(today)} for g in rows],
    }, status=400 if form.errors else 200)


@login_and_otp_required
@require_POST
def grant_revoke(request: HttpRequest, code: str, grant: int) -> HttpResponse:
    site = _referent_site(request, code)
    with transaction.atomic():
        row = get_object_or_404(SiteAccessGrant.objects.select_for_update(), pk=grant, site=site)
        if row.revoked_at is None:
            row.revoked_at, row.revoked_by = timezone.now(), request.user
            row.save(update_fields=["revoked_at", "revoked_by"])
            trail.record(request, Action.REVOKE, obj=row, changes={"revoked_at": [None, row.revoked_at.isoformat()]},
                         detail=f"accès aux dossiers du site {site.code} révoqué pour {row.user.email}")
            messages.success(request, _("Accès de %(user)s révoqué.") % {"user": row.user.email})
    return redirect("audit:grants", code=site.code)
