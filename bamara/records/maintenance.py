"""Database upkeep after bulk loads."""

from __future__ import annotations

from django.db import connections, models


def analyze(*models_: type[models.Model], vacuum: bool = True) -> None:
    """Refresh the planner statistics of the tables a bulk command rewrote, and their
    visibility map (VACUUM) when not inside a transaction and ``vacuum``.

    Without it PostgreSQL keeps pre-load statistics until autovacuum comes by, and plans
    sequential scans where the search and list indexes would answer by index-only scans;
    index-only scans also read the table until the pages are marked all-visible.
    """
    for model in models_:
        connection = connections[model.objects.db]
        if connection.vendor != "postgresql":
            continue
        with connection.cursor() as cursor:
            table = connection.ops.quote_name(model._meta.db_table)
            vacuuming = vacuum and not connection.in_atomic_block
            cursor.execute(f"VACUUM (ANALYZE) {table}" if vacuuming else f"ANALYZE {table}")
