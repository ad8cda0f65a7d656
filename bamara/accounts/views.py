"""Login, logout, registration, password reset, my account and the TOTP second factor."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp import login as otp_login

from bamara.audit.models import Action
from bamara.audit.trail import diff, record
from bamara.organisations.models import SiteMembership, User

from . import emails
from . import otp as totp
from .decorators import login_and_otp_required
from .forms import (
    EmailPasswordResetForm,
    LoginForm,
    ProfileForm,
    RegistrationForm,
    TokenForm,
)
from .models import RegistrationRequest
from .roles import is_manager, roles_of


def safe_next(request: HttpRequest) -> str:
    url = request.POST.get("next") or request.GET.get("next") or ""
    if url and url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()},
                                               require_https=request.is_secure()):
        return url
    return resolve_url(settings.LOGIN_REDIRECT_URL)


# --- Login and logout -------------------------------------------------------------------

class Login(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm

    def form_valid(self, form: LoginForm) -> HttpResponse:
        # Each password login owes its own second factor.
        self.request.session.pop(DEVICE_ID_SESSION_KEY, None)
        return super().form_valid(form)

    def get_success_url(self) -> str:
        url = super().get_success_url()
        if totp.needs_second_factor(self.request.user):
            return f"{reverse('accounts:otp')}?{urlencode({'next': url})}"
        return url


def cooloff_minutes() -> int:
    cooloff = getattr(settings, "AXES_COOLOFF_TIME", None)
    return int(cooloff.total_seconds() // 60) if isinstance(cooloff, timedelta) else 15


def locked_out(request: HttpRequest, response: HttpResponse | None = None,
               credentials: dict | None = None) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: the login page again, with the reason and no way through."""
    email = (credentials or {}).get("username") or request.POST.get("username", "")
    context = {"form": LoginForm(request, initial={"username": email}), "locked": True,
               "cooloff_minutes": cooloff_minutes()}
    return render(request, "accounts/login.html", context, status=429)


class Logout(auth_views.LogoutView):
    # Django's LogoutView answers POST only: a link or an image cannot log anyone out.
    next_page = reverse_lazy("accounts:login")

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = super().post(request, *args, **kwargs)
        messages.success(request, _("Vous êtes déconnecté(e)."))
        return response


# --- Registration -----------------------------------------------------------------------

def register(request: HttpRequest) -> HttpResponse:
    if request.method == "POST" and "refresh" in request.POST:
        # Without JavaScript: show the chosen hospital's sites, keeping what was typed.
        initial = {key: request.POST.get(key) for key in
                   ("first_name", "last_name", "email", "profession", "rpps", "hospital", "message")}
        initial["sites"] = request.POST.getlist("sites")
        form = RegistrationForm(initial=initial)
    elif request.method == "POST":
        form = RegistrationForm(request.POST)
        if form.is_valid():
            create_registration(request, form.cleaned_data)
            return redirect("accounts:register_done")
    else:
        form = RegistrationForm()
    return render(request, "accounts/register.html", {"form": form})


def create_registration(request: HttpRequest, data: dict[str, Any]) -> RegistrationRequest | None:
    """An inactive user and a pending request; or, for a known address, a mail to its owner
    and the very same answer on screen (no account enumeration)."""
    existing = User.objects.filter(email__iexact=data["email"]).first()
    registration = None
    if existing is None:
        try:
            with transaction.atomic():
                user = User.objects.create_user(
                    data["email"], data["password1"], first_name=data["first_name"],
                    last_name=data["last_name"], rpps=data["rpps"],
                    profession=data["profession"], hospital=data["hospital"], is_active=False,
                )
                registration = RegistrationRequest.objects.create(
                    user=user, hospital=data["hospital"], profession=data["profession"],
                    rpps=data["rpps"], message=data["message"],
                )
                registration.set_sites(list(data["sites"]))
                record(request, Action.CREATE, obj=user,
                       detail=f"demande d'inscription {registration.pk} ({data['hospital']})")
        except IntegrityError:  # the same address registered a moment ago
            existing = User.objects.filter(email__iexact=data["email"]).first()
    if registration is None:
        if existing is not None:
            emails.notify_existing_account(request, existing)
        return None
    emails.send_email_confirmation(request, registration)
    emails.notify_managers(request, registration)
    return registration


def register_sites(request: HttpRequest) -> HttpResponse:
    """htmx: the checkboxes of the sites of the hospital just chosen."""
    form = RegistrationForm(initial={"hospital": request.GET.get("hospital")})
    return render(request, "accounts/_register_sites.html", {"form": form})


def register_done(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/register_done.html")


def confirm_email(request: HttpRequest, token: str) -> HttpResponse:
    pk = emails.registration_from_token(token)
    registration = RegistrationRequest.objects.filter(pk=pk).first() if pk else None
    if registration is None:
        return render(request, "accounts/confirm_email.html", {"valid": False}, status=400)
    if registration.email_confirmed_at is None:
        registration.email_confirmed_at = timezone.now()
        registration.save(update_fields=["email_confirmed_at"])
    return render(request, "accounts/confirm_email.html",
                  {"valid": True, "registration": registration})


# --- Password reset by e-mail ------------------------------------------------------------

class PasswordReset(auth_views.PasswordResetView):
    template_name = "accounts/password_reset.html"
    form_class = EmailPasswordResetForm
    email_template_name = "accounts/emails/password_reset.txt"
    subject_template_name = "accounts/emails/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")


