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


def cluster_cpu() -> float | None:
    """CPU seconds of the whole local PostgreSQL server so far: each of its live processes,
    and those that have ended (counted in the postmaster's children times once reaped). What a
    bench whose writes go through several connections makes the server do (others' work
    included: run it on a quiet machine)."""
    total, found = 0, False
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() not in ("postgres", "postmaster"):
                continue
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # ended meanwhile
            continue
        found = True
        total += sum(int(f) for f in fields[11:15])  # utime, stime, cutime, cstime
    return total / os.sysconf("SC_CLK_TCK") if found else None
