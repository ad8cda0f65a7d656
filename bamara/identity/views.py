"""The duplicate review queue of the site referent: compare, merge, reject, undo a merge.

Rule (docs/identity.md §8): a site referent reviews the pairs of their hospital in which at
least one record is followed at a site where they are referent. The other record may be
followed only at another site of the same hospital: the page then shows its identity traits
(names, birth date, sex, birth place, IPP, sites), never its medical data. Any other pair,
merge or user answers 404 (403 for a user who is referent nowhere).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from bamara.accounts.decorators import login_and_otp_required as login_required
from bamara.audit import trail
from bamara.organisations.models import Site, SiteRole
from bamara.records.models import CareEpisode, Patient

from .dedup import hospital_patients
from .merge import MergeError, merge, unmerge
from .models import CandidateStatus, DuplicateCandidate, Merge


def referent_sites(user: Any) -> QuerySet[Site]:
    """Active sites where the user holds an active site-referent membership."""
    if not user.is_authenticated or not user.is_active or user.is_national_team:
        return Site.objects.none()
    return Site.objects.filter(memberships__user=user, memberships__active=True,
                               memberships__role=SiteRole.SITE_REFERENT, active=True)


def _at_my_sites(user: Any):
    return CareEpisode.objects.filter(site__in=referent_sites(user)).values("patient_id")


def reviewable(user: Any) -> QuerySet[DuplicateCandidate]:
    """The candidate pairs the user may review (any status)."""
    mine = _at_my_sites(user)
    return DuplicateCandidate.objects.filter(
        hospital__in=referent_sites(user).values("hospital"),
    ).filter(Q(patient_a__in=mine) | Q(patient_b__in=mine))


def _require_referent(request: HttpRequest) -> None:
    if not referent_sites(request.user).exists():
        raise PermissionDenied(_("Réservé aux référents de site."))


def _patients(candidate: DuplicateCandidate) -> tuple[Patient, Patient]:
    """Both records, still followed in the candidate's hospital, or 404."""
    found = hospital_patients(candidate.hospital).in_bulk([candidate.patient_a, candidate.patient_b])
    if len(found) != 2:
        raise Http404(_("Dossier introuvable"))
    return found[candidate.patient_a], found[candidate.patient_b]


def _candidate(request: HttpRequest, pk: int) -> DuplicateCandidate:
    candidate = reviewable(request.user).select_related("hospital").filter(pk=pk).first()
    if candidate is None:
        raise Http404(_("Doublon potentiel introuvable"))
    return candidate


def _identity(patient: Patient) -> dict[str, Any]:
    """The identity traits shown in a review: never medical data."""
    return {
        "patient": patient,
        "sites": sorted(patient.care_episodes.values_list("site__code", flat=True)),
    }


@login_required
def queue(request: HttpRequest) -> HttpResponse:
    _require_referent(request)
    candidates = reviewable(request.user).filter(status=CandidateStatus.PENDING).select_related("hospital")
    page = Paginator(candidates, 25).get_page(request.GET.get("page"))
    ids = [pk for c in page for pk in (c.patient_a, c.patient_b)]
    patients = Patient.objects.in_bulk(ids)
    rows = [(c, patients.get(c.patient_a), patients.get(c.patient_b)) for c in page]
    rows = [row for row in rows if row[1] is not None and row[2] is not None]
    trail.record_views(request, list({p.pk: p for _c, a, b in rows for p in (a, b)}.values()),
                       "file des doublons potentiels")
    return render(request, "identity/queue.html", {"page": page, "rows": rows})


@login_required
def candidate(request: HttpRequest, pk: int) -> HttpResponse:
    pair = _candidate(request, pk)
    a, b = _patients(pair)
    trail.record_views(request, [a, b], f"examen du doublon potentiel {pair.pk}")
    return render(request, "identity/candidate.html", {
        "candidate": pair, "a": _identity(a), "b": _identity(b),
        "pending": pair.status == CandidateStatus.PENDING,
    })


@login_required
@require_POST
def merge_pair(request: HttpRequest, pk: int) -> HttpResponse:
    pair = _candidate(request, pk)
    a, b = _patients(pair)
    keep = request.POST.get("keep", "")
    if pair.status != CandidateStatus.PENDING or keep not in ("a", "b"):
        messages.error(request, _("Choisissez le dossier à conserver (la paire doit être à examiner)."))
        return redirect("identity:candidate", pk=pair.pk)
    kept, other = (a, b) if keep == "a" else (b, a)
    try:
        done = merge(kept, other, request.user, candidate=pair, request=request)
    except MergeError as error:
        messages.error(request, str(error))
        return redirect("identity:candidate", pk=pair.pk)
    messages.success(request, _("Dossiers fusionnés. La fusion peut être annulée depuis l'historique."))
    return redirect("identity:merge_detail", pk=done.pk)


@login_required
@require_POST
def reject_pair(request: HttpRequest, pk: int) -> HttpResponse:
    pair = _candidate(request, pk)
    a, b = _patients(pair)
    if pair.status == CandidateStatus.PENDING:
        pair.status, pair.decided_by, pair.decided_at = CandidateStatus.REJECTED, request.user, timezone.now()
        pair.save(update_fields=["status", "decided_by", "decided_at"])
        for patient in (a, b):
            trail.record(request, "update", patient=patient, obj=pair,
                         detail=f"doublon potentiel {pair.pk} écarté : personnes différentes")
        messages.success(request, _("La paire est écartée : ce sont deux personnes différentes."))
    return redirect("identity:queue")


def reviewable_merges(user: Any) -> QuerySet[Merge]:
    """Merges whose kept record is followed at one of the user's referent sites."""
    return Merge.objects.filter(kept__in=_at_my_sites(user),
                                hospital__in=referent_sites(user).values("hospital"))


@login_required
def merges(request: HttpRequest) -> HttpResponse:
    _require_referent(request)
    page = Paginator(reviewable_merges(request.user).select_related("merged_by", "unmerged_by"), 25
                     ).get_page(request.GET.get("page"))
    kept = Patient.objects.in_bulk([m.kept for m in page])
    rows = [(m, kept.get(m.kept)) for m in page]
    trail.record_views(request, [p for _m, p in rows if p is not None], "historique des fusions")
    return render(request, "identity/merges.html", {"page": page, "rows": rows})


def _merge(request: HttpRequest, pk: int) -> Merge:
    found = reviewable_merges(request.user).select_related("merged_by", "unmerged_by").filter(pk=pk).first()
    if found is None:
        raise Http404(_("Fusion introuvable"))
    return found


@login_required
def merge_detail(request: HttpRequest, pk: int) -> HttpResponse:
    done = _merge(request, pk)
    kept = Patient.objects.get(pk=done.kept)
    trail.record_views(request, [kept], f"fusion {done.pk}")
    merged = next((item["fields"] for item in done.snapshot
                   if item["model"] == "records.patient" and item["pk"] == done.merged), {})
    return render(request, "identity/merge_detail.html", {"merge": done, "kept": _identity(kept),
                                                          "merged": merged})


@login_required
@require_POST
def unmerge_view(request: HttpRequest, pk: int) -> HttpResponse:
    done = _merge(request, pk)
    try:
        unmerge(done, request.user, request=request)
    except MergeError as error:
        messages.error(request, str(error))
        return redirect("identity:merge_detail", pk=done.pk)
    messages.success(request, _("La fusion est annulée : les deux dossiers sont restaurés à l'identique."))
    return redirect("identity:merges")
