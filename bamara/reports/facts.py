"""Rebuilding `SitePatientFact` rows from the records, set-based: for some patients (signals,
rows found missing by the figures) or for a range of patient ids (the refresh command)."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection

from bamara.sdm import oids

from . import indicators as ind

COLUMNS = ("site_id, patient_id, first_inclusion, sex_code, birth_date, deceased, death_date, "
           "is_foetus, status_rank, orpha_codes")


def _codes_sql() -> str:
    """Distinct non-refuted ORPHA codes of a patient, comma-separated (NULL when none)."""
    code = "CASE WHEN d.disease_system = %s AND d.status_code <> %s THEN d.disease_code END"
    if connection.vendor == "postgresql":
        return f"string_agg(DISTINCT {code}, ',')"
    return f"group_concat(DISTINCT {code})"


def _rebuild(where: str, params: list) -> int:
    """Delete then insert the rows of the patients selected by `where` (a condition on a column
    named patient_id), in one transaction. Returns the number of rows written."""
    status_case = " ".join(f"WHEN '{code}' THEN {rank}" for rank, (code, _) in enumerate(ind.STATUS_ORDER))
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM reports_sitepatientfact WHERE {where}", params)
        cursor.execute(f"""
            INSERT INTO reports_sitepatientfact ({COLUMNS})
            SELECT sp.site_id, p.id, sp.first_inclusion, COALESCE(p.sex_code, ''), p.birth_date,
                   p.deceased, p.death_date, p.is_foetus, COALESCE(dg.status_rank, 99),
                   COALESCE(dg.codes, '')
            FROM (SELECT u.site_id, u.patient_id, MIN(u.inclusion_date) AS first_inclusion
                  FROM (SELECT e.site_id, e.patient_id, e.inclusion_date FROM records_careepisode e
                        WHERE {where.replace('patient_id', 'e.patient_id')}
                        UNION ALL
                        SELECT DISTINCT a.site_id, a.patient_id, CAST(NULL AS DATE) FROM records_activity a
                        WHERE {where.replace('patient_id', 'a.patient_id')}) u
                  GROUP BY u.site_id, u.patient_id) sp
            JOIN records_patient p ON p.id = sp.patient_id
            LEFT JOIN (SELECT d.patient_id,
                              MIN(CASE d.status_code {status_case} ELSE 99 END) AS status_rank,
                              {_codes_sql()} AS codes
                       FROM records_diagnosis d WHERE {where.replace('patient_id', 'd.patient_id')}
                       GROUP BY d.patient_id) dg ON dg.patient_id = p.id
            ORDER BY sp.site_id, sp.patient_id
        """, [*params, *params, oids.ORPHA, ind.REFUTED, *params])
        return cursor.rowcount


def refresh_patients(patient_ids: Iterable[int]) -> int:
    ids = sorted({int(pk) for pk in patient_ids if pk is not None})
    written = 0
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        written += _rebuild(f"patient_id IN ({', '.join(['%s'] * len(chunk))})", chunk)
    return written


def refresh_range(low: int, high: int) -> int:
    """Patients with low <= id < high."""
    return _rebuild("patient_id >= %s AND patient_id < %s", [low, high])


def forget_patient(patient_id: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM reports_sitepatientfact WHERE patient_id = %s", [patient_id])


WATERMARK = "watermark"


def catch_up() -> int:
    """Rebuild the facts of the patients whose record, diagnoses or care episodes changed since
    the watermark (every change that sets updated_at, signals or not: the CDA intake and imports
    write with queryset updates and bulk inserts), then move the watermark. A few index pages
    when nothing changed. Returns the number of patients rebuilt."""
    from django.db import transaction
    from django.utils import timezone

    from .models import Refresh

    changed_sql = """
        SELECT id FROM records_patient WHERE updated_at > %s
        UNION SELECT patient_id FROM records_diagnosis WHERE updated_at > %s
        UNION SELECT patient_id FROM records_careepisode WHERE updated_at > %s"""
    mark = Refresh.objects.filter(name=WATERMARK).values_list("finished_at", flat=True).first()
    if mark is not None:
        with connection.cursor() as cursor:  # the usual case, without a lock: nothing changed
            cursor.execute(changed_sql + " LIMIT 1", [mark, mark, mark])
            if cursor.fetchone() is None:
                return 0
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:  # one catch-up at a time; the others wait for it
                cursor.execute("SELECT pg_advisory_xact_lock(hashtext('reports.facts.catch_up'))")
        mark = Refresh.objects.filter(name=WATERMARK).values_list("finished_at", flat=True).first()
        now = timezone.now()  # before reading: a change committed meanwhile is seen next time
        if mark is None:
            # First use: facts of patients saved so far came from signals or the full rebuild.
            Refresh.objects.create(name=WATERMARK, finished_at=now)
            return 0
        with connection.cursor() as cursor:
            cursor.execute(changed_sql, [mark, mark, mark])
            changed = [row[0] for row in cursor.fetchall()]
        if changed:
            refresh_patients(changed)
            Refresh.objects.filter(name=WATERMARK).update(finished_at=now)
        return len(changed)
