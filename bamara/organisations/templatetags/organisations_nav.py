"""The navigation entries of site referents, answered once per request:
`{% if user|refers:current_site %}` (that site), `{% if user|refers_a_site %}` (any site)."""

from __future__ import annotations

from typing import Any

from django import template

from bamara.organisations import access
from bamara.organisations.memo import per_request

register = template.Library()


@register.filter
def refers(user: Any, site: Any) -> bool:
    if site is None or not getattr(user, "is_authenticated", False):
        return False
    return per_request(user, f"_bamara_refers_{site.pk}", lambda: access.is_site_referent(user, site))


@register.filter
def refers_a_site(user: Any) -> bool:
    return access.refers_a_site(user)
