"""Prometheus metrics on an injected registry (never the global default).

Per-camera source counters (frames read, dropped, reconnects, up, last-frame age) are read from
each source's health at scrape time by a collector, so they cannot drift from what the sources
report. What the pipeline itself does (frames processed, inference latency, observations) is
counted where it happens. Label sets are bounded: camera, site, category, outcome and model come
from the config; no track id or time is ever a label.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from vision.clock import Clock, wall_clock
from vision.compliance.rates import RateService
from vision.sources.base import SourceHealth, SourceState
from vision.store import Store

LATENCY_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@dataclass(frozen=True)
class CameraSample:
    camera_id: str
    site_id: str
    health: SourceHealth


class SourceHealthCollector(Collector):
    """Reads every camera's :class:`SourceHealth` when Prometheus scrapes."""

    def __init__(self, cameras: Callable[[], Iterable[CameraSample]]) -> None:
        self._cameras = cameras

    def collect(self) -> Iterator[Metric]:
        labels = ["camera", "site"]
        read = CounterMetricFamily("vision_camera_frames_read", "Frames decoded from the source.", labels=labels)
        converted = CounterMetricFamily(
            "vision_camera_frames_converted",
            "Frames converted to pixels (only those the detector is due to take).",
            labels=labels,
        )
        dropped = CounterMetricFamily(
            "vision_camera_frames_dropped",
            "Frames that never reached the detector (replaced by a newer one, or throttled).",
            labels=labels,
        )
        reconnects = CounterMetricFamily(
            "vision_camera_reconnects",
            "Reconnect attempts after a failed connect, a broken or stalled stream.",
            labels=labels,
        )
        up = GaugeMetricFamily("vision_camera_up", "1 while the source delivers frames, else 0.", labels=labels)
        age = GaugeMetricFamily(
            "vision_camera_last_frame_age_seconds", "Seconds since the last decoded frame.", labels=labels
        )
        for camera in self._cameras():
            snapshot = camera.health.snapshot()
            values = [camera.camera_id, camera.site_id]
            read.add_metric(values, float(snapshot.frames_read))
            converted.add_metric(values, float(snapshot.frames_converted))
            dropped.add_metric(values, float(snapshot.frames_dropped))
            reconnects.add_metric(values, float(snapshot.reconnects))
            up.add_metric(values, 1.0 if snapshot.state == SourceState.UP else 0.0)
            if snapshot.last_frame_age_s is not None:
                age.add_metric(values, float(snapshot.last_frame_age_s))
        yield from (read, converted, dropped, reconnects, up, age)


class ComplianceCollector(Collector):
    """Compliance figures read from the store at scrape time, so any process serving the store exposes them.

    ``vision_observations_total`` is the all-time count per site, category and outcome (the
    store only grows, so it is a true counter); ``outcome`` is one of the store's values:
    ``compliant``, ``non_compliant``, ``undetermined`` or ``non_rider``. The rate gauges cover the
    rolling window as :class:`~vision.compliance.rates.RateService` computes them (the API's and
    alerts' figures): only decided observations, never undetermined or non-rider ones.
    """

    def __init__(self, rates: RateService, window_minutes: int, clock: Clock = wall_clock) -> None:
        self._rates = rates
        self._clock = clock
        self._store = rates.store
        self._window = timedelta(minutes=window_minutes)

    def collect(self) -> Iterator[Metric]:
        observations = CounterMetricFamily(
            "vision_observations",
            "Finished tracks by verdict, one per person; outcome is compliant, non_compliant, undetermined"
            " (too small or short to judge) or non_rider (a head that never rode a two-wheeler, outside any rate).",
            labels=["site", "category", "outcome"],
        )
        for site, category, outcome, count in self._store.outcome_totals():
            observations.add_metric([site, category, outcome], float(count))
        yield observations
        labels = ["site", "category"]
        window = f" over the last {self._window.total_seconds() / 60:g} minutes"
        rate = GaugeMetricFamily(
            "vision_compliance_rate", "Compliant share of decided observations" + window, labels=labels
        )
        low = GaugeMetricFamily(
            "vision_compliance_rate_lower", "Lower bound of the rate's interval" + window, labels=labels
        )
        high = GaugeMetricFamily(
            "vision_compliance_rate_upper", "Upper bound of the rate's interval" + window, labels=labels
        )
        decided = GaugeMetricFamily(
            "vision_compliance_decided_observations",
            "Decided observations (n of the rate: compliant + non_compliant)" + window,
            labels=labels,
        )
        now = self._clock()
        for point in self._rates.rates(now - self._window, now):
            values = [point.site_id, point.category]
            decided.add_metric(values, float(point.n))
            if point.estimate.rate is not None:
                rate.add_metric(values, point.estimate.rate)
                low.add_metric(values, float(point.estimate.low or 0.0))
                high.add_metric(values, float(point.estimate.high or 0.0))
        yield from (rate, low, high, decided)
        yield from self._per_vehicle(now, labels, window)

    def _per_vehicle(self, now: datetime, labels: list[str], window: str) -> Iterator[Metric]:
        """The rolling window per two-wheeler (trips of riders-only cameras): the unit a ticket is written for."""
        rate = GaugeMetricFamily(
            "vision_vehicle_compliance_rate",
            "Share of decided trips whose every rider wore the gear (a trip with one non-compliant rider is"
            " non-compliant)" + window,
            labels=labels,
        )
        carrying = GaugeMetricFamily(
            "vision_passenger_carrying_rate", "Share of trips with two or more riders" + window, labels=labels
        )
        trips = GaugeMetricFamily(
            "vision_trips", "Two-wheelers that carried riders (each once)" + window, labels=labels
        )
        for point in self._rates.rates(now - self._window, now, unit="vehicle"):
            values = [point.site_id, point.category]
            trips.add_metric(values, float(point.compliant + point.non_compliant + point.undetermined))
            if point.estimate.rate is not None:
                rate.add_metric(values, point.estimate.rate)
            if point.passenger_rate is not None and point.passenger_rate.rate is not None:
                carrying.add_metric(values, point.passenger_rate.rate)
        yield from (rate, carrying, trips)


