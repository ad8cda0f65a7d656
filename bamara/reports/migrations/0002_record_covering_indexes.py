"""Covering indexes for the per-patient part of the figures (sex, age, death, foetus, inclusion,
diagnosis status, ORPHA code), so that PostgreSQL answers from the indexes alone instead of
reading the wide patient rows. Created here: only the figures need them."""

from django.db import migrations

INDEXES = {
    "reports_patient_cover": ("records_patient", "(id)", "(sex_code, birth_date, deceased, death_date, is_foetus)"),
    "reports_episode_cover": ("records_careepisode", "(patient_id, site_id)", "(inclusion_date)"),
    "reports_diagnosis_cover": ("records_diagnosis", "(patient_id)", "(status_code, disease_code, disease_system)"),
}


def create(apps, schema_editor) -> None:
    postgres = schema_editor.connection.vendor == "postgresql"
    for name, (table, columns, include) in INDEXES.items():
        if postgres:
            schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} {columns} INCLUDE {include}")
        else:
            schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} {columns[:-1]}, {include[1:]}")


def drop(apps, schema_editor) -> None:
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("reports", "0001_activity_indexes")]
    operations = [migrations.RunPython(create, drop)]
