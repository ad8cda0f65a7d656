"""The patient-list table (`lists.Entry`) kept by database triggers.

One entry per care episode, holding the patient's sort keys and the columns the list filters
on. Triggers rather than signals: the CDA intake, imports, bulk loads (COPY) and merges write
with queryset updates, bulk inserts and raw SQL, and the list is also the wall (an entry exists
exactly when its care episode does, in the same transaction).

PostgreSQL: statement-level triggers with transition tables (one set-based statement per
INSERT/UPDATE/DELETE statement, so a COPY of 1M episodes costs one join, not 1M calls).
SQLite: row-level triggers. A bulk load (PostgreSQL, tables locked) suspends the INSERT
triggers and catches the list up at its end in three statements (`suspended`).

`install()` runs after every `migrate` (post_migrate): SQLite drops a table's triggers when a
migration rebuilds the table, so they are re-created there, and the entries rebuilt whenever a
trigger was missing. `rebuild()` (`bamara refresh_lists`) recomputes every entry.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from django.db import connection as default_connection
from django.db.backends.base.base import BaseDatabaseWrapper

# Entry column -> patient column (the copied ones).
PATIENT_COLUMNS = {
    "birth_name": "birth_name",
    "first_birth_given_name": "first_birth_given_name",
    "birth_date": "birth_date",
    "updated_at": "updated_at",
    "sex_code": "sex_code",
    "deceased": "deceased",
    "residence_commune": "residence_commune",
    "opposition": "opposition",
}
EPISODE_COLUMNS = {"episode_id": "id", "site_id": "site_id", "patient_id": "patient_id",
                   "inclusion_date": "inclusion_date"}
ALL = [*EPISODE_COLUMNS, *PATIENT_COLUMNS]

# What completeness reads besides the patient and its care episodes (records.validation.data.
# PREFETCH): table -> None when it holds patient_id, else (parent table, foreign key column).
CHILDREN: dict[str, tuple[str, str] | None] = {
    "records_diagnosis": None,
    "records_activity": None,
    "records_pregnancy": None,
    "records_clinicalsign": ("records_diagnosis", "diagnosis_id"),
    "records_investigation": ("records_diagnosis", "diagnosis_id"),
    "records_genetictechnique": ("records_diagnosis", "diagnosis_id"),
    "records_gene": ("records_diagnosis", "diagnosis_id"),
    "records_activityobjective": ("records_activity", "activity_id"),
    "records_activityprofession": ("records_activity", "activity_id"),
    "records_referral": ("records_careepisode", "episode_id"),
    "records_foetus": ("records_pregnancy", "pregnancy_id"),
}
EVENTS = {"ins": "INSERT", "upd": "UPDATE", "del": "DELETE"}

# lists_entrydiagnosis: a listed patient's diagnoses, once per site where it is listed.
DIAGNOSIS_COLUMNS = ["disease_system", "disease_code", "status_code", "clinical_diagnosis_age_code"]
INSERT_DIAGNOSIS = (f"INSERT INTO lists_entrydiagnosis (site_id, patient_id, diagnosis_id, "
                    f"{', '.join(DIAGNOSIS_COLUMNS)})")


def _diagnosis_values(alias: str) -> str:
    return ", ".join(f"{alias}.{c}" for c in DIAGNOSIS_COLUMNS)
NULL_COMPLETENESS = "UPDATE lists_entry SET completeness = NULL WHERE completeness IS NOT NULL AND patient_id"


def _child_name(table: str, event: str) -> str:
    return f"lists_entry_c_{table.removeprefix('records_')}_{event}"


def _child_patients(table: str, rows: str) -> str:
    """The patient ids of the rows of a transition table (PostgreSQL), as an array: see
    ``_lateral`` (``= ANY(ARRAY(...))`` is an index scan whatever the table's size)."""
    parent = CHILDREN[table]
    if parent is None:
        return f"ARRAY(SELECT patient_id FROM {rows})"
    return (f"ARRAY(SELECT (SELECT p.patient_id FROM {parent[0]} p WHERE p.id = r.{parent[1]}) "
            f"FROM {rows} r)")


def _lateral(table: str, alias: str, columns: Iterable[str], condition: str) -> str:
    """The rows of ``table`` matching each row of a transition table, looked up row by row
    through an index. A plain join let the planner hash the whole table for each statement
    (a batch of 2,000 rows against 200,000 patients: a sequential scan of every list entry or
    patient per batch, so an import slowed as the tables grew); ``OFFSET 0`` keeps the
    subquery apart, evaluated per row."""
    return (f"CROSS JOIN LATERAL (SELECT {', '.join(f'{alias}.{c}' for c in columns)} "
            f"FROM {table} {alias} WHERE {condition} OFFSET 0) {alias}")


def _child_patient(table: str, row: str) -> str:
    """The patient id of a row, OLD or NEW (SQLite)."""
    parent = CHILDREN[table]
    if parent is None:
        return f"{row}.patient_id"
    return f"(SELECT patient_id FROM {parent[0]} WHERE id = {row}.{parent[1]})"


def _select(episode: str, patient: str) -> str:
    """The entry columns, read from an episode alias and a patient alias."""
    return ", ".join([*(f"{episode}.{c}" for c in EPISODE_COLUMNS.values()),
                      *(f"{patient}.{c}" for c in PATIENT_COLUMNS.values())])


def _distinct(left: str, right: str, columns: dict[str, str]) -> str:
    return (f"({', '.join(f'{left}.{c}' for c in columns)}) IS DISTINCT FROM "
            f"({', '.join(f'{right}.{c}' for c in columns.values())})")


INSERT = f"INSERT INTO lists_entry ({', '.join(ALL)})"
_PATIENT_OF_N = _lateral("records_patient", "p", PATIENT_COLUMNS.values(), "p.id = n.patient_id")
_ENTRIES_OF_N = _lateral("lists_entry", "e", ["site_id"], "e.patient_id = n.patient_id")
SET_PATIENT = ", ".join(f"{c} = n.{p}" for c, p in PATIENT_COLUMNS.items())

# name -> (table, event, function body) on PostgreSQL.
POSTGRESQL: dict[str, tuple[str, str, str]] = {
    "lists_entry_episode_ins": ("records_careepisode", "INSERT", f"""
        {INSERT} SELECT {_select('n', 'p')} FROM new_rows n {_PATIENT_OF_N};"""),
    # Delete what moved, then insert what lacks an entry: a row pointing to a patient not
    # written yet (deferred foreign keys, an undone merge) gets it from the patient's trigger.
    "lists_entry_episode_upd": ("records_careepisode", "UPDATE", f"""
        DELETE FROM lists_entry e USING new_rows n WHERE e.episode_id = n.id
            AND (e.site_id, e.patient_id, e.inclusion_date) IS DISTINCT FROM (n.site_id, n.patient_id, n.inclusion_date);
        {INSERT} SELECT {_select('n', 'p')} FROM new_rows n {_PATIENT_OF_N}
        WHERE NOT EXISTS (SELECT 1 FROM lists_entry x WHERE x.episode_id = n.id);
        UPDATE lists_entry SET completeness = NULL
        WHERE completeness IS NOT NULL AND patient_id = ANY(ARRAY(SELECT patient_id FROM new_rows));"""),
    "lists_entry_episode_del": ("records_careepisode", "DELETE", """
        DELETE FROM lists_entry e USING old_rows o WHERE e.episode_id = o.id;"""),
    # A patient written after its episodes (deferred foreign keys) still gets its entries.
    "lists_entry_patient_ins": ("records_patient", "INSERT", f"""
        {INSERT} SELECT {_select('e', 'n')} FROM new_rows n {_lateral(
            'records_careepisode', 'e', EPISODE_COLUMNS.values(), 'e.patient_id = n.id AND NOT EXISTS '
            '(SELECT 1 FROM lists_entry x WHERE x.episode_id = e.id)')};"""),
    "lists_entry_patient_upd": ("records_patient", "UPDATE", f"""
        UPDATE lists_entry e SET {SET_PATIENT}, completeness = NULL FROM new_rows n
        WHERE e.patient_id = n.id AND ({_distinct('e', 'n', PATIENT_COLUMNS)} OR e.completeness IS NOT NULL);"""),
    "lists_entry_patient_del": ("records_patient", "DELETE", """
        DELETE FROM lists_entry e USING old_rows o WHERE e.patient_id = o.id;"""),
    "lists_entry_diagnosis_ins": ("records_diagnosis", "INSERT", f"""
        {INSERT_DIAGNOSIS} SELECT e.site_id, n.patient_id, n.id, {_diagnosis_values('n')}
        FROM new_rows n {_ENTRIES_OF_N};"""),
    "lists_entry_diagnosis_upd": ("records_diagnosis", "UPDATE", f"""
        DELETE FROM lists_entrydiagnosis d USING new_rows n WHERE d.diagnosis_id = n.id;
        {INSERT_DIAGNOSIS} SELECT e.site_id, n.patient_id, n.id, {_diagnosis_values('n')}
        FROM new_rows n {_ENTRIES_OF_N};"""),
    "lists_entry_diagnosis_del": ("records_diagnosis", "DELETE", """
        DELETE FROM lists_entrydiagnosis d USING old_rows o WHERE d.diagnosis_id = o.id;"""),
    # An entry listed or unlisted brings or takes its patient's diagnoses at its site.
    "lists_entry_listed": ("lists_entry", "INSERT", f"""
        {INSERT_DIAGNOSIS} SELECT n.site_id, n.patient_id, d.id, {_diagnosis_values('d')}
        FROM new_rows n {_lateral('records_diagnosis', 'd', ['id', *DIAGNOSIS_COLUMNS],
                                  'd.patient_id = n.patient_id')};"""),
    "lists_entry_unlisted": ("lists_entry", "DELETE", """
        DELETE FROM lists_entrydiagnosis d USING old_rows o
        WHERE d.site_id = o.site_id AND d.patient_id = o.patient_id;"""),
}


def _postgresql_statements() -> list[str]:
    statements = []
    for name, (table, event, body) in POSTGRESQL.items():
        rows = "OLD TABLE AS old_rows" if event == "DELETE" else "NEW TABLE AS new_rows"
        statements += [
            f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {body} "
            f"RETURN NULL; END $$",
            f"CREATE OR REPLACE TRIGGER {name} AFTER {event} ON {table} REFERENCING {rows} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {name}()",
        ]
    for table in CHILDREN:
        function = _child_name(table, "fn")
        statements.append(
            f"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"IF TG_OP <> 'INSERT' THEN {NULL_COMPLETENESS} = ANY({_child_patients(table, 'old_rows')}); END IF; "
            f"IF TG_OP <> 'DELETE' THEN {NULL_COMPLETENESS} = ANY({_child_patients(table, 'new_rows')}); END IF; "
            "RETURN NULL; END $$")
        for event, verb in EVENTS.items():
            rows = {"ins": "NEW TABLE AS new_rows", "del": "OLD TABLE AS old_rows",
                    "upd": "OLD TABLE AS old_rows NEW TABLE AS new_rows"}[event]
            statements.append(
                f"CREATE OR REPLACE TRIGGER {_child_name(table, event)} AFTER {verb} ON {table} "
                f"REFERENCING {rows} FOR EACH STATEMENT EXECUTE FUNCTION {function}()")
    return statements


_PATIENT_CHANGED = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in PATIENT_COLUMNS.values())
_NEW_EPISODE = ", ".join(f"NEW.{c}" for c in EPISODE_COLUMNS.values())
_PATIENT_VALUES = ", ".join(f"p.{c}" for c in PATIENT_COLUMNS.values())
SQLITE: dict[str, str] = {
    "lists_entry_episode_ins": f"""AFTER INSERT ON records_careepisode BEGIN
        {INSERT} SELECT {_NEW_EPISODE}, {_PATIENT_VALUES} FROM records_patient p WHERE p.id = NEW.patient_id; END""",
    "lists_entry_episode_upd": f"""AFTER UPDATE OF site_id, patient_id, inclusion_date ON records_careepisode BEGIN
        DELETE FROM lists_entry WHERE episode_id = OLD.id;
        {INSERT} SELECT {_NEW_EPISODE}, {_PATIENT_VALUES} FROM records_patient p WHERE p.id = NEW.patient_id; END""",
    "lists_entry_episode_del": """AFTER DELETE ON records_careepisode BEGIN
        DELETE FROM lists_entry WHERE episode_id = OLD.id; END""",
    "lists_entry_patient_ins": f"""AFTER INSERT ON records_patient BEGIN
        {INSERT} SELECT {_select('e', 'NEW')} FROM records_careepisode e WHERE e.patient_id = NEW.id
        AND NOT EXISTS (SELECT 1 FROM lists_entry x WHERE x.episode_id = e.id); END""",
    "lists_entry_patient_upd": f"""AFTER UPDATE ON records_patient WHEN {_PATIENT_CHANGED} BEGIN
        UPDATE lists_entry SET {", ".join(f"{c} = NEW.{p}" for c, p in PATIENT_COLUMNS.items())}
        WHERE patient_id = NEW.id; END""",
    "lists_entry_patient_del": """AFTER DELETE ON records_patient BEGIN
        DELETE FROM lists_entry WHERE patient_id = OLD.id; END""",
    # Any change of the record or of an episode: the stored completeness is stale.
    "lists_entry_patient_any": """AFTER UPDATE ON records_patient BEGIN
        UPDATE lists_entry SET completeness = NULL WHERE patient_id = NEW.id AND completeness IS NOT NULL; END""",
    "lists_entry_episode_any": """AFTER UPDATE ON records_careepisode BEGIN
        UPDATE lists_entry SET completeness = NULL
        WHERE patient_id IN (OLD.patient_id, NEW.patient_id) AND completeness IS NOT NULL; END""",
    "lists_entry_diagnosis_ins": f"""AFTER INSERT ON records_diagnosis BEGIN
        {INSERT_DIAGNOSIS} SELECT e.site_id, NEW.patient_id, NEW.id, {_diagnosis_values('NEW')}
        FROM lists_entry e WHERE e.patient_id = NEW.patient_id; END""",
    "lists_entry_diagnosis_upd": f"""AFTER UPDATE ON records_diagnosis BEGIN
        DELETE FROM lists_entrydiagnosis WHERE diagnosis_id = OLD.id;
        {INSERT_DIAGNOSIS} SELECT e.site_id, NEW.patient_id, NEW.id, {_diagnosis_values('NEW')}
        FROM lists_entry e WHERE e.patient_id = NEW.patient_id; END""",
    "lists_entry_diagnosis_del": """AFTER DELETE ON records_diagnosis BEGIN
        DELETE FROM lists_entrydiagnosis WHERE diagnosis_id = OLD.id; END""",
    "lists_entry_listed": f"""AFTER INSERT ON lists_entry BEGIN
        {INSERT_DIAGNOSIS} SELECT NEW.site_id, NEW.patient_id, d.id, {_diagnosis_values('d')}
        FROM records_diagnosis d WHERE d.patient_id = NEW.patient_id; END""",
    "lists_entry_unlisted": """AFTER DELETE ON lists_entry BEGIN
        DELETE FROM lists_entrydiagnosis WHERE site_id = OLD.site_id AND patient_id = OLD.patient_id; END""",
}


