"""`{% if user|refers:current_site %}`: the navigation entries of a site's referent."""

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
