"""Live sources: USB cameras and RTSP/RTMP/HTTP(S)/MJPEG streams.

A reader thread takes every frame the stream delivers (so the stream never backs up) but does only
the work a frame the detector will take needs. By default (``decoder: opencv``) OpenCV decodes every
frame (``grab``) and converts to pixels (``retrieve``) only the first one after the ``detect_fps``
throttle says the next is due: for a 1080p H.264 camera at 25 fps detected at 2 fps, 1.4x less CPU
than ``read()`` of every frame. ``decoder: pyav`` reads the stream with PyAV (FFmpeg): while no frame
is due, a frame no other frame refers to (a B-frame) is not decoded at all (``skip_frame``); on a
stream with B-frames decoding costs 1.8-2.1x less than ``read()``, on an IP-only one (every P-frame a
reference) no less than OpenCV's; a 2-core box holds 7 busy 1080p cameras either way, but fewer than 12
quiet 720p ones with it against 16 with OpenCV (``scripts/bench_capacity.py``; docs/performance.md). OpenCV
opens one stream at a time per process, so a stream is first asked through PyAV (:func:`answers`): a hung
camera never holds up the others' connects. A 360p sub-stream
(``detect_source``) is the lever that works on any camera. The newest converted
frame wins; falling behind therefore drops (and counts) frames instead of queueing stale ones. A failed
connect, a broken stream and a stall all lead to the same path: release, wait with capped exponential
backoff, reconnect. A frame is never invented to fill a gap.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, Protocol

import av
import cv2
import numpy as np
import numpy.typing as npt

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


class Capture(Protocol):
    """One open stream, read a frame at a time."""

    def read(self, wanted: Callable[[], bool]) -> tuple[bool, npt.NDArray[np.uint8] | None]:
        """Take the stream's next frame: ``(False, None)`` when the stream ended or failed; else ``(True, the frame
        as BGR pixels)`` if ``wanted()`` says the detector will take it, ``(True, None)`` if not."""
        ...

    def release(self) -> None: ...


class OpenCVCapture:
    """OpenCV's FFmpeg backend: every frame decoded (``grab``), the wanted ones converted (``retrieve``)."""

    def __init__(self, capture: cv2.VideoCapture) -> None:
        self._capture = capture

    def read(self, wanted: Callable[[], bool]) -> tuple[bool, npt.NDArray[np.uint8] | None]:
        if not self._capture.grab():
            return False, None
        if not wanted():
            return True, None
        ok, image = self._capture.retrieve()
        if not ok or image is None or image.size == 0:
            return False, None
        return True, image

    def release(self) -> None:
        self._capture.release()


class PyAVCapture:
    """PyAV: a packet demuxed and decoded at a time; while the detector wants no frame, frames that no other frame
    refers to are skipped undecoded (``skip_frame = NONREF``), and only wanted frames are converted to BGR."""

    def __init__(self, url: str, open_timeout_s: float, read_timeout_s: float) -> None:
        self._container = av.open(url, options=_pyav_options(url), timeout=(open_timeout_s, read_timeout_s))
        try:
            stream = self._container.streams.video[0]
        except IndexError:
            self._container.close()
            raise
        self._codec = stream.codec_context
        self._packets: Iterator[av.Packet] = self._container.demux(stream)
        self.last_time_s: float | None = None  # the presentation time of the frame ``read`` last returned

    def read(self, wanted: Callable[[], bool]) -> tuple[bool, npt.NDArray[np.uint8] | None]:
        try:
            for packet in self._packets:
                if packet.size == 0:  # the demuxer's flush packet at the end of the stream
                    continue
                self._codec.skip_frame = "DEFAULT" if wanted() else "NONREF"
                frames = self._codec.decode(packet)
                if not frames or not wanted():
                    return True, None
                self.last_time_s = frames[-1].time
                return True, frames[-1].to_ndarray(format="bgr24")
        except (av.FFmpegError, OSError, EOFError) as error:
            log.debug("stream read failed: %s", type(error).__name__)  # its text may hold the URL's password
        return False, None

    def release(self) -> None:
        self._container.close()


def _pyav_options(url: str) -> dict[str, str]:
    return {"rtsp_transport": "tcp"} if url.startswith("rtsp") else {}


def why_not_open(error: Exception, timeout_s: float) -> str:
    """What an operator can act on, named from the FFmpeg error of a failed open (never its text: it may hold
    the URL's password)."""
    if isinstance(error, av.error.HTTPUnauthorizedError):
        return "it refused the user name or password (HTTP 401)"
    if isinstance(error, av.error.HTTPForbiddenError):
        return "it refused access for this user (HTTP 403)"
    if isinstance(error, av.error.HTTPNotFoundError):
        return "it has no stream at that path (HTTP 404)"
    if isinstance(error, av.error.HTTPClientError | av.error.HTTPServerError):
        return "it answered with an HTTP error"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused (nothing listens at that address and port)"
    if isinstance(error, av.error.ExitError | TimeoutError):
        return f"no answer within {timeout_s:g} s"
    if isinstance(error, IndexError):
        return "it sends no video stream"
    return "unreachable, or not a video stream"


