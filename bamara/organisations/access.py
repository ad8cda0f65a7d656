"""The wall around nominative data, in one place.

A user sees a patient only through a care episode at one of the sites where the user has an
active membership, or that a site referent opened to the user as a filière referent
(``SiteAccessGrant``: reading only). Every view, search, autocomplete, export and API must
start from `visible_patients(user)`; anything else answers 404 without revealing that the
record exists.

- ``user_sites(user)``: the sites whose records the user may read (memberships and grants);
- ``member_sites(user)``: the sites the user works for (memberships): creating, attaching,
  changing records, the current site;
- ``get_patient(user, pk, write=True)``: a visible patient the user may change (403 when the
  record is only readable through a grant).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from bamara.records.models import CareEpisode, Patient

from .memo import forget, per_request
from .models import FiliereReferent, Site, SiteAccessGrant, SiteMembership, SiteRole, User


def _nominative(user: User) -> bool:
    return bool(user.is_authenticated and user.is_active and not user.is_national_team)


def member_sites(user: User) -> QuerySet[Site]:
    """The sites the user works for (active memberships at active sites)."""
    if not _nominative(user):
        return Site.objects.none()
    return Site.objects.filter(memberships__user=user, memberships__active=True, active=True)


def current_grants(user: User | None = None) -> QuerySet[SiteAccessGrant]:
    """Grants in force today: not revoked, not past their end date, held by a user who is
    still a referent of the site's filière."""
    grants = SiteAccessGrant.objects.filter(revoked_at__isnull=True).filter(
        Q(ends_on__isnull=True) | Q(ends_on__gte=timezone.localdate()))
    if user is not None:
        grants = grants.filter(user=user)
    referent = FiliereReferent.objects.filter(user=OuterRef("user"), filiere=OuterRef("site__filiere"))
    return grants.filter(Exists(referent))


def user_sites(user: User) -> QuerySet[Site]:
    """The sites whose records the user may read: memberships, and grants to a filière referent."""
    if not _nominative(user):
        return Site.objects.none()
    member = SiteMembership.objects.filter(site=OuterRef("pk"), user=user, active=True)
    granted = current_grants(user).filter(site=OuterRef("pk"))
    return Site.objects.filter(Exists(member) | Exists(granted), active=True)


def user_site_ids(user: User) -> list[int]:
    """The ids of `user_sites`, asked once per request: the wall then names them as literals,
    which are cheaper to build and to plan than the membership and grant subqueries."""
    return per_request(user, "_bamara_user_site_ids",
                       lambda: list(user_sites(user).order_by("pk").values_list("pk", flat=True)))


def visible_patients(user: User, site: Site | None = None) -> QuerySet[Patient]:
    """Patients with a care episode at one of the user's sites (or at `site`, if the user is
    a member there)."""
    ids = user_site_ids(user)
    if site is not None:
        ids = [pk for pk in ids if pk == site.pk]
    episodes = CareEpisode.objects.filter(patient=OuterRef("pk"), site_id__in=ids)
    # EXISTS rather than a join, so that a patient followed at two of the user's sites
    # appears once without DISTINCT.
    return Patient.objects.filter(Exists(episodes))


def get_patient(user: User, pk: int, *, write: bool = False) -> Patient:
    """A patient the user sees (else 404); with ``write``, one the user may change (else 403:
    a record read through a grant is not theirs to change)."""
    try:
        patient = visible_patients(user).get(pk=pk)
    except (Patient.DoesNotExist, ValueError, TypeError):
        raise Http404("Dossier introuvable") from None
    if write and not can_write(user, patient):
        raise PermissionDenied("Dossier en lecture seule")
    return patient


def can_write(user: User, patient: Patient) -> bool:
    """Whether the patient is followed at a site the user works for."""
    return CareEpisode.objects.filter(patient=patient, site__in=member_sites(user)).exists()


def is_site_referent(user: User, site: Site | int) -> bool:
    """An active referent membership of an active site (value history, access reports, grants)."""
    site_id = site.pk if isinstance(site, Site) else site
    return _nominative(user) and SiteMembership.objects.filter(
        user=user, site_id=site_id, role=SiteRole.SITE_REFERENT, active=True, site__active=True).exists()


def refers_a_site(user: User) -> bool:
    """Whether the user is an active site referent of an active site (the duplicate queue and
    the imports are theirs); once per request, for the navigation."""
    return per_request(user, "_bamara_refers_a_site", lambda: _nominative(user) and SiteMembership.objects.filter(
        user=user, role=SiteRole.SITE_REFERENT, active=True, site__active=True).exists())


def referent_of_patient(user: User, patient: Patient) -> bool:
    """Whether the user is a site referent of a site that follows the patient."""
    return _nominative(user) and SiteMembership.objects.filter(
        user=user, role=SiteRole.SITE_REFERENT, active=True, site__active=True,
        site__care_episodes__patient=patient).exists()


def is_member(user: User, site: Site) -> bool:
    return SiteMembership.objects.filter(user=user, site=site, active=True, site__active=True).exists()


SESSION_SITE = "bamara_site_id"


_CURRENT = "_bamara_current_site"


def current_site(request) -> Site | None:
    """The site the user works for now: chosen in the session, else the first of the user's
    (a site only read through a grant is never the current site). Once per request: the
    page and its navigation both ask."""
    def compute() -> Site | None:
        sites = member_sites(request.user)
        chosen = request.session.get(SESSION_SITE)
        site = sites.filter(pk=chosen).first() if chosen else None
        return site or sites.order_by("code").first()

    return per_request(request.user, _CURRENT, compute)


def choose_site(request, site: Site) -> bool:
    if not member_sites(request.user).filter(pk=site.pk).exists():
        return False
    request.session[SESSION_SITE] = site.pk
    forget(request.user, _CURRENT)
    return True
