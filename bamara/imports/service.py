"""Start or resume an import run: the one entry point of the command and the upload page."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from bamara.organisations.models import Site, SiteRole, User

from . import bulk as bulk_load
from . import mapping as mappings
from . import report as reports
from .engine import BATCH, Importer, ImportFailure, Summary
from .models import ImportRun, RunStatus
from .readers import file_sha256

__all__ = ["ImportFailure", "import_file", "referent_sites", "start_run"]


# Below this (~50,000 CEMARA rows), starting a worker (~1.4 s of CPU: a new interpreter and
# Django) costs about what it saves.
PARALLEL_BYTES = 8 << 20


def default_workers(path: Path) -> int:
    """For a file over ``PARALLEL_BYTES``, one worker per core beyond the first (this process
    plans), at most 3: 1 on a 2-core machine. Asked for a dry run and a bulk load, whose
    importing process is the busiest; not for a normal commit, where the server is (a worker
    there slowed a 202,000-row commit by 10 %: docs/imports.md, "Session 11")."""
    if path.stat().st_size < PARALLEL_BYTES:
        return 0
    return max(0, min(3, len(os.sched_getaffinity(0)) - 1))


def referent_sites(user: User):
    """The sites where the user may import: active referent memberships (the access wall)."""
    from bamara.organisations import access

    return access.user_sites(user).filter(memberships__user=user, memberships__active=True,
                                          memberships__role=SiteRole.SITE_REFERENT)


def start_run(path: Path, mapping: mappings.Mapping, *, commit: bool, user: User | None = None,
              default_site: Site | None = None, sites=None, file_name: str = "") -> ImportRun:
    """A new run, or with ``commit`` the unfinished run of the same file and mapping (resume)."""
    digest = file_sha256(path)
    if commit:
        unfinished = ImportRun.objects.filter(
            file_sha256=digest, mapping_sha256=mapping.sha256, status=RunStatus.RUNNING,
            user=user, default_site=default_site).first()
        if unfinished is not None:
            return unfinished
    run = ImportRun.objects.create(
        file_name=file_name or path.name, file_sha256=digest, mapping_name=mapping.name,
        mapping_sha256=mapping.sha256, user=user, default_site=default_site,
        status=RunStatus.RUNNING if commit else RunStatus.DRY_RUN)
    if sites is not None:
        run.sites.set(sites)
    return run


def import_file(path: str | Path, mapping_name: str, *, commit: bool, site_code: str | None = None,
                user_email: str | None = None, batch_size: int = BATCH,
                progress: Callable[[int], None] | None = None, duplicates: bool = True,
                report: str | None = None, workers: int | None = None, bulk: bool = False,
                pipelined: bool | None = None, writers: int | None = None) -> tuple[ImportRun, Summary]:
    """``workers``: processes reading and transforming the rows (``Importer``); by default
    ``default_workers`` for a dry run or a bulk load, none for a normal commit. ``bulk``: a
    commit as one bulk load (bulk.py, PostgreSQL). ``pipelined``, ``writers``: see
    ``Importer``."""
    path = Path(path)
    if bulk and (reason := bulk_load.unavailable(commit)):
        raise ImportFailure(reason)
    mapping = mappings.load(mapping_name)
    user = None
    sites = None
    if user_email:
        user = User.objects.filter(email=user_email.lower()).first()
        if user is None:
            raise ImportFailure(f"utilisateur inconnu : {user_email}")
        sites = list(referent_sites(user))
        if not sites:
            raise ImportFailure("cet utilisateur n'est référent d'aucun site")
    default_site = None
    if site_code:
        default_site = Site.objects.filter(code=site_code).first()
        if default_site is None:
            raise ImportFailure(f"site inconnu : {site_code}")
    run = start_run(path, mapping, commit=commit, user=user, default_site=default_site, sites=sites)
    if workers is None:
        workers = default_workers(path) if not commit or bulk else 0
    summary = Importer(run, mapping, path, commit=commit, batch_size=batch_size, progress=progress,
                       duplicates=duplicates, workers=workers, bulk=bulk,
                       pipelined=pipelined, **({"writers": writers} if writers else {})).execute()
    if report:
        reports.write(report, run, summary, None if commit else summary.results)
        run.report_path = str(report)
        run.save(update_fields=["report_path"])
    return run, summary
