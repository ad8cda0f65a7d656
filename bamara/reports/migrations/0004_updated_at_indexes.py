"""Indexes on the modification time of diagnoses and care episodes (the patient table has one),
so that the figures find in a few index pages the records changed since the facts were last
brought up to date, whatever wrote them (queryset updates and bulk loads bypass signals)."""

from django.db import migrations

INDEXES = {
    "reports_diagnosis_updated": ("records_diagnosis", "(updated_at, patient_id)"),
    "reports_episode_updated": ("records_careepisode", "(updated_at, patient_id)"),
}


def create(apps, schema_editor) -> None:
    for name, (table, columns) in INDEXES.items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} {columns}")


def drop(apps, schema_editor) -> None:
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("reports", "0003_report_facts")]
    operations = [migrations.RunPython(create, drop)]
