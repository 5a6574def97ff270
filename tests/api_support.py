"""A real SQLite store with known observations, for the API, metrics and alert tests.

The data sits at a fixed time, ``NOW``, and the app under test is given that clock (``clock=at_now``):
no test depends on when it runs or how long the suite before it took.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from vision.config import VisionConfig
from vision.outcome import Outcome
from vision.store import CameraReport
from vision.tracking import Observation
from vision.tracking.trip import Trip

NOW = datetime(2026, 11, 2, 8, 30, tzinfo=UTC)
TOKEN = "test-token-0123456789abcdef"


def at_now() -> datetime:
    """The clock the app and notifier under test read: always ``NOW``."""
    return NOW


def make_config(tmp_path, **extra) -> VisionConfig:
    return VisionConfig.model_validate(
        {
            "sites": [
                {"id": "gate", "name": "North gate", "lat": 52.37, "lon": 4.89, "threshold": 0.9},
                {"id": "market", "name": "Market", "lat": 52.36, "lon": 4.90},
            ],
            "cameras": [
                {"id": "cam-gate", "site": "gate", "source": "a.mp4", "category": "helmet", "model": "m.yaml"},
                {"id": "cam-market", "site": "market", "source": "b.mp4", "category": "mask", "model": "m.yaml"},
            ],
            "compliance": {"min_n": 10},
            "store": {"url": f"sqlite:///{tmp_path / 'api.db'}"},
            "api": {"token": TOKEN},
            **extra,
        }
    )


def observation(site: str, camera: str, category: str, minutes_ago: float, outcome: Outcome, track: int):
    ended = NOW - timedelta(minutes=minutes_ago)
    return Observation(camera, site, category, track, ended - timedelta(seconds=3), ended, outcome, 8, 0.8, 1.0, 40.0)


def gate_trips() -> list[Trip]:
    """The gate's two-wheelers in the last hour: 4 helmeted riders alone, 2 helmeted pairs, 5 pairs with one bare
    head, 1 rider nobody could judge: per vehicle 6 compliant of 11 decided, 7 of 12 carrying passengers."""
    kinds = [(1, 0, 0)] * 4 + [(2, 0, 0)] * 2 + [(1, 1, 0)] * 5 + [(0, 0, 1)]
    trips = []
    for index, (compliant, non_compliant, undetermined) in enumerate(kinds):
        ended = NOW - timedelta(minutes=2 + index)
        riders = compliant + non_compliant + undetermined
        trips.append(
            Trip(
                "cam-gate",
                "gate",
                "helmet",
                900 + index,
                ended - timedelta(seconds=6),
                ended,
                riders,
                compliant,
                non_compliant,
                undetermined,
            )
        )
    return trips


def fill(store) -> None:
    """Gate: 6 compliant + 14 non-compliant in the last hour (confidently under 90 %).
    Market: 18 compliant + 2 non-compliant + 3 undetermined in the last hour; 5 compliant two days ago."""
    run = store.start_run("test.yaml", "test")
    rows = [observation("gate", "cam-gate", "helmet", i, Outcome.COMPLIANT, i) for i in range(1, 7)]
    rows += [observation("gate", "cam-gate", "helmet", 10 + i, Outcome.NON_COMPLIANT, 100 + i) for i in range(14)]
    rows += [observation("market", "cam-market", "mask", i, Outcome.COMPLIANT, 200 + i) for i in range(1, 19)]
    rows += [observation("market", "cam-market", "mask", 30 + i, Outcome.NON_COMPLIANT, 300 + i) for i in range(2)]
    rows += [observation("market", "cam-market", "mask", 40 + i, Outcome.UNDETERMINED, 400 + i) for i in range(3)]
    rows += [observation("market", "cam-market", "mask", 48 * 60 + i, Outcome.COMPLIANT, 500 + i) for i in range(5)]
    store.add_observations(run, rows)
    store.add_trips(run, gate_trips())
    interval = store.camera_up(run, "cam-gate", NOW - timedelta(minutes=50))
    store.camera_heartbeat(interval, NOW - timedelta(minutes=5))
    store.set_camera_status(
        "cam-gate",
        CameraReport(
            state="up",
            fps=4.9,
            frames_read=1000,
            frames_processed=600,
            frames_dropped=400,
            reconnects=1,
            last_frame_wall_at=NOW.timestamp() - 0.5,
            last_error=None,
        ),
    )
    store.set_camera_status(
        "cam-market",
        CameraReport(
            state="down",
            fps=0.0,
            frames_read=10,
            frames_processed=10,
            frames_dropped=0,
            reconnects=7,
            last_frame_wall_at=NOW.timestamp() - 900,
            last_error="cannot connect to rtsp://cam:***@10.0.0.9/stream",
        ),
    )