class WorkersCollector(Collector):
    """Worker health read from the store at scrape time: what ``vision serve`` says of every worker.

    A worker is alive while its heartbeat is younger than ``workers.lease_ttl_s``; a camera without
    a live lease holder is unwatched (``vision_cameras_unowned``, to alert on).
    """

    def __init__(self, store: Store, lease_ttl_s: float) -> None:
        self._store = store
        self._ttl = lease_ttl_s

    def collect(self) -> Iterator[Metric]:
        alive = GaugeMetricFamily("vision_worker_alive", "1 while the worker's heartbeat is fresh.", labels=["worker"])
        held = GaugeMetricFamily("vision_worker_cameras", "Cameras the worker holds.", labels=["worker"])
        spool = GaugeMetricFamily(
            "vision_worker_spool_records", "Records in the worker's spool, not yet in the store.", labels=["worker"]
        )
        age = GaugeMetricFamily(
            "vision_worker_heartbeat_age_seconds", "Seconds since the worker's last lease round.", labels=["worker"]
        )
        workers = self._store.workers()
        live = set()
        for worker in workers:
            is_alive = worker.state == "up" and worker.heartbeat_age_s < self._ttl
            live |= {worker.id} if is_alive else set()
            alive.add_metric([worker.id], 1.0 if is_alive else 0.0)
            held.add_metric([worker.id], float(worker.cameras_held if is_alive else 0))
            spool.add_metric([worker.id], float(worker.spool_records))
            age.add_metric([worker.id], worker.heartbeat_age_s)
        yield from (alive, held, spool, age)
        if workers:
            owned = {
                lease.camera_id for lease in self._store.leases() if lease.worker_id in live and lease.expires_in_s > 0
            }
            enabled = {camera.id for camera in self._store.cameras() if camera.enabled}
            unowned = GaugeMetricFamily(
                "vision_cameras_unowned", "Enabled cameras that no live worker holds (nobody watches them)."
            )
            unowned.add_metric([], float(len(enabled - owned)))
            yield unowned


class PipelineMetrics:
    """The pipeline's own counters, registered on ``registry``."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.frames_processed = Counter(
            "vision_camera_frames_processed", "Frames run through the detector.", ["camera", "site"], registry=registry
        )
        self.detector_regions = Counter(
            "vision_camera_detector_regions",
            "Crops sent to the detector (1 per frame when the whole frame is letterboxed; tiles or motion "
            "regions otherwise).",
            ["camera", "site"],
            registry=registry,
        )
        self.detector_crops_skipped = Counter(
            "vision_detector_crops_skipped",
            "Squares on tracks or motion left out of a frame by detection.max_crops (tracks are kept first).",
            ["camera", "site"],
            registry=registry,
        )
        self.frames_failed = Counter(
            "vision_camera_frames_failed",
            "Frames skipped because the detector raised on their batch (the log and the camera's last_error say why).",
            ["camera", "site"],
            registry=registry,
        )
        self.frames_without_inference = Counter(
            "vision_camera_frames_without_inference",
            "Frames that cost no inference: nothing moved and no track was open (detection mode motion).",
            ["camera", "site"],
            registry=registry,
        )
        self.inference_latency = Histogram(
            "vision_inference_latency_seconds",
            "Detector time per batch call (pre-processing, inference, NMS).",
            ["model"],
            buckets=LATENCY_BUCKETS_S,
            registry=registry,
        )
        self.batch_size = Histogram(
            "vision_inference_batch_frames",
            "Frames per detector call (several cameras batched).",
            ["model"],
            buckets=(1, 2, 4, 8, 16, 32),
            registry=registry,
        )

    def watch_sources(self, cameras: Callable[[], Iterable[CameraSample]]) -> None:
        self.registry.register(SourceHealthCollector(cameras))