class PasswordResetDone(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class PasswordResetConfirm(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")
    reset_url_token = "nouveau"

    def form_valid(self, form) -> HttpResponse:
        response = super().form_valid(form)
        # Whoever proves to own the mailbox may try again at once.
        axes_reset(username=form.user.email)
        record(self.request, Action.UPDATE, obj=form.user,
               detail="mot de passe réinitialisé par le lien reçu par e-mail")
        return response


class PasswordResetComplete(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"


# --- My account ---------------------------------------------------------------------------

def account_page(request: HttpRequest, status: int = 200, **forms: Any) -> HttpResponse:
    user = request.user
    device = totp.confirmed_device(user)
    context = {
        "profile_form": forms.get("profile_form") or ProfileForm(instance=user),
        "password_form": forms.get("password_form") or PasswordChangeForm(user),
        "device": device,
        "disable_form": forms.get("disable_form") or (TokenForm(device=device) if device else None),
        "totp_mandatory": is_manager(user),
        "roles": sorted(roles_of(user)),
        "memberships": SiteMembership.objects.filter(user=user).select_related("site")
        .order_by("site__code"),
    }
    return render(request, "accounts/account.html", context, status=status)


@login_and_otp_required
def account(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return account_page(request)
    before = User.objects.get(pk=request.user.pk)
    form = ProfileForm(request.POST, instance=request.user)
    if not form.is_valid():
        return account_page(request, profile_form=form)
    user = form.save()
    record(request, Action.UPDATE, obj=user, changes=diff(before, user, list(form.fields)),
           detail="profil modifié par la personne")
    messages.success(request, _("Votre profil est enregistré."))
    return redirect("accounts:account")


@require_POST
@login_and_otp_required
def password_change(request: HttpRequest) -> HttpResponse:
    form = PasswordChangeForm(request.user, request.POST)
    if not form.is_valid():
        return account_page(request, password_form=form)
    user = form.save()
    update_session_auth_hash(request, user)  # stay logged in here, out everywhere else
    record(request, Action.UPDATE, obj=user, detail="mot de passe modifié")
    messages.success(request, _("Votre mot de passe est modifié."))
    return redirect("accounts:account")


def setup_step(request: HttpRequest, next_url: str, forced: bool) -> HttpResponse:
    """Show a QR code for a new TOTP device; confirm it with a first code."""
    device = totp.pending_device(request.user)
    form = TokenForm(request.POST or None, device=device)
    if request.method == "POST" and form.is_valid():
        totp.confirm(device)
        otp_login(request, device)
        record(request, Action.UPDATE, obj=request.user,
               detail="double authentification (TOTP) activée")
        messages.success(request, _("La double authentification est activée."))
        return redirect(next_url)
    return render(request, "accounts/totp_setup.html", {
        "form": form, "qr": totp.qr_svg(device), "secret": totp.secret_for_humans(device),
        "next": next_url, "forced": forced,
    })


@login_and_otp_required
def totp_enable(request: HttpRequest) -> HttpResponse:
    asked = request.POST.get("next") or request.GET.get("next")
    next_url = safe_next(request) if asked else reverse("accounts:account")
    return setup_step(request, next_url, forced=False)


@require_POST
@login_and_otp_required
def totp_disable(request: HttpRequest) -> HttpResponse:
    device = totp.confirmed_device(request.user)
    if device is None:
        return redirect("accounts:account")
    if is_manager(request.user):
        messages.error(request, _("La double authentification est obligatoire pour les "
                                  "gestionnaires de comptes."))
        return redirect("accounts:account")
    form = TokenForm(request.POST, device=device)
    if not form.is_valid():
        return account_page(request, disable_form=form)
    totp.remove_devices(request.user)
    request.session.pop(DEVICE_ID_SESSION_KEY, None)
    record(request, Action.UPDATE, obj=request.user,
           detail="double authentification (TOTP) désactivée")
    messages.success(request, _("La double authentification est désactivée."))
    return redirect("accounts:account")


@login_required
def otp(request: HttpRequest) -> HttpResponse:
    """The step after the password: a TOTP code; account managers without a device set one
    up here before anything else."""
    next_url = safe_next(request)
    user = request.user
    if totp.is_verified(user):
        return redirect(next_url)
    device = totp.confirmed_device(user)
    if device is None:
        if is_manager(user):
            return setup_step(request, next_url, forced=True)
        return redirect(next_url)
    form = TokenForm(request.POST or None, device=device)
    if request.method == "POST" and form.is_valid():
        otp_login(request, device)
        return redirect(next_url)
    return render(request, "accounts/otp.html", {"form": form, "next": next_url})
