"""Evidence JPEGs, written off the detector thread, and their retention.

``<site>/<YYYY-MM-DD>/<observation key>.crop.jpg`` and ``.snapshot.jpg`` (UTC date of the track's
end), kept by an :class:`EvidenceSink`: files under ``evidence.folder`` (:class:`FolderSink`, one
machine or a shared mount), or rows of the store's ``evidence_blobs`` table
(:class:`DatabaseSink`, the default on PostgreSQL): every worker writes there and every ``vision
serve`` replica reads from there, with no shared file system (``evidence.storage``). Writing
never blocks counting: the queue is bounded and a full queue, a full
disk or a read-only folder drops the pixels (``vision_evidence_dropped_total{reason}``), never
the observation; what was written is recorded in the store's ``evidence`` table through the
store writer's journal. The sweep deletes by age and then oldest first down to a total size, and
marks those rows deleted: the counts stay, only the pixels go.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

import cv2
from prometheus_client import CollectorRegistry, Counter, Gauge

from vision.config import Evidence as EvidenceSettings
from vision.errors import VisionError
from vision.evidence.capture import BestView, CaptureSettings, Evidence

log = logging.getLogger(__name__)

JPEG_QUALITY = 85
SUFFIXES = (".crop.jpg", ".snapshot.jpg")


@dataclass(frozen=True)
class Retention:
    """Pixels older than ``max_age_s`` go, then the oldest until ``max_bytes`` remain; checked every ``every_s``."""

    max_age_s: float | None
    max_bytes: int | None
    every_s: float


@dataclass(frozen=True)
class EvidenceFile:
    """One observation's written evidence; paths are relative to the evidence folder."""

    key: str
    crop_path: str
    snapshot_path: str
    bytes: int


class EvidenceSink(Protocol):
    """Where evidence JPEGs are kept, by their relative path (``<site>/<day>/<key>.crop.jpg``)."""

    def put(self, files: dict[str, bytes]) -> None:
        """Keep every file or none (raises ``OSError`` or ``VisionError`` if it cannot)."""
        ...

    def read(self, path: str) -> bytes | None:
        """A file's bytes, or None if it is not kept (never written, or swept)."""
        ...

    def sweep(
        self, max_age_s: float | None, max_bytes: int | None, now: float | None = None
    ) -> tuple[list[str], list[str], int]:
        """Delete by age, then oldest first down to ``max_bytes``: ``(keys by age, keys by size, bytes left)``."""
        ...


class FolderSink:
    """Evidence files under one folder (each written atomically: a temporary name, then a rename)."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def __str__(self) -> str:
        return f"evidence folder {self.folder}"

    def put(self, files: dict[str, bytes]) -> None:
        try:
            for path, data in files.items():
                (self.folder / path).parent.mkdir(parents=True, exist_ok=True)
                temporary = self.folder / Path(path).with_suffix(".tmp")
                temporary.write_bytes(data)
                temporary.replace(self.folder / path)
        except OSError:
            for path in files:  # no half-written evidence: both files or neither
                for leftover in (Path(path), Path(path).with_suffix(".tmp")):
                    with contextlib.suppress(OSError):
                        (self.folder / leftover).unlink(missing_ok=True)
            raise

    def read(self, path: str) -> bytes | None:
        file = (self.folder / path).resolve()
        if not file.is_relative_to(self.folder.resolve()) or not file.is_file():
            return None
        return file.read_bytes()

    def sweep(
        self, max_age_s: float | None, max_bytes: int | None, now: float | None = None
    ) -> tuple[list[str], list[str], int]:
        return sweep(self.folder, max_age_s, max_bytes, now)


class BlobStore(Protocol):
    """What :class:`DatabaseSink` needs of the store (``vision.store.database.Store``)."""

    def put_evidence_blobs(self, files: dict[str, bytes], created_at: float) -> None: ...

    def evidence_blob(self, path: str) -> bytes | None: ...

    def sweep_evidence_blobs(
        self, max_age_s: float | None, max_bytes: int | None, now: float
    ) -> tuple[list[str], list[str], int]: ...


class DatabaseSink:
    """Evidence as rows of the store's ``evidence_blobs`` table: shared by every machine of the store."""

    def __init__(self, store: BlobStore) -> None:
        self.store = store

    def __str__(self) -> str:
        return "evidence in the store"

    def put(self, files: dict[str, bytes]) -> None:
        self.store.put_evidence_blobs(files, time.time())

    def read(self, path: str) -> bytes | None:
        return self.store.evidence_blob(path)

    def sweep(
        self, max_age_s: float | None, max_bytes: int | None, now: float | None = None
    ) -> tuple[list[str], list[str], int]:
        return self.store.sweep_evidence_blobs(max_age_s, max_bytes, time.time() if now is None else now)


