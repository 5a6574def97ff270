"""The running pipeline: the only module that knows about threads, batching and the stop event.

::

    source (thread per camera) --Frame--> regions (per camera) --crops--> detector (thread per model,
        batching cameras) --Detections--> tracker (per camera) --Observation--> store + metrics

Cameras that share a model share one detector thread, which takes whatever frames are due from
each of its cameras, asks each camera's :class:`RegionPlanner` where to look (the whole frame,
tiles, or squares where something moves or a track is open) and runs every crop as one batch.
A camera whose source fails is marked and left alone; the others carry on. On stop (Ctrl-C,
SIGTERM, or every file source finished) every open track is closed and written.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from prometheus_client import CollectorRegistry
from tqdm import tqdm

from vision import __version__
from vision.config import Camera, VisionConfig
from vision.detectors import Detections, Detector, build_detector, load_spec
from vision.detectors.motion import RegionPlanner
from vision.detectors.regions import detect_regions, merge_groups
from vision.errors import VisionError
from vision.metrics import CameraSample, PipelineMetrics
from vision.outcome import Outcome
from vision.sources import Frame, FrameSource, Reconnect, SourceState, open_source
from vision.store import Store
from vision.tracking import Observation, VerdictTracker

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
    uptime_id: str | None = None  # the up-interval key
    last_heartbeat: datetime | None = None
    last_frame_time: datetime | None = None
    frames_processed: int = 0
    regions: int = 0  # crops sent to the detector
    frames_without_inference: int = 0  # nothing moved and no track was open
    observations: int = 0
    non_rider: int = 0
    planner_error: str | None = None
    vehicles_with_passengers: set[int] = field(default_factory=set)
    flushed: bool = False
    progress: tqdm | None = None
    _fps_window: list[float] = field(default_factory=list)

    def fps(self) -> float:
        now = time.monotonic()
        self._fps_window[:] = [t for t in self._fps_window if now - t < 10.0]
        return len(self._fps_window) / 10.0


class Pipeline:
    """Runs every enabled camera of a config until stopped or until every file source ends."""

    def __init__(
        self,
        config: VisionConfig,
        store: Store,
        config_path: Path | str,
        registry: CollectorRegistry | None = None,
        reconnect: Reconnect | None = None,
        status_interval_s: float = 5.0,
        progress: bool = True,
    ) -> None:
        self.config = config
        self.store = store
        self.config_path = config_path
        self.metrics = PipelineMetrics(registry or CollectorRegistry())
        self.reconnect = reconnect
        self.status_interval_s = status_interval_s
        self.progress = progress
        self.run_id: int | None = None
        self.started_at = datetime.now(UTC)
        self._lock = threading.Lock()
        self.cameras: list[CameraRuntime] = []
        self._groups: dict[str, tuple[Detector, list[CameraRuntime], threading.Event]] = {}
        self._build()
        self.metrics.watch_sources(self._camera_samples)

    def _camera_samples(self) -> list[CameraSample]:
        return [CameraSample(rt.camera.id, rt.camera.site, rt.source.health) for rt in self.cameras]

    def _build(self) -> None:
        detectors: dict[str, Detector] = {}
        for camera in self.config.cameras:
            if not camera.enabled:
                continue
            key = str(Path(camera.model).resolve())
            if key not in detectors:
                spec = load_spec(camera.model)
                if spec.category is not None and spec.category != camera.category:
                    raise VisionError(f"camera {camera.id}: model {camera.model} measures {spec.category}")
                detectors[key] = build_detector(spec)
                self._groups[key] = (detectors[key], [], threading.Event())
            detector, members, ready = self._groups[key]
            source = open_source(camera, ready, self.started_at, self.reconnect)
            runtime = CameraRuntime(
                camera=camera,
                source=source,
                tracker=VerdictTracker(camera, detector.info, self.config.tracking, camera.detect_fps),
                planner=RegionPlanner(camera.detection, detector.info.input_size),
            )
            members.append(runtime)
            self.cameras.append(runtime)
        if not self.cameras:
            raise VisionError("no enabled camera in the config")

    # --- running ------------------------------------------------------------------------------
    def run(self, stop: threading.Event) -> int:
        """Run until ``stop`` is set or all sources are finished; returns the run id.

        ``stop`` is only read, never set: a caller can keep serving the API after the files end.
        """
        self.store.sync_config(self.config)
        self.run_id = self.store.start_run(self.config_path, __version__)
        log.info("run %d: %d camera(s), %d detector(s)", self.run_id, len(self.cameras), len(self._groups))
        halt = threading.Event()  # ends the detector threads: on ``stop``, or on the way out
        for position, runtime in enumerate(self.cameras):
            total = runtime.source.total_frames
            if self.progress and total is not None:
                runtime.progress = tqdm(
                    total=total, desc=runtime.camera.id, unit="frame", position=position, leave=False
                )
            runtime.source.start()
        threads = [
            threading.Thread(target=self._detect_loop, args=(detector, members, ready, halt), name=f"detect-{i}")
            for i, (detector, members, ready) in enumerate(self._groups.values())
        ]
        for thread in threads:
            thread.start()
        try:
            next_status = time.monotonic() + self.status_interval_s
            next_publish = time.monotonic()
            while any(thread.is_alive() for thread in threads):
                for thread in threads:
                    thread.join(timeout=0.2)
                if stop.is_set():
                    halt.set()
                self._track_source_states()
                if time.monotonic() >= next_publish:
                    self.publish_status()
                    next_publish = time.monotonic() + STATUS_PUBLISH_S
                if time.monotonic() >= next_status:
                    self.log_status()
                    next_status = time.monotonic() + self.status_interval_s
        finally:
            halt.set()
            for thread in threads:
                thread.join()
            for runtime in self.cameras:
                runtime.source.stop()
                self._flush(runtime, "run ended")
                if runtime.progress is not None:
                    runtime.progress.close()
            self.publish_status()
            self.store.end_run(self.run_id)
        return self.run_id

    def _detect_loop(
        self, detector: Detector, members: Sequence[CameraRuntime], ready: threading.Event, stop: threading.Event
    ) -> None:
        model = detector.info.name
        groups = merge_groups(detector.info.class_names)
        while not stop.is_set():
            batch: list[tuple[CameraRuntime, Frame]] = []
            for runtime in members:
                frame = runtime.source.poll()
                if frame is not None:
                    batch.append((runtime, frame))
                elif runtime.source.finished and not runtime.flushed:
                    self._flush(runtime, "source finished")
            if not batch:
                if all(runtime.source.finished for runtime in members):
                    return
                ready.wait(0.05)
                ready.clear()
                continue
            plans = []
            for runtime, frame in batch:
                try:
                    plans.append(runtime.planner.plan(frame.image, runtime.tracker.open_boxes()))
                except ValueError as error:  # e.g. an roi outside this stream's frames: a config problem
                    if runtime.planner_error != str(error):  # once per camera, not once per frame
                        log.error("camera %s: %s; its frames are skipped", runtime.camera.id, error)
                        runtime.planner_error = str(error)
                    plans.append([])
            started = time.perf_counter()
            try:
                results = detect_regions(detector, [frame.image for _, frame in batch], plans, groups)
            except Exception:  # a detector failure must not take the other cameras down
                log.exception("detector %s failed on a batch of %d frame(s); skipped", model, len(batch))
                continue
            crops = sum(len(plan) for plan in plans)
            if crops:
                self.metrics.inference_latency.labels(model).observe(time.perf_counter() - started)
                self.metrics.batch_size.labels(model).observe(len(batch))
            for (runtime, _), plan in zip(batch, plans, strict=True):
                runtime.regions += len(plan)
                runtime.frames_without_inference += not plan
                labels = (runtime.camera.id, runtime.camera.site)
                self.metrics.detector_regions.labels(*labels).inc(len(plan))
                if not plan:
                    self.metrics.frames_without_inference.labels(*labels).inc()
            for (runtime, frame), detections in zip(batch, results, strict=True):
                self._handle(runtime, frame, detections)

    def _handle(self, runtime: CameraRuntime, frame: Frame, detections: Detections) -> None:
        assert self.run_id is not None
        camera = runtime.camera
        if runtime.uptime_id is None:
            runtime.uptime_id = self.store.camera_up(self.run_id, camera.id, frame.time)
            runtime.last_heartbeat = frame.time
        runtime.last_frame_time = frame.time
        self._record(runtime, runtime.tracker.update(detections, frame.time))
        runtime.frames_processed += 1
        runtime._fps_window.append(time.monotonic())
        self.metrics.frames_processed.labels(camera.id, camera.site).inc()
        if runtime.progress is not None:
            runtime.progress.update(1)
        if runtime.last_heartbeat and (frame.time - runtime.last_heartbeat).total_seconds() >= HEARTBEAT_S:
            self.store.camera_heartbeat(runtime.uptime_id, frame.time)
            runtime.last_heartbeat = frame.time

    def _record(self, runtime: CameraRuntime, observations: list[Observation]) -> None:
        if not observations:
            return
        assert self.run_id is not None
        self.store.add_observations(self.run_id, observations)
        runtime.observations += len(observations)
        runtime.non_rider += sum(o.outcome is Outcome.NON_RIDER for o in observations)
        runtime.vehicles_with_passengers.update(
            o.vehicle_track_id
            for o in observations
            if o.vehicle_track_id is not None and (o.riders_on_vehicle or 0) >= 2
        )

    def _close_uptime(self, runtime: CameraRuntime, reason: str) -> None:
        if runtime.uptime_id is not None and runtime.last_frame_time is not None:
            self.store.camera_down(runtime.uptime_id, runtime.last_frame_time, reason)
        runtime.uptime_id = None

    def _flush(self, runtime: CameraRuntime, reason: str) -> None:
        with self._lock:
            if runtime.flushed:
                return
            runtime.flushed = True
        self._record(runtime, runtime.tracker.finish())
        self._close_uptime(runtime, reason)

    def _track_source_states(self) -> None:
        """Close a live camera's up-interval when its stream goes down (its tracks age out by frames)."""
        for runtime in self.cameras:
            health = runtime.source.health.snapshot()
            if health["state"] in (SourceState.DOWN, SourceState.STALLED) and runtime.uptime_id is not None:
                self._close_uptime(runtime, str(health["last_error"]))

    def publish_status(self) -> None:
        """Write each camera's health to the store, where the API and alerts read it."""
        now = time.time()
        for runtime in self.cameras:
            health = runtime.source.health.snapshot()
            age = health["last_frame_age_s"]
            state = str(health["state"])
            if state == SourceState.FINISHED and not runtime.flushed:
                state = SourceState.UP.value  # read to the end, but frames or open tracks are still in flight
            self.store.set_camera_status(
                runtime.camera.id,
                state=state,
                fps=runtime.fps(),
                frames_read=int(health["frames_read"]),  # type: ignore[call-overload]
                frames_processed=runtime.frames_processed,
                frames_dropped=int(health["frames_dropped"]),  # type: ignore[call-overload]
                reconnects=int(health["reconnects"]),  # type: ignore[call-overload]
                last_frame_wall_at=None if age is None else now - float(age),  # type: ignore[arg-type]
                last_error=health["last_error"],
            )

    def log_status(self) -> None:
        for runtime in self.cameras:
            health = runtime.source.health.snapshot()
            log.info(
                "camera %s [%s] %.1f fps detected, read %d, dropped %d, reconnects %d, observations %d%s",
                runtime.camera.id,
                health["state"],
                runtime.fps(),
                health["frames_read"],
                health["frames_dropped"],
                health["reconnects"],
                runtime.observations,
                f" - {health['last_error']}" if health["last_error"] else "",
            )

    def summary(self) -> dict[str, dict[str, object]]:
        """Per camera: final state, frames and observations (for the end-of-run report)."""
        result: dict[str, dict[str, object]] = {}
        for runtime in self.cameras:
            health = runtime.source.health.snapshot()
            result[runtime.camera.id] = {
                "site": runtime.camera.site,
                "state": health["state"],
                "frames_read": health["frames_read"],
                "frames_processed": runtime.frames_processed,
                "observations": runtime.observations,
                "non_rider": runtime.non_rider,
                "vehicles_with_passengers": len(runtime.vehicles_with_passengers),
                "detection": runtime.planner.mode,
                "regions_per_frame": round(runtime.regions / runtime.frames_processed, 2)
                if runtime.frames_processed
                else 0.0,
                "frames_without_inference": runtime.frames_without_inference,
                "error": health["last_error"],
            }
        return result
