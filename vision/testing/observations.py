"""Finished observations to write (the store writer's tests and scripts/bench_workers.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from vision.outcome import Outcome
from vision.tracking import Observation

T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)


def observations(count: int, camera: str = "cam-a") -> list[Observation]:
    return [
        Observation(
            camera,
            "gate",
            "helmet",
            track,
            T0 + timedelta(seconds=track),
            T0 + timedelta(seconds=track + 3),
            Outcome.COMPLIANT if track % 3 else Outcome.NON_COMPLIANT,
            12,
            0.8,
            0.9,
            40.0,
        )
        for track in range(count)
    ]