def open_sink(settings: EvidenceSettings, store_url: str, store: BlobStore) -> EvidenceSink:
    """The sink a config's ``evidence`` settings name for its store (see ``Evidence.in_database``)."""
    if settings.in_database(store_url):
        return DatabaseSink(store)
    return FolderSink(settings.evidence_folder(store_url))


class EvidenceMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.written = Counter(
            "vision_evidence_written", "Observations whose crop and snapshot were kept.", registry=registry
        )
        self.dropped = Counter(
            "vision_evidence_dropped",
            "Observations stored without evidence, by reason (queue_full; disk_error: the folder or store refused).",
            ["reason"],
            registry=registry,
        )
        self.deleted = Counter(
            "vision_evidence_deleted", "Evidence removed by the retention sweep, by reason (age, size).", ["reason"],
            registry=registry,
        )  # fmt: skip
        self.bytes = Gauge("vision_evidence_bytes", "Bytes of evidence kept (as of the last sweep).", registry=registry)


class EvidenceWriter:
    """Writes evidence JPEGs from its own thread; ``on_written`` tells the store (from that thread)."""

    def __init__(
        self,
        sink: EvidenceSink | Path,
        on_written: Callable[[EvidenceFile], None],
        registry: CollectorRegistry | None = None,
        max_queue: int = 64,
        *,
        retention: Retention | None = None,
        on_deleted: Callable[[list[str], str], None] | None = None,
    ) -> None:
        self.sink: EvidenceSink = FolderSink(sink) if isinstance(sink, Path) else sink
        self.on_written = on_written
        self.retention = retention
        self.on_deleted = on_deleted
        self.metrics = EvidenceMetrics(registry or CollectorRegistry())
        self._queue: queue.Queue[tuple[str, str, datetime, BestView, CaptureSettings] | None] = queue.Queue(max_queue)
        self._thread: threading.Thread | None = None
        self._failing: str | None = None

    def start(self) -> EvidenceWriter:
        self._thread = threading.Thread(target=self._run, name="evidence-writer", daemon=True)
        self._thread.start()
        return self

    def submit(self, key: str, site_id: str, ended_at: datetime, view: BestView, settings: CaptureSettings) -> None:
        """Queue one observation's best view; never blocks (a full queue drops it, and says so).

        Cropping, pixelating and encoding happen on this writer's thread, not the caller's.
        """
        try:
            self._queue.put_nowait((key, site_id, ended_at, view, settings))
        except queue.Full:
            self.metrics.dropped.labels("queue_full").inc()

    def close(self, timeout_s: float = 10.0) -> None:
        if self._thread is None:
            return
        with contextlib.suppress(queue.Full):  # stuck on a slow disk: the thread is a daemon
            self._queue.put(None, timeout=timeout_s)
        self._thread.join(timeout_s)
        self._thread = None

    def _run(self) -> None:
        next_sweep = time.monotonic()
        while True:
            if self.retention is not None and time.monotonic() >= next_sweep:
                self.sweep()
                next_sweep = time.monotonic() + self.retention.every_s
            try:
                item = self._queue.get(timeout=self.retention.every_s if self.retention else None)
            except queue.Empty:
                continue
            if item is None:
                return
            key, site_id, ended_at, view, settings = item
            try:
                written = self.write(key, site_id, ended_at, view.capture(settings))
            except Exception:  # a bug must not stop the thread: counting goes on without pixels
                log.exception("evidence of %s not written", item[0])
                self.metrics.dropped.labels("disk_error").inc()
                continue
            if written is not None:
                self.on_written(written)

    def sweep(self, now: float | None = None) -> tuple[list[str], list[str]]:
        """Apply the retention now; tells ``on_deleted`` which observations lost their pixels, and why."""
        if self.retention is None:
            return [], []
        try:
            by_age, by_size, left = self.sink.sweep(self.retention.max_age_s, self.retention.max_bytes, now)
        except (OSError, VisionError) as error:
            log.error("evidence sweep of %s failed: %s", self.sink, error)
            return [], []
        self.metrics.bytes.set(left)
        for keys, reason in ((by_age, "age"), (by_size, "size")):
            if keys:
                self.metrics.deleted.labels(reason).inc(len(keys))
                if self.on_deleted is not None:
                    self.on_deleted(keys, reason)
        return by_age, by_size

    def write(self, key: str, site_id: str, ended_at: datetime, evidence: Evidence) -> EvidenceFile | None:
        """Keep both JPEGs (both or neither); None if the sink refused."""
        relative = Path(site_id) / ended_at.strftime("%Y-%m-%d")
        files: dict[str, bytes] = {}
        for suffix, image in zip(SUFFIXES, (evidence.crop, evidence.snapshot), strict=True):
            ok, jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
            if not ok:
                raise ValueError(f"could not encode the {suffix} of {key}")
            files[str(relative / f"{key}{suffix}")] = jpeg.tobytes()
        try:
            self.sink.put(files)
        except (OSError, VisionError) as error:
            self.metrics.dropped.labels("disk_error").inc()
            if self._failing != str(error):  # once per kind of failure, not once per observation
                log.error("%s: %s; observations are stored without evidence", self.sink, error)
                self._failing = str(error)
            return None
        self._failing = None
        self.metrics.written.inc()
        crop_path, snapshot_path = files
        return EvidenceFile(key, crop_path, snapshot_path, sum(len(data) for data in files.values()))


