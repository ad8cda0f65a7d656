"""django-axes wiring: the lockout backend and how it reads the e-mail."""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend
from django.http import HttpRequest


class LockoutBackend(AxesStandaloneBackend):
    """Refuses locked-out e-mails and addresses before the password is even checked.

    Every web login passes the request. Without one (the test client's `login()`, a shell)
    there is no client to lock out, so the check is skipped instead of raising.
    """

    def authenticate(self, request: HttpRequest | None, username: str | None = None,
                     password: str | None = None, **kwargs: Any):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def lockout_username(request: HttpRequest, credentials: dict | None) -> str | None:
    """AXES_USERNAME_CALLABLE: the e-mail as the login form reads it (trimmed, lowercase), so
    that 'A@chu.fr' and 'a@chu.fr ' count against the same account."""
    value = (credentials or {}).get("username")
    if value is None:
        data = getattr(request, "data", None) or request.POST
        value = data.get("username")
    return value.strip().lower() if isinstance(value, str) else None
