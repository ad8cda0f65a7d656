"""Run an import: read, transform, federate, and (with commit) write in batches.

Each batch of rows is written in one transaction together with the run's checkpoint (the last
source row written) and its counts: a run killed at any point (even SIGKILL) loses at most the
batch in flight, which was rolled back, and resumes after the checkpoint. Source records are
keyed (mapping, site, source id) in ``ImportedRecord`` with the hash of their content: the same
file imported again changes nothing, a changed row updates its record.

Federation (see docs/imports.md): a row whose identity gives the national identifier (IDMR) of
a patient of the same hospital joins that patient (one care episode per site); in another
hospital the patient exists once per hospital with the same identifier. Near-identical
identities (typos) are only reported as probable duplicates and queued for review.
"""

from __future__ import annotations

import datetime as dt
import gc
import multiprocessing
import os
import tempfile
import threading
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from django.db import connection, connections, transaction
from django.db.models import Model, QuerySet
from django.utils import timezone

from bamara.audit.models import Action, AuditEvent
from bamara.identity import idmr
from bamara.identity.normalise import IdentityTraits, identity_key
from bamara.lists.models import Entry as ListEntry
from bamara.organisations.models import Site
from bamara.records.maintenance import analyze
from bamara.records.models import (
    Activity,
    CaptureMode,
    CareEpisode,
    Diagnosis,
    Patient,
    PatientName,
    Source,
)
from bamara.records.search import NAME_FIELDS, name_keys

from . import bulk as bulk_load
from .mapping import Mapping
from .models import ImportedRecord, ImportRow, ImportRun, Outcome, RunStatus
from .readers import chunked, open_chunks, read_rows
from .scratch import Results, RowResult, Scratch
from .transform import (
    ELSEWHERE,
    FEDERATED,
    FORBIDDEN_SITE,
    INFO,
    IPP_CONFLICT,
    REPEATED_ID,
    UNKNOWN_SITE,
    Message,
    Orphanet,
    Parsed,
    Transformer,
)
from .writer import Table

# Rows per batch (one transaction each): 2,000, the size the benchmarks measure; 1,000 was ~6 %
# slower at 202,000 rows (docs/imports.md, "Session 9").
BATCH = 2000
# Batches in flight in a pipelined commit, each on its own connection: the server writes two
# on two cores while this process plans the next (docs/imports.md, "Session 8").
WRITERS = 2
# Rows committed before the first refresh of the planner statistics: the first batch on an
# empty database (never analyzed, PostgreSQL plans the look-ups with default selectivities, as
# sequential scans); else once the run has written as many patients as the table had (its
# statistics still describe half of it until then).
ANALYZE_FROM = 2_000


class EarlierRow(NamedTuple):
    """A row of an earlier batch of a dry run (read back from the scratch file), as the
    target of a federated row: reported as "ligne N", not as a stored record."""

    number: int


class ImportFailure(RuntimeError):
    """The import cannot start (terminology missing, wrong run...)."""


__all__ = ["ImportFailure", "Importer", "RowResult", "Summary"]


@dataclass
class Summary:
    counts: Counter = field(default_factory=Counter)
    pairs: list[tuple[int, int, float, tuple[str, ...]]] = field(default_factory=list)
    # Dry run only (commit: ImportRow): read back from the run's scratch file as iterated.
    results: Iterable[RowResult] = ()
    scratch: Scratch | None = field(default=None, repr=False)

    def close(self) -> None:
        """Drop the dry run's scratch file (also dropped when the summary is collected)."""
        if self.scratch is not None:
            self.scratch.close()
            self.scratch = None
            self.results = ()

    def line(self) -> str:
        c = self.counts
        return (f"lignes lues {c['read']}, créées {c[Outcome.CREATED]}, "
                f"doublons fédérés {c[Outcome.FEDERATED]}, modifiées {c[Outcome.UPDATED]}, "
                f"inchangées {c[Outcome.UNCHANGED]}, rejetées {c[Outcome.REJECTED]}, "
                f"doublons probables {len(self.pairs)}, avertissements {c['warnings']}")


Progress = Callable[[int], None]


