"""Questions the navigation asks of the user on every page, answered once per request."""

from __future__ import annotations

from typing import Any

from .memo import per_request
from .models import SiteMembership, SiteRole


def refers_a_site(user: Any) -> bool:
    """Whether the user is an active site referent of an active site (the duplicate queue and
    the imports are theirs). Once per request."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active \
            or getattr(user, "is_national_team", False):
        return False
    return per_request(user, "_bamara_refers_a_site", lambda: SiteMembership.objects.filter(
        user=user, role=SiteRole.SITE_REFERENT, active=True, site__active=True).exists())
