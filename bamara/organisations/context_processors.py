from django.http import HttpRequest

from . import access


def current_site(request: HttpRequest) -> dict:
    """The site the user works for, for the navigation (lazy: only pages that show it query)."""
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    cache: dict = {}

    def site():
        if "site" not in cache:
            cache["site"] = access.current_site(request)
        return cache["site"]

    return {"current_site": site}
