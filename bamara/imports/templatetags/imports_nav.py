from django import template

from bamara.organisations.models import SiteRole

register = template.Library()


@register.filter
def is_site_referent(user) -> bool:
    """For the navigation: the import page is for site referents."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return user.memberships.filter(role=SiteRole.SITE_REFERENT, active=True, site__active=True).exists()
