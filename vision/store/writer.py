"""Store writes off the detector thread, through an on-disk journal that is also the spool.

::

    detector thread --append--> journal.jsonl (local disk) --writer thread, batches--> database
                    --latest--> status / heartbeat (one per camera, in memory) --^

What must not be lost (finished observations, up-intervals opened and closed) is appended to a
journal file in the spool folder by the calling thread: one ``write`` of one JSON line, no
database round trip, so a slow or unreachable database never stalls a camera. The writer thread
reads the journal from its committed offset, writes up to ``batch_size`` records in one
transaction, then moves the offset on (and empties the file once everything is in). What is only
the latest state (camera health, heartbeats) is kept in memory, one entry per camera or interval,
and written with the next batch: that is the bounded part of the queue; the journal is bounded by
the disk, and both are visible as metrics (``vision_store_backlog_records``,
``vision_store_spool_bytes``).

While the database is unreachable the journal grows (the spool) and the writer retries with
backoff; when it is back, the backlog is written in order. Exactly once: every observation and
up-interval carries a key chosen here, and the store's unique index skips a key it already has,
so a batch replayed after an unknown outcome (a crash between COMMIT and moving the offset, or a
connection lost around the COMMIT) is not stored twice. The journal survives ``kill -9`` of the
process (the line is in the OS's page cache) and, once the writer has fsynced it (every cycle), a
power cut; a restart with the same spool folder writes what was left.

Journal records are the writer's own format, versioned (``"v"``, :data:`JOURNAL_VERSION`), not the
store's row format: :func:`upgrade` reads every older version, and an observation becomes a store
row only when it is written (:func:`observation_columns`), so a column added to the store does not
make an old spool unreplayable. No record can block the spool: one the store refuses for its
content (a constraint, a bad value, a missing field, a version from the future, an unreadable
line) is moved to ``dead-letter.jsonl`` in the spool folder with the reason, counted
(``vision_store_dead_letter_records``) and logged, and the writer moves on; an unreachable or
refusing database is transient and retried with backoff.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from sqlalchemy.exc import DataError, IntegrityError, SQLAlchemyError, StatementError

from vision.errors import VisionError
from vision.evidence.writer import EvidenceFile
from vision.store.database import CameraReport, Store, observation_row, trip_row
from vision.store.schema import epoch
from vision.tracking.observation import Observation
from vision.tracking.trip import Trip

log = logging.getLogger(__name__)

JOURNAL = "journal.jsonl"
OFFSET = "journal.offset"
LOCK = "spool.lock"
STORE_ID = "store.id"  # the identity of the store the journal's records belong to
DEAD_LETTER = "dead-letter.jsonl"  # records the store refused for their content, with the reason
JOURNAL_VERSION = 2  # 1: observations as the store's row ("row"); 2: the journal's own fields ("obs")
# An observation in the journal (version 2): what the store needs of it, whatever its columns are.
OBSERVATION_FIELDS = (
    "run_id", "camera_id", "site_id", "category", "zone", "track_id", "started_at", "ended_at", "outcome",
    "frames", "mean_confidence", "vote_share", "max_size_px", "vehicle_track_id", "riders_on_vehicle",
    "obs_key", "worker_id", "lease_generation",
)  # fmt: skip
OPTIONAL_FIELDS = frozenset({"zone", "vehicle_track_id", "riders_on_vehicle", "worker_id", "lease_generation"})
# A trip in the journal (type "trip", from version 2 on): one two-wheeler and its riders' verdicts.
TRIP_FIELDS = (
    "run_id", "camera_id", "site_id", "category", "vehicle_track_id", "started_at", "ended_at", "riders",
    "compliant", "non_compliant", "undetermined", "outcome", "trip_key", "worker_id", "lease_generation",
)  # fmt: skip


class JournalRecordError(ValueError):
    """A journal record that can never be written as it is (the reason names what is wrong)."""


def upgrade(record: dict[str, Any]) -> dict[str, Any]:
    """``record`` in the current journal version; :class:`JournalRecordError` for one that cannot be read."""
    version = record.get("v", 1)
    if not isinstance(version, int) or version > JOURNAL_VERSION:
        raise JournalRecordError(f"journal record version {version!r} is newer than this vision ({JOURNAL_VERSION})")
    if "t" not in record:
        raise JournalRecordError("journal record without a type ('t')")
    if version == 1 and record["t"] == "obs":
        record = {key: value for key, value in record.items() if key != "row"} | {"obs": record.get("row")}
    return {**record, "v": JOURNAL_VERSION}


def _columns(record: dict[str, Any], key: str, names: tuple[str, ...], what: str, id_field: str) -> dict[str, Any]:
    """The store row of a journalled ``what`` whose fields are under ``record[key]``; a missing field is an error."""
    fields = record.get(key)
    if not isinstance(fields, dict):
        raise JournalRecordError(f"{what} record without its fields ('{key}')")
    missing = [name for name in names if name not in fields and name not in OPTIONAL_FIELDS]
    if missing:
        raise JournalRecordError(f"{what} {fields.get(id_field)} lacks {', '.join(missing)}")
    return {name: fields.get(name) for name in names}


def observation_columns(record: dict[str, Any]) -> dict[str, Any]:
    """The store row of a journalled observation (current version); a missing field is an error."""
    return _columns(record, "obs", OBSERVATION_FIELDS, "observation", "obs_key")


def trip_columns(record: dict[str, Any]) -> dict[str, Any]:
    """The store row of a journalled trip; a missing field is an error."""
    return _columns(record, "trip", TRIP_FIELDS, "trip", "trip_key")


def content_error(error: BaseException) -> bool:
    """True for an error that the record itself causes (retrying cannot help); False for the database's
    own trouble (unreachable, refusing, timing out), which is retried."""
    if isinstance(error, IntegrityError | DataError | KeyError | TypeError | ValueError):  # JournalRecordError too
        return True
    # A value the driver cannot bind is raised as a StatementError around a TypeError or ValueError.
    return isinstance(error, StatementError) and isinstance(error.orig, TypeError | ValueError)


class WriterMetrics:
    """The writer's Prometheus series, registered on the pipeline's registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.backlog = Gauge(
            "vision_store_backlog_records",
            "Observations and up-interval changes in the local journal, not yet in the store.",
            registry=registry,
        )
        self.spool_bytes = Gauge(
            "vision_store_spool_bytes", "Size of the local journal (spool) on disk.", registry=registry
        )
        self.store_up = Gauge(
            "vision_store_up", "1 while the last write to the store succeeded, else 0.", registry=registry
        )
        self.written = Counter(
            "vision_store_written_records",
            "Records written to the store, by kind (observation, trip, uptime).",
            ["kind"],
            registry=registry,
        )
        self.duplicates = Counter(
            "vision_store_duplicate_records_skipped",
            "Observations the store already had (a replayed batch), skipped.",
            registry=registry,
        )
        self.failures = Counter(
            "vision_store_write_failures", "Batches that failed and were kept for a retry.", registry=registry
        )
        self.corrupt = Counter(
            "vision_store_journal_corrupt_lines",
            "Journal lines that could not be read (moved to the dead-letter file).",
            registry=registry,
        )
        self.dead_letters = Counter(
            "vision_store_dead_letter_records",
            "Journal records the store refused for their content, moved to dead-letter.jsonl with the reason.",
            registry=registry,
        )
        self.batch_seconds = Histogram(
            "vision_store_batch_seconds",
            "Time to write one batch to the store.",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=registry,
        )


