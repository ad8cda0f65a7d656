"""Write audit events: `record(actor, action, ...)` from views, intake, imports and commands."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.http import HttpRequest

from .models import Action, AuditEvent


def _client_ip(request: HttpRequest) -> str | None:
    # Behind the hospital reverse proxy the first X-Forwarded-For hop is the client.
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    return forwarded.split(",")[0].strip() or request.META.get("REMOTE_ADDR") or None


def diff(before: models.Model | None, after: models.Model, fields: list[str] | None = None) -> dict:
    """Field-level changes {field: [old, new]} between two states of a row."""
    names = fields or [f.attname for f in after._meta.concrete_fields if f.attname not in
                       ("id", "created_at", "updated_at")]
    changes: dict[str, list[Any]] = {}
    for name in names:
        old = getattr(before, name, None) if before is not None else None
        new = getattr(after, name, None)
        if old != new:
            changes[name] = [_jsonable(old), _jsonable(new)]
    return changes


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def record(
    actor: HttpRequest | Any | None,
    action: Action | str,
    *,
    patient: models.Model | int | None = None,
    obj: models.Model | None = None,
    changes: dict | None = None,
    detail: str = "",
    channel: str = "",
) -> AuditEvent:
    """Append one event. `actor` is a request (user and address taken from it), a user, or None
    for a system process (then say which in `channel`, e.g. "cda", "import")."""
    event = new_event(actor, action, patient=patient, obj=obj, changes=changes, detail=detail, channel=channel)
    event.save(force_insert=True)
    return event


def new_event(
    actor: HttpRequest | Any | None,
    action: Action | str,
    *,
    patient: models.Model | int | None = None,
    obj: models.Model | None = None,
    changes: dict | None = None,
    detail: str = "",
    channel: str = "",
) -> AuditEvent:
    """The event ``record`` appends, not yet saved (for callers that insert it with other rows)."""
    request = actor if isinstance(actor, HttpRequest) else None
    user = request.user if request is not None else actor
    authenticated = user is not None and getattr(user, "is_authenticated", False)
    patient_id = patient.pk if isinstance(patient, models.Model) else patient
    return AuditEvent(
        user_id=user.pk if authenticated else None,
        user_email=user.email if authenticated else "",
        action=action,
        patient_id=patient_id,
        object_type=obj._meta.label if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        changes=changes or {},
        detail=detail[:255],
        ip_address=_client_ip(request) if request is not None else None,
        channel=channel or ("web" if request is not None else ""),
    )


def record_views(request: HttpRequest, patients: list[models.Model], detail: str) -> None:
    """One VIEW event per patient shown in a list, written in one statement."""
    _bulk(request, [], patients, detail)


def record_search(request: HttpRequest, text: str, patients: list[models.Model], detail: str) -> None:
    """A SEARCH event for the words typed, and one VIEW event per patient shown: one statement,
    so all or none are written without a transaction of its own."""
    _bulk(request, [new_event(request, Action.SEARCH, detail=text)], patients, detail)


def _bulk(request: HttpRequest, events: list[AuditEvent], patients: list[models.Model], detail: str) -> None:
    from bamara.records import inserts  # the rows bulk_create would send, without its compiler

    events += [new_event(request, Action.VIEW, patient=p, obj=p, detail=detail) for p in patients]
    inserts.insert(AuditEvent, events)
