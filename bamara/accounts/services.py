"""Account decisions of the hospital account managers, each one audited."""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from bamara.audit.models import Action
from bamara.audit.trail import diff, record
from bamara.organisations.models import Site, SiteMembership, User

from .models import RegistrationRequest, RegistrationStatus


class AlreadyDecided(Exception):
    """Another manager decided this request first."""


def apply_site_roles(request: HttpRequest, member: User, roles: dict[Site, str]) -> int:
    """Make the member's memberships at these sites match `roles` ("" = no access).
    Sites outside `roles` are left alone. Returns how many memberships changed."""
    changed = 0
    existing = {m.site_id: m for m in SiteMembership.objects.filter(user=member, site__in=roles)}
    for site, role in roles.items():
        membership = existing.get(site.pk)
        if role and membership is None:
            membership = SiteMembership.objects.create(
                user=member, site=site, role=role, active=True, granted_by=request.user
            )
            record(request, Action.CREATE, obj=membership,
                   changes={"role": [None, role], "active": [None, True]},
                   detail=f"accès accordé à {member.email} : {role} sur le site {site.code}")
            changed += 1
        elif role and (membership.role != role or not membership.active):
            before = SiteMembership(role=membership.role, active=membership.active)
            membership.role, membership.active = role, True
            membership.granted_by = request.user
            membership.save(update_fields=["role", "active", "granted_by"])
            record(request, Action.UPDATE, obj=membership,
                   changes=diff(before, membership, ["role", "active"]),
                   detail=f"rôle de {member.email} sur le site {site.code} : {role}")
            changed += 1
        elif not role and membership is not None and membership.active:
            deactivate_membership(request, membership)
            changed += 1
    return changed


def deactivate_membership(request: HttpRequest, membership: SiteMembership) -> None:
    membership.active = False
    membership.save(update_fields=["active"])
    record(request, Action.UPDATE, obj=membership, changes={"active": [True, False]},
           detail=f"accès retiré à {membership.user.email} sur le site {membership.site.code}")


def _lock_pending(registration: RegistrationRequest) -> RegistrationRequest:
    locked = RegistrationRequest.objects.select_for_update().get(pk=registration.pk)
    if locked.status != RegistrationStatus.PENDING:
        raise AlreadyDecided
    return locked


@transaction.atomic
def activate(request: HttpRequest, registration: RegistrationRequest,
             roles: dict[Site, str]) -> RegistrationRequest:
    registration = _lock_pending(registration)
    member = registration.user
    member.is_active = True
    member.hospital = registration.hospital
    member.save(update_fields=["is_active", "hospital"])
    registration.status = RegistrationStatus.ACTIVATED
    registration.decided_by = request.user
    registration.decided_at = timezone.now()
    registration.save(update_fields=["status", "decided_by", "decided_at"])
    record(request, Action.UPDATE, obj=member, changes={"is_active": [False, True]},
           detail=f"inscription validée (demande {registration.pk})")
    apply_site_roles(request, member, roles)
    return registration


@transaction.atomic
def refuse(request: HttpRequest, registration: RegistrationRequest,
           reason: str) -> RegistrationRequest:
    registration = _lock_pending(registration)
    registration.status = RegistrationStatus.REFUSED
    registration.decided_by = request.user
    registration.decided_at = timezone.now()
    registration.refusal_reason = reason
    registration.save(update_fields=["status", "decided_by", "decided_at", "refusal_reason"])
    record(request, Action.UPDATE, obj=registration.user,
           detail=f"inscription refusée (demande {registration.pk}) : {reason}")
    return registration


def set_user_active(request: HttpRequest, member: User, active: bool) -> None:
    if member.is_active == active:
        return
    member.is_active = active
    member.save(update_fields=["is_active"])
    record(request, Action.UPDATE, obj=member, changes={"is_active": [not active, active]},
           detail="compte réactivé" if active else "compte désactivé")