@dataclass
class _Pending:
    """What the next batch writes besides the journal: the latest state per camera and per interval."""

    statuses: dict[str, dict[str, object]]
    heartbeats: dict[str, float]


class StoreWriter:
    """Takes the pipeline's writes and stores them from one background thread.

    Thread-safe; every method but :meth:`close` returns without touching the database. One writer
    per spool folder (a lock file says so; a second process gets a clear error).
    """

    def __init__(
        self,
        store: Store,
        spool_dir: Path,
        registry: CollectorRegistry | None = None,
        *,
        worker_id: str | None = None,
        lease_generation: Callable[[str], int | None] | None = None,
        batch_size: int = 500,
        flush_s: float = 0.5,
        max_retry_s: float = 10.0,
    ) -> None:
        self.store = store
        self.spool_dir = Path(spool_dir)
        self.worker_id = worker_id
        # A worker's fencing token per camera: its records carry it, and the store refuses those of a
        # lease that was granted to another worker before their time (Store.stale).
        self._lease_generation = lease_generation or (lambda camera_id: None)
        self.batch_size = batch_size
        self.flush_s = flush_s
        self.max_retry_s = max_retry_s
        self.metrics = WriterMetrics(registry or CollectorRegistry())
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._pending = _Pending({}, {})
        self._thread: threading.Thread | None = None
        self._retry_at = 0.0
        self._failures_in_row = 0
        self.observations_written = 0  # new rows this writer stored
        self.observations_journaled = 0  # finished observations handed to this writer
        try:
            self.spool_dir.mkdir(parents=True, exist_ok=True)
            self._lock_file = (self.spool_dir / LOCK).open("a+")
        except OSError as error:
            raise VisionError(f"spool folder {self.spool_dir}: {error.strerror or error}") from error
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as error:
            self._lock_file.close()
            raise VisionError(
                f"spool folder {self.spool_dir} is in use by another vision process: give each worker its own"
                " (workers use <store.spool_dir>/<worker id>)"
            ) from error
        self._journal: BinaryIO = (self.spool_dir / JOURNAL).open("ab+")
        self._offset = self._read_offset()
        self._backlog = self._count_lines_after(self._offset)
        self._dirty = False
        self._claim_for(store)
        if self._backlog:
            log.info("spool %s: %d record(s) left from before; writing them first", self.spool_dir, self._backlog)
        self.metrics.backlog.set_function(lambda: self._backlog)
        self.metrics.spool_bytes.set_function(self._journal_size)
        self.metrics.store_up.set(1)

    def _claim_for(self, store: Store) -> None:
        """Refuse a spool whose records belong to another database (they would land in the wrong store)."""
        marker = self.spool_dir / STORE_ID
        try:
            identity = store.identity()
        except VisionError:
            identity = None  # unreachable now: the spool says where its records belong
        recorded = marker.read_text().strip() if marker.is_file() else None
        if self._backlog and recorded and identity and recorded != identity:
            self.close_files()
            raise VisionError(
                f"spool folder {self.spool_dir} holds {self._backlog} record(s) of another store (id {recorded});"
                " open that store once to write them, or move the folder away"
            )
        if identity and identity != recorded:
            marker.write_text(identity + "\n")

    def close_files(self) -> None:
        self._journal.close()
        fcntl.flock(self._lock_file, fcntl.LOCK_UN)
        self._lock_file.close()

    # --- the hot path -------------------------------------------------------------------------
    def observations(self, run_id: int, observations: Sequence[Observation]) -> None:
        """Journal finished tracks; they reach the store with the next batch, exactly once."""
        if observations:
            self._append(
                [
                    {
                        "t": "obs",
                        "v": JOURNAL_VERSION,
                        "obs": {
                            **observation_row(run_id, o, self.worker_id),
                            "lease_generation": self._lease_generation(o.camera_id),
                        },
                    }
                    for o in observations
                ]
            )
            self.observations_journaled += len(observations)

    def trips(self, run_id: int, trips: Sequence[Trip]) -> None:
        """Journal finished trips (two-wheelers and their riders); stored exactly once, like observations."""
        if trips:
            self._append(
                [
                    {
                        "t": "trip",
                        "v": JOURNAL_VERSION,
                        "trip": {
                            **trip_row(run_id, trip, self.worker_id),
                            "lease_generation": self._lease_generation(trip.camera_id),
                        },
                    }
                    for trip in trips
                ]
            )

    def camera_up(self, run_id: int, camera_id: str, at: datetime) -> str:
        """Journal a new up-interval; returns its key for :meth:`camera_heartbeat` and :meth:`camera_down`."""
        key = uuid.uuid4().hex
        token = self._lease_generation(camera_id)
        self._append(
            [
                {
                    "t": "up",
                    "v": JOURNAL_VERSION,
                    "key": key,
                    "run": run_id,
                    "camera": camera_id,
                    "at": epoch(at),
                    "lease": token,
                }
            ]
        )
        return key

    def camera_down(self, key: str, at: datetime, reason: str) -> None:
        self._append([{"t": "down", "v": JOURNAL_VERSION, "key": key, "at": epoch(at), "reason": reason[:500]}])
        with self._lock:
            self._pending.heartbeats.pop(key, None)

    def evidence_kept(self, file: EvidenceFile) -> None:
        """The evidence writer kept an observation's crop and snapshot (paths relative to its folder)."""
        self._append(
            [
                {
                    "t": "evidence",
                    "v": JOURNAL_VERSION,
                    "obs_key": file.key,
                    "crop_path": file.crop_path,
                    "snapshot_path": file.snapshot_path,
                    "bytes": file.bytes,
                    "created_at": time.time(),
                }
            ]
        )

    def evidence_gone(self, keys: Sequence[str], reason: str) -> None:
        """The retention sweep removed these observations' pixels (``age`` or ``size``); their counts stay."""
        now = time.time()
        self._append(
            [{"t": "evidence_gone", "v": JOURNAL_VERSION, "obs_key": key, "at": now, "reason": reason} for key in keys]
        )

    def camera_heartbeat(self, key: str, at: datetime) -> None:
        with self._lock:
            self._pending.heartbeats[key] = epoch(at)

    def camera_status(self, camera_id: str, report: CameraReport) -> None:
        """The camera's latest health; replaces any not yet written (only the newest matters)."""
        with self._lock:
            self._pending.statuses[camera_id] = {**report.status_row(), "worker_id": self.worker_id}

    # --- life cycle ---------------------------------------------------------------------------
    @property
    def backlog(self) -> int:
        """Journal records not yet in the store."""
        return self._backlog

    @property
    def store_reachable(self) -> bool:
        return self._failures_in_row == 0

    def start(self) -> StoreWriter:
        self._thread = threading.Thread(target=self._run, name="store-writer", daemon=True)
        self._thread.start()
        return self

    def flush(self, timeout_s: float = 10.0) -> bool:
        """Wait until the journal and pending state are in the store; False if it did not get there in time."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self._lock:
                done = self._backlog == 0 and not self._pending.statuses and not self._pending.heartbeats
            if done:
                return True
            self._wake.set()
            time.sleep(0.05)
        return False

    def close(self, timeout_s: float = 10.0) -> None:
        """Write what can be written within ``timeout_s``; the rest stays in the spool for the next start."""
        if self._thread is not None:
            self.flush(timeout_s)
            self._stop.set()
            self._wake.set()
            self._thread.join(timeout=self.max_retry_s + 5)
            self._thread = None
        else:
            while self._write_once():  # no thread: write every full batch now
                pass
        if self._backlog:
            log.warning(
                "spool %s: %d record(s) not yet in the store; they are written at the next start",
                self.spool_dir,
                self._backlog,
            )
        self._fsync()
        self.close_files()

    # --- the writer thread --------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.flush_s)
            self._wake.clear()
            if time.monotonic() < self._retry_at:
                continue
            try:
                while self._write_once() and not self._stop.is_set():
                    pass  # a full batch: there may be more right away
            except Exception:  # a bug here must not end the thread: the journal keeps everything
                log.exception("store writer cycle failed")

    def _write_once(self) -> bool:
        """Write one batch; True if it was a full batch (call again), False otherwise or on failure."""
        with self._lock:
            self._fsync_locked()
            lines, end_offset = self._read_batch()
            pending, self._pending = self._pending, _Pending({}, {})
        if not lines and not pending.statuses and not pending.heartbeats:
            return False
        started = time.perf_counter()
        records, unreadable = self._parse(lines)
        try:
            counts = self._write([record for _, record in records], pending)
        except Exception as error:
            if not content_error(error):
                if not isinstance(error, VisionError | SQLAlchemyError | OSError):  # a bug, not the database
                    log.exception("store write failed unexpectedly; the batch stays in the spool")
                self._failed(error, pending)
                return False
            # One record (or more) cannot be written: each alone, so only those go to the dead letters.
            each = self._write_each(records, unreadable, pending)
            if each is None:
                return False
            counts = each
        self._succeeded(*counts, started)
        self._dead_letter([(record, reason) for _, record, reason in unreadable])
        with self._lock:
            self._commit(end_offset, len(lines))
        return len(lines) >= self.batch_size

    def _parse(
        self, lines: list[tuple[bytes, int]]
    ) -> tuple[list[tuple[int, dict[str, Any]]], list[tuple[int, dict[str, Any], str]]]:
        """Journal lines as current records with their end offsets, and those that cannot be read."""
        records, unreadable = [], []
        for line, offset in lines:
            try:
                raw = json.loads(line)
                if not isinstance(raw, dict):
                    raise JournalRecordError(f"a journal record is an object, not {type(raw).__name__}")
                records.append((offset, upgrade(raw)))
            except (json.JSONDecodeError, UnicodeDecodeError, JournalRecordError) as error:
                self.metrics.corrupt.inc()
                unreadable.append((offset, {"line": line.decode("utf-8", "replace").rstrip("\n")}, str(error)))
        return records, unreadable

    def _write_each(
        self,
        records: list[tuple[int, dict[str, Any]]],
        unreadable: list[tuple[int, dict[str, Any], str]],
        pending: _Pending,
    ) -> tuple[int, int, int, int] | None:
        """Write ``records`` one transaction each; dead-letter the ones refused for their content.

        Returns the summed counts; None when the database itself failed midway: what was written is
        committed, the rest stays in the journal for the retry."""
        totals = (0, 0, 0, 0)
        refused: list[tuple[dict[str, Any], str]] = []
        try:
            self._write([], pending)
        except Exception as error:
            self._failed(error, pending)
            return None
        written_to = self._offset
        for offset, record in records:
            try:
                counts = self._write([record], _Pending({}, {}))
            except Exception as error:
                if not content_error(error):
                    refused += [(r, why) for o, r, why in unreadable if o <= written_to]
                    self._dead_letter(refused)
                    done = sum(1 for o, _ in records if o <= written_to) + sum(
                        1 for o, _, _ in unreadable if o <= written_to
                    )
                    with self._lock:
                        self._commit(written_to, done)
                    self._failed(error, _Pending({}, {}))
                    return None
                refused.append((record, f"{type(error).__name__}: {str(error).splitlines()[0][:300]}"))
            else:
                totals = (totals[0] + counts[0], totals[1] + counts[1], totals[2] + counts[2], totals[3] + counts[3])
            written_to = offset
        self._dead_letter(refused)
        return totals

    def _dead_letter(self, items: list[tuple[dict[str, Any], str]]) -> None:
        """Move records that can never be written out of the way: appended to the dead-letter file."""
        if not items:
            return
        with (self.spool_dir / DEAD_LETTER).open("a") as file:
            for record, reason in items:
                file.write(json.dumps({"reason": reason, "at": time.time(), "record": record}) + "\n")
        self.metrics.dead_letters.inc(len(items))
        for record, reason in items:
            log.error(
                "spool %s: record of type %s cannot be stored (%s); moved to %s",
                self.spool_dir,
                record.get("t", "unreadable"),
                reason,
                DEAD_LETTER,
            )

    def _succeeded(self, written: int, duplicates: int, uptime: int, trips: int, started: float) -> None:
        self.metrics.batch_seconds.observe(time.perf_counter() - started)
        if self._failures_in_row:
            log.info("store reachable again; writing the spool (%d record(s))", self._backlog)
        self._failures_in_row = 0
        self.metrics.store_up.set(1)
        self.metrics.written.labels("observation").inc(written)
        self.metrics.written.labels("uptime").inc(uptime)
        self.metrics.written.labels("trip").inc(trips)
        self.metrics.duplicates.inc(duplicates)
        self.observations_written += written

    def _write(self, records: list[dict[str, Any]], pending: _Pending) -> tuple[int, int, int, int]:
        """Write ``records`` and ``pending`` in one transaction; returns (observations written, duplicates,
        up-interval changes, trips written). Records of a lease another worker was granted before their time
        (fenced) are not written: they go to the dead letters."""
        unknown = {record["t"] for record in records} - {"obs", "trip", "up", "down", "evidence", "evidence_gone"}
        if unknown:
            raise JournalRecordError(f"unknown journal record type {sorted(unknown)}")
        observations = [(record, observation_columns(record)) for record in records if record["t"] == "obs"]
        trips = [(record, trip_columns(record)) for record in records if record["t"] == "trip"]
        uptime = [record for record in records if record["t"] in ("up", "down")]
        evidence_ops = [record for record in records if record["t"] in ("evidence", "evidence_gone")]
        fenced: list[tuple[dict[str, Any], str]] = []
        with self.store._begin() as connection:
            checks = [(row["camera_id"], row.get("lease_generation"), row["ended_at"]) for _, row in observations]
            checks += [(row["camera_id"], row.get("lease_generation"), row["ended_at"]) for _, row in trips]
            checks += [(r["camera"], r.get("lease"), r["at"]) for r in uptime if r["t"] == "up"]
            stale = iter(self.store.stale(connection, checks))
            kept_rows: list[dict[str, Any]] = []
            kept_trips: list[dict[str, Any]] = []
            for kept, rows in ((kept_rows, observations), (kept_trips, trips)):
                for record, row in rows:
                    if next(stale):
                        fenced.append(
                            (record, f"stale lease: generation {row['lease_generation']} of {row['camera_id']}")
                        )
                    else:
                        kept.append(row)
            uptime_ops = []
            for r in uptime:
                if r["t"] == "up" and next(stale):
                    fenced.append((r, f"stale lease: generation {r.get('lease')} of {r['camera']}"))
                    continue
                uptime_ops.append(
                    (r["t"], r["key"], r.get("run"), r.get("camera"), r["at"], r.get("reason"), r.get("lease"))
                )
            uptime_ops += [("beat", key, None, None, at, None, None) for key, at in pending.heartbeats.items()]
            written = self.store.insert_observation_rows(connection, kept_rows)
            trips_written = self.store.insert_trip_rows(connection, kept_trips)
            self.store.uptime_ops(connection, uptime_ops)
            self.store.evidence_ops(connection, evidence_ops)
            self.store.status_upserts(connection, self._own_statuses(connection, pending.statuses))
        self._dead_letter(fenced)
        return written, len(kept_rows) - written, len(uptime_ops), trips_written

    def _own_statuses(self, connection: Any, statuses: dict[str, dict[str, object]]) -> dict[str, dict[str, object]]:
        """A worker's status rows only for cameras whose lease it holds (another's must not be overwritten)."""
        if self.worker_id is None or not statuses:
            return statuses
        holders = self.store.lease_holders(connection, statuses)
        return {
            camera: values
            for camera, values in statuses.items()
            if holders.get(camera, self.worker_id) == self.worker_id
        }

    def _failed(self, error: Exception, pending: _Pending) -> None:
        self._failures_in_row += 1
        self.metrics.failures.inc()
        self.metrics.store_up.set(0)
        delay = min(self.max_retry_s, 0.5 * 2**self._failures_in_row)
        self._retry_at = time.monotonic() + delay
        if self._failures_in_row == 1:
            log.warning("store write failed (%s); keeping %d record(s) in the spool, retrying", error, self._backlog)
        with self._lock:  # newer state that arrived meanwhile wins
            self._pending.statuses = {**pending.statuses, **self._pending.statuses}
            self._pending.heartbeats = {**pending.heartbeats, **self._pending.heartbeats}

    # --- the journal (called with self._lock held) -------------------------------------------
    def _append(self, records: list[dict[str, Any]]) -> None:
        text = "".join(json.dumps(record, separators=(",", ":")) + "\n" for record in records).encode()
        with self._lock:
            try:
                self._journal.seek(0, os.SEEK_END)
                self._journal.write(text)
                self._journal.flush()
            except OSError as error:  # disk full: say so loudly; the store is still tried directly
                log.error("spool %s: cannot append (%s); writing straight to the store", self.spool_dir, error)
                self._write_direct(records)
                return
            self._backlog += len(records)
            self._dirty = True
        self._wake.set()

    def _write_direct(self, records: list[dict[str, Any]]) -> None:
        try:
            self._write(records, _Pending({}, {}))
        except (VisionError, SQLAlchemyError) as error:
            log.error("spool full and store unreachable (%s): %d record(s) lost", error, len(records))

    def _read_batch(self) -> tuple[list[tuple[bytes, int]], int]:
        """Up to ``batch_size`` whole journal lines after the committed offset, each with its end offset."""
        self._journal.seek(self._offset)
        lines: list[tuple[bytes, int]] = []
        offset = self._offset
        while len(lines) < self.batch_size:
            line = self._journal.readline()
            if not line.endswith(b"\n"):  # end of file (appends are whole lines, under the lock)
                break
            offset += len(line)
            lines.append((line, offset))
        return lines, offset

    def _commit(self, end_offset: int, count: int) -> None:
        self._offset = end_offset
        self._backlog = max(0, self._backlog - count)
        if self._offset >= self._journal_size():
            self._backlog = 0
            self._journal.truncate(0)  # everything is in: start the file afresh
            self._offset = 0
        self._write_offset()

    def _fsync_locked(self) -> None:
        if self._dirty:
            os.fsync(self._journal.fileno())
            self._dirty = False

    def _fsync(self) -> None:
        with self._lock:
            self._fsync_locked()

    def _journal_size(self) -> int:
        try:
            return os.fstat(self._journal.fileno()).st_size
        except (OSError, ValueError):
            return 0

    def _read_offset(self) -> int:
        try:
            offset = int((self.spool_dir / OFFSET).read_text().strip() or 0)
        except (FileNotFoundError, ValueError):
            return 0
        return min(offset, self._journal_size())

    def _write_offset(self) -> None:
        temporary = self.spool_dir / f"{OFFSET}.tmp"
        temporary.write_text(str(self._offset))
        temporary.replace(self.spool_dir / OFFSET)

    def _count_lines_after(self, offset: int) -> int:
        self._journal.seek(offset)
        return sum(1 for line in self._journal if line.endswith(b"\n"))
