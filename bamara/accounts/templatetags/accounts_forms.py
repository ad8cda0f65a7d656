"""Render a bound field's widget with the DSFR classes and its hint and error ids."""

from __future__ import annotations

from django import forms, template
from django.utils.safestring import SafeString

register = template.Library()


def hint_id(field: forms.BoundField) -> str:
    return f"{field.auto_id}-hint"


def error_id(field: forms.BoundField) -> str:
    return f"{field.auto_id}-error"


@register.filter
def dsfr_widget(field: forms.BoundField) -> SafeString:
    widget = field.field.widget
    base = "fr-select" if isinstance(widget, forms.Select) else "fr-input"
    classes = [base, widget.attrs.get("class", "")]
    described = []
    if field.help_text:
        described.append(hint_id(field))
    if field.errors:
        classes.append(f"{base}--error")
        described.append(error_id(field))
    attrs = {"class": " ".join(c for c in classes if c)}
    if described:
        attrs["aria-describedby"] = " ".join(described)
    return field.as_widget(attrs=attrs)


@register.filter
def field_hint_id(field: forms.BoundField) -> str:
    return hint_id(field)


@register.filter
def field_error_id(field: forms.BoundField) -> str:
    return error_id(field)
