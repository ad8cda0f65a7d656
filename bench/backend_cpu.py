"""CPU seconds used so far by a connection's PostgreSQL backend, read from /proc (local server
only): the server's share of a bench's CPU per row or document."""

from __future__ import annotations

import os
from pathlib import Path


def server_cpu(connection) -> float | None:
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
