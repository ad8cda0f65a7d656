"""Credentials of hospital systems: one bearer token per system, scoped to one hospital."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from django.utils import timezone

from bamara.organisations.models import Hospital

from .models import HospitalSystemCredential

PREFIX = "bmr_"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_credential(hospital: Hospital, name: str) -> tuple[HospitalSystemCredential, str]:
    """A new active credential and its token (shown once: only its digest is stored)."""
    while True:
        lookup = secrets.token_hex(4)  # 8 hex characters: finds the row without a scan
        if not HospitalSystemCredential.objects.filter(token_prefix=lookup).exists():
            break
    token = f"{PREFIX}{lookup}_{secrets.token_urlsafe(32)}"
    credential = HospitalSystemCredential.objects.create(
        hospital=hospital, name=name[:100], token_prefix=lookup, token_hash=_digest(token)
    )
    return credential, token


def authenticate(token: str) -> HospitalSystemCredential | None:
    """The active credential of a token, compared in constant time; None otherwise."""
    if not token.startswith(PREFIX) or len(token) > 200:
        return None
    lookup = token[len(PREFIX):len(PREFIX) + 8]
    credential = (HospitalSystemCredential.objects.select_related("hospital")
                  .filter(token_prefix=lookup, active=True).first())
    expected = credential.token_hash if credential is not None else _digest("absent" + token)
    if not hmac.compare_digest(expected, _digest(token)) or credential is None:
        return None
    HospitalSystemCredential.objects.filter(pk=credential.pk).update(last_used_at=timezone.now())
    return credential


def bearer(header: str) -> str:
    scheme, _, token = (header or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""
