"""Refuse UPDATE and DELETE of audit rows at the database level, not only in Python.

TRUNCATE stays possible on PostgreSQL (Django's test flush uses it; it needs table ownership,
which the production application role must not have). SQLite, the embedded development
database, only refuses UPDATE: its test flush deletes rows.
"""

from django.db import migrations

SQLITE = [
    """CREATE TRIGGER IF NOT EXISTS audit_event_no_update BEFORE UPDATE ON audit_auditevent
       BEGIN SELECT RAISE(ABORT, 'audit trail is append-only'); END""",
]
POSTGRESQL = [
    """CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION 'audit trail is append-only'; END; $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE
       ON audit_auditevent FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()""",
]
DROP = {
    "sqlite": ["DROP TRIGGER IF EXISTS audit_event_no_update"],
    "postgresql": ["DROP TRIGGER IF EXISTS audit_event_append_only ON audit_auditevent",
                   "DROP FUNCTION IF EXISTS audit_event_append_only()"],
}


def create(apps, schema_editor):
    statements = {"sqlite": SQLITE, "postgresql": POSTGRESQL}.get(schema_editor.connection.vendor, [])
    for sql in statements:
        schema_editor.execute(sql)


def drop(apps, schema_editor):
    for sql in DROP.get(schema_editor.connection.vendor, []):
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]
    operations = [migrations.RunPython(create, drop)]
