"""Covering indexes for the activity figures, on records_activity (owned here, not in records,
because only the figures need them): a date range over the whole instance, and a site's date
range, both answered from the index alone on PostgreSQL."""

from django.db import migrations

INDEXES = {
    "reports_activity_date_cover": ("(date)", "(site_id, patient_id, context_code, foetus_id)"),
    "reports_activity_site_date_cover": ("(site_id, date)", "(patient_id, context_code, foetus_id)"),
}


def create(apps, schema_editor) -> None:
    postgres = schema_editor.connection.vendor == "postgresql"
    for name, (columns, include) in INDEXES.items():
        if postgres:
            schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON records_activity {columns} INCLUDE {include}")
        else:
            merged = columns[:-1] + ", " + include[1:]
            schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON records_activity {merged}")


def drop(apps, schema_editor) -> None:
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("records", "0001_initial")]
    operations = [migrations.RunPython(create, drop)]
