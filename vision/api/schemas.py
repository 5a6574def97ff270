"""Response models of the HTTP API. Times are ISO 8601 with the offset of the site's zone (rates' windows) or
UTC (health, observations); rates are shares in [0, 1]."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from vision.categories import Category


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class CategoryInfo(_Out):
    """What one compliance category measures (``vision/categories.py``)."""

    id: str = Field(description="The category, as cameras and rates name it.")
    title: str = Field(description="What its rate measures, e.g. 'Helmet wearing'.")
    subject: str = Field(description="Who is counted, plural, e.g. 'riders'.")
    compliant_classes: list[str] = Field(description="Detector classes that count as compliant.")
    non_compliant_classes: list[str] = Field(description="Detector classes that count as non-compliant.")
    vehicle_classes: list[str] = Field(description="Classes that box a vehicle a subject rides (no verdict).")
    attribute_classes: list[str] = Field(
        [], description="Classes that box an object belonging to a subject, e.g. a phone (never a person)."
    )
    violation_attribute: str | None = Field(
        None,
        description="The attribute whose presence on a subject is the violation (phone: cell_phone); such a category "
        "judges the subjects of the camera's first category and is listed after it (cameras[].categories).",
    )
    riders_only_default: bool = Field(description="Whether its cameras count only riders of moving vehicles.")


class CameraHealth(_Out):
    state: str = Field(description="starting, up, down, stalled, finished, failed, or unknown (never reported).")
    up: bool
    last_frame_age_s: float | None = Field(description="Seconds since the camera's last decoded frame.")
    fps: float = Field(description="Frames per second sent to the detector, over the last 10 s.")
    frames_read: int
    frames_processed: int
    frames_dropped: int
    reconnects: int
    last_error: str | None
    reported_at: datetime | None = Field(description="When the pipeline last reported this camera.")


class Camera(_Out):
    id: str
    site_id: str
    category: str = Field(description="Its first category: the one its model measures.")
    categories: list[str] = Field(description="Every category it measures (the first, then e.g. phone).")
    health: CameraHealth
    worker_id: str | None = Field(None, description="The worker holding its lease now (None: vision run, or unowned).")


class Worker(_Out):
    """A ``vision worker`` process as its last heartbeat in the store describes it."""

    id: str
    host: str
    pid: int
    version: str
    alive: bool = Field(description="Its heartbeat is younger than workers.lease_ttl_s.")
    state: str = Field(description="up, or stopped (shut down cleanly).")
    capacity: int
    cameras_held: int
    spool_records: int = Field(description="Observations waiting in its local spool for the database.")
    observations: int = Field(description="Observations it finished since it started.")
    started_at: datetime
    heartbeat_age_s: float


class Site(_Out):
    id: str
    name: str
    tags: list[str]
    lat: float | None
    lon: float | None
    threshold: float = Field(description="Target compliance rate (the site's own or alerts.default_threshold).")
    timezone: str = Field(description="IANA zone of the site's days, periods and times (its own or the config's).")
    cameras: list[Camera]


class MapTiles(_Out):
    url: str = Field(description="Tile URL template with {z}, {x}, {y} (and {s}).")
    attribution: str
    max_zoom: int
    subdomains: str


class MapView(_Out):
    tiles: MapTiles | None = Field(description="The tile server; null: a plain background.")
    overlay: dict[str, Any] | None = Field(description="GeoJSON drawn over the background (districts, roads).")


class RatePoint(_Out):
    start: datetime = Field(description="Window start, in the site's zone (e.g. 2026-11-02T07:00:00+08:00).")
    end: datetime = Field(description="Window end (exclusive), in the site's zone.")
    compliant: int
    non_compliant: int
    undetermined: int = Field(description="Observations too small or too short to judge: beside the rate, not in n.")
    non_rider: int = Field(
        description="Heads that never rode a moving two-wheeler (cameras that count riders only): beside the rate,"
        " not in n."
    )
    passengers: int = Field(
        description="Decided observations (in n) of heads that shared a two-wheeler with another head"
        " (riders_on_vehicle >= 2)."
    )
    n: int = Field(description="Decided observations: compliant + non_compliant.")
    rate: float | None = Field(description="compliant / n; null when n = 0.")
    low: float | None
    high: float | None
    adjusted_rate: float | None = Field(description="Rogan-Gladen rate corrected for the model's measured error.")
    adjusted_low: float | None
    adjusted_high: float | None
    adjusted_source: Literal["audit", "model_card"] | None = Field(
        None, description="What measured the error the adjusted rate corrects: the site's own audit, or the model card."
    )
    coverage_s: float = Field(description="Camera-seconds of frames delivered in the window.")
    low_sample: bool
    confidently_below: bool = Field(
        description="The whole interval lies under the site's target, on enough observations (the rule alerts use)."
    )
    passenger_rate: float | None = Field(
        None,
        description="unit=vehicle: trips that carried two or more riders / all trips (passenger carrying); null per"
        " person.",
    )
    passenger_low: float | None = None
    passenger_high: float | None = None


class Series(_Out):
    site_id: str
    category: str
    unit: Literal["person", "vehicle"] = Field(
        "person",
        description="What each count is: a person (one observation a head or face), or a vehicle (one trip of a"
        " two-wheeler that carried riders: non-compliant when any rider was, compliant when all were).",
    )
    bucket: Literal["minute", "hour", "day", "range"] = Field(
        description="Window of each point, in the site's local time; range: one point over the whole request."
    )
    period: str | None = Field(None, description="The daily period the counts were kept to (none: all day).")
    timezone: str = Field(description="IANA zone the windows are in.")
    confidence: float
    points: list[RatePoint]


class DailyPeriod(_Out):
    name: str = Field(description="As the config names it, e.g. morning_peak; pass as period=.")
    local_time: str = Field(
        description="HH:MM-HH:MM in each site's local time (an end before the start: past midnight)."
    )
    start_s: int = Field(description="Seconds after local midnight.")
    length_s: int = Field(description="Length in wall-clock seconds.")


class SeriesResponse(_Out):
    start: datetime
    end: datetime
    series: list[Series]


class CurrentRate(_Out):
    site_id: str
    site_name: str
    category: str
    window_start: datetime
    window_end: datetime
    threshold: float
    confidently_below: bool = Field(description="The interval's upper bound is under the threshold, with n >= min_n.")
    point: RatePoint


class Observation(_Out):
    id: int
    run_id: int
    camera_id: str
    site_id: str
    category: str
    zone: str | None
    track_id: int
    started_at: datetime
    ended_at: datetime
    outcome: str
    frames: int
    mean_confidence: float
    vote_share: float
    max_size_px: float = Field(description="Largest box short side seen, pixels.")
    vehicle_track_id: int | None = Field(
        None, description="Track id of the two-wheeler this head rode (same camera and run); null if none or unlinked."
    )
    riders_on_vehicle: int | None = Field(
        None, description="Head tracks that rode that two-wheeler (2 or more: a passenger); null if none or unlinked."
    )


class ObservationPage(_Out):
    items: list[Observation]
    next_after_id: int | None = Field(description="Pass as after_id for the next page; null on the last page.")


class Language(_Out):
    language: str = Field(description="The language chosen: en or zh-CN.")
    languages: list[str] = Field(description="Every language we ship.")
    timezone: str = Field(description="The deployment's IANA zone (sites may have their own).")
    messages: dict[str, str] = Field(description="English source message -> translation; empty for English.")


class Health(_Out):
    status: Literal["ok"]


class Readiness(_Out):
    ready: bool = Field(description="The store answers (cameras are reported, but do not make serving unready).")
    store: str
    cameras_up: int
    cameras: int
    problems: list[str]


class AlertSent(_Out):
    sent: bool
    detail: str


class ReviewItem(_Out):
    """An observation as a reviewer pages through them; pixels are behind ``/observations/{id}/crop.jpg``."""

    id: int
    camera_id: str
    site_id: str
    category: str
    outcome: str
    started_at: datetime
    ended_at: datetime
    frames: int
    mean_confidence: float
    evidence: Literal["kept", "deleted", "none"] = Field(
        description="kept: crop and snapshot on disk; deleted: removed by retention (counts kept); none: never kept."
    )
    mark: str | None = Field(None, description="An analyst's audit mark: correct, wrong or unclear.")


class ReviewPage(_Out):
    items: list[ReviewItem]
    next_after_id: int | None


class AuditSampleRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    site: str = Field(max_length=64)
    category: Category = Field(description="The category sampled (`GET /categories`).")
    start: datetime = Field(alias="from")
    end: datetime = Field(alias="to")
    period: str | None = Field(None, max_length=64, description="A configured daily period, e.g. morning_peak.")
    size: int = Field(50, ge=1, le=2000)
    seed: int | None = Field(None, ge=0, le=2**31 - 1, description="Draw the same sample again (default: random).")


class AuditSample(_Out):
    id: int
    site: str
    category: str
    observation_ids: list[int]


class AuditMarkRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mark: Literal["correct", "wrong", "unclear"]


class AuditMark(_Out):
    observation_id: int
    mark: str


class AuditSummary(_Out):
    """What a site's audit marks measure about its verdicts (``sensitivity``: bare heads found as bare)."""

    site: str
    category: str
    marked: int
    unclear: int
    truly_non_compliant: int
    truly_compliant: int
    sensitivity: float | None
    specificity: float | None
    min_marks: int
    used_for_rates: bool = Field(description="True once the marks (not unclear) reach min_marks: rates use them.")
