"""The patient list of the user's sites, its downloads and saved filters. Every patient comes
through the access wall (`access.visible_patients`); every page shown and every download is
audited."""

from __future__ import annotations

import datetime as dt
import tempfile

from django.contrib import messages
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    QueryDict,
    StreamingHttpResponse,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from bamara.accounts.decorators import login_and_otp_required
from bamara.audit import trail
from bamara.audit.models import Action
from bamara.organisations import access
from bamara.records.completeness import completeness
from bamara.records.models import Diagnosis, Patient
from bamara.records.validation.data import PREFETCH
from bamara.sdm import oids

from . import entries, export
from .filters import PAGE_SIZE, ListFilterForm, querystring, serial_plans, too_many_for_completeness
from .models import SavedFilter

FORMATS = {"xlsx", "csv"}
PSEUDONYMISED = "pseudonymisee"


def pseudonymised_only(user) -> bool:
    """Whether the user may download pseudonymised data only (the `lists.pseudonymised_only`
    permission, given to the user or one of their groups). Checked on the rows rather than
    with has_perm, which would also restrict superusers."""
    rows = Permission.objects.filter(content_type__app_label="lists", codename="pseudonymised_only")
    return rows.filter(Q(user=user) | Q(group__user=user)).exists()


def _form(request: HttpRequest, data: QueryDict) -> ListFilterForm:
    sites = list(access.user_sites(request.user))
    if not sites:
        raise Http404  # no readable site: no nominative list (national team, account managers...)
    return ListFilterForm(data, sites=sites, default_site=access.current_site(request))


@login_and_otp_required
def patient_list(request: HttpRequest) -> HttpResponse:
    form = _form(request, request.GET)
    page = None
    rows: list[dict] = []
    error = ""
    if form.is_valid():
        if form.filters_completeness:
            patients = form.with_completeness(form.patients())
            if patients is None:
                error = too_many_for_completeness()
            else:
                paginator = Paginator(patients.order_by(*form.patient_sort()).values_list("pk", flat=True), PAGE_SIZE)
                page = paginator.get_page(request.GET.get("page"))
        else:
            # Page through the ids only, read in order from the site's list index
            # (lists.Entry), then load the page's 25 records.
            with serial_plans():
                count = form.count()  # on the entries, without the patients
                paginator = Paginator(form.ordered_ids(count), PAGE_SIZE)
                paginator.count = count
                page = paginator.get_page(request.GET.get("page"))
                page.object_list = list(page.object_list)
        if page is not None:
            rows = _rows(list(page.object_list), form.selected_sites())
            trail.record_views(request, [row["patient"] for row in rows], "liste de patients")
    context = {
        "form": form, "page": page, "rows": rows, "error": error,
        "query": querystring(form), "saved": request.user.saved_filters.all(),
        "pseudonymised_only": pseudonymised_only(request.user),
    }
    # htmx (the filter form, the pagination) swaps the results only; a history restore (back
    # button after the htmx cache was evicted) needs the whole page.
    htmx = getattr(request, "htmx", None)
    partial = bool(htmx) and not htmx.history_restore_request
    template = "lists/_results.html" if partial else "lists/patient_list.html"
    return render(request, template, context)


# What a row of the page shows (lists/_results.html); completeness needs the whole record.
ROW_FIELDS = ("birth_name", "first_birth_given_name", "birth_date", "birth_date_precision", "sex_code",
              "deceased", "opposition")


def _rows(ids: list[int], sites: list) -> list[dict]:
    """The page's patients, in the order of `ids`, with their diagnoses and completeness. For
    one site, completeness is the one stored on the list entries (computed for those the
    triggers cleared); for several, it is computed over them together, with the records'
    children loaded in bulk."""
    from django.db.models import prefetch_related_objects

    if len(sites) == 1:
        records = Patient.objects.only(*ROW_FIELDS).in_bulk(ids)
        patients = [records[pk] for pk in ids if pk in records]
        percent = entries.fill_completeness(sites[0].pk, [patient.pk for patient in patients])
        diagnoses: dict[int, list[tuple]] = {}
        for patient_id, *values in (Diagnosis.objects.filter(patient_id__in=list(records)).order_by("pk")
                                    .values_list("patient_id", "disease_code", "disease_system",
                                                 "status_code", "status_system")):
            diagnoses.setdefault(patient_id, []).append(tuple(values))
    else:
        records = Patient.objects.in_bulk(ids)
        patients = [records[pk] for pk in ids if pk in records]
        prefetch_related_objects(patients, *PREFETCH)  # what completeness reads; diagnoses by pk
        percent = {patient.pk: completeness(patient, sites).mandatory_percent for patient in patients}
        diagnoses = {patient.pk: [(d.disease_code, d.disease_system, d.status_code, d.status_system)
                                  for d in patient.diagnoses.all()] for patient in patients}
    labels = export.Labels()
    labels.preload_orpha({code for values in diagnoses.values() for code, system, *_rest in values
                          if system in (oids.ORPHA, oids.ORPHA_GROUPS)})
    return [
        {"patient": patient, "completeness": percent.get(patient.pk),
         "diagnoses": [{"display": _disease(code, system, labels), "status": labels(status, status_system)}
                       for code, system, status, status_system in diagnoses.get(patient.pk, ()) if code]}
        for patient in patients
    ]


