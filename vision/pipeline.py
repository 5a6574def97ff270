"""The running pipeline: the only module that knows about threads, batching and the stop event.

::

    source (thread per camera) --Frame--> regions (per camera) --crops--> detector (thread per model,
        batching cameras) --Detections--> tracker (per camera) --Observation--> writer (thread) --> store
                                                                                           + metrics

Cameras that share a model share one detector thread, which takes whatever frames are due from
each of its cameras, asks each camera's :class:`RegionPlanner` where to look (the whole frame,
tiles, or squares where something moves or a track is open) and runs every crop as one batch.
A camera whose source fails is marked and left alone; the others carry on. On stop (Ctrl-C,
SIGTERM, or every file source finished) every open track is closed and written.

Nothing on the detector thread waits for the database: observations, up-intervals and health go
to a :class:`~vision.store.writer.StoreWriter` (journal on local disk, written in batches by its
own thread). A worker (:mod:`vision.workers`) adds and removes cameras while the pipeline runs
(:meth:`Pipeline.attach`, :meth:`Pipeline.detach`); ``vision run`` starts with every enabled camera.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from prometheus_client import CollectorRegistry
from tqdm import tqdm

from vision import __version__
from vision.config import Camera, VisionConfig
from vision.detectors import Detections, Detector, DetectorSpec, build_detector, load_spec
from vision.detectors.motion import RegionPlanner, detect_planned
from vision.detectors.regions import merge_groups
from vision.errors import VisionError
from vision.evidence.capture import CaptureSettings
from vision.evidence.writer import EvidenceWriter, Retention, open_sink
from vision.metrics import CameraSample, PipelineMetrics
from vision.outcome import Outcome
from vision.sources import Frame, FrameSource, Reconnect, SourceState, open_source
from vision.store import CameraReport, Store
from vision.store.writer import StoreWriter
from vision.tracking import Observation, VerdictTracker
from vision.tracking.tracker import riders_only

log = logging.getLogger(__name__)

HEARTBEAT_S = 5.0  # how often an open up-interval is extended in the store (frame time)
STATUS_PUBLISH_S = 2.0  # how often each camera's health is written to the store for the API


@dataclass
class CameraRuntime:
    """One camera's parts while the pipeline runs."""

    camera: Camera
    source: FrameSource
    tracker: VerdictTracker
    planner: RegionPlanner
    capture: CaptureSettings | None = None  # how its evidence is cut; None: it keeps none
    uptime_id: str | None = None  # the up-interval key
    last_heartbeat: datetime | None = None
    last_frame_time: datetime | None = None
    frames_processed: int = 0
    regions: int = 0  # crops sent to the detector
    frames_without_inference: int = 0  # nothing moved and the tracker had settled: open tracks held
    observations: int = 0
    non_rider: int = 0
    planner_error: str | None = None
    detector_error: str | None = None  # the last detector failure on this camera's frames
    detector_failing: bool = False  # its last batch failed: its status shows detector_error until one succeeds
    frames_failed: int = 0  # frames skipped because the detector raised on their batch
    vehicles_with_passengers: set[int] = field(default_factory=set)
    trips: int = 0  # two-wheelers that carried riders, ended and journalled
    flushed: bool = False
    progress: tqdm | None = None
    detach_reason: str | None = None  # set by Pipeline.detach; the detector thread retires the camera
    discard: bool = False  # the lease is gone: open tracks are dropped, not written
    detached: threading.Event = field(default_factory=threading.Event)  # set once its tracks are written
    _fps_window: list[float] = field(default_factory=list)

    def fps(self) -> float:
        now = time.monotonic()
        self._fps_window[:] = [t for t in self._fps_window if now - t < 10.0]
        return len(self._fps_window) / 10.0


@dataclass
class DetectorGroup:
    """Cameras that share one model's lane: one detector, one thread, batches across its cameras (a model has
    ``inference.lanes`` of them, :func:`lanes_for`)."""

    detector: Detector
    members: list[CameraRuntime] = field(default_factory=list)
    ready: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None


