"""Who may do what, from the organisation tables: one place to ask about a user's roles.

- "saisie": data entry at a site (clinician, research assistant);
- "referent": site referent;
- "gestionnaire": hospital account manager;
- "filiere": filière referent (aggregates only, unless a site referent grants read access to the site's records: `SiteAccessGrant`);
- "national": national team (aggregates only, never nominative data).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from bamara.organisations.models import (
    FiliereReferent,
    Hospital,
    HospitalManager,
    Site,
    SiteMembership,
    SiteRole,
)

SAISIE = "saisie"
REFERENT = "referent"
GESTIONNAIRE = "gestionnaire"
FILIERE = "filiere"
NATIONAL = "national"
ALL_ROLES = frozenset({SAISIE, REFERENT, GESTIONNAIRE, FILIERE, NATIONAL})


def _active(user: Any) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def roles_of(user: Any) -> set[str]:
    """The roles the user holds now; empty for anonymous or deactivated users."""
    if not _active(user):
        return set()
    roles: set[str] = set()
    if user.is_national_team:
        roles.add(NATIONAL)
    else:
        # Site roles only count for active memberships at active sites, like the access wall.
        site_roles = SiteMembership.objects.filter(
            user=user, active=True, site__active=True
        ).values_list("role", flat=True).distinct()
        roles.update({SAISIE if r == SiteRole.DATA_ENTRY else REFERENT for r in site_roles})
    if HospitalManager.objects.filter(user=user).exists():
        roles.add(GESTIONNAIRE)
    if FiliereReferent.objects.filter(user=user).exists():
        roles.add(FILIERE)
    return roles


def is_manager(user: Any) -> bool:
    return _active(user) and HospitalManager.objects.filter(user=user).exists()


def managed_hospitals(user: Any) -> QuerySet[Hospital]:
    if not _active(user):
        return Hospital.objects.none()
    return Hospital.objects.filter(managers__user=user)


def managed_sites(user: Any) -> QuerySet[Site]:
    return Site.objects.filter(hospital__in=managed_hospitals(user))


def can_manage(user: Any, hospital: Hospital | int | None) -> bool:
    """True when the user is an active account manager of this hospital."""
    if hospital is None or not _active(user):
        return False
    hospital_id = hospital.pk if isinstance(hospital, Hospital) else hospital
    return HospitalManager.objects.filter(user=user, hospital_id=hospital_id).exists()
