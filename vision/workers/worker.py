"""A camera worker: claims cameras through lease rows in the store and runs them in a pipeline.

N identical workers on any machines share one PostgreSQL store. Every ``renew_s`` (a fifth of
``workers.lease_ttl_s``) each one does a :meth:`~vision.store.Store.lease_round`, one transaction
on the database's clock (so machines' clocks do not matter):

1. it renews every lease it holds, for ``lease_s`` (``lease_ttl_s - renew_s``): a worker that
   dies (``kill -9``, machine lost) stops renewing, its leases expire, and the others claim them
   at their next round, so its cameras run again within ``lease_ttl_s``;
2. it counts the live workers (heartbeat younger than ``lease_s``) and takes its fair share,
   ``min(capacity, ceil(cameras / live workers))``, from free or expired leases (``FOR UPDATE SKIP
   LOCKED``: two workers never take the same camera, nor wait for each other);
3. cameras beyond its share (another worker joined) are stopped first, their open tracks written,
   and only then released: two workers never count one camera at the same time. A ceiling share
   is stable (10 cameras on 3 workers: 4, 4, 2), so adding a worker moves a camera once, not back
   and forth. A new worker claims nothing in its first round, so workers that start together see
   each other before they claim.

When the store is unreachable the worker keeps its cameras running and spools what they finish
(:class:`~vision.store.writer.StoreWriter`); when it is back the worker renews before it claims
(every worker's leases expired meanwhile, and each should get its own back). Cameras it finds
taken by another worker (it was cut off longer than the lease) it stops at once.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge

from vision import __version__
from vision.config import Camera, VisionConfig
from vision.errors import StoreRefusedError, VisionError
from vision.pipeline import Pipeline
from vision.store import Store
from vision.store.writer import StoreWriter

log = logging.getLogger(__name__)


def default_worker_id() -> str:
    """The host name: stable across restarts, so a restarted worker finds its spool and its leases."""
    return socket.gethostname()


@dataclass(frozen=True)
class WorkerSettings:
    """``lease_ttl_s`` bounds how long a dead worker's cameras stay unwatched."""

    worker_id: str
    capacity: int
    lease_ttl_s: float

    @property
    def renew_s(self) -> float:
        return self.lease_ttl_s / 5

    @property
    def lease_s(self) -> float:
        # A lease outlives its last renewal by lease_s; the others look again within renew_s of
        # it expiring: takeover within lease_s + renew_s = lease_ttl_s.
        return self.lease_ttl_s - self.renew_s

    @classmethod
    def from_config(cls, config: VisionConfig, worker_id: str | None = None, capacity: int | None = None):
        return cls(worker_id or default_worker_id(), capacity or config.workers.capacity, config.workers.lease_ttl_s)


class WorkerMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.cameras_held = Gauge(
            "vision_worker_cameras_held", "Cameras whose lease this worker holds.", registry=registry
        )
        self.fair_share = Gauge(
            "vision_worker_fair_share", "Cameras this worker should hold (capacity, live workers).", registry=registry
        )
        self.live_workers = Gauge("vision_worker_live_workers", "Workers with a fresh heartbeat.", registry=registry)
        self.rounds = Counter(
            "vision_worker_lease_rounds", "Lease rounds, by result (ok, failed).", ["result"], registry=registry
        )
        self.acquired = Counter("vision_worker_cameras_acquired", "Cameras claimed.", registry=registry)
        self.released = Counter("vision_worker_cameras_released", "Cameras given back (rebalance).", registry=registry)
        self.lost = Counter(
            "vision_worker_leases_lost", "Cameras found taken by another worker (cut off too long).", registry=registry
        )


@dataclass
class _LeaseState:
    claim_allowed: bool = False  # not in the first round, nor in the first after an outage
    store_ok: bool = False
    last_renewal: float | None = None  # time.monotonic() of the last successful round
    # time.monotonic() until which the leases of the last successful round are surely ours: its start
    # plus lease_s (the database set their expiry later than that). Only a successful round moves it.
    confirmed_until: float = 0.0
    generations: dict[str, int] = field(default_factory=dict)  # camera -> its lease's fencing token
    held: frozenset[str] = frozenset()
    releasing: dict[str, threading.Event] = field(default_factory=dict)
    next_round: float = 0.0


