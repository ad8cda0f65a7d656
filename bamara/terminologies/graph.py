"""Transitive walks over an edge table with a recursive CTE (same SQL on SQLite and
PostgreSQL; UNION drops repeats, so a cycle in the data cannot loop)."""

from django.db import connection, models


def walk(
    edge_model: type[models.Model],
    start: object,
    *,
    down: bool,
    parent: str = "parent",
    child: str = "child",
    where: dict[str, object] | None = None,
) -> set:
    """Every node reachable from `start` following parent -> child edges (down=True:
    descendants) or child -> parent edges (down=False: ancestors); `start` itself excluded
    unless it lies on a cycle."""
    qn = connection.ops.quote_name
    meta = edge_model._meta
    table = qn(meta.db_table)
    src, dst = (parent, child) if down else (child, parent)
    src_col, dst_col = qn(meta.get_field(src).column), qn(meta.get_field(dst).column)
    filters, params = "", []
    for name, value in (where or {}).items():
        filters += f" AND e.{qn(meta.get_field(name).column)} = %s"
        params.append(value)
    sql = (
        f"WITH RECURSIVE reached(node) AS ("
        f" SELECT e.{dst_col} FROM {table} e WHERE e.{src_col} = %s{filters}"
        f" UNION"
        f" SELECT e.{dst_col} FROM {table} e JOIN reached r ON e.{src_col} = r.node WHERE 1 = 1{filters}"
        f") SELECT node FROM reached"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [start, *params, *params])
        return {row[0] for row in cursor.fetchall()}