class Importer:
    def __init__(self, run: ImportRun, mapping: Mapping, path: str | Path, *, commit: bool,
                 batch_size: int = BATCH, progress: Progress | None = None,
                 duplicates: bool = True, workers: int = 0, bulk: bool = False,
                 pipelined: bool | None = None, writers: int = WRITERS) -> None:
        if bulk and (reason := bulk_load.unavailable(commit)):
            raise ImportFailure(reason)
        self.bulk = bulk
        # A commit on PostgreSQL outside any transaction: writer threads send each batch on
        # their own connection while this thread plans the next (``_pipeline``); not within a
        # caller's transaction (its rows would be invisible to the writers' connections). A
        # bulk load (one transaction) is pipelined on its one connection (``_bulk_pipeline``).
        self.pipelined = (commit and connection.vendor == "postgresql"
                          and (bulk or not connection.in_atomic_block)) if pipelined is None else pipelined
        self._committed_rows, self._analyze_at = 0, ANALYZE_FROM
        self.writers = max(1, writers)  # pipelined: batches in flight, each on its own connection
        self._inflight = _Inflight()
        self.run = run
        self.mapping = mapping
        self.path = path
        self.commit = commit
        self.batch_size = batch_size
        self.progress = progress
        self.duplicates = duplicates
        # Processes reading and transforming the rows while this one plans (0: none).
        self.workers = workers if "DJANGO_SETTINGS_MODULE" in os.environ else 0
        orphanet = Orphanet()
        if mapping.spec.diagnoses is not None and not orphanet.loaded:
            raise ImportFailure("la nomenclature Orphanet n'est pas chargée (bamara load_orphanet)")
        self.transform = Transformer(mapping, orphanet)
        allowed = list(run.sites.all())
        self.allowed = {s.code for s in allowed} if allowed else None
        self.sites = {s.code: s for s in Site.objects.select_related("hospital")}
        # A site's hospital by code: ``site.hospital_id`` is a descriptor call, twice per row.
        self._hospitals = {code: s.hospital_id for code, s in self.sites.items()}
        self.summary = Summary()
        # Dry run: what earlier rows of the file would have created (nothing is in the
        # database) and every row's result, on disk: memory does not grow with the file.
        self.scratch: Scratch | None = None
        if not commit:
            self.scratch = self.summary.scratch = Scratch()
            self.summary.results = Results(self.scratch)
        self._layout: dict[str, Table] | None = None
        self._prefix = run.source_prefix

    # ------------------------------------------------------------------ driving

    def execute(self) -> Summary:
        with _rare_full_collections():
            return self._execute()

    def _execute(self) -> Summary:
        run = self.run
        start = run.checkpoint if self.commit else 0
        if self.commit:
            self.summary.counts.update(run.counts or {})
            # The first refresh of the planner statistics, for either way of committing.
            self._analyze_at = max(ANALYZE_FROM, _estimated_rows(Patient))
        batches = self._prepared_batches(start) if self.workers else self._batches(start)
        if self.bulk:
            # One transaction: indexes and foreign keys dropped, every batch, then rebuilt.
            try:
                with transaction.atomic(), bulk_load.deferred_indexes():
                    if self.pipelined:
                        self._bulk_pipeline(batches)
                    else:
                        for batch in batches:
                            self._batch(batch)
            except bulk_load.BulkUnavailable as exc:
                raise ImportFailure(str(exc)) from None
        elif self.pipelined:
            self._pipeline(batches)
        else:
            for batch in batches:
                self._batch(batch)
        if self.duplicates:
            self._duplicates()
        if self.commit:
            with transaction.atomic():
                run.status = RunStatus.DONE
                run.finished_at = timezone.now()
                run.counts = dict(self.summary.counts) | {"probable_duplicates": len(self.summary.pairs)}
                run.save(update_fields=["status", "finished_at", "counts"])
                AuditEvent.objects.create(
                    user_id=run.user_id, user_email=run.user.email if run.user else "",
                    action=Action.IMPORT, object_type=run._meta.label, object_id=str(run.pk),
                    detail=f"import {run.pk} terminé : {self.summary.line()}"[:255], channel="import")
        else:
            run.counts = dict(self.summary.counts) | {"probable_duplicates": len(self.summary.pairs)}
            run.save(update_fields=["counts"])
        return self.summary

    def _batches(self, start: int) -> Iterator[list[Parsed]]:
        rows = (self.transform(number, row) for number, row in read_rows(self.path, self.mapping)
                if number > start)
        return chunked(rows, self.batch_size)

    def _prepared_batches(self, start: int) -> Iterator[list[Parsed]]:
        """The batches (rows after ``start``) transformed by worker processes, in file order,
        while this process plans and writes the batch before: a dry run's as the planner reads
        them (``workers.prepare``), a commit's whole (``workers.prepare_rows``). At most two
        batches per worker are in flight: memory stays bounded."""
        from . import workers

        shape, chunks = open_chunks(self.path, self.mapping, self.batch_size)
        self.transform.orphanet.preload()  # the workers do not query the database
        prepare, unpack = ((workers.prepare_rows, _unpack_rows) if self.commit
                           else (workers.prepare, _unpack))
        with tempfile.NamedTemporaryFile(prefix="bamara-import-") as state:
            state.write(workers.state(self.transform, shape, self.duplicates, start))
            state.flush()
            pool = ProcessPoolExecutor(
                self.workers, mp_context=multiprocessing.get_context("spawn"),
                initializer=workers.start,
                initargs=(os.environ["DJANGO_SETTINGS_MODULE"], state.name))
            pending: deque[Future] = deque()
            try:
                for chunk in chunks:
                    pending.append(pool.submit(prepare, chunk))
                    if len(pending) > 2 * self.workers:
                        yield from unpack(pending.popleft().result())
                while pending:
                    yield from unpack(pending.popleft().result())
            finally:
                pool.shutdown(wait=True, cancel_futures=True)

    def _batch(self, batch: list[Parsed]) -> None:
        plan = self._plan(batch)
        if self.commit:
            with transaction.atomic():
                _no_flush_wait()
                self._write(plan, _Now())
                self.run.checkpoint = batch[-1].number
                self.run.counts = dict(self.summary.counts)
                self.run.save(update_fields=["checkpoint", "counts"])
            self._statistics(len(batch))
        if self.progress:
            self.progress(len(batch))

    def _statistics(self, rows: int) -> None:
        """Refresh the planner statistics of the tables the planner looks rows up in, each
        time this commit has doubled the rows it wrote (from ``ANALYZE_FROM`` or the table's
        size). Autovacuum may be off, or a minute behind: with the statistics of the tables
        as they were before the load, PostgreSQL planned the look-ups of a batch in a
        million-row load as if the tables were empty (bitmap scans of a whole hospital's
        patients: 50-100 ms per query, against 10-17 ms once analyzed; docs/imports.md,
        "Session 8")."""
        self._committed_rows += rows
        if (self.bulk or connection.vendor != "postgresql"
                or self._committed_rows < self._analyze_at):
            return
        self._analyze_at = 2 * self._committed_rows
        # And the list entries, which the list triggers update by patient (with no statistics,
        # a sequential scan of every entry per batch).
        analyze(Patient, ImportedRecord, CareEpisode, ListEntry, vacuum=False)  # visibility map: later

    def _pipeline(self, batches: Iterable[list[Parsed]]) -> None:
        """Commit the batches in writer threads while this one plans and builds the next: the
        server writes while the client prepares, instead of each waiting for the other, and
        with two writers (two connections) on two of its cores. A batch is planned before the
        ones being written are committed: what it would read of them in the database (records,
        identities, IPPs, episodes, names) comes from ``_inflight``. Each batch is still one
        transaction with its checkpoint, and they commit in file order (``_send``), so resume
        is as without the threads.

        A batch writing for a patient that a batch in flight also writes for (a duplicate
        federated across batches) is sent once those are committed: the list triggers read
        the patient's rows, and two transactions updating the same list rows could otherwise
        each wait for the other. A batch that changes stored records is sent alone."""
        writer = ThreadPoolExecutor(self.writers, thread_name_prefix="bamara-import")
        pending: deque[_Sent] = deque()
        try:
            for batch in batches:
                plan = self._plan(batch)
                later, inflight = _Later(), _Inflight()
                self._write(plan, later, inflight)
                if later.updates or any(inflight.patients & sent.inflight.patients for sent in pending):
                    self._drain(pending)
                while len(pending) >= self.writers:
                    self._committed(pending.popleft())
                before = pending[-1].future if pending else None
                future = writer.submit(self._send, later.steps, batch[-1].number,
                                       dict(self.summary.counts), before)
                pending.append(_Sent(future, batch[-1].number, len(batch), inflight))
                if later.updates:
                    # A changed record may change its patient's identity: the next batch reads
                    # it from the database.
                    self._drain(pending)
                self._inflight = _Inflight.merged([sent.inflight for sent in pending])
            self._drain(pending)
        finally:
            # Each writer thread closes its own connection (the barrier gives each one task).
            barrier = threading.Barrier(self.writers)
            for _ in range(self.writers):
                writer.submit(_close_connection, barrier)
            writer.shutdown(wait=True)

    def _bulk_pipeline(self, batches: Iterable[list[Parsed]]) -> None:
        """A bulk load's batches (one transaction, this thread's connection) sent by a writer
        thread on the same psycopg connection while this thread plans and encodes the next:
        psycopg connections are thread-safe, their statements take turns. So that this
        thread seldom waits for a COPY, it looks each batch up (``_look_up``) before handing
        the batch before it to the writer, and counts the ids itself (``Table.counting``);
        only a batch federating patients stored by the batch in flight reads the database
        meanwhile (their care episodes and names, ``_write``). A batch that changes stored
        records is written by this thread, once the one before is written."""
        raw = connection.connection
        writer = ThreadPoolExecutor(1, thread_name_prefix="bamara-bulk")
        sent: Future | None = None
        rows = iter(batches)
        batch = next(rows, None)
        found = self._look_up(batch, prefetch=True) if batch else None
        last = self.run.checkpoint
        try:
            with ExitStack() as counting:
                for table in self._tables().values():
                    counting.enter_context(table.counting())
                while batch is not None:
                    plan = self._plan(batch, found)
                    later, inflight = _Later(), _Inflight()
                    self._write(plan, later, inflight, found.stored)
                    following = next(rows, None)  # read and mapped meanwhile
                    if sent is not None:
                        sent.result()
                        sent = None
                    if later.updates:  # written here, then the next batch looked up
                        for function, *args in later.steps:
                            function(*args)
                        found = self._look_up(following, prefetch=True) if following else None
                    else:  # the next batch looked up before the writer takes the connection
                        found = self._look_up(following, prefetch=True) if following else None
                        sent = writer.submit(_send_on, raw, later.steps)
                    self._inflight = inflight
                    last = batch[-1].number
                    if self.progress:
                        self.progress(len(batch))
                    batch = following
                if sent is not None:
                    sent.result()
        finally:
            writer.shutdown(wait=True)
        self._inflight = _Inflight()
        self.run.checkpoint = last
        self.run.counts = dict(self.summary.counts)
        self.run.save(update_fields=["checkpoint", "counts"])

    def _drain(self, pending: deque[_Sent]) -> None:
        while pending:
            self._committed(pending.popleft())
        self._inflight = _Inflight()

    def _committed(self, sent: _Sent) -> None:
        sent.future.result()  # the writer's error, if any, raised here
        self.run.checkpoint = sent.checkpoint
        self._statistics(sent.rows)
        if self.progress:
            self.progress(sent.rows)

    def _send(self, steps: list[tuple], checkpoint: int, counts: dict[str, int],
              before: Future | None) -> None:
        """A writer thread: one batch's writes and its checkpoint, in one transaction,
        committed after the batch before it (``before``; its failure aborts this one too)."""
        with transaction.atomic():
            _no_flush_wait()
            if before is not None and connection.vendor == "postgresql":
                # Two batches in flight never wait for each other's rows (see _pipeline); should
                # they ever, a lock wait fails this batch rather than hanging the run.
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL lock_timeout = '60s'")
            for function, *args in steps:
                function(*args)
            if before is not None:
                before.result()
            ImportRun.objects.filter(pk=self.run.pk).update(checkpoint=checkpoint, counts=counts)

    # ------------------------------------------------------------------ planning

    def _key(self, parsed: Parsed) -> str:
        return f"{self.mapping.name}:{parsed.site_code}:{parsed.source_id}"[:200]

    def _site(self, parsed: Parsed) -> Site | None:
        if not parsed.site_code and self.run.default_site_id:
            parsed.site_code = self.run.default_site.code
        site = self.sites.get(parsed.site_code)
        if site is None:
            parsed.error("site_mr", UNKNOWN_SITE, "site inconnu de l'annuaire", parsed.site_code)
        elif self.allowed is not None and site.code not in self.allowed:
            parsed.error("site_mr", FORBIDDEN_SITE, "vous ne pouvez importer que dans vos sites",
                         parsed.site_code)
            return None
        return site

    def _look_up(self, batch: list[Parsed], prefetch: bool = False) -> _Found:
        """The batch's rows checked one by one (site, identifier), then what the database
        holds of them: their source records, and the patients with their identifiers or IPPs;
        with ``prefetch``, also those patients' care episodes and names (``_Stored``): a bulk
        load looks the batch up while its connection is free, and ``_write`` need not wait for
        the COPY in flight to read them."""
        accepted: list[Parsed] = []
        rejected: list[bool] = []  # per row: nothing in _plan changes it before its second loop
        for parsed in batch:
            parsed.site = self._site(parsed)  # type: ignore[attr-defined]
            parsed.key = self._key(parsed)  # type: ignore[attr-defined]
            if parsed.rejected:
                parsed.national_id = ""
                rejected.append(True)
                continue
            rejected.append(False)
            accepted.append(parsed)
            if parsed.national_id is None:  # not computed by a worker (workers.prepare)
                # The patient's column values, once per row (identifier, traits, write).
                parsed.values = _patient_values(parsed)  # type: ignore[attr-defined]
                parsed.national_id = _national_id(parsed.patient)
        keys = [p.key for p in accepted]  # type: ignore[attr-defined]
        hospitals = {self._hospitals[p.site_code] for p in accepted}
        ids = {p.national_id for p in accepted if p.national_id}
        ipps = {ipp for p in accepted if (ipp := p.patient.get("ipp"))}
        with _by_index():
            records = {r.key: r for r in _among(ImportedRecord.objects.all(), "key", keys)}
            # Every hospital's patients with these identifiers: the same hospital federates,
            # another hospital keeps its own record with the same identifier (reported).
            by_identity: dict[tuple[int, str], Any] = {
                (h, n): pk for pk, h, n in _among(Patient.objects.all(), "national_id", ids)
                .order_by("-pk").values_list("pk", "hospital_id", "national_id")} if ids else {}
            by_ipp: dict[tuple[int, str], str] = {
                (h, i): n for h, i, n in _among(Patient.objects.filter(hospital_id__in=hospitals), "ipp", ipps)
                .values_list("hospital_id", "ipp", "national_id")} if ipps else {}
            stored = None
            if prefetch:
                pks = {pk for (h, _n), pk in by_identity.items() if h in hospitals}
                stored = _Stored(pks, set(), {})
                if pks:
                    stored.episodes.update(_among(CareEpisode.objects.all(), "patient_id", pks)
                                           .values_list("patient_id", "site_id"))
                    stored.names.update((pk, tuple(names)) for pk, *names in _among(
                        Patient.objects.all(), "id", pks).values_list("pk", *NAME_FIELDS))
        return _Found(rejected, keys, ids, ipps, records, by_identity, by_ipp, stored)

    def _plan(self, batch: list[Parsed], found: _Found | None = None) -> list[tuple[Parsed, str, Any, Any]]:
        """(row, outcome, target patient (pk, Patient, or row number in a dry run), record).
        ``found``: the batch's ``_look_up``, when made beforehand (``_bulk_pipeline``)."""
        rejected, keys, ids, ipps, records, by_identity, by_ipp, _stored = \
            self._look_up(batch) if found is None else found
        hospital_of = self._hospitals  # an accepted row's site is self.sites[its code]
        inflight = self._inflight  # the batches being committed by the writer threads, if any
        if inflight.records:
            records = {k: r for k in keys if (r := inflight.records.get(k)) is not None} | records
        if inflight.identities:
            by_identity = {k: pk for k, pk in inflight.identities.items() if k[1] in ids} | by_identity
        hospitals_of: dict[str, set[int]] = {}
        for h, n in by_identity:
            hospitals_of.setdefault(n, set()).add(h)
        if inflight.ipps:
            by_ipp = {k: n for k, n in inflight.ipps.items() if k[1] in ipps} | by_ipp
        earlier_keys: dict[str, str] = {}
        if self.scratch is not None:
            # This batch's rows, then the database, then the earlier batches' rows (from the
            # scratch file, for this batch's keys only), in one dict per look-up (a ChainMap's
            # get costs a generator per call).
            earlier_keys = self.scratch.source_keys(keys)
            earlier = self.scratch.identities(ids) if ids else []
            for h, n, _row in earlier:
                hospitals_of.setdefault(n, set()).add(h)
            by_identity = {(h, n): EarlierRow(row) for h, n, row in earlier} | by_identity
            by_ipp = (self.scratch.ipps(ipps) if ipps else {}) | by_ipp
        new_identity: dict[tuple[int, str], int] = {}  # what this batch adds (dry run: kept)
        new_ipp: dict[tuple[int, str], str] = {}
        batch_keys: dict[str, str] = {}  # source key: content hash of the first row with it
        first_rows: dict[str, int] = {}  # and that row's number (dry run: kept)
        traits: list[tuple] = []
        plan = []
        for parsed, was_rejected in zip(batch, rejected, strict=True):
            if was_rejected:
                plan.append((parsed, Outcome.REJECTED, None, None))
                continue
            key: str = parsed.key  # type: ignore[attr-defined]
            hospital = hospital_of[parsed.site_code]
            national_id: str = parsed.national_id  # type: ignore[assignment]
            earlier = batch_keys.get(key) or earlier_keys.get(key)
            record = records.get(key)
            if earlier is not None or (record is not None and record.run_id == self.run.pk
                                       and record.row_number != parsed.number):
                if (earlier or record.content_hash) != parsed.content_hash:  # type: ignore[union-attr]
                    parsed.error("identifiant_source", REPEATED_ID,
                                 "identifiant source répété dans le fichier avec un autre contenu",
                                 parsed.source_id)
                    plan.append((parsed, Outcome.REJECTED, None, None))
                    continue
                plan.append((parsed, Outcome.UNCHANGED, None, record))
                continue
            batch_keys[key] = parsed.content_hash
            first_rows[key] = parsed.number
            if record is not None:
                outcome = Outcome.UNCHANGED if record.content_hash == parsed.content_hash else Outcome.UPDATED
                plan.append((parsed, outcome, record.patient_id, record))
                continue
            ipp = parsed.patient.get("ipp", "")
            owner = by_ipp.get((hospital, ipp)) if ipp else None
            if owner is not None and owner != national_id:
                parsed.error("ipp", IPP_CONFLICT, "IPP déjà attribué à un autre patient de "
                                                  "l'établissement", ipp)
                plan.append((parsed, Outcome.REJECTED, None, None))
                continue
            target = by_identity.get((hospital, national_id)) if national_id else None
            if target is not None:
                parsed.messages.append(Message(
                    "identite", INFO, FEDERATED, "même identité qu'un patient de l'établissement : "
                    "rattaché à son dossier",
                    # Which record: a row of this file, or a stored record (never its identity).
                    f"ligne {target.number}" if isinstance(target, Parsed | EarlierRow) else f"dossier {target}"))
                plan.append((parsed, Outcome.FEDERATED, target, None))
            else:
                # Known in a hospital other than this one (no set built per row).
                others = hospitals_of.get(national_id) if national_id else None
                if others and (len(others) > 1 or hospital not in others):
                    parsed.messages.append(Message(
                        "identite", INFO, ELSEWHERE, "même identité qu'un patient d'un autre "
                        "établissement : dossier créé avec le même identifiant national",
                        national_id))
                plan.append((parsed, Outcome.CREATED, None, None))
                if national_id:
                    by_identity[(hospital, national_id)] = parsed  # later rows join this one
                    new_identity[(hospital, national_id)] = parsed.number
                    if others is None:
                        hospitals_of[national_id] = {hospital}
                    else:
                        others.add(hospital)
            if ipp:
                by_ipp[(hospital, ipp)] = new_ipp[(hospital, ipp)] = national_id
            if self.scratch is not None and self.duplicates:
                traits.append((parsed.number, national_id, hospital, parsed.traits
                               or _trait_values(parsed.values)))  # type: ignore[attr-defined]
        self._count(plan)
        if self.scratch is not None:
            # The database rows are looked up again by each batch: only this batch's are kept.
            self.scratch.add(
                keys=first_rows, identities=new_identity, ipps=new_ipp,
                results=[(p.number, p.key, outcome,  # type: ignore[attr-defined]
                          tuple((m.item, m.level, m.code, m.text, m.value) for m in p.messages)
                          if p.messages else (), p.content_hash)
                         for p, outcome, _, _ in plan],
                traits=traits)
        return plan

    def _count(self, plan: list[tuple[Parsed, str, Any, Any]]) -> None:
        """The batch's rows, outcomes, warnings and message codes, once its plan is made (no
        row's messages change after its outcome): one pass, not a call per row."""
        counts = self.summary.counts
        counts["read"] += len(plan)
        counts.update([outcome for _parsed, outcome, _target, _record in plan])
        for messages in [p.messages for p, _o, _t, _r in plan if p.messages]:
            counts["warnings"] += sum(1 for m in messages if m.level == "avertissement")
            counts.update([f"code:{m.code}" for m in messages])

    # ------------------------------------------------------------------ writing

    def _tables(self) -> dict[str, Table]:
        """Layouts of the tables written, made once per run (see writer.py)."""
        if self._layout is None:
            self._layout = {name: Table(model, columns) for name, (model, columns) in _LAYOUT.items()}
        return self._layout

    def _write(self, plan: list[tuple[Parsed, str, Any, Any]], sink: _Now | _Later,
               inflight: _Inflight | None = None, stored: _Stored | None = None) -> None:
        """The batch's rows, written by ``sink`` (now, or later by the writer thread); with
        ``inflight``, what the batch adds for the next one's planner (``_pipeline``);
        ``stored``: what ``_look_up`` prefetched of the stored patients."""
        run = self.run
        tables = self._tables()
        stamp = timezone.now()  # auto_now / auto_now_add of every row of the batch
        today = dt.date.today()
        patient = tables["patient"].defaults
        new_patients = [parsed for parsed, outcome, _, _ in plan if outcome == Outcome.CREATED]
        patient_rows, written_names, known_keys = [], [], []
        for parsed in new_patients:
            values = patient | parsed.values  # type: ignore[attr-defined]
            patient_rows.append((*(values[c] for c in _PATIENT_SET),
                                 parsed.site.hospital_id, parsed.national_id,  # type: ignore[attr-defined]
                                 Source.IMPORT, self._ref(parsed), CaptureMode.MIGRATION, today))
            written_names.append(tuple(values[c] for c in NAME_FIELDS))
            known_keys.append(getattr(parsed, "name_keys", None))  # from a worker (_unpack_rows)
            if inflight is not None and values["ipp"]:
                inflight.ipps[(parsed.site.hospital_id, values["ipp"])] = parsed.national_id  # type: ignore
        ids = sink.write(tables["patient"], patient_rows, stamp, returning=True)
        created = {parsed.number: pk for parsed, pk in zip(new_patients, ids, strict=True)}
        # The names of the patients just written, as stored (text columns, written as given):
        # only patients already in the database are read back.
        people: dict[int, tuple] = dict(zip(ids, written_names, strict=True))
        keys_of = {pk: keys for pk, keys in zip(ids, known_keys, strict=True) if keys is not None}
        if inflight is not None:
            inflight.names = dict(people)
            inflight.identities = {(p.site.hospital_id, p.national_id): created[p.number]  # type: ignore
                                   for p in new_patients if p.national_id}

        # Which patient each accepted row writes to.
        patient_of: dict[int, int] = {}
        for parsed, outcome, target, record in plan:
            if outcome == Outcome.CREATED:
                patient_of[parsed.number] = created[parsed.number]
            elif outcome == Outcome.FEDERATED:
                # A patient created earlier in this batch, or one already in the database.
                patient_of[parsed.number] = (created[target.number] if isinstance(target, Parsed)
                                             else target)
            elif outcome in (Outcome.UPDATED, Outcome.UNCHANGED) and record is not None:
                patient_of[parsed.number] = record.patient_id

        writing = [(p, o) for p, o, _, _ in plan if o in (Outcome.CREATED, Outcome.FEDERATED)]
        if inflight is not None:
            inflight.patients = {patient_of[p.number] for p, _ in writing}
        # A patient created by this batch has no care episode yet: only the others are looked up.
        others = {patient_of[p.number] for p, _ in writing} - people.keys()
        # Those created by the batch in flight have no other episode than its own.
        if stored is not None and others <= stored.patients | self._inflight.names.keys():
            existing = {e for e in stored.episodes if e[0] in others}
        else:
            existing = set(_among(CareEpisode.objects.all(), "patient_id", others)
                           .values_list("patient_id", "site_id")) if others else set()
        existing |= {e for e in self._inflight.episodes if e[0] in others}
        episodes, names, audit = [], [], []
        new_sites: dict[int, list[int]] = {}
        user_email = run.user.email if run.user else ""
        for parsed, outcome in writing:
            pk, site = patient_of[parsed.number], parsed.site.id  # type: ignore[attr-defined]
            if (pk, site) not in existing:
                existing.add((pk, site))
                episodes.append(self._episode(parsed, pk))
                new_sites.setdefault(pk, []).append(site)
                if inflight is not None:
                    inflight.episodes.add((pk, site))
            audit.append((run.user_id, user_email, Action.IMPORT, pk, Patient._meta.label, str(pk),
                          f"import {run.pk} ligne {parsed.number} ({outcome})", "import"))
        # Name search keys per site, as the post_save signals would have written them.
        unread = new_sites.keys() - people.keys()
        people |= {pk: self._inflight.names[pk] for pk in unread & self._inflight.names.keys()}
        unread -= people.keys()
        if stored is not None and unread <= stored.patients:
            people |= {pk: stored.names[pk] for pk in unread}
        elif unread:
            people |= {pk: names for pk, *names in _among(Patient.objects.all(), "id", unread)
                       .values_list("pk", *NAME_FIELDS)}
        for pk, sites in new_sites.items():
            keys = keys_of[pk] if pk in keys_of else name_keys(people[pk])
            names += [(pk, site, kind, key, sound) for kind, key, sound in keys for site in sites]
        sink.write(tables["episode"], episodes, stamp)
        sink.write(tables["name"], names, stamp)

        diagnoses, activities, records, rows = [], [], [], []
        written: dict[int, tuple[int, int]] = {}  # row number: its diagnoses and activities
        for parsed, outcome, _target, record in plan:
            if outcome == Outcome.UPDATED:
                sink.call(self._update, parsed, record)
            if outcome in (Outcome.CREATED, Outcome.FEDERATED, Outcome.UPDATED):
                pk = patient_of[parsed.number]
                diagnoses += [self._diagnosis(parsed, pk, values) for values in parsed.diagnoses]
                activities += [self._activity(parsed, pk, values) for values in parsed.activities]
                written[parsed.number] = (len(parsed.diagnoses), len(parsed.activities))
        diagnosis_ids = iter(sink.write(tables["diagnosis"], diagnoses, stamp, returning=True))
        activity_ids = iter(sink.write(tables["activity"], activities, stamp, returning=True))
        for parsed, outcome, _target, record in plan:
            key = parsed.key  # type: ignore[attr-defined]
            if parsed.number in written:
                d, a = written[parsed.number]
                objects = {"diagnoses": [next(diagnosis_ids) for _ in range(d)],
                           "activities": [next(activity_ids) for _ in range(a)]}
                if outcome == Outcome.UPDATED:
                    record.content_hash, record.run, record.row_number = \
                        parsed.content_hash, run, parsed.number
                    record.objects_written = objects
                    sink.call(record.save)
                else:
                    records.append((key, patient_of[parsed.number], parsed.site.id,  # type: ignore[attr-defined]
                                    parsed.content_hash, run.pk, parsed.number, objects))
                    if inflight is not None:
                        inflight.records[key] = _Record(
                            patient_of[parsed.number], parsed.content_hash, run.pk, parsed.number)
            rows.append((run.pk, parsed.number, key if outcome != Outcome.REJECTED else "",
                         parsed.content_hash, outcome, patient_of.get(parsed.number),
                         [m.as_list() for m in parsed.messages]))
        sink.write(tables["record"], records, stamp)
        sink.write(tables["row"], rows, stamp)
        sink.write(tables["audit"], audit, stamp)

    def _ref(self, parsed: Parsed) -> str:
        return f"{self._prefix}#{parsed.number}"

    def _episode(self, parsed: Parsed, pk: int) -> tuple:
        values = parsed.episode
        inclusion = values.get("inclusion_date")
        code, system = values.get("encounter_type", ("", ""))
        return (pk, parsed.site.id, Source.IMPORT, self._ref(parsed),  # type: ignore[attr-defined]
                values.get("referent_name", ""), inclusion.earliest if inclusion else None,
                inclusion.precision if inclusion else "", code, system)

    def _diagnosis(self, parsed: Parsed, pk: int, values: dict[str, Any]) -> tuple:
        date = values.get("date")
        return (pk, Source.IMPORT, self._ref(parsed), values.get("comment", ""),
                *values["disease"], *values["status"], date.earliest if date else None,
                date.precision if date else "")

    def _activity(self, parsed: Parsed, pk: int, values: dict[str, Any]) -> tuple:
        return (pk, parsed.site.id, values["date"], Source.IMPORT, self._ref(parsed),  # type: ignore[attr-defined]
                values.get("context_detail", ""), values.get("performer_name", ""),
                *values["context"])

    def _update(self, parsed: Parsed, record: ImportedRecord) -> None:
        """A changed source record: its patient's mapped fields, and the diagnoses and activities
        it wrote, replaced. Saved one by one so that the signals refresh names and IDMR."""
        patient = Patient.objects.get(pk=record.patient_id)
        for name, value in _patient_values(parsed).items():
            setattr(patient, name, value)
        patient.save()
        Diagnosis.objects.filter(pk__in=record.objects_written.get("diagnoses", [])).delete()
        Activity.objects.filter(pk__in=record.objects_written.get("activities", [])).delete()
        episode = CareEpisode.objects.filter(patient=patient, site=record.site).first()
        if episode is not None and "inclusion_date" in parsed.episode:
            episode.inclusion_date_partial = parsed.episode["inclusion_date"]
            episode.save()

    # ------------------------------------------------------------------ duplicates

    def _duplicates(self) -> None:
        """Probable duplicates among the rows of this run (typos): reported, queued for review
        on commit, never merged. Pairs with the same IDMR were federated already."""
        from bamara.identity import dedup

        # Streamed into find_pairs; the identifiers and hospitals read for the pairs only.
        entries: Iterable[tuple[int, tuple]]
        if self.scratch is None:
            found = Patient.objects.filter(
                pk__in=ImportRow.objects.filter(run=self.run, patient__isnull=False)
                .values("patient_id")).order_by("pk")
            entries = ((pk, tuple(values)) for pk, *values in
                       found.values_list("pk", *_TRAIT_COLUMNS, "hospital_id").iterator(chunk_size=5000))
        else:
            entries = self.scratch.traits()
        found_pairs = dedup.find_pairs(_traits(str(key), values) for key, values in entries)
        if not found_pairs:
            return
        keys = {int(p.key_a) for p in found_pairs} | {int(p.key_b) for p in found_pairs}
        if self.scratch is None:
            info = {pk: (n, h) for pk, n, h in _among(Patient.objects.all(), "id", keys)
                    .values_list("pk", "national_id", "hospital_id")}
        else:
            info = self.scratch.trait_info(keys)
        pairs = []
        for pair in found_pairs:
            (id_a, hosp_a), (id_b, hosp_b) = info[int(pair.key_a)], info[int(pair.key_b)]
            if id_a and id_a == id_b:
                continue  # the same identity: federated, not a probable duplicate
            pairs.append((int(pair.key_a), int(pair.key_b), pair.probability, pair.reasons, hosp_a,
                          hosp_b))
        self.summary.pairs = [(a, b, p, r) for a, b, p, r, _, _ in pairs]
        if self.commit:
            self._queue(pairs)

    def _queue(self, pairs: list[tuple]) -> None:
        try:
            from bamara.identity.models import DuplicateCandidate
        except ImportError:  # the review queue is not installed
            return
        same_hospital = [(min(a, b), max(a, b), p, r, h) for a, b, p, r, h, hb in pairs if h == hb]
        known = set(DuplicateCandidate.objects.filter(
            patient_a__in=[a for a, *_ in same_hospital]).values_list("patient_a", "patient_b"))
        DuplicateCandidate.objects.bulk_create([
            DuplicateCandidate(hospital_id=h, patient_a=a, patient_b=b, probability=p,
                               reasons=list(r))
            for a, b, p, r, h in same_hospital if (a, b) not in known], ignore_conflicts=True)


