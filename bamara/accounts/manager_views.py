"""The hospital account manager's pages: registration requests, users and their site roles.

Every query starts from the hospitals the manager manages: anything else is a 404.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from bamara.organisations.models import SiteMembership, User

from . import emails, services
from .decorators import login_and_otp_required
from .forms import RefusalForm, SiteRolesForm, sites_of
from .models import RegistrationRequest, RegistrationStatus
from .roles import is_manager, managed_hospitals, managed_sites
from .views import safe_next


def manager_required(view: Callable) -> Callable:
    @login_and_otp_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not is_manager(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


def visible_requests(manager: User) -> QuerySet[RegistrationRequest]:
    return (RegistrationRequest.objects.filter(hospital__in=managed_hospitals(manager))
            .select_related("user", "hospital", "decided_by").prefetch_related("sites"))


def hospital_members(manager: User) -> QuerySet[User]:
    """People of the manager's hospitals, or with a role at one of their sites; not the ones
    whose registration was never accepted (they are requests, not users)."""
    hospitals = managed_hospitals(manager)
    local = SiteMembership.objects.filter(site__hospital__in=hospitals).select_related("site")
    return (User.objects.filter(Q(hospital__in=hospitals) | Q(memberships__site__hospital__in=hospitals))
            .exclude(is_active=False, registration_request__status__in=[
                RegistrationStatus.PENDING, RegistrationStatus.REFUSED])
            .distinct().order_by("last_name", "first_name", "email")
            .prefetch_related(Prefetch("memberships", queryset=local.order_by("site__code"),
                                       to_attr="local_memberships")))


@manager_required
def requests(request: HttpRequest) -> HttpResponse:
    everything = visible_requests(request.user)
    members = list(hospital_members(request.user))
    return render(request, "accounts/manage_requests.html", {
        "hospitals": managed_hospitals(request.user),
        "pending": everything.filter(status=RegistrationStatus.PENDING),
        "decided": everything.exclude(status=RegistrationStatus.PENDING)
        .order_by("-decided_at")[:10],
        "active_members": [m for m in members if m.is_active],
        "inactive_members": [m for m in members if not m.is_active],
    })


@manager_required
def request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    registration = get_object_or_404(visible_requests(request.user), pk=pk)
    sites = list(sites_of(registration.hospital_id))
    requested = {site.pk for site in registration.sites.all()}
    initial = {pk: "saisie" for pk in requested}
    decision = request.POST.get("decision") if request.method == "POST" else None
    roles_form = SiteRolesForm(request.POST if decision == "activate" else None, sites=sites,
                               member=registration.user, initial_roles=initial, require_one=True)
    refusal_form = RefusalForm(request.POST if decision == "refuse" else None)
    if decision and not registration.is_pending:
        messages.error(request, _("Cette demande a déjà été traitée."))
        return redirect("accounts:request_detail", pk=pk)
    if decision == "activate" and roles_form.is_valid():
        if registration.email_confirmed_at is None:
            roles_form.add_error(None, _("La personne n'a pas encore confirmé son adresse "
                                         "e-mail : le compte ne peut pas être activé."))
        else:
            return decide(request, registration, roles_form=roles_form)
    if decision == "refuse" and refusal_form.is_valid():
        return decide(request, registration, reason=refusal_form.cleaned_data["reason"])
    return render(request, "accounts/manage_request.html", {
        "registration": registration, "roles_form": roles_form, "refusal_form": refusal_form,
        "requested": requested,
    })


def decide(request: HttpRequest, registration: RegistrationRequest,
           roles_form: SiteRolesForm | None = None, reason: str = "") -> HttpResponse:
    try:
        if roles_form is not None:
            registration = services.activate(request, registration, roles_form.roles())
            messages.success(request, _("Le compte de %(email)s est activé.")
                             % {"email": registration.user.email})
        else:
            registration = services.refuse(request, registration, reason)
            messages.success(request, _("La demande de %(email)s est refusée.")
                             % {"email": registration.user.email})
    except services.AlreadyDecided:
        messages.error(request, _("Cette demande a déjà été traitée."))
        return redirect("accounts:request_detail", pk=registration.pk)
    emails.notify_decision(request, registration)
    return redirect("accounts:requests")


@manager_required
def user_detail(request: HttpRequest, pk: int) -> HttpResponse:
    member = get_object_or_404(hospital_members(request.user), pk=pk)
    own_account = member.pk == request.user.pk
    sites = list(managed_sites(request.user).filter(active=True).select_related("filiere")
                 .order_by("name", "code"))
    initial = {m.site_id: m.role for m in member.local_memberships if m.active}
    form = SiteRolesForm(request.POST if request.method == "POST" else None, sites=sites,
                         member=member, initial_roles=initial)
    if request.method == "POST":
        if own_account:
            # Nobody grants themselves access to patient records.
            raise PermissionDenied
        if form.is_valid():
            changed = services.apply_site_roles(request, member, form.roles())
            messages.success(request, _("Accès enregistrés (%(count)s modification(s)).")
                             % {"count": changed})
            return redirect("accounts:user_detail", pk=pk)
    return render(request, "accounts/manage_user.html", {
        "member": member, "form": form, "own_account": own_account,
        "can_toggle": can_toggle(request.user, member),
    })


def can_toggle(manager: User, member: User) -> bool:
    """A manager (de)activates accounts of his own hospitals only, never his own."""
    return (member.pk != manager.pk and not member.is_superuser
            and managed_hospitals(manager).filter(pk=member.hospital_id).exists())


def toggle_user(request: HttpRequest, pk: int, active: bool) -> HttpResponse:
    member = get_object_or_404(hospital_members(request.user), pk=pk)
    if not can_toggle(request.user, member):
        raise PermissionDenied
    services.set_user_active(request, member, active)
    if active:
        messages.success(request, _("Le compte de %(email)s est réactivé.") % {"email": member.email})
    else:
        messages.success(request, _("Le compte de %(email)s est désactivé.") % {"email": member.email})
    return redirect("accounts:user_detail", pk=pk)


@require_POST
@manager_required
def user_deactivate(request: HttpRequest, pk: int) -> HttpResponse:
    return toggle_user(request, pk, active=False)


@require_POST
@manager_required
def user_reactivate(request: HttpRequest, pk: int) -> HttpResponse:
    return toggle_user(request, pk, active=True)


@require_POST
@manager_required
def membership_deactivate(request: HttpRequest, pk: int) -> HttpResponse:
    membership = get_object_or_404(
        SiteMembership.objects.select_related("user", "site"),
        pk=pk, site__hospital__in=managed_hospitals(request.user),
    )
    if membership.user_id == request.user.pk:
        raise PermissionDenied
    if membership.active:
        services.deactivate_membership(request, membership)
        messages.success(request, _("Accès de %(email)s au site %(site)s retiré.")
                         % {"email": membership.user.email, "site": membership.site.name})
    return redirect(safe_next(request) if request.POST.get("next") else "accounts:requests")