def threads_per_model(config: VisionConfig, cores: int | None = None) -> int:
    """Inference threads for each detector whose spec sets none: the cores shared by the config's models.

    Each model runs on a detector thread of its own, in parallel with the others; an ONNX Runtime
    session that takes every core would make two models fight over them. The two sessions of a
    two-stage spec run one after the other on one thread, so they count once.
    """
    models = {str(Path(camera.model).resolve()) for camera in config.cameras if camera.enabled}
    return max(1, (cores or os.cpu_count() or 1) // max(1, len(models)))


def lanes_for(config: VisionConfig, model: str, most_cameras: int | None = None) -> int:
    """Detector threads for the model at resolved path ``model``: ``inference.lanes``, at most its enabled cameras
    (and ``most_cameras``, the most a worker takes of the fleet's).

    One detector thread alternates between the network (ONNX Runtime, without the GIL) and Python (planning,
    tracking, letterboxing); a second one with its own session and its share of the cameras runs the network
    while the first does the rest, so the cores are busy more of the time."""
    cameras = sum(1 for camera in config.cameras if camera.enabled and str(Path(camera.model).resolve()) == model)
    return max(1, min(config.inference.lanes, cameras, most_cameras or cameras))


@dataclass(frozen=True)
class CameraSummary:
    """One camera at the end of a run (``Pipeline.summary``): what ``vision run`` prints and benchmarks read.

    ``regions_per_frame``: detector crops per processed frame; ``frames_without_inference``: processed frames
    where nothing moved, so no crop ran; ``vehicles_with_passengers``: trips that carried two or more heads;
    ``frames_failed``: frames skipped because the detector raised on them (``error`` then names the last failure).
    """

    site: str
    state: SourceState
    frames_read: int
    frames_processed: int
    observations: int
    non_rider: int
    vehicles_with_passengers: int
    trips: int
    detection: str
    regions_per_frame: float
    frames_without_inference: int
    frames_failed: int
    error: str | None


class Pipeline:
    """Runs cameras of a config until stopped, or (without ``dynamic``) until every file source ends.

    ``camera_ids`` picks the cameras to start with (default: every enabled one); ``dynamic`` keeps
    it running with no camera at all, for a worker that attaches and detaches cameras as it claims
    and gives up their leases. ``writer`` is the store writer to use (default: one of its own on
    ``store.spool_dir``, started and closed by :meth:`run`).
    """

    def __init__(
        self,
        config: VisionConfig,
        store: Store,
        config_path: Path | str,
        registry: CollectorRegistry | None = None,
        reconnect: Reconnect | None = None,
        status_interval_s: float = 5.0,
        progress: bool = True,
        *,
        writer: StoreWriter | None = None,
        camera_ids: Iterable[str] | None = None,
        dynamic: bool = False,
        guard: Callable[[str], bool] | None = None,
        most_cameras: int | None = None,
        detector_factory: Callable[[DetectorSpec], Detector] = build_detector,
    ) -> None:
        self.config = config
        self.detector_factory = detector_factory  # how a lane's detector is built from its spec (tests wrap it)
        self.most_cameras = most_cameras  # a worker's capacity: it runs at most this many of the config's cameras
        self.store = store
        self.config_path = config_path
        self.registry = registry or CollectorRegistry()
        self.metrics = PipelineMetrics(self.registry)
        self.reconnect = reconnect
        self.status_interval_s = status_interval_s
        self.progress = progress
        self.dynamic = dynamic
        # A worker's lease check: a camera whose lease is not confirmed now is neither tracked nor
        # written for; it is detached and its open tracks are dropped (``vision/workers/worker.py``).
        self.guard = guard
        self._own_writer = writer is None
        self.writer = writer
        self.run_id: int | None = None
        self.evidence: EvidenceWriter | None = None
        self.started_at = datetime.now(UTC)
        self._lock = threading.Lock()  # cameras and lanes; every detector thread takes it for each batch
        self._attaching = threading.Lock()
        self._halt = threading.Event()
        self._running = False
        self.cameras: list[CameraRuntime] = []
        self.finished: list[CameraRuntime] = []  # detached cameras, kept for the summary
        self._groups: dict[tuple[str, int], DetectorGroup] = {}  # (resolved model path, lane)
        wanted = set(camera_ids) if camera_ids is not None else None
        for camera in config.cameras:
            if camera.enabled and (wanted is None or camera.id in wanted):
                self.attach(camera)
        if not self.cameras and not dynamic:
            raise VisionError("no enabled camera in the config")
        self.metrics.watch_sources(self._camera_samples)

    def _camera_samples(self) -> list[CameraSample]:
        return [CameraSample(rt.camera.id, rt.camera.site, rt.source.health) for rt in list(self.cameras)]

    def _free_lane(self, camera: Camera) -> DetectorGroup | None:
        """The lane of the camera's model with the fewest cameras, or None while the model has fewer lanes than
        :func:`lanes_for` (a new one is then built: :meth:`_new_lane`). Called under the lock."""
        model = str(Path(camera.model).resolve())
        lanes = [group for (key, _), group in self._groups.items() if key == model]
        if len(lanes) >= lanes_for(self.config, model, self.most_cameras):
            return min(lanes, key=lambda group: len(group.members))
        return None

    def _new_lane(self, camera: Camera) -> DetectorGroup:
        """A new lane of the camera's model: its own session, with its share of the model's cores. The model is
        built outside the lock that every detector thread takes for each batch, so loading it (seconds) never
        holds up the cameras already running."""
        model = str(Path(camera.model).resolve())
        spec = load_spec(camera.model)
        if spec.category is not None and spec.category != camera.category:
            raise VisionError(f"camera {camera.id}: model {camera.model} measures {spec.category}")
        if spec.threads is None:
            wanted = lanes_for(self.config, model, self.most_cameras)
            spec = spec.model_copy(update={"threads": max(1, threads_per_model(self.config) // wanted)})
        group = DetectorGroup(self.detector_factory(spec))
        with self._lock:
            self._groups[(model, sum(key == model for key, _ in self._groups))] = group
        return group

    @property
    def lanes(self) -> dict[str, list[int]]:
        """Per model name, the cameras of each of its detector threads."""
        lanes: dict[str, list[int]] = {}
        for group in self._groups.values():
            lanes.setdefault(group.detector.info.name, []).append(len(group.members))
        return lanes

    def attach(self, camera: Camera) -> CameraRuntime:
        """Add a camera (before or while running); its source starts at once when running."""
        with self._attaching:  # one attach at a time, so that a model's lanes are counted before one is built
            with self._lock:
                if any(runtime.camera.id == camera.id for runtime in self.cameras):
                    raise VisionError(f"camera {camera.id} is already running")
                lane = self._free_lane(camera)
            return self._attach_to(camera, self._new_lane(camera) if lane is None else lane)

    def _attach_to(self, camera: Camera, group: DetectorGroup) -> CameraRuntime:
        """The camera's source, planner and tracker, as a member of ``group``."""
        with self._lock:
            # Attached again in this run (a lease came back): go on from the ids its earlier trackers used.
            used = max((rt.tracker.last_track_id for rt in self.finished if rt.camera.id == camera.id), default=-1)
            capture = self._capture_settings(camera)
            planner = RegionPlanner(
                camera.detection,
                group.detector.info.input_size,
                group.detector.info.native_frame_height,
                camera.riders,
                rider_first=riders_only(camera, group.detector.info),
            )
            runtime = CameraRuntime(
                camera=camera,
                # The source's reader thread finds each frame's motion: planning costs the detector nothing.
                source=open_source(camera, group.ready, self.started_at, self.reconnect, planner.analyse),
                tracker=VerdictTracker(
                    camera,
                    group.detector.info,
                    self.config.tracking,
                    camera.detect_fps,
                    keep_evidence=capture is not None,
                    first_track_id=used + 1,
                ),
                planner=planner,
                capture=capture,
            )
            group.members.append(runtime)
            self.cameras.append(runtime)
            if self._running:
                runtime.source.start()
                self._start_group(group)
        return runtime

    def _capture_settings(self, camera: Camera) -> CaptureSettings | None:
        evidence = self.config.evidence
        if not evidence.enabled:
            return None
        return CaptureSettings(evidence.crop_margin, evidence.snapshot_width, evidence.blurs_judged(camera.category))

    def _start_evidence(self) -> None:
        evidence = self.config.evidence
        if not evidence.enabled:
            return
        writer = self._writer
        retention = Retention(
            max_age_s=evidence.max_age_days * 86400 if evidence.max_age_days else None,
            max_bytes=int(evidence.max_total_mb * 1e6) if evidence.max_total_mb else None,
            every_s=evidence.sweep_every_s,
        )
        self.evidence = EvidenceWriter(
            open_sink(evidence, self.config.store.url, self.store),
            writer.evidence_kept,
            self.registry,
            retention=retention,
            on_deleted=writer.evidence_gone,
        ).start()

    def detach(self, camera_id: str, reason: str, discard: bool = False) -> threading.Event:
        """Stop a camera: its open tracks are closed and written (dropped with ``discard``: its lease is
        gone), its source stops, then the event is set."""
        with self._lock:
            runtime = next((rt for rt in self.cameras if rt.camera.id == camera_id), None)
        if runtime is None:
            done = threading.Event()
            done.set()
            return done
        runtime.discard = runtime.discard or discard
        runtime.detach_reason = reason
        if not self._running:
            self._retire(runtime)
        else:
            for group in self._groups.values():
                group.ready.set()
        return runtime.detached

    def _retire(self, runtime: CameraRuntime) -> None:
        """Take a camera out on the thread that owns its tracker; its source's reader is joined on a
        thread of its own, so the other cameras of the detector thread never wait for it."""
        with self._lock:
            for group in self._groups.values():
                if runtime in group.members:
                    group.members.remove(runtime)
            if runtime in self.cameras:
                self.cameras.remove(runtime)
                self.finished.append(runtime)
        self._flush(runtime, runtime.detach_reason or "detached")

        def stop_source() -> None:
            runtime.source.stop()  # joins the reader: up to its open timeout
            if runtime.progress is not None:
                runtime.progress.close()
            runtime.detached.set()

        if self._running:
            threading.Thread(target=stop_source, name=f"detach-{runtime.camera.id}", daemon=True).start()
        else:
            stop_source()

    def _allowed(self, runtime: CameraRuntime) -> bool:
        """Whether ``runtime``'s camera may be processed now; if not, it is marked to be dropped."""
        if self.guard is None or self.guard(runtime.camera.id):
            return True
        if runtime.detach_reason is None:
            log.warning("camera %s: lease not confirmed; frames and open tracks dropped", runtime.camera.id)
            runtime.detach_reason = "lease not confirmed"
        runtime.discard = True
        return False

    def _start_group(self, group: DetectorGroup) -> None:
        if group.thread is None or not group.thread.is_alive():
            index = list(self._groups.values()).index(group)
            group.thread = threading.Thread(target=self._detect_loop, args=(group,), name=f"detect-{index}")
            group.thread.start()

    # --- running ------------------------------------------------------------------------------
    def run(self, stop: threading.Event, on_tick: Callable[[Pipeline], None] | None = None) -> int:
        """Run until ``stop`` is set or (not ``dynamic``) all sources are finished; returns the run id.

        ``stop`` is only read, never set: a caller can keep serving the API after the files end.
        ``on_tick`` is called from this thread about every 0.2 s (a worker renews its leases there).
        """
        self.store.sync_config(self.config)
        self.run_id = self.store.start_run(self.config_path, __version__)
        if self.writer is None:
            self.writer = StoreWriter(self.store, self.config.store.spool_folder(), self.registry)
        if self._own_writer:
            self._writer.start()
        self._start_evidence()
        log.info(
            "run %d: %d camera(s), %d detector thread(s) (%s)",
            self.run_id,
            len(self.cameras),
            len(self._groups),
            ", ".join(f"{name}: {len(cameras)}" for name, cameras in self.lanes.items()),
        )
        with self._lock:
            self._running = True
            for position, runtime in enumerate(self.cameras):
                total = runtime.source.total_frames
                if self.progress and total is not None:
                    runtime.progress = tqdm(
                        total=total, desc=runtime.camera.id, unit="frame", position=position, leave=False
                    )
                runtime.source.start()
            for group in self._groups.values():
                if group.members:
                    self._start_group(group)
        try:
            next_status = time.monotonic() + self.status_interval_s
            next_publish = time.monotonic()
            while self.dynamic or any(g.thread is not None and g.thread.is_alive() for g in self._groups.values()):
                for group in list(self._groups.values()):
                    if group.thread is not None:
                        group.thread.join(timeout=0.2 / max(1, len(self._groups)))
                if self.dynamic:
                    stop.wait(0.2)
                if stop.is_set():
                    self._halt.set()
                    break
                if on_tick is not None:
                    on_tick(self)
                self._track_source_states()
                if time.monotonic() >= next_publish:
                    self.publish_status()
                    next_publish = time.monotonic() + STATUS_PUBLISH_S
                if time.monotonic() >= next_status:
                    self.log_status()
                    next_status = time.monotonic() + self.status_interval_s
        finally:
            self._halt.set()
            for group in self._groups.values():
                if group.thread is not None:
                    group.thread.join()
            for runtime in list(self.cameras):
                runtime.source.stop()
                self._flush(runtime, "run ended")
                if runtime.progress is not None:
                    runtime.progress.close()
            self.publish_status()
            self._running = False
            if self.evidence is not None:
                self.evidence.close()  # its last records reach the journal before the writer closes
            if self._own_writer:
                self._writer.close()
            try:
                self.store.end_run(self.run_id)
            except VisionError as error:
                log.warning("run %d: could not record its end (%s)", self.run_id, error)
        return self.run_id

    def _detect_loop(self, group: DetectorGroup) -> None:
        detector, ready, stop = group.detector, group.ready, self._halt
        model = detector.info.name
        groups = merge_groups(detector.info.class_names)
        while not stop.is_set():
            batch: list[tuple[CameraRuntime, Frame]] = []
            with self._lock:
                members = list(group.members)
            for runtime in members:
                if not self._allowed(runtime) or runtime.detach_reason is not None:
                    self._retire(runtime)
                    continue
                frame = runtime.source.poll()
                if frame is not None:
                    batch.append((runtime, frame))
                elif runtime.source.finished and not runtime.flushed:
                    self._flush(runtime, "source finished")
            if not batch:
                if not self.dynamic and all(runtime.source.finished for runtime in members):
                    return
                ready.wait(0.05)
                ready.clear()
                continue
            plans, still = [], []
            skipped_before = [runtime.planner.skipped for runtime, _ in batch]
            for runtime, frame in batch:
                try:
                    plans.append(
                        runtime.planner.plan(
                            frame.image,
                            runtime.tracker.open_boxes(),
                            frame.index,
                            runtime.tracker.unsettled,
                            runtime.tracker.open_head_boxes(),
                        )
                    )
                    still.append(runtime.planner.still)
                except ValueError as error:  # e.g. an roi outside this stream's frames: a config problem
                    if runtime.planner_error != str(error):  # once per camera, not once per frame
                        log.error("camera %s: %s; its frames are skipped", runtime.camera.id, error)
                        runtime.planner_error = str(error)
                    plans.append([])
                    still.append(False)
            started = time.perf_counter()
            try:
                planners = [runtime.planner for runtime, _ in batch]
                results, costs = detect_planned(detector, [frame.image for _, frame in batch], planners, plans, groups)
            except Exception as error:  # a detector failure must not take the other cameras down
                log.exception("detector %s failed on a batch of %d frame(s); skipped", model, len(batch))
                for runtime, _ in batch:
                    runtime.frames_failed += 1
                    runtime.detector_error = f"detector {model} failed: {type(error).__name__}: {error}"
                    runtime.detector_failing = True
                    self.metrics.frames_failed.labels(runtime.camera.id, runtime.camera.site).inc()
                continue
            for runtime, _ in batch:
                runtime.detector_failing = False
            if any(costs):
                self.metrics.inference_latency.labels(model).observe(time.perf_counter() - started)
                self.metrics.batch_size.labels(model).observe(len(batch))
            for (runtime, _), cost, skipped in zip(batch, costs, skipped_before, strict=True):
                if runtime.planner.skipped > skipped:
                    labels = (runtime.camera.id, runtime.camera.site)
                    self.metrics.detector_crops_skipped.labels(*labels).inc(runtime.planner.skipped - skipped)
                runtime.regions += cost
                runtime.frames_without_inference += not cost
                labels = (runtime.camera.id, runtime.camera.site)
                self.metrics.detector_regions.labels(*labels).inc(cost)
                if not cost:
                    self.metrics.frames_without_inference.labels(*labels).inc()
            for (runtime, frame), detections, held in zip(batch, results, still, strict=True):
                self._handle(runtime, frame, None if held else detections)

    @property
    def _writer(self) -> StoreWriter:
        assert self.writer is not None, "the writer is made by run()"
        return self.writer

    def _handle(self, runtime: CameraRuntime, frame: Frame, detections: Detections | None) -> None:
        """Count ``frame`` and track its ``detections``; None: nothing moved, the open tracks are held as they are
        (not aged, as an empty frame would age them: a waiting rider or a parked two-wheeler is still there)."""
        assert self.run_id is not None
        if not self._allowed(runtime):  # the lease ran out while the frame was detected
            return
        camera = runtime.camera
        if runtime.uptime_id is None:
            runtime.uptime_id = self._writer.camera_up(self.run_id, camera.id, frame.time)
            runtime.last_heartbeat = frame.time
        runtime.last_frame_time = frame.time
        image = frame.image if self.evidence is not None else None
        if detections is not None:
            self._record(runtime, runtime.tracker.update(detections, frame.time, image))
        runtime.frames_processed += 1
        runtime._fps_window.append(time.monotonic())
        self.metrics.frames_processed.labels(camera.id, camera.site).inc()
        if runtime.progress is not None:
            runtime.progress.update(1)
        if runtime.last_heartbeat and (frame.time - runtime.last_heartbeat).total_seconds() >= HEARTBEAT_S:
            self._writer.camera_heartbeat(runtime.uptime_id, frame.time)
            runtime.last_heartbeat = frame.time

    def _record(self, runtime: CameraRuntime, observations: list[Observation]) -> None:
        """Journal what the camera's tracker finished: ``observations``, and the trips that ended with them."""
        assert self.run_id is not None
        trips = runtime.tracker.take_trips()
        if trips:
            self._writer.trips(self.run_id, trips)
            # a two-wheeler has a trip per category measured: the summary counts vehicles (the first category's)
            runtime.trips += sum(trip.category == runtime.camera.category for trip in trips)
        if not observations:
            return
        self._writer.observations(self.run_id, observations)
        if self.evidence is not None and runtime.capture is not None:
            for o in observations:
                if o.evidence is not None:
                    self.evidence.submit(o.key, o.site_id, o.ended_at, o.evidence, runtime.capture)
        runtime.observations += len(observations)
        first = runtime.camera.category  # a person has an observation per category: counted once, as the first's
        runtime.non_rider += sum(o.outcome is Outcome.NON_RIDER and o.category == first for o in observations)
        runtime.vehicles_with_passengers.update(
            o.vehicle_track_id
            for o in observations
            if o.vehicle_track_id is not None and (o.riders_on_vehicle or 0) >= 2
        )

    def _close_uptime(self, runtime: CameraRuntime, reason: str) -> None:
        if runtime.uptime_id is not None and runtime.last_frame_time is not None:
            self._writer.camera_down(runtime.uptime_id, runtime.last_frame_time, reason)
        runtime.uptime_id = None

    def _flush(self, runtime: CameraRuntime, reason: str) -> None:
        with self._lock:
            if runtime.flushed:
                return
            runtime.flushed = True
        finished = runtime.tracker.finish()
        if runtime.discard:
            log.info("camera %s: %d open track(s) dropped (%s)", runtime.camera.id, len(finished), reason)
        else:
            self._record(runtime, finished)
        self._close_uptime(runtime, reason)

    def _track_source_states(self) -> None:
        """Close a live camera's up-interval when its stream goes down (its tracks age out by frames)."""
        for runtime in list(self.cameras):
            health = runtime.source.health.snapshot()
            if health.state in (SourceState.DOWN, SourceState.STALLED) and runtime.uptime_id is not None:
                self._close_uptime(runtime, str(health.last_error))

    def publish_status(self) -> None:
        """Write each camera's health to the store, where the API and alerts read it."""
        now = time.time()
        for runtime in list(self.cameras):
            if self.guard is not None and not self.guard(runtime.camera.id):
                continue  # another worker may own its status row now
            health = runtime.source.health.snapshot()
            age = health.last_frame_age_s
            state = health.state
            if state == SourceState.FINISHED and not runtime.flushed:
                state = SourceState.UP  # read to the end, but frames or open tracks are still in flight
            self._writer.camera_status(
                runtime.camera.id,
                CameraReport(
                    state=state.value,
                    fps=runtime.fps(),
                    frames_read=health.frames_read,
                    frames_processed=runtime.frames_processed,
                    frames_dropped=health.frames_dropped,
                    reconnects=health.reconnects,
                    last_frame_wall_at=None if age is None else now - age,
                    last_error=health.last_error or (runtime.detector_error if runtime.detector_failing else None),
                ),
            )

    def log_status(self) -> None:
        for runtime in list(self.cameras):
            health = runtime.source.health.snapshot()
            log.info(
                "camera %s [%s] %.1f fps detected, read %d, dropped %d, reconnects %d, observations %d%s",
                runtime.camera.id,
                health.state,
                runtime.fps(),
                health.frames_read,
                health.frames_dropped,
                health.reconnects,
                runtime.observations,
                f" - {health.last_error}" if health.last_error else "",
            )

    def summary(self) -> dict[str, CameraSummary]:
        """Per camera id: final state, frames and observations (for the end-of-run report)."""
        result: dict[str, CameraSummary] = {}
        for runtime in [*self.finished, *self.cameras]:
            health = runtime.source.health.snapshot()
            result[runtime.camera.id] = CameraSummary(
                site=runtime.camera.site,
                state=health.state,
                frames_read=health.frames_read,
                frames_processed=runtime.frames_processed,
                observations=runtime.observations,
                non_rider=runtime.non_rider,
                vehicles_with_passengers=len(runtime.vehicles_with_passengers),
                trips=runtime.trips,
                detection=runtime.planner.mode,
                regions_per_frame=round(runtime.regions / runtime.frames_processed, 2)
                if runtime.frames_processed
                else 0.0,
                frames_without_inference=runtime.frames_without_inference,
                frames_failed=runtime.frames_failed,
                error=health.last_error
                or (
                    f"{runtime.frames_failed} frame(s) skipped, last: {runtime.detector_error}"
                    if runtime.frames_failed
                    else None
                ),
            )
        return result