class _Now:
    """Writes each table at once (ids by ``RETURNING`` on SQLite): a sequential commit."""

    @staticmethod
    def write(table: Table, values: list[tuple], stamp: dt.datetime, *,
              returning: bool = False) -> list[int]:
        return table.write(values, stamp, returning=returning)

    @staticmethod
    def call(function: Callable[..., Any], *args: Any) -> None:
        function(*args)


class _Later:
    """Builds and encodes each table's rows and draws their ids now; the writer thread sends
    them (``steps``, in order). ``updates``: the batch changes stored records."""

    def __init__(self) -> None:
        self.steps: list[tuple] = []
        self.updates = False

    def write(self, table: Table, values: list[tuple], stamp: dt.datetime, *,
              returning: bool = False) -> list[int]:
        if not values:
            return []
        # Every table's ids drawn here, in file order, whether the caller needs them or not:
        # two writers send concurrently, and the ids stay those of a sequential commit.
        ids = table.allocate(len(values))
        self.steps.append((table.send_encoded, table.encode(values, stamp, ids)))
        return ids if returning else []

    def call(self, function: Callable[..., Any], *args: Any) -> None:
        self.steps.append((function, *args))
        self.updates = True


class _Record(NamedTuple):
    """What the planner reads of a source record written by a batch in flight (always of this
    run, so never updated by a later batch, see ``_plan``): a tuple; building a model
    instance per row took ~5 % of the commit's profiled client time."""

    patient_id: int
    content_hash: str
    run_id: int
    row_number: int


