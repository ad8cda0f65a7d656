"""Database-side index changes for migrations whose model-side change Django would apply by
remaking the table on SQLite (an AlterField of ``db_index``), which would drop what other
migrations put on it with SQL (the audit trail's append-only triggers, the figures' covering
indexes). Used as the database half of ``SeparateDatabaseAndState``: the indexes dropped and
renamed are named as Django named them, the same on every installation."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import migrations


def swap_indexes(
    drop: Sequence[str] = (),
    rename: Sequence[tuple[str, str, str, str]] = (),
    rename_constraints: Sequence[tuple[str, str, str]] = (),
) -> migrations.RunPython:
    """``drop``: index names. ``rename``: (table, column, old name, new name) of a one-column
    index kept under its new name. ``rename_constraints``: (table, old, new) of unique
    constraints (PostgreSQL; SQLite's unique columns are part of the table and stay as they are)."""

    def forward(apps, schema_editor) -> None:
        postgres = schema_editor.connection.vendor == "postgresql"
        for name in drop:
            schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')
        for table, column, old, new in rename:
            if postgres:
                schema_editor.execute(f'ALTER INDEX IF EXISTS "{old}" RENAME TO "{new}"')
            else:  # SQLite cannot rename an index
                schema_editor.execute(f'DROP INDEX IF EXISTS "{old}"')
            schema_editor.execute(f'CREATE INDEX IF NOT EXISTS "{new}" ON "{table}" ("{column}")')
        if postgres:
            for table, old, new in rename_constraints:
                schema_editor.execute(f'ALTER TABLE "{table}" RENAME CONSTRAINT "{old}" TO "{new}"')

    return migrations.RunPython(forward, migrations.RunPython.noop, elidable=False)
