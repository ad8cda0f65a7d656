"""Computation of the activity figures: a few set-based SQL queries per scope and period.

1. the file active: activities of the period grouped per patient (count, foetal activities),
   joined with the per-(site, patient) facts of the scope's sites (models.SitePatientFact: sex,
   birth, death, foetus, most advanced diagnosis status, ORPHA codes, first inclusion), into a
   temporary table read by 2 and 3 — one narrow table read per site instead of probing the
   patient, episode and diagnosis tables patient by patient;
2. patients: that table grouped on sex, age, death, foetus, new patient and status, so a few
   hundred rows come back whatever the size of the scope;
3. the most frequent ORPHA diagnoses of the file active (grouped by set of codes);
4. activities per month and context and RCP meetings (distinct site and day), in one scan.

A whole year of the whole instance is read from its snapshot (models.Snapshot) when there is one.
Figures are raw here; `present.py` applies the small-number rule.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.db import connection, transaction

from . import facts
from . import indicators as ind
from .scopes import Scope


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date

    @classmethod
    def year(cls, year: int) -> Period:
        return cls(dt.date(year, 1, 1), dt.date(year, 12, 31))

    @property
    def is_year(self) -> bool:
        return (self.start.month, self.start.day, self.end.month, self.end.day) == (1, 1, 12, 31) \
            and self.start.year == self.end.year

    def __str__(self) -> str:
        if self.is_year:
            return str(self.start.year)
        return f"{self.start:%d/%m/%Y} – {self.end:%d/%m/%Y}"

    def months(self) -> list[str]:
        months, year, month = [], self.start.year, self.start.month
        while (year, month) <= (self.end.year, self.end.month):
            months.append(f"{year:04d}-{month:02d}")
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return months


@dataclass
class Figures:
    scope: Scope
    period: Period
    values: dict[str, float] = field(default_factory=dict)
    by_status: dict[str, int] = field(default_factory=dict)
    by_context: dict[str, int] = field(default_factory=dict)
    monthly: dict[str, int] = field(default_factory=dict)
    pyramid: dict[str, dict[str, int]] = field(default_factory=dict)  # age band -> sex -> n
    top_diagnoses: list[tuple[str, str, int]] = field(default_factory=list)  # code, name, n
    as_of: dt.datetime | None = None  # when precomputed figures were computed; None: live


def _site_filter(scope: Scope, column: str) -> tuple[str, list]:
    if scope.site_ids is None:
        return "", []
    if not scope.site_ids:
        return f" AND {column} IS NULL", []  # a scope without sites: nothing
    return f" AND {column} IN ({', '.join(['%s'] * len(scope.site_ids))})", list(scope.site_ids)


def _age_sql() -> str:
    """Age in completed years at %s (the end of the period), NULL without a birth date."""
    if connection.vendor == "postgresql":
        return "EXTRACT(YEAR FROM AGE(%s::date, p.birth_date))::int"
    return ("(CAST(strftime('%%Y', %s) AS INTEGER) - CAST(strftime('%%Y', p.birth_date) AS INTEGER)"
            " - (strftime('%%m-%%d', %s) < strftime('%%m-%%d', p.birth_date)))")


def _month_sql(column: str) -> str:
    if connection.vendor == "postgresql":
        return f"to_char({column}, 'YYYY-MM')"
    return f"strftime('%%Y-%%m', {column})"


def age_band(age: int | None) -> str:
    if age is None or age < 0:
        return "inconnu"
    for low, high in ind.AGE_BANDS:
        if high is None or age <= high:
            return f"{low}+" if high is None else f"{low}-{high}"
    raise AssertionError(age)


def band_labels() -> list[str]:
    return [f"{low}+" if high is None else f"{low}-{high}" for low, high in ind.AGE_BANDS] + ["inconnu"]


def compute(scope: Scope, period: Period, top: int = 10, *, precomputed: bool = True) -> Figures:
    """The figures of a scope and period. A whole year of the whole instance comes from its
    snapshot when `refresh_report_facts` made one (`figures.as_of` says when); everything else
    is computed now, from the records and the per-patient facts kept up to date on save."""
    if precomputed and scope.site_ids is None:
        snapshot = _snapshot(scope, period, top)
        if snapshot is not None:
            return snapshot
    facts.catch_up()
    figures = Figures(scope, period)
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Set-based queries over up to millions of rows: JIT compilation costs seconds on
            # misestimated CTEs and gains nothing; a larger work_mem keeps the per-patient
            # aggregation in memory. Both last until the end of this transaction only.
            cursor.execute("SET LOCAL jit = off; SET LOCAL work_mem = '64MB'")
        try:
            _file_active(cursor, figures)
            _patients(cursor, figures)
            _top_diagnoses(cursor, figures, top)
        finally:
            cursor.execute("DROP TABLE IF EXISTS reports_pa")
        _activities(cursor, figures)
    return figures


def _snapshot(scope: Scope, period: Period, top: int) -> Figures | None:
    from .models import Snapshot

    row = Snapshot.objects.filter(kind=scope.kind, key=scope.key, start=period.start, end=period.end,
                                  top=top).first()
    if row is None:
        return None
    data = row.data
    # jsonb does not keep key order: put every breakdown back in the order of the live figures.
    return Figures(
        scope, period,
        values={indicator.key: data["values"][indicator.key] for indicator in ind.INDICATORS},
        by_status={code: data["by_status"][code] for code in ind.STATUS_LABELS},
        by_context={code: data["by_context"][code] for code in [*ind.CONTEXT_LABELS, ind.UNCODED]},
        monthly={month: data["monthly"][month] for month in period.months()},
        pyramid={band: {sex: data["pyramid"][band][sex] for sex in ind.SEXES} for band in band_labels()},
        top_diagnoses=[tuple(item) for item in data["top_diagnoses"]], as_of=row.computed_at)


def snapshot_data(figures: Figures) -> dict:
    return {"values": figures.values, "by_status": figures.by_status, "by_context": figures.by_context,
            "monthly": figures.monthly, "pyramid": figures.pyramid,
            "top_diagnoses": [list(item) for item in figures.top_diagnoses]}


def _file_active_sql(scope: Scope) -> tuple[str, list]:
    """Per patient of the file active: activities, activities on a foetus, and the patient's
    facts over the scope's sites (first inclusion there, sex, birth, death, foetus, diagnosis
    status, ORPHA codes). `missing` flags a patient whose facts rows are not there yet."""
    where_a, params_a = _site_filter(scope, "a.site_id")
    where_f, params_f = _site_filter(scope, "f.site_id")
    if scope.site_ids is not None and len(scope.site_ids) == 1:
        facts = f"SELECT * FROM reports_sitepatientfact f WHERE 1 = 1{where_f}"  # one row per patient
    else:
        # Characteristics are the same on every row of a patient: any row's will do.
        facts = f"""
            SELECT f.patient_id, MIN(f.first_inclusion) AS first_inclusion, MIN(f.sex_code) AS sex_code,
                   MIN(f.birth_date) AS birth_date, MIN(f.death_date) AS death_date,
                   MAX(CASE WHEN f.deceased THEN 1 ELSE 0 END) = 1 AS deceased,
                   MAX(CASE WHEN f.is_foetus THEN 1 ELSE 0 END) = 1 AS is_foetus,
                   MIN(f.status_rank) AS status_rank, MIN(f.orpha_codes) AS orpha_codes
            FROM reports_sitepatientfact f WHERE 1 = 1{where_f} GROUP BY f.patient_id"""
    sql = f"""
        SELECT pa.patient_id, pa.n, pa.nf, f.first_inclusion, f.sex_code, f.birth_date, f.deceased,
               f.death_date, f.is_foetus, f.status_rank, f.orpha_codes,
               CASE WHEN f.patient_id IS NULL THEN 1 ELSE 0 END AS missing
        FROM (SELECT a.patient_id, COUNT(*) AS n, COUNT(a.foetus_id) AS nf
              FROM records_activity a
              WHERE a.date >= %s AND a.date <= %s{where_a}
              GROUP BY a.patient_id) pa
        LEFT JOIN ({facts}) f ON f.patient_id = pa.patient_id
    """
    return sql, [*params_a, *params_f]


def _file_active(cursor, figures: Figures) -> None:
    """The file active, once, into a temporary table read by the patient and diagnosis queries.
    Patients whose facts rows are missing (bulk loads bypass signals) get them rebuilt first,
    so the figures stay exact."""
    sql, params = _file_active_sql(figures.scope)
    params = [figures.period.start, figures.period.end, *params]
    for attempt in range(2):
        cursor.execute("DROP TABLE IF EXISTS reports_pa")
        cursor.execute(f"CREATE TEMPORARY TABLE reports_pa AS {sql}", params)
        cursor.execute("SELECT patient_id FROM reports_pa WHERE missing = 1")
        missing = [row[0] for row in cursor.fetchall()]
        if not missing:
            break
        if attempt:
            # Activities of a patient record that no longer exists: nothing to rebuild from.
            raise RuntimeError(f"facts missing for {len(missing)} patients after a rebuild")
        facts.refresh_patients(missing)


def _patients(cursor, figures: Figures) -> None:
    period = figures.period
    age = _age_sql().replace("p.birth_date", "pa.birth_date")
    age_params = [period.end] * age.count("%s")
    cursor.execute(f"""
        SELECT pa.sex_code, {age} AS age,
               CASE WHEN pa.deceased AND pa.death_date >= %s AND pa.death_date <= %s THEN 1 ELSE 0 END,
               CASE WHEN pa.is_foetus THEN 1 ELSE 0 END,
               CASE WHEN pa.first_inclusion >= %s AND pa.first_inclusion <= %s THEN 1 ELSE 0 END,
               pa.status_rank,
               COUNT(*), SUM(pa.n), SUM(CASE WHEN pa.is_foetus THEN pa.n ELSE pa.nf END)
        FROM reports_pa pa
        GROUP BY 1, 2, 3, 4, 5, 6
    """, [*age_params, period.start, period.end, period.start, period.end])
    rows = cursor.fetchall()
    values: Counter[str] = Counter()
    status: Counter[str] = Counter()
    pyramid: dict[str, Counter[str]] = defaultdict(Counter)
    for sex, age_years, died, foetus, new, rank, patients, activities, foetal in rows:
        values["file_active"] += patients
        values["activities"] += int(activities)  # SUM is numeric on PostgreSQL
        values["foetal_activities"] += int(foetal)
        values["deceased"] += patients if died else 0
        values["foetuses"] += patients if foetus else 0
        values["new_patients"] += patients if new else 0
        code = ind.STATUS_ORDER[rank][0] if rank < len(ind.STATUS_ORDER) else ind.NO_STATUS
        status[code] += patients
        sex_key = sex if sex in ("F", "M") else "autre"
        pyramid[age_band(None if age_years is None else int(age_years))][sex_key] += patients
    figures.values.update({key: values[key] for key in (
        "file_active", "new_patients", "deceased", "foetuses", "activities", "foetal_activities")})
    figures.values["activities_per_patient"] = (
        round(values["activities"] / values["file_active"], 2) if values["file_active"] else 0.0)
    figures.by_status = {code: status[code] for code in ind.STATUS_LABELS}
    figures.pyramid = {band: {sex: pyramid[band][sex] for sex in ind.SEXES} for band in band_labels()}


def _activities(cursor, figures: Figures) -> None:
    """Activities per month and context, and RCP meetings (distinct site and day), in one scan."""
    scope, period = figures.scope, figures.period
    where, params = _site_filter(scope, "a.site_id")
    # Per (site, day, context) first, then per month and context: the count of the inner rows
    # of an RCP context is its number of meetings.
    cursor.execute(f"""
        SELECT {_month_sql('d.date')}, d.context_code, SUM(d.n), COUNT(*)
        FROM (SELECT a.date, a.context_code, a.site_id, COUNT(*) AS n
              FROM records_activity a
              WHERE a.date >= %s AND a.date <= %s{where}
              GROUP BY a.date, a.context_code, a.site_id) d
        GROUP BY 1, 2
    """, [period.start, period.end, *params])
    by_context: Counter[str] = Counter()
    monthly: Counter[str] = Counter()
    meetings: Counter[str] = Counter()
    for month, context, count, days in cursor.fetchall():
        count = int(count)  # SUM is numeric on PostgreSQL
        if context in (ind.RCP_ORGANISED, ind.RCP_ATTENDED):
            meetings[context] += days
        context = context if context in ind.CONTEXT_LABELS else ind.UNCODED
        by_context[context] += count
        monthly[month] += count
    figures.by_context = {code: by_context[code] for code in [*ind.CONTEXT_LABELS, ind.UNCODED]}
    figures.monthly = {month: monthly[month] for month in period.months()}
    for indicator in ind.INDICATORS:
        if indicator.contexts and indicator.key not in ("rcp_organised", "rcp_attended"):
            figures.values[indicator.key] = sum(by_context[c] for c in indicator.contexts)
    figures.values["rcp_organised"] = meetings[ind.RCP_ORGANISED]
    figures.values["rcp_attended"] = meetings[ind.RCP_ATTENDED]


def _top_diagnoses(cursor, figures: Figures, top: int) -> None:
    """Patients of the file active per non-refuted ORPHA code: the facts hold each patient's
    distinct codes as one string, so the file active groups into a few thousand code sets."""
    from bamara.terminologies.models import OrphaConcept

    cursor.execute("SELECT pa.orpha_codes, COUNT(*) FROM reports_pa pa WHERE pa.orpha_codes <> '' "
                   "GROUP BY pa.orpha_codes")
    counts: Counter[str] = Counter()
    for codes, patients in cursor.fetchall():
        for code in codes.split(","):
            counts[code] += patients
    rows = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:top]
    codes = [int(code) for code, _ in rows if str(code).isdigit()]
    names = dict(OrphaConcept.objects.filter(code__in=codes).values_list("code", "name_fr"))
    figures.top_diagnoses = [
        (code, names.get(int(code), "") if str(code).isdigit() else "", count) for code, count in rows
    ]
