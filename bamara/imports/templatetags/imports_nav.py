from django import template

from bamara.organisations.templatetags_support import refers_a_site

register = template.Library()


@register.filter
def is_site_referent(user) -> bool:
    """For the navigation: the import page is for site referents."""
    return refers_a_site(user)
