"""Mails of the accounts app (the console backend in the demo). Text only, in French."""

from __future__ import annotations

import logging

from django.core import signing
from django.core.mail import send_mail
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse

from bamara.organisations.models import SiteMembership, User

from .models import RegistrationRequest

log = logging.getLogger(__name__)
CONFIRM_SALT = "bamara.accounts.confirm-email"
CONFIRM_MAX_AGE = 7 * 24 * 3600  # a week to open the mail


def _send(name: str, context: dict, to: list[str]) -> None:
    subject = " ".join(render_to_string(f"accounts/emails/{name}_subject.txt", context).split())
    body = render_to_string(f"accounts/emails/{name}.txt", context)
    send_mail(subject, body, None, to)


def confirmation_token(registration: RegistrationRequest) -> str:
    return signing.dumps(registration.pk, salt=CONFIRM_SALT)


def registration_from_token(token: str) -> int | None:
    try:
        return int(signing.loads(token, salt=CONFIRM_SALT, max_age=CONFIRM_MAX_AGE))
    except (signing.BadSignature, TypeError, ValueError):
        return None


def send_email_confirmation(request: HttpRequest, registration: RegistrationRequest) -> None:
    url = reverse("accounts:confirm_email", args=[confirmation_token(registration)])
    _send("confirm_email", {"registration": registration, "user": registration.user,
                            "url": request.build_absolute_uri(url)}, [registration.user.email])


def notify_managers(request: HttpRequest, registration: RegistrationRequest) -> None:
    managers = list(User.objects.filter(
        managed_hospitals__hospital=registration.hospital, is_active=True
    ).values_list("email", flat=True))
    if not managers:
        log.warning("No account manager for %s: registration %s waits unseen",
                    registration.hospital, registration.pk)
        return
    url = reverse("accounts:request_detail", args=[registration.pk])
    _send("new_request", {"registration": registration, "user": registration.user,
                          "sites": list(registration.sites.all()),
                          "url": request.build_absolute_uri(url)}, managers)


def notify_existing_account(request: HttpRequest, user: User) -> None:
    # The registration page answers the same whether the address is known or not; the owner
    # of the mailbox learns the truth here.
    _send("existing_account", {
        "user": user,
        "login_url": request.build_absolute_uri(reverse("accounts:login")),
        "reset_url": request.build_absolute_uri(reverse("accounts:password_reset")),
    }, [user.email])


def notify_decision(request: HttpRequest, registration: RegistrationRequest) -> None:
    memberships = SiteMembership.objects.filter(
        user=registration.user, active=True
    ).select_related("site")
    _send("decision", {
        "registration": registration, "user": registration.user,
        "activated": registration.status == "activated", "memberships": memberships,
        "login_url": request.build_absolute_uri(reverse("accounts:login")),
    }, [registration.user.email])
