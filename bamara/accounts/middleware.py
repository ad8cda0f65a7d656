"""Nobody who owes a second factor goes anywhere else before giving it."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from .decorators import navigate, otp_url
from .otp import is_verified, needs_second_factor

# Pages a half-logged-in user may still reach: the second-factor step itself, logging out,
# and switching the language.
EXEMPT_VIEWS = {"accounts:otp", "accounts:logout", "set_language"}


class SecondFactorMiddleware:
    """After django_otp's OTPMiddleware: a user who logged in with a password but owes the
    TOTP step (account managers, and users with a device) is sent to it from every page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or is_verified(user):
            return None
        match = request.resolver_match
        if match is not None and match.view_name in EXEMPT_VIEWS:
            return None
        if needs_second_factor(user):
            return navigate(request, otp_url(request.get_full_path()))
        return None
