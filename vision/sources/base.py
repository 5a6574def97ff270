"""What every source hands on, and what it reports about itself."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True, eq=False)
class Frame:
    """One frame of one camera, the unit that flows from a source to the detector.

    ``image`` is ``(H, W, 3) uint8`` BGR; ``time`` is zone-aware: the wall clock for live
    sources, the configured start time plus the video's own timeline for files; ``index`` counts
    frames read from the source (so gaps show what the throttle skipped).
    """

    camera_id: str
    index: int
    time: datetime
    image: npt.NDArray[np.uint8]


# Called by a source on its reader thread with each frame it delivers, ``(index, image)``, before the
# detector may take it: work that would otherwise hold up the detector thread (the planner's motion).
FrameAnalyser = Callable[[int, npt.NDArray[np.uint8]], None]


class SourceState(StrEnum):
    STARTING = "starting"
    UP = "up"
    DOWN = "down"  # connect failed or stream broke; reconnecting with backoff
    STALLED = "stalled"  # no frame for the watchdog's limit; reconnecting
    FINISHED = "finished"  # a file source delivered its last frame
    FAILED = "failed"  # a file source that cannot be read; no retry


@dataclass(frozen=True)
class HealthSnapshot:
    """A source's health at one moment (``SourceHealth.snapshot``): what the status rows, the metrics, the
    watchdog and the end-of-run summary read. ``last_frame_age_s``: seconds since a frame was last read from
    the source, None before the first."""

    state: SourceState
    frames_read: int
    frames_dropped: int
    frames_converted: int
    reconnects: int
    last_frame_age_s: float | None
    last_error: str | None


@dataclass
class SourceHealth:
    """Counters and state of one source, updated by its reader thread, read by anyone.

    ``frames_read`` counts frames taken from the source (packets decoded); ``frames_converted``
    those also converted to pixels (only frames the detector is due to take); ``frames_dropped``
    those that never reached the detector (overwritten by a newer frame or skipped by the
    ``detect_fps`` throttle).
    """

    state: SourceState = SourceState.STARTING
    frames_read: int = 0
    frames_dropped: int = 0
    frames_converted: int = 0
    reconnects: int = 0
    last_frame_monotonic: float | None = None
    last_error: str | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def update(self, **changes: object) -> None:
        with self._lock:
            for name, value in changes.items():
                setattr(self, name, value)

    def count(self, read: int = 0, dropped: int = 0, reconnects: int = 0, converted: int = 0) -> None:
        with self._lock:
            self.frames_read += read
            self.frames_dropped += dropped
            self.frames_converted += converted
            self.reconnects += reconnects
            if read:
                self.last_frame_monotonic = time.monotonic()

    def snapshot(self) -> HealthSnapshot:
        with self._lock:
            age = None if self.last_frame_monotonic is None else time.monotonic() - self.last_frame_monotonic
            return HealthSnapshot(
                state=self.state,
                frames_read=self.frames_read,
                frames_dropped=self.frames_dropped,
                frames_converted=self.frames_converted,
                reconnects=self.reconnects,
                last_frame_age_s=age,
                last_error=self.last_error,
            )


class FrameSource(Protocol):
    """A camera's frames. ``start`` spawns its reader; ``poll`` never blocks."""

    camera_id: str
    health: SourceHealth

    def start(self) -> None: ...

    def poll(self) -> Frame | None:
        """The next frame due for detection, or None if none is due yet."""
        ...

    @property
    def finished(self) -> bool:
        """True once a file source has handed on its last frame (or failed); never for live ones."""
        ...

    @property
    def total_frames(self) -> int | None:
        """Frames this source will hand on, where known in advance (files), for progress bars."""
        ...

    def stop(self) -> None: ...