for _table in CHILDREN:
    for _event, _verb in EVENTS.items():
        _rows = {"ins": ["NEW"], "del": ["OLD"], "upd": ["OLD", "NEW"]}[_event]
        _ids = ", ".join(_child_patient(_table, r) for r in _rows)
        SQLITE[_child_name(_table, _event)] = (f"AFTER {_verb} ON {_table} BEGIN {NULL_COMPLETENESS} IN ({_ids}); END")


def expected_names(vendor: str) -> set[str]:
    """The trigger names `install` creates on this database vendor."""
    children = {_child_name(table, event) for table in CHILDREN for event in EVENTS}
    if vendor == "postgresql":
        return set(POSTGRESQL) | children
    return set(SQLITE)


def installed(connection: BaseDatabaseWrapper = default_connection) -> set[str]:
    """The names of the list triggers present in the database."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT tgname FROM pg_trigger WHERE tgname LIKE %s AND NOT tgisinternal", ["lists_entry_%"])
        elif connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE %s", ["lists_entry_%"])
        else:
            return set()
        return {row[0] for row in cursor.fetchall()}


def install(connection: BaseDatabaseWrapper = default_connection) -> bool:
    """Create the missing triggers (all of them, replaced, on PostgreSQL); rebuild the entries
    when one was missing, since writes made without it are not in the table, or when the
    table is empty beside care episodes. Returns whether the entries were rebuilt."""
    if connection.vendor not in ("postgresql", "sqlite"):
        return False
    if not {"lists_entry", "lists_entrydiagnosis"} <= set(connection.introspection.table_names()):
        uninstall(connection)  # migrated back before the table: writes must not reach for it
        return False
    missing = expected_names(connection.vendor) - installed(connection)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for sql in _postgresql_statements():
                cursor.execute(sql)
        else:
            for name, body in SQLITE.items():
                cursor.execute(f"CREATE TRIGGER IF NOT EXISTS {name} {body}")
        # An empty table beside care episodes was created without its rows (a fresh table).
        cursor.execute("SELECT EXISTS (SELECT 1 FROM records_careepisode) AND NOT EXISTS (SELECT 1 FROM lists_entry)")
        empty = bool(cursor.fetchone()[0])
    if missing or empty:
        rebuild(connection)
    return bool(missing or empty)


def uninstall(connection: BaseDatabaseWrapper = default_connection) -> None:
    """Drop the list triggers (and their functions on PostgreSQL)."""
    with connection.cursor() as cursor:
        for name in installed(connection):
            if connection.vendor == "postgresql":
                cursor.execute(
                    "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid WHERE t.tgname = %s",
                    [name])
                for (table,) in cursor.fetchall():
                    cursor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            else:
                cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
        if connection.vendor == "postgresql":
            functions = {*POSTGRESQL, *(_child_name(table, "fn") for table in CHILDREN)}
            for function in functions:
                cursor.execute(f"DROP FUNCTION IF EXISTS {function}()")


# The entry of every care episode (rebuild, and a bulk load's catch-up with a condition).
INSERT_ALL = (f"{INSERT} SELECT {_select('e', 'p')} FROM records_careepisode e "
              "JOIN records_patient p ON p.id = e.patient_id")


def rebuild(connection: BaseDatabaseWrapper = default_connection) -> int:
    """Recompute every entry from the care episodes and patients (their diagnoses follow, by
    the entries' own triggers, which `install` creates first). Returns the number of entries."""
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM lists_entrydiagnosis")
        cursor.execute("DELETE FROM lists_entry")
        cursor.execute(f"{INSERT_ALL} ORDER BY e.site_id, e.patient_id")
        return cursor.rowcount


def _insert_triggers(tables: set[str]) -> list[tuple[str, str]]:
    """(table, trigger) of the PostgreSQL triggers that fire on INSERT into these tables."""
    found = [(table, name) for name, (table, event, _) in POSTGRESQL.items()
             if event == "INSERT" and table in tables]
    return found + [(table, _child_name(table, "ins")) for table in CHILDREN if table in tables]


# What `suspended` needs locked: the tables whose INSERT triggers it replaces by its own statements.
SUSPENDED = {"records_patient", "records_careepisode", "records_diagnosis", "lists_entry"}


@contextmanager
def suspended(tables: Iterable[str], connection: BaseDatabaseWrapper = default_connection) -> Iterator[None]:
    """A bulk load's list (PostgreSQL, in a transaction holding ``tables`` exclusively, which
    include ``SUSPENDED``): their INSERT triggers disabled while the caller inserts, then, on a
    normal exit, what those triggers would have written, in one set-based statement each
    rather than a join per row batch: the entries of the care episodes that lack one, the
    listed patients' diagnoses that lack a row, and the completeness cleared for the patients
    given new child rows (a million-row bulk load: the server's CPU 160-165 s with the
    triggers, 119-127 s without, the statements included). The UPDATE and DELETE triggers
    stay: a bulk load's updates are few. An exception leaves the triggers to the rollback."""
    tables = set(tables)
    if not tables >= SUSPENDED:
        raise ValueError(f"suspended() needs {sorted(SUSPENDED - tables)} locked too")
    triggers = _insert_triggers(tables)
    with connection.cursor() as cursor:
        # The only entries whose completeness a child row can clear (none in a first load).
        cursor.execute("SELECT DISTINCT patient_id FROM lists_entry WHERE completeness IS NOT NULL")
        computed = [patient for (patient,) in cursor.fetchall()]
        before = {}  # child table: its last id (a greater one is the caller's: the tables are locked)
        for table in [table for table in CHILDREN if table in tables] if computed else []:
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")
            before[table] = cursor.fetchone()[0]
        for table, name in triggers:
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER {name}")
    yield
    with connection.cursor() as cursor:
        # Hash joins need the tables' sizes: the import's own ANALYZE runs only every so often.
        cursor.execute("ANALYZE records_careepisode, records_patient, lists_entry")
        cursor.execute(f"{INSERT_ALL} WHERE NOT EXISTS (SELECT 1 FROM lists_entry x WHERE x.episode_id = e.id)")
        cursor.execute("ANALYZE lists_entry, records_diagnosis, lists_entrydiagnosis")
        cursor.execute(f"{INSERT_DIAGNOSIS} SELECT x.site_id, x.patient_id, d.id, {_diagnosis_values('d')} "
                       "FROM lists_entry x JOIN records_diagnosis d ON d.patient_id = x.patient_id "
                       "WHERE NOT EXISTS (SELECT 1 FROM lists_entrydiagnosis y "
                       "WHERE y.diagnosis_id = d.id AND y.site_id = x.site_id)")
        for table, last in before.items():
            parent = CHILDREN[table]
            patients = (f"SELECT patient_id FROM {table} WHERE id > %s" if parent is None else
                        f"SELECT p.patient_id FROM {table} r JOIN {parent[0]} p ON p.id = r.{parent[1]} "
                        "WHERE r.id > %s")
            cursor.execute(f"{NULL_COMPLETENESS} = ANY(%s) AND patient_id IN ({patients})",
                           [computed, last])
        for table, name in triggers:
            cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER {name}")


COMPUTING = -1  # stored while a value is computed: a write meanwhile clears it, and it is not stored


def fill_completeness(site_id: int, patient_ids: list[int]) -> dict[int, int]:
    """The completeness of these patients' entries at a site: the stored values, and the
    ones the triggers cleared, computed now and stored.

    No lock is held while computing: the entries are first marked COMPUTING (committed before
    the records are read, unless the caller holds a transaction), and a value is stored only
    where the mark is still there. A write to the record meanwhile goes through the triggers,
    which clear the mark (or wait for it, if uncommitted), so a value computed from data
    that changed under it is returned to this caller but never stored."""
    from django.db.models import Case, SmallIntegerField, Value, When

    from bamara.organisations.models import Site
    from bamara.records.completeness import completeness
    from bamara.records.models import Patient
    from bamara.records.validation.data import PREFETCH

    from .models import Entry

    entries = Entry.objects.filter(site_id=site_id, patient_id__in=patient_ids)
    found = {pk: value for pk, value in entries.values_list("patient_id", "completeness")
             if value is not None and value >= 0}
    stale = [pk for pk in patient_ids if pk not in found]
    if not stale:
        return found
    Entry.objects.filter(site_id=site_id, patient_id__in=stale).update(completeness=COMPUTING)
    site = Site.objects.get(pk=site_id)
    records = Patient.objects.filter(pk__in=stale).prefetch_related(*PREFETCH)
    computed = {patient.pk: completeness(patient, [site]).mandatory_percent for patient in records}
    if computed:
        Entry.objects.filter(site_id=site_id, patient_id__in=list(computed), completeness=COMPUTING).update(
            completeness=Case(*(When(patient_id=pk, then=Value(value)) for pk, value in computed.items()),
                              output_field=SmallIntegerField()))
    return found | computed