def sweep(
    folder: Path, max_age_s: float | None, max_bytes: int | None, now: float | None = None
) -> tuple[list[str], list[str], int]:
    """Delete evidence older than ``max_age_s``, then the oldest until at most ``max_bytes`` remain.

    Returns ``(keys deleted for age, keys deleted for size, bytes left)``. An observation's two
    files go together; its age is the modification time of its crop.
    """
    now = time.time() if now is None else now
    observations: dict[str, list[Path]] = {}
    for path in Path(folder).rglob("*.jpg"):
        for suffix in SUFFIXES:
            if path.name.endswith(suffix):
                observations.setdefault(path.name.removesuffix(suffix), []).append(path)
    entries = []
    for key, paths in observations.items():
        try:
            stats = [p.stat() for p in paths]
        except FileNotFoundError:
            continue
        entries.append((min(s.st_mtime for s in stats), key, paths, sum(s.st_size for s in stats)))
    entries.sort()
    by_age: list[str] = []
    by_size: list[str] = []
    total = sum(entry[3] for entry in entries)
    for mtime, key, paths, size in entries:
        reason = None
        if max_age_s is not None and now - mtime > max_age_s:
            reason = by_age
        elif max_bytes is not None and total > max_bytes:
            reason = by_size
        if reason is None:
            continue
        for path in paths:
            path.unlink(missing_ok=True)
        total -= size
        reason.append(key)
    for directory in sorted((p for p in Path(folder).rglob("*") if p.is_dir()), reverse=True):
        with contextlib.suppress(OSError):  # only empty day folders go
            directory.rmdir()
    return by_age, by_size, total