class Worker:
    """Runs the cameras it holds leases for, until ``stop``; then writes, releases and says so."""

    def __init__(
        self,
        config: VisionConfig,
        store: Store,
        config_path: str,
        settings: WorkerSettings,
        registry: CollectorRegistry | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.config_path = config_path
        self.settings = settings
        self.registry = registry or CollectorRegistry()
        self.metrics = WorkerMetrics(self.registry)
        self.cameras: dict[str, Camera] = {c.id: c for c in config.cameras if c.enabled}
        self.state = _LeaseState()
        self.writer: StoreWriter | None = None
        self.pipeline: Pipeline | None = None

    @property
    def ready(self) -> bool:
        """The last lease round succeeded recently (its leases are its own)."""
        last = self.state.last_renewal
        return self.state.store_ok and last is not None and time.monotonic() - last < self.settings.lease_s

    @property
    def held(self) -> frozenset[str]:
        return self.state.held

    def run(self, stop: threading.Event) -> int:
        """Work until ``stop`` is set; returns the run id. Waits for the store if it is away at start."""
        worker_id = self.settings.worker_id
        self.writer = StoreWriter(
            self.store,
            self.config.store.spool_folder(worker_id),
            self.registry,
            worker_id=worker_id,
            lease_generation=self.state.generations.get,
        ).start()
        try:
            if not self._register(stop):
                return 0
            self.pipeline = Pipeline(
                self.config,
                self.store,
                self.config_path,
                registry=self.registry,
                progress=False,
                writer=self.writer,
                camera_ids=(),
                dynamic=True,
                guard=self.may_process,
                most_cameras=self.settings.capacity,
            )
            self.state.next_round = time.monotonic() + self.settings.renew_s  # see the others first
            return self.pipeline.run(stop, on_tick=self._tick)
        finally:
            self.writer.close()
            try:
                self.store.worker_stopped(
                    worker_id, observations=self.writer.observations_journaled, spool_records=self.writer.backlog
                )
            except VisionError as error:
                log.warning("worker %s: could not release its leases (%s); they expire by themselves", worker_id, error)

    def _register(self, stop: threading.Event) -> bool:
        delay = 1.0
        while not stop.is_set():
            try:
                self.store.register_worker(
                    self.settings.worker_id, socket.gethostname(), os.getpid(), self.settings.capacity, __version__
                )
                self.store.sync_config(self.config)
            except StoreRefusedError:
                raise  # final: exit with the reason, do not wait
            except VisionError as error:
                log.warning(
                    "worker %s: store unreachable (%s); retrying in %.0f s", self.settings.worker_id, error, delay
                )
                stop.wait(delay)
                delay = min(delay * 2, 10.0)
                continue
            log.info(
                "worker %s: capacity %d, lease TTL %.0f s, %d camera(s) in the config",
                self.settings.worker_id,
                self.settings.capacity,
                self.settings.lease_ttl_s,
                len(self.cameras),
            )
            self.state.store_ok = True
            return True
        return False

    def may_process(self, camera_id: str) -> bool:
        """Whether a frame of ``camera_id`` may be tracked and written for now: its lease was
        confirmed by a successful round and has not run out on this machine's monotonic clock (a
        process resumed after a freeze longer than a lease drops the camera before touching it)."""
        state = self.state
        return camera_id in state.held and time.monotonic() < state.confirmed_until

    # --- one lease round, from the pipeline's thread -----------------------------------------
    def _tick(self, pipeline: Pipeline) -> None:
        state = self.state
        now = time.monotonic()
        if now < state.next_round:
            return
        state.next_round = now + self.settings.renew_s
        self._finish_releases()
        round_started = time.monotonic()
        writer = self.writer
        assert writer is not None
        try:
            lease_round = self.store.lease_round(
                self.settings.worker_id,
                list(self.cameras),
                self.settings.capacity,
                self.settings.lease_s,
                claim=state.claim_allowed,
                spool_records=writer.backlog,
                observations=writer.observations_journaled,
            )
        except VisionError as error:
            self.metrics.rounds.labels("failed").inc()
            if state.store_ok:
                log.warning(
                    "worker %s: store unreachable (%s); cameras keep running, results wait in the spool",
                    self.settings.worker_id,
                    error,
                )
            state.store_ok = False
            state.claim_allowed = False
            return
        self.metrics.rounds.labels("ok").inc()
        if not state.store_ok:
            log.info("worker %s: store reachable again; renewing before claiming", self.settings.worker_id)
        state.claim_allowed = state.store_ok  # the first round after an outage only renews
        state.store_ok = True
        state.last_renewal = time.monotonic()
        state.confirmed_until = round_started + self.settings.lease_s
        state.generations.clear()
        state.generations.update(lease_round.generations)
        self._apply(pipeline, lease_round.held, lease_round.excess)
        self.metrics.cameras_held.set(len(state.held))
        self.metrics.fair_share.set(lease_round.share)
        self.metrics.live_workers.set(lease_round.live_workers)

    def _apply(self, pipeline: Pipeline, held: frozenset[str], excess: tuple[str, ...]) -> None:
        state = self.state
        # Before any attach: a camera claimed in this round may be processed at once (may_process).
        state.held = held - {c for c, done in state.releasing.items() if done.is_set()}
        running = {runtime.camera.id for runtime in list(pipeline.cameras)}
        for camera_id in sorted(running - held - state.releasing.keys()):
            log.warning(
                "worker %s: camera %s is held by another worker now; stopping it", self.settings.worker_id, camera_id
            )
            self.metrics.lost.inc()
            pipeline.detach(camera_id, "lease lost", discard=True)
        for camera_id in excess:
            if camera_id not in state.releasing:
                log.info("worker %s: giving camera %s to a worker with fewer", self.settings.worker_id, camera_id)
                state.releasing[camera_id] = pipeline.detach(camera_id, "rebalanced")
        for camera_id in sorted(held - running - state.releasing.keys()):
            try:
                pipeline.attach(self.cameras[camera_id])
            except VisionError as error:
                log.error(
                    "worker %s: camera %s cannot start (%s); releasing it", self.settings.worker_id, camera_id, error
                )
                try:
                    self.store.release_leases(self.settings.worker_id, [camera_id])
                except VisionError as release_error:  # a database blip must not end the worker
                    log.warning(
                        "worker %s: could not release %s (%s); it expires",
                        self.settings.worker_id,
                        camera_id,
                        release_error,
                    )
                continue
            self.metrics.acquired.inc()
            log.info("worker %s: camera %s claimed", self.settings.worker_id, camera_id)
        state.held = held - {c for c, done in state.releasing.items() if done.is_set()}

    def _finish_releases(self) -> None:
        """Release the leases of cameras whose tracks are written (stopped for a rebalance)."""
        done = [camera_id for camera_id, event in self.state.releasing.items() if event.is_set()]
        if not done:
            return
        try:
            self.store.release_leases(self.settings.worker_id, done)
        except VisionError:
            return  # still held by us; released at a later round
        for camera_id in done:
            del self.state.releasing[camera_id]
        self.metrics.released.inc(len(done))