@dataclass
class _Inflight:
    """What the batches being committed add, as the next batch's planner would read it from
    the database once committed; ``patients``: those the batch writes rows for."""

    records: dict[str, _Record] = field(default_factory=dict)  # by key
    identities: dict[tuple[int, str], int] = field(default_factory=dict)  # (hospital, IDMR): pk
    ipps: dict[tuple[int, str], str] = field(default_factory=dict)  # (hospital, IPP): IDMR
    episodes: set[tuple[int, int]] = field(default_factory=set)  # (patient, site)
    names: dict[int, tuple] = field(default_factory=dict)  # patient: NAME_FIELDS values
    patients: set[int] = field(default_factory=set)

    @classmethod
    def merged(cls, batches: list[_Inflight]) -> _Inflight:
        if len(batches) == 1:
            return batches[0]
        merged = cls()
        for batch in batches:  # in file order: a later batch's values win
            merged.records |= batch.records
            merged.identities |= batch.identities
            merged.ipps |= batch.ipps
            merged.episodes |= batch.episodes
            merged.names |= batch.names
            merged.patients |= batch.patients
        return merged


class _Sent(NamedTuple):
    future: Future
    checkpoint: int
    rows: int
    inflight: _Inflight


class _Found(NamedTuple):
    """A batch's rows sorted and looked up in the database (``Importer._look_up``)."""

    rejected: list[bool]
    keys: list[str]
    ids: set[str]
    ipps: set[str]
    records: dict[str, Any]
    by_identity: dict[tuple[int, str], Any]
    by_ipp: dict[tuple[int, str], str]
    # Looked up beforehand only (``_look_up(prefetch=True)``): the care episodes and names of
    # the stored patients found by identifier, which ``_write`` would otherwise query.
    stored: _Stored | None = None


