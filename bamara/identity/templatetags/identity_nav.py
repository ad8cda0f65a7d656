"""`{{ request.user|reviews_duplicates }}`: whether to show the duplicate queue in the menu."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def reviews_duplicates(user: Any) -> bool:
    from bamara.organisations.templatetags_support import refers_a_site

    return refers_a_site(user)
