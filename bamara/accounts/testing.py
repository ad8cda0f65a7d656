"""Helpers for the tests of every app.

    from bamara.accounts.testing import login_verified
    login_verified(client, manager)   # logged in and through the second factor
"""

from __future__ import annotations

from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from bamara.organisations.models import User

from .otp import needs_second_factor


def login_verified(client: Client, user: User) -> TOTPDevice | None:
    """force_login, plus a verified TOTP device in the session for users who owe one."""
    client.force_login(user)
    if not needs_second_factor(user):
        return None
    device = (TOTPDevice.objects.filter(user=user, confirmed=True).first()
              or TOTPDevice.objects.create(user=user, name="test", confirmed=True))
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return device