def _disease(code: str, system: str, labels: export.Labels) -> str:
    label = labels(code, system)
    if system in (oids.ORPHA, oids.ORPHA_GROUPS):
        return label or f"ORPHA:{code}"  # the Orphanet label starts with its code
    return f"{code} {label}".strip()


@login_and_otp_required
def download(request: HttpRequest) -> HttpResponse:
    form = _form(request, request.GET)
    fmt = request.GET.get("format", "xlsx")
    pseudonymised = request.GET.get("variante") == PSEUDONYMISED
    back = f"{reverse('lists:patients')}?{querystring(form, drop=('page', 'format', 'variante'))}"
    if fmt not in FORMATS:
        messages.error(request, _("Format de téléchargement inconnu : choisissez XLSX ou CSV."))
        return redirect(back)
    if not pseudonymised and pseudonymised_only(request.user):
        raise PermissionDenied(_("Votre rôle ne permet que les téléchargements pseudonymisés."))
    if not form.is_valid():
        messages.error(request, _("Les filtres contiennent des erreurs : corrigez-les avant de télécharger."))
        return redirect(back)
    patients = form.with_completeness(form.patients())
    if patients is None:
        messages.error(request, too_many_for_completeness())
        return redirect(back)
    patients = patients.order_by(*form.patient_sort())
    site_ids = [site.pk for site in form.selected_sites()]
    sheets = export.build_sheets(pseudonymised=pseudonymised)
    filters = form.describe()
    about = _about(request, filters, pseudonymised)
    name = _filename(form, pseudonymised, fmt)
    if fmt == "xlsx":
        # Written to an anonymous temporary file (rows go to disk as they come), then sent.
        target = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 -- FileResponse closes it
        counts = export.write_xlsx(target, sheets, patients, site_ids, about)
        _audit(request, filters, fmt, pseudonymised, counts)
        target.seek(0)
        return FileResponse(target, as_attachment=True, filename=name,
                            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    count = patients.count()
    _audit(request, filters, fmt, pseudonymised, {"patients": count})
    response = StreamingHttpResponse(export.csv_zip_chunks(sheets, patients, site_ids, about),
                                     content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _about(request: HttpRequest, filters: dict[str, str], pseudonymised: bool) -> list[tuple[str, str]]:
    about = [("date", dt.datetime.now().isoformat(timespec="seconds")), ("utilisateur", request.user.email),
             ("variante", "pseudonymisée" if pseudonymised else "nominative")]
    return about + [(f"filtre {key}", value) for key, value in filters.items()]


def _filename(form: ListFilterForm, pseudonymised: bool, fmt: str) -> str:
    sites = "-".join(site.code for site in form.selected_sites())[:60]
    suffix = "-pseudonymise" if pseudonymised else ""
    extension = "xlsx" if fmt == "xlsx" else "zip"
    return f"bamara-patients-{sites}-{dt.date.today():%Y%m%d}{suffix}.{extension}"


def _audit(request: HttpRequest, filters: dict, fmt: str, pseudonymised: bool, counts: dict[str, int]) -> None:
    patients = counts.get("patients", 0)
    variant = "pseudonymisé" if pseudonymised else "nominatif"
    trail.record(request, Action.EXPORT, detail=f"liste de patients {fmt} {variant} : {patients} patients",
                 changes={"filtres": filters, "format": fmt, "pseudonymise": pseudonymised, "lignes": counts})


@login_and_otp_required
@require_POST
def save_filter(request: HttpRequest) -> HttpResponse:
    if not access.user_sites(request.user).exists():
        raise Http404
    name = request.POST.get("name", "").strip()[:100]
    query = QueryDict(request.POST.get("query", ""), mutable=True)
    query.pop("page", None)
    if not name:
        messages.error(request, _("Donnez un nom au filtre pour l'enregistrer."))
    else:
        SavedFilter.objects.update_or_create(user=request.user, name=name,
                                             defaults={"query": query.urlencode()[:2000]})
        messages.success(request, _("Filtre « %(name)s » enregistré.") % {"name": name})
    return redirect(f"{reverse('lists:patients')}?{query.urlencode()}")


@login_and_otp_required
@require_POST
def delete_filter(request: HttpRequest) -> HttpResponse:
    if not access.user_sites(request.user).exists():
        raise Http404
    # Only the user's own filters: another user's filter is as good as absent.
    value = request.POST.get("filtre", "")
    pk = int(value) if value.isdigit() else 0
    deleted, _rows = SavedFilter.objects.filter(user=request.user, pk=pk).delete()
    if deleted:
        messages.success(request, _("Filtre supprimé."))
    else:
        messages.error(request, _("Ce filtre n'existe pas."))
    return redirect("lists:patients")
