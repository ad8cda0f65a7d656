"""Merge two records of one person, and undo it exactly.

`merge(kept, other, user)` snapshots both records (the patient rows and every row of every
table that refers to them, found through Django's model graph, so that tables added by other
apps are covered too), moves the other record's rows to the kept one, keeps the other's
identifiers (IDMR as a `FormerIdentifier`, IPP, INS, uuid and CDA setId on the `Merge`),
deletes the other record and writes one audit event per record.

`unmerge(merge, user)` puts every row of the snapshot back, with its primary key and its
timestamps, and removes the rows the merge added. It refuses when the kept record changed
after the merge (compared with a digest taken at merge time), since undoing would then lose
that work; the change must be undone first (or `force=True` accepts the loss).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import defaultdict
from typing import Any

from django.core import serializers
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from bamara.audit import trail
from bamara.audit.models import Action
from bamara.records.models import CareEpisode, Patient, PatientName
from bamara.records.search import index_patient

from .models import CandidateStatus, DuplicateCandidate, FormerIdentifier, Merge


class MergeError(ValueError):
    """A merge or an unmerge that cannot be done; the message is French, for the user."""


Key = tuple[str, Any]  # (model label, primary key)


# Hidden relations (related_name "+") a merge follows too: which source record of an import fed
# the record (without it a re-import would create the merged record again). Not the import
# rows (a run's log: a later run would count as a change of the kept record and block the
# unmerge), nor the derived tables kept by their own triggers and signals (lists, reports,
# quality).
FOLLOWED_HIDDEN = frozenset({"imports.ImportedRecord"})


def _reverse_relations(model: type[models.Model]) -> list[models.ForeignObjectRel]:
    return [rel for rel in model._meta.get_fields(include_hidden=True)
            if rel.auto_created and not rel.concrete and (rel.one_to_many or rel.one_to_one)
            and not rel.field.many_to_many
            and (not rel.hidden or rel.related_model._meta.label in FOLLOWED_HIDDEN)]


def closure(patients: list[Patient]) -> dict[Key, models.Model]:
    """The patient rows and every row that refers to them, directly or through other rows.

    A row of another patient that refers to one of them (a child's ``mother``) is included,
    since a merge repoints it, but not followed further.
    """
    found: dict[Key, models.Model] = {}
    frontier: dict[type[models.Model], list[models.Model]] = {Patient: list(patients)}
    for patient in patients:
        found[(Patient._meta.label, patient.pk)] = patient
    while frontier:
        following: dict[type[models.Model], list[models.Model]] = defaultdict(list)
        for model, rows in frontier.items():
            pks = [row.pk for row in rows]
            for rel in _reverse_relations(model):
                related = rel.related_model
                for row in related._base_manager.filter(**{f"{rel.field.name}__in": pks}).order_by("pk"):
                    key = (related._meta.label, row.pk)
                    if key in found:
                        continue
                    found[key] = row
                    if related is not Patient:
                        following[related].append(row)
        frontier = following
    return found


def dump(rows: dict[Key, models.Model] | list[models.Model], *, exact: bool = True
         ) -> list[dict[str, Any]]:
    """Every column of every row, as JSON values, in a stable order (``exact``: timestamps to
    the microsecond; without it, to the millisecond, as merges made before session 8 stored
    their digests)."""
    objects = list(rows.values()) if isinstance(rows, dict) else list(rows)
    objects.sort(key=lambda row: (row._meta.label, str(row.pk)))
    encoder = _ExactJSONEncoder if exact else DjangoJSONEncoder
    return json.loads(serializers.serialize("json", objects, cls=encoder))


class _ExactJSONEncoder(DjangoJSONEncoder):
    """Timestamps to the microsecond: Django's encoder keeps milliseconds, so a row stamped
    less than a millisecond past the second came back from an unmerge one instant earlier
    (and an unmerge must restore the rows exactly)."""

    def default(self, o: Any) -> Any:
        if isinstance(o, dt.datetime):
            text = o.isoformat()
            return text.removesuffix("+00:00") + "Z" if text.endswith("+00:00") else text
        return super().default(o)


def digest(data: list[dict[str, Any]]) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def record_dump(patient_ids: list[int]) -> list[dict[str, Any]]:
    """The full dump of these records (for tests and for checking an unmerge)."""
    return dump(closure(list(Patient.objects.filter(pk__in=patient_ids))))


# Columns of the kept record never filled from the other one: its own identity and keys.
_OWN_COLUMNS = {"id", "uuid", "hospital_id", "national_id", "created_at", "updated_at", "source",
                "source_ref", "field_sources", "cda_set_id", "cda_version", "record_created_on"}


def _blank(value: Any) -> bool:
    return value is None or value == ""


def _fill_blanks(kept: Patient, other: Patient) -> list[str]:
    """Copy the other record's values into the kept record's empty columns."""
    filled = []
    # An identifier comes with its authority and status, or not at all.
    grouped = {"ipp_oid": "ipp", "ins_oid": "ins", "ins_status": "ins"}
    for field in Patient._meta.concrete_fields:
        name = field.attname
        if name in _OWN_COLUMNS:
            continue
        if name in grouped and not _blank(getattr(kept, grouped[name])) and grouped[name] not in filled:
            continue
        if _blank(getattr(kept, name)) and not _blank(getattr(other, name)):
            if field.is_relation and field.related_model is Patient and getattr(other, name) == kept.pk:
                continue  # the kept record would point at itself (its own mother...)
            setattr(kept, name, getattr(other, name))
            filled.append(name)
    # A partial date is two columns: take the other's precision with its date.
    for date in ("birth_date", "death_date"):
        if date in filled:
            setattr(kept, f"{date}_precision", getattr(other, f"{date}_precision"))
    return filled


def _move_rows(model: type[models.Model], old: models.Model, new: models.Model,
               skip: tuple[type[models.Model], ...] = ()) -> None:
    """Every row that refers to `old` (any table, any app) now refers to `new`."""
    for rel in _reverse_relations(model):
        related, field = rel.related_model, rel.field.name
        if related in skip:
            continue
        rows = related._base_manager.filter(**{field: old})
        if rel.one_to_one and related._base_manager.filter(**{field: new}).exists():
            if rel.field.null:
                rows.update(**{field: None})
            else:
                rows.delete()
            continue
        try:
            with transaction.atomic():
                rows.update(**{field: new})
        except IntegrityError:
            # A unique constraint (one row per patient and something): row by row, the kept
            # record's row wins and the other's is dropped (it stays in the snapshot).
            for row in rows:
                try:
                    with transaction.atomic():
                        related._base_manager.filter(pk=row.pk).update(**{field: new})
                except IntegrityError:
                    related._base_manager.filter(pk=row.pk).delete()


def _move_episodes(kept: Patient, other: Patient) -> None:
    """Care episodes are one per patient and site: at a shared site the kept one stays and
    receives the rows of the other's (referrals, and any other table's); elsewhere the
    episode moves."""
    kept_by_site = {episode.site_id: episode for episode in kept.care_episodes.all()}
    for episode in list(other.care_episodes.all()):
        mine = kept_by_site.get(episode.site_id)
        if mine is None:
            CareEpisode.objects.filter(pk=episode.pk).update(patient=kept)
            continue
        _move_rows(CareEpisode, episode, mine)
        changed = []
        for field in CareEpisode._meta.concrete_fields:
            name = field.attname
            if name in {"id", "uuid", "patient_id", "site_id", "created_at", "updated_at"}:
                continue
            if _blank(getattr(mine, name)) and not _blank(getattr(episode, name)):
                setattr(mine, name, getattr(episode, name))
                changed.append(name)
        if changed:
            CareEpisode.objects.filter(pk=mine.pk).update(**{n: getattr(mine, n) for n in changed})
        CareEpisode.objects.filter(pk=episode.pk).delete()


def _repoint(kept: Patient, other: Patient) -> None:
    """Every other row that refers to the other record now refers to the kept one."""
    _move_episodes(kept, other)
    PatientName.objects.filter(patient=other).delete()  # rebuilt for the kept record below
    _move_rows(Patient, other, kept, skip=(CareEpisode, PatientName))


def merge(kept: Patient, other: Patient, user: Any, *, candidate: DuplicateCandidate | None = None,
          request: Any = None) -> Merge:
    """Merge `other` into `kept` (see the module docstring); `request` for the audit trail."""
    if kept.pk == other.pk:
        raise MergeError("un dossier ne peut pas être fusionné avec lui-même")
    if kept.hospital_id != other.hospital_id:
        raise MergeError("les deux dossiers doivent appartenir au même établissement")
    with transaction.atomic():
        kept = Patient.objects.select_for_update().get(pk=kept.pk)
        other = Patient.objects.select_for_update().get(pk=other.pk)
        snapshot = dump(closure([kept, other]))
        _repoint(kept, other)
        filled = _fill_blanks(kept, other)
        identifiers = {"merged_uuid": other.uuid, "merged_ipp": other.ipp, "merged_ins": other.ins,
                       "merged_national_id": other.national_id, "merged_cda_set_id": other.cda_set_id}
        other_pk = other.pk
        other.delete()
        other.pk = other_pk  # delete() clears it; the merge, audit and messages need it
        # Saving runs the signals: name keys and IDMR follow the kept record's traits.
        kept.save()
        index_patient(kept)
        if other.national_id and other.national_id != kept.national_id:
            FormerIdentifier.objects.create(
                patient=kept, national_id=other.national_id, replaced_by=kept.national_id,
                reason=f"fusion du dossier {other.uuid}",
            )
        result = Merge.objects.create(
            hospital_id=kept.hospital_id, kept=kept.pk, merged=other.pk, candidate=candidate,
            snapshot=snapshot, after_digest=digest(record_dump([kept.pk])),
            merged_by=user if getattr(user, "is_authenticated", False) else None, **identifiers,
        )
        if candidate is not None:
            candidate.status = CandidateStatus.MERGED
            candidate.decided_by = result.merged_by
            candidate.decided_at = timezone.now()
            candidate.save(update_fields=["status", "decided_by", "decided_at"])
        changes = {"conservé": kept.pk, "fusionné": other.pk, "fusion": result.pk, "complétés": filled}
        for patient_id in (kept.pk, other.pk):
            trail.record(request or user, Action.MERGE, patient=patient_id, obj=result, changes=changes,
                         detail=f"fusion du dossier {other.pk} dans le dossier {kept.pk}")
    return result


def unmerge(merge_row: Merge, user: Any, *, force: bool = False, request: Any = None) -> None:
    """Restore both records exactly as they were before `merge_row`."""
    with transaction.atomic():
        merge_row = Merge.objects.select_for_update().get(pk=merge_row.pk)
        if merge_row.unmerged_at is not None:
            raise MergeError("cette fusion a déjà été annulée")
        kept = Patient.objects.filter(pk=merge_row.kept).first()
        if kept is None:
            raise MergeError("le dossier conservé n'existe plus : défusion impossible")
        current = closure([kept])
        if not force and digest(dump(current)) != merge_row.after_digest \
                and digest(dump(current, exact=False)) != merge_row.after_digest:
            raise MergeError("le dossier conservé a été modifié depuis la fusion : "
                             "la défusion perdrait ces modifications")
        wanted = {(item["model"], item["pk"]) for item in merge_row.snapshot}
        extra: dict[type[models.Model], list[Any]] = defaultdict(list)
        for (label, pk), row in current.items():
            if (label.lower(), _json_pk(pk)) not in wanted:
                extra[type(row)].append(pk)
        for model, pks in extra.items():
            model._base_manager.filter(pk__in=pks).delete()
        objects = list(serializers.deserialize("python", merge_row.snapshot))
        existing: dict[type[models.Model], set] = {}
        for obj in objects:
            model = type(obj.object)
            if model not in existing:
                pks = [o.object.pk for o in objects if type(o.object) is model]
                existing[model] = set(model._base_manager.filter(pk__in=pks).values_list("pk", flat=True))
        # Updates first (they give back unique values such as an IPP), then the re-inserts.
        try:
            with transaction.atomic():
                for obj in sorted(objects, key=lambda o: o.object.pk not in existing[type(o.object)]):
                    obj.save()
        except IntegrityError as error:
            # e.g. the merged record's IPP given since to a new record of the hospital.
            raise MergeError("un autre dossier porte désormais un identifiant du dossier fusionné "
                             f"(IPP, setId…) : défusion impossible ({error})") from error
        merge_row.unmerged_at = timezone.now()
        merge_row.unmerged_by = user if getattr(user, "is_authenticated", False) else None
        merge_row.save(update_fields=["unmerged_at", "unmerged_by"])
        if merge_row.candidate_id:
            DuplicateCandidate.objects.filter(pk=merge_row.candidate_id).update(
                status=CandidateStatus.PENDING, decided_by=None, decided_at=None)
        changes = {"conservé": merge_row.kept, "restauré": merge_row.merged, "fusion": merge_row.pk}
        for patient_id in (merge_row.kept, merge_row.merged):
            trail.record(request or user, Action.UNMERGE, patient=patient_id, obj=merge_row,
                         changes=changes, detail=f"défusion du dossier {merge_row.merged}")


def _json_pk(pk: Any) -> Any:
    """A primary key as the JSON serializer writes it (ints stay ints, others become text)."""
    return pk if isinstance(pk, int) else str(pk)


def kept_record(hospital_id: int, *, ipp: str = "", uuid: str = "", cda_set_id: str = "") -> int | None:
    """The record that absorbed a merged one known by its IPP, uuid or CDA setId (the last
    merge still in force), so that later documents and imports can be routed to it."""
    merges = Merge.objects.filter(hospital_id=hospital_id, unmerged_at__isnull=True)
    if ipp:
        merges = merges.filter(merged_ipp=ipp)
    elif uuid:
        merges = merges.filter(merged_uuid=uuid)
    elif cda_set_id:
        merges = merges.filter(merged_cda_set_id=cda_set_id)
    else:
        return None
    found = merges.order_by("-merged_at", "-pk").first()
    while found is not None:
        nxt = Merge.objects.filter(merged=found.kept, unmerged_at__isnull=True).order_by("-merged_at").first()
        if nxt is None:
            return found.kept
        found = nxt
    return None
