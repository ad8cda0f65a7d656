"""The TOTP second factor: who needs it, the user's device, and its QR code."""

from __future__ import annotations

import base64
from typing import Any

import qrcode
import qrcode.image.svg
from django.utils.safestring import SafeString, mark_safe
from django_otp.plugins.otp_totp.models import TOTPDevice

from bamara.organisations.memo import forget, per_request

from .roles import is_manager

DEVICE_NAME = "bamara"


def confirmed_device(user: Any) -> TOTPDevice | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("-pk").first()


def needs_second_factor(user: Any) -> bool:
    """Account managers always; anyone else once they have enabled a device.

    Asked by the middleware and again by the view's guard: once per request."""
    if not getattr(user, "is_authenticated", False):
        return False
    return per_request(user, _NEEDS_2FA, lambda: is_manager(user) or TOTPDevice.objects.filter(
        user=user, confirmed=True).exists())


_NEEDS_2FA = "_bamara_needs_2fa"


def is_verified(user: Any) -> bool:
    # `is_verified` is installed by django_otp's middleware; without it nobody is verified.
    check = getattr(user, "is_verified", None)
    return bool(check and check())


def pending_device(user: Any) -> TOTPDevice:
    """The unconfirmed device being set up; kept across reloads so the QR code stays valid."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
    return device or TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)


def confirm(device: TOTPDevice) -> None:
    # One authenticator per person: a new confirmed device replaces the old ones.
    TOTPDevice.objects.filter(user=device.user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])


def remove_devices(user: Any) -> None:
    TOTPDevice.objects.filter(user=user).delete()
    forget(user, _NEEDS_2FA)


def secret_for_humans(device: TOTPDevice) -> str:
    """The base32 key in groups of four, for typing into an app without a camera."""
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def qr_svg(device: TOTPDevice) -> SafeString:
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    svg = image.to_string(encoding="unicode")
    return mark_safe(svg)  # generated here from our own data, no user input inside
