"""Two covering indexes folded into indexes with the same leading columns (PostgreSQL), so that
each care episode and each patient written adds one index entry less and the figures still read
their columns from an index alone (docs/imports.md, "Session 12"):

- ``reports_episode_cover`` (patient_id, site_id) INCLUDE (inclusion_date): the unique
  (patient, site) constraint's index now includes the inclusion date;
- ``reports_patient_cover`` (id) INCLUDE (...): ``patient_search_order`` (id, names) includes
  the same columns since records/0012.

SQLite keeps them: its unique constraints and indexes cannot include columns."""

from django.db import migrations

TABLE = "records_careepisode"


def _unique(schema_editor, include: str) -> None:
    """The (patient, site) constraint made again, with ``include`` after its key."""
    schema_editor.execute(f"ALTER TABLE {TABLE} DROP CONSTRAINT one_episode_per_site")
    schema_editor.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT one_episode_per_site "
                          f"UNIQUE (patient_id, site_id){include}")


def fold(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    _unique(schema_editor, " INCLUDE (inclusion_date)")
    schema_editor.execute("DROP INDEX IF EXISTS reports_episode_cover")
    schema_editor.execute("DROP INDEX IF EXISTS reports_patient_cover")


def unfold(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    _unique(schema_editor, "")
    schema_editor.execute(f"CREATE INDEX IF NOT EXISTS reports_episode_cover ON {TABLE} "
                          "(patient_id, site_id) INCLUDE (inclusion_date)")
    schema_editor.execute("CREATE INDEX IF NOT EXISTS reports_patient_cover ON records_patient "
                          "(id) INCLUDE (sex_code, birth_date, deceased, death_date, is_foetus)")


class Migration(migrations.Migration):
    dependencies = [("reports", "0004_updated_at_indexes"), ("records", "0012_patient_search_order_cover")]
    operations = [migrations.RunPython(fold, unfold)]
