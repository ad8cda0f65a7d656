from django import template

from bamara.reports.suppression import display

register = template.Library()


@register.filter
def figure(value: object) -> str:
    """A figure as shown: "< 10" when masked, decimals with a comma."""
    return display(value)
