"""Guards for views of every app: logged in, active, and through the second factor.

    from bamara.accounts.decorators import login_and_otp_required, LoginAndOTPRequiredMixin

    @login_and_otp_required
    def dashboard(request): ...

    class Export(LoginAndOTPRequiredMixin, View): ...

The second factor is required from account managers (always) and from users who enabled it.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django_htmx.http import HttpResponseClientRedirect

from .otp import is_verified, needs_second_factor


def navigate(request: HttpRequest, url: str) -> HttpResponse:
    # An htmx request would swap the login page into a fragment: make the browser navigate.
    if getattr(request, "htmx", False):
        return HttpResponseClientRedirect(url)
    return HttpResponseRedirect(url)


def otp_url(next_url: str) -> str:
    return f"{reverse('accounts:otp')}?{urlencode({'next': next_url})}"


def refusal(request: HttpRequest, login_url: str | None = None) -> HttpResponse | None:
    """The redirect a request must get before reaching a protected view, or None to let it
    through. Shared by the decorator, the mixin and the middleware."""
    user = request.user
    if not user.is_authenticated or not user.is_active:
        response = redirect_to_login(request.get_full_path(), login_url or settings.LOGIN_URL)
        return navigate(request, response["Location"])
    if not is_verified(user) and needs_second_factor(user):
        return navigate(request, otp_url(request.get_full_path()))
    return None


def login_and_otp_required(
    view: Callable | None = None, *, login_url: str | None = None
) -> Callable:
    """Use bare (`@login_and_otp_required`) or with `login_url=`."""

    def decorator(view_func: Callable) -> Callable:
        @wraps(view_func)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            return refusal(request, login_url) or view_func(request, *args, **kwargs)

        return wrapped

    return decorator(view) if view is not None else decorator


class LoginAndOTPRequiredMixin:
    """The same guard for class-based views; put it first among the bases."""

    login_url: str | None = None

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        return refusal(request, self.login_url) or super().dispatch(request, *args, **kwargs)  # type: ignore[misc]
