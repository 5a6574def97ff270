"""The operator's YAML file: sites, cameras, tracking, compliance and store settings.

Every model forbids unknown keys (a typo is an error, not a silently ignored setting), states its
bounds, and cross-checks what one field says about another (a camera's site must exist, ids are
unique, polygons have three points). :func:`load_config` turns every problem into one line with
its path in the file, e.g. ``cameras[2].zones[0].polygon: needs at least 3 points``.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated, Literal, Self

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from vision.categories import Category, category_info
from vision.clock import DailyPeriod, zone_named
from vision.errors import VisionError

Identifier = Annotated[
    str,
    Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", description="Letters, digits, _ . -"),
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_zone(name: str | None) -> str | None:
    if name is not None:
        try:
            zone_named(name)
        except VisionError as error:
            raise ValueError(str(error)) from None
    return name


class Site(_Model):
    id: Identifier
    name: str = Field(min_length=1, max_length=200)
    tags: tuple[str, ...] = Field((), description="Free labels, e.g. a district, for roll-ups.")
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)
    threshold: float | None = Field(
        None, gt=0, lt=1, description="Target compliance rate for alerts; alerts.default_threshold if unset."
    )
    timezone: str | None = Field(
        None, description="IANA time zone of this site's days and periods, e.g. Asia/Shanghai; the config's if unset."
    )

    _known_zone = field_validator("timezone")(lambda value: _check_zone(value))

    @model_validator(mode="after")
    def _both_or_neither_coordinate(self) -> Self:
        if (self.lat is None) != (self.lon is None):
            raise ValueError("give both lat and lon, or neither")
        return self


class Zone(_Model):
    """A polygon in frame pixels; a detection counts in the zone when its anchor point lies inside."""

    name: Identifier
    polygon: tuple[tuple[float, float], ...] = Field(description="[[x, y], ...] in frame pixels, at least 3 points.")

    @field_validator("polygon")
    @classmethod
    def _at_least_a_triangle(cls, polygon: tuple[tuple[float, float], ...]) -> tuple[tuple[float, float], ...]:
        if len(polygon) < 3:
            raise ValueError(f"needs at least 3 points, got {len(polygon)}")
        return polygon


class Gates(_Model):
    """Optional filters on whole tracks."""

    min_speed_px_s: float | None = Field(
        None, ge=0, description="Riders move: tracks slower than this (anchor px/s) are left out."
    )


class Motion(_Model):
    """Frame differencing on a small grey copy of each frame (what moved since the recent past)."""

    width: int = Field(320, ge=64, le=1920, description="Width of the grey copy motion is computed on, px.")
    threshold: int = Field(
        20, ge=1, le=255, description="Change of grey level (0-255) against the running background that is motion."
    )
    min_area: int = Field(
        12, ge=1, description="Smallest moving blob kept, in pixels of the grey copy (12 ≈ a 40×40 px patch at 1080p)."
    )
    background_alpha: float = Field(
        0.1, gt=0, le=1, description="Weight of each new frame in the running background (lower: slower to absorb)."
    )


class Detection(_Model):
    """Where in a frame the detector looks: the whole frame, tiles, or squares where something moved.

    Regions are squares of ``region_size`` px cut at native resolution, so a 30 px head stays
    30 px at the model's input instead of shrinking to 10 px in a letterboxed 1080p frame.
    """

    mode: Literal["auto", "whole", "tiles", "motion", "riders"] = Field(
        "auto",
        description="whole: letterbox the frame (or roi); tiles: cover it with overlapping squares; motion: squares "
        "where something moved or a confirmed track is, tiles when too much moves; riders: the frame letterboxed "
        "for two-wheelers, then one crop per rider (the vehicle box widened and raised by `riders`), cut at native "
        "resolution and magnified; auto: motion for frames (or roi) at least 2 region sizes wide, else whole.",
    )
    rider_magnification: float | None = Field(
        None,
        ge=1,
        le=4,
        description="riders mode: how much a rider crop is enlarged for the model (default: the model's "
        "native_frame_height over the frame's height, between 1 and 3; 1 for a model without one).",
    )
    vehicle_pass_size: int | None = Field(
        None,
        ge=64,
        le=4096,
        multiple_of=32,
        description="riders mode: the side the frame (or roi) is letterboxed to for the first pass, which finds the "
        "two-wheelers, px (default: 1.25 model inputs, 800 for 640, for a frame at least that long; the model input "
        "for a smaller one). 640 serves more cameras a box and finds fewer far and crowded riders.",
    )
    roi: tuple[int, int, int, int] | None = Field(
        None, description="[x, y, width, height] in frame pixels: only this part of the frame is ever detected on."
    )
    region_size: int | None = Field(
        None, ge=64, le=4096, multiple_of=32, description="Side of a region, px (default: the model's input size)."
    )
    tile_overlap: int = Field(
        128,
        ge=0,
        le=2048,
        description="Least overlap of neighbouring tiles, px (more than the largest head); at most half a square, "
        "so tiles never step by less than half their side.",
    )
    max_crops: int = Field(
        9,
        ge=1,
        le=64,
        description="Most detector crops per frame. Squares on open tracks come first, then squares on motion; a "
        "frame tiled whole is tiled with squares large enough to fit (shrunk to the model input). What is left out "
        "is counted (vision_detector_crops_skipped_total).",
    )
    track_margin: float = Field(
        0.5, ge=0, le=4, description="A region kept on a confirmed track covers its box widened by this share."
    )
    whole_view: bool = Field(
        True,
        description="When a frame is tiled, also detect it whole (letterboxed, one more call) and keep the boxes "
        "at least half as long as tile_overlap: objects near the camera that every tile would cut.",
    )
    motion: Motion = Motion()

    @field_validator("roi")
    @classmethod
    def _positive_roi(cls, roi: tuple[int, int, int, int] | None) -> tuple[int, int, int, int] | None:
        if roi is not None and (roi[0] < 0 or roi[1] < 0 or roi[2] < 32 or roi[3] < 32):
            raise ValueError("expected [x, y, width, height] with x, y >= 0 and width, height >= 32")
        return roi

    @model_validator(mode="after")
    def _overlap_below_size(self) -> Self:
        if self.region_size is not None and self.tile_overlap >= self.region_size:
            raise ValueError(f"tile_overlap {self.tile_overlap} must be smaller than region_size {self.region_size}")
        return self


class Riders(_Model):
    """How a head is linked to the two-wheeler it rides (``riders_only`` cameras)."""

    margin: float = Field(
        0.25, ge=0, le=2, description="The vehicle box is widened by this share of its width on each side."
    )
    above: float = Field(
        1.5, ge=0, le=5, description="A rider's head may sit up to this many vehicle heights above the vehicle box."
    )
    min_share: float = Field(
        0.5, gt=0, le=1, description="Share of a head track's frames that must be linked to one vehicle track."
    )
    min_vehicle_speed_px_s: float = Field(
        15, ge=0, description="A vehicle track slower than this (anchor px/s over its life) is parked, not ridden."
    )


class Camera(_Model):
    id: Identifier
    site: Identifier = Field(description="The id of a site in `sites`.")
    source: str | int = Field(
        description="Video file, image folder, USB camera index, or rtsp/rtmp/http(s) URL.",
    )
    detect_source: str | int | None = Field(
        None,
        description="Live cameras: a lower-resolution sub-stream (or other USB index) that detection reads instead "
        "of `source`; `source` is then never opened. Zones, roi and region sizes are in this stream's pixels.",
    )
    categories: tuple[Category, ...] = Field(
        min_length=1,
        description="What the camera measures, each with its own rate: the first is its model's category (`category: "
        "helmet` is short for `categories: [helmet]`); more share its decode, detector pass and tracks, e.g. "
        "`[helmet, phone]` (phone use judges the helmet category's riders, so it comes after it).",
    )
    model: Path = Field(description="Detector spec (.yaml), relative to the config file.")
    decoder: Literal["opencv", "pyav"] = Field(
        "opencv",
        description="How a stream is read: opencv decodes every frame and converts the due ones; pyav also skips "
        "decoding B-frames while no frame is due (1.8-2.1x less decoding on streams with B-frames, none saved on "
        "IP-only streams; as many busy 1080p cameras per 2-core box, fewer quiet ones, since it decodes on the "
        "Python reader threads: scripts/bench_capacity.py).",
    )
    detect_fps: float = Field(5.0, gt=0, le=120, description="Frames per second sent to the detector.")
    every_nth: int | None = Field(
        None, ge=1, description="Files only: use every n-th frame instead of detect_fps throttling."
    )
    start_time: datetime | None = Field(
        None, description="Files only: wall-clock time of the first frame (ISO 8601 with zone)."
    )
    zones: tuple[Zone, ...] = Field((), description="Where detections count; none means the whole frame.")
    gates: Gates = Gates()
    detection: Detection = Detection()
    riders_only: bool | None = Field(
        None,
        description="Count only heads that ride a moving two-wheeler; others are non_rider. Default: on for a "
        "category that has vehicles (helmet) when the model boxes them.",
    )
    riders: Riders = Riders()
    enabled: bool = True

    @model_validator(mode="before")
    @classmethod
    def _one_category_is_a_list(cls, data: object) -> object:
        if isinstance(data, dict) and "category" in data:
            if "categories" in data:
                raise ValueError("give category or categories, not both")
            if data["category"] not in {category.value for category in Category}:
                known = ", ".join(category.value for category in Category)
                raise ValueError(f"category: {data['category']!r} is not one of {known}")
            data = {**data, "categories": [data["category"]]}
            del data["category"]
        return data

    @property
    def category(self) -> Category:
        """The camera's first category: the one its model measures (``detectors.spec``'s ``category``)."""
        return self.categories[0]

    @field_validator("categories")
    @classmethod
    def _categories_can_share(cls, value: tuple[Category, ...]) -> tuple[Category, ...]:
        if len(set(value)) != len(value):
            raise ValueError(f"a category is named twice: {[c.value for c in value]}")
        if (first := category_info(value[0])).violation_attribute is not None:
            raise ValueError(
                f"{first.category.value} judges the riders another category tracks: list it after helmet "
                f"(categories: [helmet, {first.category.value}])"
            )
        for category in value[1:]:
            info = category_info(category)
            if info.violation_attribute is None:
                raise ValueError(
                    f"{category.value} after {value[0].value}: a camera measures one category by its model's classes "
                    "(the first); the others are judged by an attribute on its subjects (phone)"
                )
            if not category_info(value[0]).vehicle_classes and info.vehicle_classes:
                raise ValueError(f"{category.value} judges riders: {value[0].value} has no two-wheelers")
        return value

    @field_validator("start_time")
    @classmethod
    def _zone_aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("needs a time zone, e.g. 2026-11-01T08:00:00+01:00")
        return value

    @field_validator("source", "detect_source")
    @classmethod
    def _non_empty(cls, value: str | int | None) -> str | int | None:
        if isinstance(value, str) and not value.strip():
            raise ValueError("must not be empty")
        if isinstance(value, int) and value < 0:
            raise ValueError("a USB camera index is 0 or more")
        return value

    @model_validator(mode="after")
    def _detect_source_is_live(self) -> Self:
        source = self.detect_source
        if source is not None and not (is_stream_url(source) or isinstance(source, int)):
            raise ValueError("detect_source must be a stream URL or a USB index (a sub-stream of a live camera)")
        if self.detect_source is not None and not (is_stream_url(self.source) or isinstance(self.source, int)):
            raise ValueError("detect_source is for live cameras; a file source is detected as it is")
        return self

    @model_validator(mode="after")
    def _unique_zone_names(self) -> Self:
        names = [zone.name for zone in self.zones]
        if len(names) != len(set(names)):
            raise ValueError(f"zone names repeat: {sorted({n for n in names if names.count(n) > 1})}")
        return self


class Tracking(_Model):
    max_age_s: float = Field(1.5, gt=0, le=60, description="A track unseen this long is finished.")
    min_frames: int = Field(3, ge=1, le=1000, description="Shorter tracks are undetermined.")
    min_size_px: float = Field(
        16, ge=0, description="Tracks never seen with a box short side at least this big are undetermined."
    )
    activation_conf: float | None = Field(
        None,
        ge=0,
        le=1,
        description="Score a detection needs to start a track, on the scale of the model's `conf` "
        "(default: that `conf`, so every box the detector reports may start one once seen in two frames).",
    )
    match_iou: float = Field(0.1, ge=0, le=1, description="Minimum IoU to match a detection to a track.")


class Compliance(_Model):
    window: Literal["minute", "hour", "day"] = "hour"
    confidence: float = Field(0.95, gt=0.5, lt=1)
    min_n: int = Field(30, ge=1, description="Rates on fewer decided observations are flagged low-sample.")
    periods: dict[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")], str] = Field(
        default_factory=dict,
        description="Named parts of each local day, e.g. morning_peak: 07:00-09:00 (an end before the start runs"
        " past midnight).",
    )

    @field_validator("periods")
    @classmethod
    def _periods_parse(cls, periods: dict[str, str]) -> dict[str, str]:
        problems = []
        for name, text in periods.items():
            try:
                DailyPeriod.parse(name, text)
            except ValueError as error:
                problems.append(f"{name}: {error}")
        if problems:
            raise ValueError("; ".join(problems))
        return periods

    min_audit_marks: int = Field(
        30,
        ge=1,
        description="Audit marks (correct or wrong) a site needs before its adjusted rate uses its own measured"
        " error instead of the model card's.",
    )

    def daily_periods(self) -> dict[str, DailyPeriod]:
        """The named periods, parsed."""
        return {name: DailyPeriod.parse(name, text) for name, text in self.periods.items()}


class Evidence(_Model):
    """The crop and snapshot each observation keeps for review (``vision/evidence``)."""

    enabled: bool = True
    storage: Literal["folder", "database"] | None = Field(
        None,
        description="Where the JPEGs are kept: folder (files under `folder`), or database (the store's "
        "evidence_blobs table, shared by every worker and `vision serve` without a shared file system). "
        "Default: database for a PostgreSQL store, folder for SQLite.",
    )
    folder: Path | None = Field(
        None, description="Where the JPEGs go (default: beside a SQLite store, <db>.evidence; else ./evidence)."
    )
    max_age_days: float | None = Field(30, gt=0, description="Pixels older than this are deleted (counts stay).")
    max_total_mb: float | None = Field(2048, gt=0, description="Then the oldest pixels go until this much is left.")
    sweep_every_s: float = Field(300, ge=1, le=86400)
    snapshot_width: int = Field(960, ge=160, le=4096, description="Snapshot width, px (the crop keeps full size).")
    crop_margin: float = Field(0.3, ge=0, le=2, description="Margin around the best box, as a share of its size.")
    blur_judged: dict[Category, bool] = Field(
        default_factory=dict,
        description="Pixelate the judged person too, per category (default: masks yes, helmets no).",
    )

    def evidence_folder(self, store_url: str) -> Path:
        return self.folder if self.folder is not None else beside_store(store_url, ".evidence", "evidence")

    def in_database(self, store_url: str) -> bool:
        """Whether the JPEGs go to the store (``storage``, by default on PostgreSQL) rather than a folder."""
        if self.storage is not None:
            return self.storage == "database"
        return store_url.startswith("postgresql")

    def blurs_judged(self, category: Category) -> bool:
        return self.blur_judged.get(category, category_info(category).blur_judged_default)


class Api(_Model):
    token: str | None = Field(
        None,
        min_length=16,
        description="Bearer token for endpoints that change state or show evidence; env VISION_API_TOKEN wins.",
    )
    cors_origins: tuple[str, ...] = Field((), description="Origins allowed to call the API from a browser.")
    rolling_window_minutes: int = Field(60, ge=1, le=7 * 24 * 60, description="Window of the 'current' rates.")


class MapTiles(_Model):
    """A slippy-map tile server the browsers of the dashboard can reach (on a closed network: the bureau's own)."""

    url: str = Field(
        pattern=r"^(https?:)?//[^\s]*\{z\}[^\s]*\{x\}[^\s]*\{y\}",
        description="Tile URL template with {z}, {x} and {y} (and optionally {s}), e.g. http://tiles.lan/{z}/{x}/{y}.png.",
    )
    attribution: str = Field(min_length=1, max_length=500, description="Credit the tiles' licence asks for (HTML).")
    max_zoom: int = Field(19, ge=1, le=24)
    subdomains: str = Field("abc", description="Letters that {s} cycles through.")


class MapSettings(_Model):
    """The dashboard's map of every site: streets from a tile server, or a plain background."""

    tiles: MapTiles | None = Field(
        None, description="Tile server; none: a plain background with the sites (and the overlay, if given)."
    )
    overlay: Path | None = Field(
        None,
        description="GeoJSON file (district boundaries, roads) drawn over the background; relative to the config file.",
    )


class Alerts(_Model):
    webhook_url: str | None = Field(None, pattern=r"^https?://", description="POSTed a JSON body per alert.")
    default_threshold: float = Field(0.9, gt=0, lt=1, description="Sites without their own threshold use this.")
    check_every_s: float = Field(60, ge=1, le=3600)
    cooldown_minutes: float = Field(60, ge=0, description="No repeat alert for the same site or camera sooner.")
    camera_down_after_s: float = Field(300, ge=1, description="Alert when a camera has delivered nothing this long.")
    vehicle_threshold: float | None = Field(
        None,
        gt=0,
        lt=1,
        description="Per two-wheeler: alert when the share of trips whose every rider was compliant is confidently"
        " below this (off when unset).",
    )
    max_passenger_carrying: float | None = Field(
        None,
        gt=0,
        lt=1,
        description="Alert when the share of trips carrying two or more riders is confidently above this, the"
        " interval's lower bound over it on at least compliance.min_n trips (off when unset).",
    )


class Store(_Model):
    url: str = Field("sqlite:///out/vision.db", description="SQLAlchemy URL: sqlite:///path or postgresql://...")
    spool_dir: Path | None = Field(
        None,
        description=(
            "Local folder of the write journal: finished observations wait here while the database is away"
            " (default: beside a SQLite file, else ./spool). Each worker uses <spool_dir>/<worker id>."
        ),
    )

    def spool_folder(self, worker_id: str | None = None) -> Path:
        """Where this process's journal lives (one writer per folder)."""
        base = self.spool_dir if self.spool_dir is not None else beside_store(self.url, ".spool", "spool")
        return base / (worker_id or "run")


def beside_store(url: str, suffix: str, otherwise: str) -> Path:
    """``<sqlite file><suffix>`` for a SQLite file store (its data in one place), else ``./<otherwise>``."""
    path = url.removeprefix("sqlite:///").split("?")[0] if url.startswith("sqlite:///") else ""
    return Path(path + suffix) if path not in ("", ":memory:") else Path(otherwise)


class Workers(_Model):
    """``vision worker``: many processes on many machines share the cameras through the store (PostgreSQL)."""

    lease_ttl_s: float = Field(
        15, ge=3, le=600, description="A dead worker's cameras are claimed by the others within this many seconds."
    )
    capacity: int = Field(8, ge=1, le=1000, description="Cameras one worker takes at most.")


def reference_problems(site_ids: list[object], camera_ids: list[object], camera_sites: list[object]) -> list[str]:
    """Repeated ids and cameras whose site is not among ``site_ids``."""
    problems = []
    for kind, ids in (("sites", site_ids), ("cameras", camera_ids)):
        repeated = sorted({str(i) for i in ids if ids.count(i) > 1})
        if repeated:
            problems.append(f"{kind}: ids repeat: {repeated}")
    known = sorted(str(i) for i in set(site_ids))
    for index, site in enumerate(camera_sites):
        if site not in site_ids:
            problems.append(f"cameras[{index}].site: unknown site {site!r} (known: {known})")
    return problems


def _raw_reference_problems(data: dict[str, object]) -> list[str]:
    """The same checks on unvalidated YAML, so they are reported together with field errors."""

    def items(key: str) -> list[dict[str, object]]:
        value = data.get(key)
        return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []

    sites, cameras = items("sites"), items("cameras")
    return reference_problems(
        [s.get("id") for s in sites], [c.get("id") for c in cameras], [c.get("site") for c in cameras]
    )


class Inference(_Model):
    """How this box runs its models."""

    lanes: int = Field(
        2,
        ge=1,
        le=16,
        description="Detector threads per model, each with its own session and its share of the model's cameras: "
        "while one runs the network, another plans, tracks and prepares its next batch (a 2-core box held 13 quiet "
        "720p cameras with 2, 11 with 1: docs/performance.md). A model with fewer enabled cameras gets as many. "
        "Each session gets the model's share of the cores divided by its lanes, at least 1 thread.",
    )


class VisionConfig(_Model):
    timezone: str = Field(
        "UTC", description="IANA time zone of days, hours, periods and shown times, e.g. Asia/Shanghai (DST-safe)."
    )
    language: Literal["en", "zh-CN"] = Field(
        "en", description="Language of the HTML report, and of the dashboard when the browser asks for none we have."
    )
    sites: tuple[Site, ...] = Field(min_length=1)
    cameras: tuple[Camera, ...] = Field(min_length=1)
    tracking: Tracking = Tracking()
    compliance: Compliance = Compliance()
    store: Store = Store()
    workers: Workers = Workers()
    evidence: Evidence = Evidence()
    api: Api = Api()
    alerts: Alerts = Alerts()
    map: MapSettings = MapSettings()
    inference: Inference = Inference()

    _known_zone = field_validator("timezone")(lambda value: _check_zone(value))

    @model_validator(mode="after")
    def _references_and_uniqueness(self) -> Self:
        problems = reference_problems(
            [site.id for site in self.sites], [camera.id for camera in self.cameras], [c.site for c in self.cameras]
        )
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def site(self, site_id: str) -> Site:
        return next(site for site in self.sites if site.id == site_id)


def _location(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def format_validation_error(error: ValidationError) -> list[str]:
    """One ``path: message`` line per problem, paths as written in the YAML (``cameras[2].zones[0]``)."""
    lines = []
    errors = error.errors()
    for item in errors:
        if item["type"] == "too_short" and any(
            other["loc"][: len(item["loc"])] == item["loc"] and other is not item for other in errors
        ):
            continue  # pydantic's echo of failed items ("at least 1 item after validation, not 0")
        # Tagged unions and validators add their own names to the path; keep what the user wrote.
        loc = tuple(part for part in item["loc"] if not (isinstance(part, str) and part.startswith("function-")))
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "unknown key (not a setting here; check the spelling)"
        lines.append(f"{_location(loc)}: {message}")
    return lines


class ConfigError(VisionError):
    """A config file with problems; ``problems`` holds one line each."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        super().__init__(f"{path}: {len(problems)} problem(s)\n" + "\n".join(f"  {p}" for p in problems))


def load_config(path: Path) -> VisionConfig:
    """Read and validate a config file; relative model paths resolve against its folder."""
    if not path.is_file():
        raise VisionError(f"config file not found: {path}")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        raise ConfigError(path, [f"not valid YAML: {error}"]) from error
    if not isinstance(data, dict):
        raise ConfigError(path, ["(top level): expected a mapping with sites and cameras"])
    try:
        config = VisionConfig.model_validate(data)
    except ValidationError as error:
        problems = format_validation_error(error)
        problems += [p for p in _raw_reference_problems(data) if not any(p in line for line in problems)]
        raise ConfigError(path, problems) from error
    base = path.parent
    cameras = tuple(_resolve_paths(camera, base) for camera in config.cameras)
    updates: dict[str, object] = {"cameras": cameras}
    if config.map.overlay is not None and not config.map.overlay.is_absolute():
        updates["map"] = config.map.model_copy(update={"overlay": base / config.map.overlay})
    return config.model_copy(update=updates)


def is_stream_url(source: str | int) -> bool:
    return isinstance(source, str) and "://" in source


def _resolve_paths(camera: Camera, base: Path) -> Camera:
    updates: dict[str, object] = {}
    if not camera.model.is_absolute():
        updates["model"] = base / camera.model
    if isinstance(camera.source, str) and not is_stream_url(camera.source) and not Path(camera.source).is_absolute():
        updates["source"] = str(base / camera.source)
    return camera.model_copy(update=updates) if updates else camera


def check_files(config: VisionConfig) -> list[str]:
    """Problems that need the disk, apart from the models (``vision.detectors.spec.model_problems``): source
    files and folders that are not there, a map overlay that does not load."""
    problems = []
    for index, camera in enumerate(config.cameras):
        if isinstance(camera.source, str) and not is_stream_url(camera.source) and not Path(camera.source).exists():
            problems.append(f"cameras[{index}].source: file or folder not found: {camera.source}")
    if config.map.overlay is not None:
        try:
            load_overlay(config.map.overlay)
        except VisionError as error:
            problems.append(f"map.overlay: {error}")
    return problems


def load_overlay(path: Path) -> dict[str, object]:
    """The map overlay's GeoJSON object; a missing or malformed file is named."""
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError as error:
        raise VisionError(f"GeoJSON file not found: {path}") from error
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise VisionError(f"{path}: not a GeoJSON file ({error})") from error
    kinds = {"FeatureCollection", "Feature", "GeometryCollection", "Polygon", "MultiPolygon", "LineString"}
    kinds |= {"MultiLineString", "Point", "MultiPoint"}
    if not isinstance(data, dict) or data.get("type") not in kinds:
        raise VisionError(
            f"{path}: not a GeoJSON object (its top-level 'type' must be one of {', '.join(sorted(kinds))})"
        )
    return data
