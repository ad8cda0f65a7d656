"""The wall around nominative data, in one place.

A user sees a patient only through a care episode at one of the sites where the user has an
active membership. Every view, search, autocomplete, export and API must start from
`visible_patients(user)`; anything else answers 404 without revealing that the record exists.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, QuerySet
from django.http import Http404

from bamara.records.models import CareEpisode, Patient

from .models import Site, SiteMembership, User


def user_sites(user: User) -> QuerySet[Site]:
    if not user.is_authenticated or not user.is_active or user.is_national_team:
        return Site.objects.none()
    return Site.objects.filter(memberships__user=user, memberships__active=True, active=True)


def visible_patients(user: User, site: Site | None = None) -> QuerySet[Patient]:
    """Patients with a care episode at one of the user's sites (or at `site`, if the user is
    a member there)."""
    sites = user_sites(user)
    if site is not None:
        sites = sites.filter(pk=site.pk)
    episodes = CareEpisode.objects.filter(patient=OuterRef("pk"), site__in=sites)
    # EXISTS rather than a join, so that a patient followed at two of the user's sites
    # appears once without DISTINCT.
    return Patient.objects.filter(Exists(episodes))


def get_patient(user: User, pk: int) -> Patient:
    try:
        return visible_patients(user).get(pk=pk)
    except (Patient.DoesNotExist, ValueError, TypeError):
        raise Http404("Dossier introuvable") from None


def is_member(user: User, site: Site) -> bool:
    return SiteMembership.objects.filter(user=user, site=site, active=True, site__active=True).exists()


SESSION_SITE = "bamara_site_id"


def current_site(request) -> Site | None:
    """The site the user works for now: chosen in the session, else the first of the user's."""
    sites = user_sites(request.user)
    chosen = request.session.get(SESSION_SITE)
    site = sites.filter(pk=chosen).first() if chosen else None
    return site or sites.order_by("code").first()


def choose_site(request, site: Site) -> bool:
    if not user_sites(request.user).filter(pk=site.pk).exists():
        return False
    request.session[SESSION_SITE] = site.pk
    return True