class _Stored(NamedTuple):
    patients: set[int]
    episodes: set[tuple[int, int]]
    names: dict[int, tuple]


def _send_on(raw: Any, steps: list[tuple]) -> None:
    """The writer thread of a bulk load: a batch's COPYs on the psycopg connection ``raw``."""
    for send_encoded, data in steps:
        send_encoded(data, raw)


def _close_connection(barrier: threading.Barrier) -> None:
    barrier.wait()
    connections.close_all()


def _no_flush_wait() -> None:
    """No wait for the WAL flush at the batch's commit: a server crash can lose the last
    batches committed, but each with its own checkpoint, so the resume writes them again."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")


_PATIENT_COLUMNS = ("ipp", "ins", "birth_name", "birth_given_names", "first_birth_given_name",
                    "used_name", "used_given_name", "birth_commune", "postal_code",
                    "residence_commune", "deceased", "opposition")
# What each table's bulk rows set (writer.Table), in the order the _write tuples give them.
_PATIENT_SET = (*_PATIENT_COLUMNS, "sex_code", "sex_system", "birth_date", "birth_date_precision",
                "death_date", "death_date_precision")
_LAYOUT: dict[str, tuple[type[Model], tuple[str, ...]]] = {
    "patient": (Patient, (*_PATIENT_SET, "hospital_id", "national_id", "source", "source_ref",
                          "capture_mode", "record_created_on")),
    "episode": (CareEpisode, ("patient_id", "site_id", "source", "source_ref", "referent_name",
                              "inclusion_date", "inclusion_date_precision", "encounter_type_code",
                              "encounter_type_system")),
    "name": (PatientName, ("patient_id", "site_id", "kind", "key", "phonetic")),
    "diagnosis": (Diagnosis, ("patient_id", "source", "source_ref", "comment", "disease_code",
                              "disease_system", "status_code", "status_system", "date",
                              "date_precision")),
    "activity": (Activity, ("patient_id", "site_id", "date", "source", "source_ref",
                            "context_detail", "performer_name", "context_code", "context_system")),
    "record": (ImportedRecord, ("key", "patient_id", "site_id", "content_hash", "run_id",
                                "row_number", "objects_written")),
    "row": (ImportRow, ("run_id", "number", "record_key", "content_hash", "outcome",
                        "patient_id", "messages")),
    "audit": (AuditEvent, ("user_id", "user_email", "action", "patient_id", "object_type",
                           "object_id", "detail", "channel")),
}
_TRAIT_COLUMNS = ("birth_name", "first_birth_given_name", "birth_given_names", "birth_date",
                  "birth_date_precision", "sex_code", "birth_commune", "used_name")


_lock = threading.Lock()
_runs = 0  # imports within _rare_full_collections, in this process
_thresholds = gc.get_threshold()


@contextmanager
def _rare_full_collections() -> Iterator[None]:
    """Python's full garbage collections 100 times rarer meanwhile: each one walks every object
    of the process (the run's caches, Django's), ~30 % of a commit's client CPU and 10-25 % of
    a dry run's (its worker processes do the same: ``workers.start``). Younger
    generations are still collected as usual. Counted, for imports run by several threads."""
    global _runs, _thresholds
    with _lock:
        if not _runs:
            _thresholds = young, middle, full = gc.get_threshold()
            gc.set_threshold(young, middle, full * 100)
        _runs += 1
    try:
        yield
    finally:
        with _lock:
            _runs -= 1
            if not _runs:
                gc.set_threshold(*_thresholds)


@contextmanager
def _by_index() -> Iterator[None]:
    """The planner's look-ups of a batch (thousands of keys) by index on PostgreSQL, in a
    transaction of their own or a savepoint, whatever the statistics say: until the tables were
    several times larger than a batch, PostgreSQL read them whole instead (parallel sequential
    scans, 30-50 ms per look-up at 100,000 patients against ~10 ms by index)."""
    if connection.vendor != "postgresql":
        yield
        return
    nested = connection.in_atomic_block
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off; SET LOCAL max_parallel_workers_per_gather = 0")
        yield
        if nested:  # within the caller's transaction (a bulk load): the rest of it as before
            cursor.execute("SET LOCAL enable_seqscan = DEFAULT; "
                           "SET LOCAL max_parallel_workers_per_gather = DEFAULT")


def _estimated_rows(model: type[Model]) -> int:
    """PostgreSQL's estimate of the rows of ``model``'s table (0 if never analyzed, and on
    SQLite)."""
    if connection.vendor != "postgresql":
        return 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass",
                       [model._meta.db_table])
        return max(0, int(cursor.fetchone()[0]))


def _among(queryset: QuerySet, name: str, values: Iterable[Any]) -> QuerySet:
    """``filter(<name>__in=values)``; on PostgreSQL with the values as one array parameter
    (``= ANY(%s)``): a batch's thousands of placeholders were parsed again by psycopg for
    every query."""
    values = list(values)
    if connection.vendor != "postgresql":
        return queryset.filter(**{f"{name}__in": values})
    meta = queryset.model._meta
    column = f"{connection.ops.quote_name(meta.db_table)}.{connection.ops.quote_name(meta.get_field(name).column)}"
    if values and isinstance(values[0], str):  # a mixed list fails in _text_array's join
        # Text as one array literal: psycopg's list dumper, in Python, cost a dry run more
        # than the queries (~10 % of its CPU).
        return queryset.extra(where=[f"{column} = ANY(%s::text[])"], params=[_text_array(values)])
    return queryset.extra(where=[f"{column} = ANY(%s)"], params=[values])


def _text_array(values: list[str]) -> str:
    """A PostgreSQL array literal of text values: each quoted, backslash and quote escaped."""
    body = '","'.join(values)
    if "\\" in body or body.count('"') != 2 * (len(values) - 1):  # a value has \\ or "
        body = '","'.join(v.replace("\\", "\\\\").replace('"', '\\"') for v in values)
    return '{"' + body + '"}'


def _patient_values(parsed: Parsed) -> dict[str, Any]:
    values = {name: parsed.patient[name] for name in _PATIENT_COLUMNS if name in parsed.patient}
    if "sex" in parsed.patient:
        values["sex_code"], values["sex_system"] = parsed.patient["sex"]
    for name in ("birth_date", "death_date"):
        if name in parsed.patient:
            partial = parsed.patient[name]
            values[name], values[f"{name}_precision"] = partial.earliest, partial.precision
    return values


# ---------------------------------------------------------------------- dry-run workers

def _unpack(prepared: list[tuple]) -> Iterator[list[Parsed]]:
    """``workers.prepare``'s tuples as the rows the planner reads (a dry run's planner needs
    only the IPP of the patient's values), each identity key hashed into its IDMR here (the
    worker is the busier process); nothing for a chunk of blank rows."""
    batch = []
    national_ids = idmr.from_identity_keys([row[6] for row in prepared])
    for (number, digest, site_code, source_id, ipp, messages, _key, traits), national_id \
            in zip(prepared, national_ids, strict=True):
        batch.append(Parsed(number, digest, site_code, source_id, {"ipp": ipp} if ipp else {},
                            messages=messages, national_id=national_id, traits=traits))
    if batch:
        yield batch


def _unpack_rows(prepared: list[tuple]) -> Iterator[list[Parsed]]:
    """``workers.prepare_rows``'s tuples as ``Parsed`` rows with their patient's values, each
    identity key hashed into its IDMR here (the key stays in this process)."""
    national_ids = idmr.from_identity_keys([row[10] for row in prepared])
    batch = []
    for (number, digest, site_code, source_id, patient, episode, diagnoses, activities, messages,
         values, _key, names), national_id in zip(prepared, national_ids, strict=True):
        parsed = Parsed(number, digest, site_code, source_id, patient, episode, diagnoses,
                        activities, messages, national_id=national_id)
        parsed.values, parsed.name_keys = values, names  # type: ignore[attr-defined]
        batch.append(parsed)
    if batch:
        yield batch


def _national_id(patient: dict[str, Any], key: str | bytes | None = None) -> str:
    """The IDMR the saved patient will have (``idmr.for_patient``), without a model instance;
    ``patient``: the row's patient values (``Parsed.patient``); ``key``: settings.IDMR_KEY by
    default."""
    identity = _identity(patient)
    return idmr.from_identity_key(identity, key=key) if identity else ""


def _identity(patient: dict[str, Any]) -> str:
    """The identity key of the row's patient values (``normalise.identity_key``), "" when the
    traits are insufficient. The traits are those ``idmr.person_traits`` reads from the saved
    columns, taken from the values directly (the birth date is already the partial date they
    give back)."""
    sex = patient.get("sex")
    traits = IdentityTraits(
        birth_name=patient.get("birth_name", ""),
        first_given_name=patient.get("first_birth_given_name", ""),
        birth_given_names=patient.get("birth_given_names", ""),
        birth_date=patient.get("birth_date"), sex=sex[0] if sex else "")
    try:
        return identity_key(traits)
    except ValueError:  # insufficient traits
        return ""


def _trait_values(values: dict[str, Any]) -> tuple:
    return tuple(values.get(name, "" if name != "birth_date" else None) for name in _TRAIT_COLUMNS)


def _traits(key: str, values: Iterable[Any]):
    from bamara.identity import dedup

    name, first, given, date, precision, sex, place, used, hospital = values
    text = ""
    if date is not None:
        text = {"Y": date.strftime("%Y"), "M": date.strftime("%Y-%m")}.get(precision, date.isoformat())
    return dedup.Traits(key=key, birth_name=name or "", first_name=first or given or "",
                        birth_date=text, sex=sex if sex in ("F", "M") else "",
                        birth_place=place or "", used_name=used or "", group=str(hospital))
