"""Activity figures, PIRAMIG items and their files, per scope (site, hospital, filière,
instance). Aggregates only; a scope the user may not see answers 404 like an unknown one."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from bamara.accounts.decorators import login_and_otp_required as login_required
from bamara.audit import trail
from bamara.audit.models import Action

from . import charts, exports
from . import indicators as ind
from . import scopes as scopes_module
from .compute import Period, compute
from .models import Refresh
from .present import Presented, present
from .suppression import THRESHOLD


class PeriodForm(forms.Form):
    annee = forms.IntegerField(label=gettext_lazy("Année"), min_value=2000, max_value=2100, required=False)
    du = forms.DateField(label=gettext_lazy("Du (inclus)"), required=False,
                         widget=forms.DateInput(attrs={"type": "date"}))
    au = forms.DateField(label=gettext_lazy("Au (inclus)"), required=False,
                         widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        start, end = data.get("du"), data.get("au")
        if bool(start) != bool(end):
            raise forms.ValidationError(_("Indiquez les deux dates de la période, ou une année."))
        if start and end and start > end:
            raise forms.ValidationError(_("La date de début doit précéder la date de fin."))
        if start and end and (end - start).days > 366 * 10:
            raise forms.ValidationError(_("La période ne peut pas dépasser dix ans."))
        return data

    def period(self) -> Period:
        data = self.cleaned_data
        if data.get("du") and data.get("au"):
            return Period(data["du"], data["au"])
        return Period.year(data.get("annee") or dt.date.today().year)


def _scope_or_404(request: HttpRequest, kind: str, key: str) -> scopes_module.Scope:
    try:
        scope = scopes_module.resolve(kind, key)
    except LookupError:
        raise Http404(_("Périmètre introuvable")) from None
    if not scopes_module.can_view(request.user, scope):
        raise Http404(_("Périmètre introuvable"))
    return scope


def _figures(request: HttpRequest, kind: str, key: str) -> tuple[Presented, PeriodForm]:
    scope = _scope_or_404(request, kind, key)
    form = PeriodForm(request.GET or None)
    period = form.period() if form.is_bound and form.is_valid() else Period.year(dt.date.today().year)
    presented = present(compute(scope, period), scopes_module.needs_suppression(request.user, scope))
    return presented, form


@login_required
def index(request: HttpRequest) -> HttpResponse:
    available = scopes_module.scopes_for(request.user)
    if len(available) == 1:
        return redirect("reports:activity", available[0].kind, available[0].key)
    return render(request, "reports/index.html", {"scopes": available})


def _context(request: HttpRequest, presented: Presented, form: PeriodForm) -> dict:
    figures = presented.figures
    return {
        "p": presented, "scope": figures.scope, "period": figures.period, "form": form,
        "query": request.GET.urlencode(), "threshold": THRESHOLD,
        "scope_rule": ind.SCOPE_RULE, "definitions": ind.BREAKDOWN_DEFINITIONS,
        "scopes": scopes_module.scopes_for(request.user),
        "facts_refreshed": Refresh.objects.filter(name="facts").values_list("finished_at", flat=True).first(),
    }


@login_required
def activity(request: HttpRequest, kind: str, key: str) -> HttpResponse:
    presented, form = _figures(request, kind, key)
    context = _context(request, presented, form)
    context["charts"] = {
        "monthly": charts.columns("chart-monthly", _("Activités par mois"), presented.monthly),
        "contexts": charts.bars("chart-contexts", _("Activités par contexte"), presented.by_context),
        "pyramid": charts.pyramid("chart-pyramid", _("Pyramide des âges de la file active"), presented),
        "status": charts.bars("chart-status", _("Patients par statut du diagnostic"), presented.by_status),
        "top": charts.bars("chart-top", _("Diagnostics les plus fréquents"),
                           [type(r)(r.key, f"ORPHA:{r.key} {r.label}", r.value) for r in presented.top_diagnoses],
                           label_width=300),
    }
    return render(request, "reports/activity.html", context)


@login_required
def piramig(request: HttpRequest, kind: str, key: str) -> HttpResponse:
    presented, form = _figures(request, kind, key)
    return render(request, "reports/piramig.html", _context(request, presented, form))


FORMATS = {
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", exports.to_xlsx),
    "pdf": ("application/pdf", exports.to_pdf),
}


@login_required
def export(request: HttpRequest, kind: str, key: str, fmt: str) -> HttpResponse:
    if fmt not in FORMATS:
        raise Http404(_("Format inconnu"))
    presented, _form = _figures(request, kind, key)
    content_type, build = FORMATS[fmt]
    figures = presented.figures
    response = HttpResponse(build(presented), content_type=content_type)
    name = f"activite_{figures.scope.kind}_{figures.scope.key}_{figures.period.start:%Y%m%d}_{figures.period.end:%Y%m%d}"
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    # Aggregates only, but a file leaves the application: keep a trace of who took which.
    trail.record(request, Action.EXPORT, detail=f"chiffres d'activité {figures.scope.kind} "
                 f"{figures.scope.key} {figures.period} ({fmt})")
    return response
