"""Live sources: USB cameras and RTSP/RTMP/HTTP(S)/MJPEG streams.

A reader thread takes every frame the stream delivers (``grab``: the packet is decoded, so the
stream never backs up) but converts to pixels (``retrieve``) only a frame the detector will take:
the first one after the ``detect_fps`` throttle says the next is due. For a 1080p H.264 camera at
25 fps detected at 2 fps that is 1.3x less CPU than ``read()`` of every frame, and a 360p
sub-stream (``detect_source``) 5x less (``scripts/bench_capacity.py decode``). The newest
converted frame wins; falling behind therefore drops (and counts) frames instead of queueing
stale ones. A failed connect, a broken stream and a
stall all lead to the same path: release, wait with capped exponential backoff, reconnect. A
frame is never invented to fill a gap.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import cv2

from vision.sources.base import Frame, FrameAnalyser, SourceHealth, SourceState

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reconnect:
    """Backoff between attempts: ``initial_s``, doubled each failure, at most ``max_s``."""

    initial_s: float = 1.0
    max_s: float = 30.0
    open_timeout_s: float = 10.0
    stall_timeout_s: float = 10.0  # no frame for this long while up -> reconnect

    def delay(self, failures: int) -> float:
        return min(self.max_s, self.initial_s * 2 ** max(0, failures - 1))


class LiveSource:
    """Newest-frame-wins reader for a camera index or a stream URL."""

    def __init__(
        self,
        camera_id: str,
        target: int | str,
        detect_fps: float,
        frame_ready: threading.Event,
        reconnect: Reconnect | None = None,
        analyse: FrameAnalyser | None = None,
    ) -> None:
        self.camera_id = camera_id
        self._analyse = analyse
        self.target = target
        self.health = SourceHealth()
        self._period = 1.0 / detect_fps
        self._frame_ready = frame_ready
        self._reconnect = reconnect or Reconnect()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._newest: Frame | None = None
        self._newest_at = 0.0  # monotonic time ``_newest`` was converted
        self._next_due = 0.0
        self._generation = 0  # a watchdog restart bumps it; an older reader thread then exits
        self._thread: threading.Thread | None = None
        self._index = 0
        self._up_since = time.monotonic()

    @property
    def finished(self) -> bool:
        return False

    @property
    def total_frames(self) -> int | None:
        return None

    def start(self) -> None:
        self._spawn_reader()
        threading.Thread(target=self._watchdog, name=f"watchdog-{self.camera_id}", daemon=True).start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self._reconnect.open_timeout_s + 2)

    def poll(self) -> Frame | None:
        now = time.monotonic()
        with self._lock:
            if self._newest is None or now < self._next_due:
                return None
            frame, self._newest = self._newest, None
            self._next_due = max(self._next_due + self._period, now - self._period)
            return frame

    # --- reader -------------------------------------------------------------------------------
    def _spawn_reader(self) -> None:
        with self._lock:
            self._generation += 1
            generation = self._generation
        # Daemon: a reader stuck inside a blocking read must not keep the process alive.
        self._thread = threading.Thread(
            target=self._read_loop, args=(generation,), name=f"source-{self.camera_id}", daemon=True
        )
        self._thread.start()

    def _current(self, generation: int) -> bool:
        return generation == self._generation and not self._stop.is_set()

    def _open(self) -> cv2.VideoCapture:
        timeout_ms = int(self._reconnect.open_timeout_s * 1000)
        if isinstance(self.target, int):
            return cv2.VideoCapture(self.target)
        params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, timeout_ms, cv2.CAP_PROP_READ_TIMEOUT_MSEC, timeout_ms]
        return cv2.VideoCapture(self.target, cv2.CAP_FFMPEG, params)

    def _read_loop(self, generation: int) -> None:
        failures = 0
        while self._current(generation):
            capture = self._open()
            if not capture.isOpened():
                capture.release()
                failures += 1
                self._down(f"cannot connect to {self._describe()}", failures, generation)
                continue
            failures = 0
            self._up_since = time.monotonic()
            self.health.update(state=SourceState.UP, last_error=None)
            log.info("camera %s: connected to %s", self.camera_id, self._describe())
            reason = "stopped"
            while self._current(generation):
                if not capture.grab():
                    reason = f"stream from {self._describe()} ended or failed to decode"
                    break
                index, self._index = self._index, self._index + 1
                if not self._wanted():
                    self.health.count(read=1, dropped=1)
                    continue
                ok, image = capture.retrieve()
                if not ok or image is None or image.size == 0:
                    reason = f"stream from {self._describe()} ended or failed to decode"
                    break
                self._publish(index, image)
            capture.release()
            if self._current(generation):
                failures += 1
                self._down(reason, failures, generation)

    def _wanted(self) -> bool:
        """Whether the frame just grabbed is worth converting: the detector is due for one and has
        none waiting, or the one waiting is a whole period old (the detector is behind: newest wins)."""
        now = time.monotonic()
        with self._lock:
            if now < self._next_due:
                return False
            return self._newest is None or now - self._newest_at >= self._period

    def _publish(self, index: int, image) -> None:
        if self._analyse is not None:
            self._analyse(index, image)
        frame = Frame(self.camera_id, index, datetime.now(UTC), image)
        with self._lock:
            replaced = self._newest is not None
            self._newest = frame
            self._newest_at = time.monotonic()
        self.health.count(read=1, dropped=int(replaced), converted=1)
        self._frame_ready.set()

    def _down(self, reason: str, failures: int, generation: int) -> None:
        delay = self._reconnect.delay(failures)
        self.health.update(state=SourceState.DOWN, last_error=reason)
        self.health.count(reconnects=1)
        log.warning("camera %s: %s; retrying in %.1f s", self.camera_id, reason, delay)
        self._stop.wait(delay)

    def _watchdog(self) -> None:
        """Restart the reader when an 'up' stream delivers nothing for ``stall_timeout_s``."""
        limit = self._reconnect.stall_timeout_s
        while not self._stop.wait(min(1.0, limit / 4)):
            snapshot = self.health.snapshot()
            frame_age = snapshot["last_frame_age_s"]
            up_for = time.monotonic() - self._up_since
            age = up_for if frame_age is None else min(float(frame_age), up_for)  # type: ignore[arg-type]
            if snapshot["state"] == SourceState.UP and age > limit:
                reason = f"no frame for {age:.0f} s from {self._describe()} (stalled)"
                log.warning("camera %s: %s; reconnecting", self.camera_id, reason)
                self.health.update(state=SourceState.STALLED, last_error=reason)
                self.health.count(reconnects=1)
                self._spawn_reader()

    def _describe(self) -> str:
        if isinstance(self.target, int):
            return f"USB camera {self.target}"
        return _redact(self.target)


def _redact(url: str) -> str:
    """Hide a password in ``scheme://user:password@host`` so logs and health never show it."""
    scheme, sep, rest = url.partition("://")
    if sep and "@" in rest.split("/", 1)[0]:
        credentials, _, host = rest.partition("@")
        return f"{scheme}://{credentials.split(':', 1)[0]}:***@{host}"
    return url
