"""The upload page of site referents: choose a file and a mapping, dry run, download the
correction report, then commit. Only into the sites where the user is referent (the wall)."""

from __future__ import annotations

import uuid
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from bamara.accounts.decorators import login_and_otp_required
from bamara.audit import trail
from bamara.audit.models import Action

from . import mapping as mappings
from . import report as reports
from .engine import Importer, ImportFailure
from .models import ImportRun, RunStatus
from .readers import ReadError
from .service import referent_sites, start_run

UPLOAD_DIR = "imports"
MAX_UPLOAD = 200 * 1024 * 1024


def storage() -> Path:
    path = Path(settings.DATA_DIR) / UPLOAD_DIR
    path.mkdir(parents=True, exist_ok=True)
    return path


class UploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("Fichier à importer (CSV ou XLSX)"))
    mapping = forms.ChoiceField(label=gettext_lazy("Correspondance"))
    site = forms.ChoiceField(label=gettext_lazy("Site par défaut (si le fichier n'en indique pas)"))

    def __init__(self, *args, sites=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["mapping"].choices = [(name, name) for name in mappings.bundled()]
        self.fields["site"].choices = [(s.code, f"{s.code} — {s.name}") for s in sites]
        self.fields["file"].widget.attrs.update({"class": "fr-upload", "accept": ".csv,.xlsx"})
        self.fields["mapping"].widget.attrs["class"] = "fr-select"
        self.fields["site"].widget.attrs["class"] = "fr-select"

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD:
            raise forms.ValidationError(_("Fichier trop volumineux (200 Mo au plus) : utilisez la "
                                          "commande bamara import."))
        if Path(upload.name).suffix.lower() not in (".csv", ".xlsx"):
            raise forms.ValidationError(_("Seuls les fichiers CSV et XLSX sont acceptés."))
        return upload


def _sites(request: HttpRequest):
    sites = list(referent_sites(request.user))
    if not sites:
        raise PermissionDenied(_("Réservé aux référents de site."))
    return sites


def _run(request: HttpRequest, pk: int) -> ImportRun:
    """A run of one of the user's referent sites; 404 otherwise (existence not revealed)."""
    sites = _sites(request)
    run = ImportRun.objects.filter(pk=pk, default_site__in=sites).first()
    if run is None:
        raise Http404
    return run


def _execute(request: HttpRequest, run: ImportRun, mapping: mappings.Mapping, path: Path,
             commit: bool) -> None:
    try:
        summary = Importer(run, mapping, path, commit=commit).execute()
    except (ReadError, ImportFailure) as exc:
        messages.error(request, _("Import impossible : %(error)s") % {"error": exc})
        return
    report = storage() / f"rapport-{run.pk}-{uuid.uuid4().hex}.xlsx"
    reports.write(report, run, summary, None if commit else summary.results)
    summary.close()
    run.report_path = str(report)
    run.save(update_fields=["report_path"])


@login_and_otp_required
def index(request: HttpRequest) -> HttpResponse:
    sites = _sites(request)
    form = UploadForm(request.POST or None, request.FILES or None, sites=sites)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        site = next(s for s in sites if s.code == form.cleaned_data["site"])
        path = storage() / f"{uuid.uuid4().hex}{Path(upload.name).suffix.lower()}"
        with open(path, "wb") as handle:
            for chunk in upload.chunks():
                handle.write(chunk)
        try:
            mapping = mappings.load(form.cleaned_data["mapping"])
        except mappings.MappingError as exc:
            messages.error(request, str(exc))
            return redirect("imports:index")
        run = start_run(path, mapping, commit=False, user=request.user, default_site=site,
                        sites=sites, file_name=Path(upload.name).name[:255])
        run.stored_path = str(path)
        run.save(update_fields=["stored_path"])
        _execute(request, run, mapping, path, commit=False)
        return redirect("imports:run", pk=run.pk)
    runs = ImportRun.objects.filter(default_site__in=sites).select_related("default_site")[:30]
    return render(request, "imports/index.html", {"form": form, "runs": runs})


@login_and_otp_required
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = _run(request, pk)
    counts = run.counts or {}
    codes = sorted(((k.removeprefix("code:"), v) for k, v in counts.items() if k.startswith("code:")),
                   key=lambda kv: -kv[1])
    return render(request, "imports/run.html", {
        "run": run, "counts": counts, "codes": codes,
        "can_commit": run.status == RunStatus.DRY_RUN and bool(run.stored_path)
        and Path(run.stored_path).exists(),
    })


@login_and_otp_required
def download_report(request: HttpRequest, pk: int) -> HttpResponse:
    run = _run(request, pk)
    if not run.report_path or not Path(run.report_path).exists():
        raise Http404
    # The report quotes source values (identifiers, dates): an export of nominative data.
    trail.record(request, Action.EXPORT, obj=run, detail=f"rapport de l'import {run.pk}")
    return FileResponse(open(run.report_path, "rb"), as_attachment=True,
                        filename=f"rapport-import-{run.pk}.xlsx")


@login_and_otp_required
@require_POST
def commit(request: HttpRequest, pk: int) -> HttpResponse:
    dry = _run(request, pk)
    if dry.status != RunStatus.DRY_RUN or not dry.stored_path or not Path(dry.stored_path).exists():
        messages.error(request, _("Cet essai ne peut pas être enregistré (fichier absent ou déjà "
                                  "importé)."))
        return redirect("imports:run", pk=dry.pk)
    try:
        mapping = mappings.load(dry.mapping_name)
    except mappings.MappingError as exc:
        messages.error(request, str(exc))
        return redirect("imports:run", pk=dry.pk)
    path = Path(dry.stored_path)
    sites = _sites(request)
    run = start_run(path, mapping, commit=True, user=request.user, default_site=dry.default_site,
                    sites=sites, file_name=dry.file_name)
    _execute(request, run, mapping, path, commit=True)
    run.refresh_from_db()
    if run.status == RunStatus.DONE:
        messages.success(request, _("Import enregistré."))
    return redirect("imports:run", pk=run.pk)