def _host_resolves(url: str) -> bool:
    host = urllib.parse.urlsplit(url).hostname
    if not host:
        return True
    try:
        socket.getaddrinfo(host, None)
    except (socket.gaierror, UnicodeError):
        return False
    return True


def answers(url: str, timeout_s: float) -> str | None:
    """None when the stream at ``url`` answers with a video stream within ``timeout_s``, asked through PyAV;
    else why not (:func:`why_not_open`).

    OpenCV's FFmpeg backend opens one stream at a time in a process (a global lock held through the whole
    open): a camera that takes the connection and never answers would hold every other camera's connect
    and reconnect for the full open timeout, and each camera's open waits for the ones before it (about
    0.9 s each on a live MPEG-TS stream). PyAV opens in parallel, so OpenCV only ever opens a stream that
    has just answered. Only the first packets are probed (about 0.5 s on live MPEG-TS).
    """
    options = {**_pyav_options(url), "probesize": "32768", "analyzeduration": "0"}
    try:
        with av.open(url, options=options, timeout=(timeout_s, timeout_s)) as container:
            return None if container.streams.video else why_not_open(IndexError(), timeout_s)
    except (av.FFmpegError, OSError, EOFError) as error:
        reason = why_not_open(error, timeout_s)
        if reason.startswith("unreachable") and not _host_resolves(url):  # FFmpeg says only "I/O error"
            return f"the host name {urllib.parse.urlsplit(url).hostname!r} does not resolve"
        return reason


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
        decoder: Literal["opencv", "pyav"] = "opencv",
    ) -> None:
        """``decoder``: how a stream URL is read (a USB index always through OpenCV): ``opencv`` decodes every
        frame (``grab``); ``pyav`` skips the frames no other frame needs while none is due."""
        self.camera_id = camera_id
        self.decoder = decoder
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

    def _open(self) -> Capture | str:
        """The stream opened, or why it cannot be (unreachable, refused, a wrong password, not a video)."""
        timeout_s = self._reconnect.open_timeout_s
        if isinstance(self.target, int):
            capture = cv2.VideoCapture(self.target)
            if capture.isOpened():
                return OpenCVCapture(capture)
            capture.release()
            return "no such USB camera, or it is in use"
        if self.decoder == "opencv":
            if (reason := answers(self.target, timeout_s)) is not None:
                return reason
            timeout_ms = int(timeout_s * 1000)
            params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, timeout_ms, cv2.CAP_PROP_READ_TIMEOUT_MSEC, timeout_ms]
            capture = cv2.VideoCapture(self.target, cv2.CAP_FFMPEG, params)
            if capture.isOpened():
                return OpenCVCapture(capture)
            capture.release()
            return "OpenCV could not open the stream that PyAV could"
        try:
            return PyAVCapture(self.target, timeout_s, timeout_s)
        except (av.FFmpegError, OSError, IndexError, EOFError) as error:
            return why_not_open(error, timeout_s)

    def _read_loop(self, generation: int) -> None:
        failures = 0
        while self._current(generation):
            capture = self._open()
            if isinstance(capture, str):
                failures += 1
                self._down(f"cannot connect to {self._describe()}: {capture}", failures, generation)
                continue
            failures = 0
            self._up_since = time.monotonic()
            self.health.update(state=SourceState.UP, last_error=None)
            log.info("camera %s: connected to %s", self.camera_id, self._describe())
            reason = "stopped"
            while self._current(generation):
                alive, image = capture.read(self._wanted)
                if not alive:
                    reason = f"stream from {self._describe()} ended or failed to decode"
                    break
                index, self._index = self._index, self._index + 1
                if image is None:
                    self.health.count(read=1, dropped=1)
                    continue
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
            frame_age = snapshot.last_frame_age_s
            up_for = time.monotonic() - self._up_since
            age = up_for if frame_age is None else min(frame_age, up_for)
            if snapshot.state == SourceState.UP and age > limit:
                reason = f"no frame for {age:.0f} s from {self._describe()} (stalled)"
                log.warning("camera %s: %s; reconnecting", self.camera_id, reason)
                self.health.update(state=SourceState.STALLED, last_error=reason)
                self.health.count(reconnects=1)
                self._spawn_reader()

    def _describe(self) -> str:
        if isinstance(self.target, int):
            return f"USB camera {self.target}"
        return redact(self.target)


def redact(url: str) -> str:
    """Hide a password in ``scheme://user:password@host`` so logs and health never show it."""
    scheme, sep, rest = url.partition("://")
    if sep and "@" in rest.split("/", 1)[0]:
        credentials, _, host = rest.partition("@")
        return f"{scheme}://{credentials.split(':', 1)[0]}:***@{host}"
    return url
