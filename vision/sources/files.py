"""Frames from files on disk: one image, a folder of images, or a video file.

Files are replayed, not watched: every frame (or every n-th, or those due at ``detect_fps`` on
the video's own timeline) in order, with no drops, so a run over the same file always gives the
same observations. A bounded queue makes the reader wait for the detector instead of dropping.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from vision.errors import VisionError
from vision.sources.base import Frame, FrameAnalyser, SourceHealth, SourceState

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"})
VIDEO_SUFFIXES = frozenset({".mp4", ".avi", ".mkv", ".mov", ".webm", ".m4v", ".mpg", ".mpeg", ".ts"})


@dataclass(frozen=True, eq=False)
class FileFrame:
    """One decoded frame: ``image`` is ``(H, W, 3) uint8`` BGR; ``time_s`` is the video timeline (None for images)."""

    source: str
    index: int
    time_s: float | None
    image: npt.NDArray[np.uint8]


def is_video(path: Path) -> bool:
    return path.suffix.lower() in VIDEO_SUFFIXES


def image_files(folder: Path) -> list[Path]:
    """Image files directly inside ``folder``, in name order."""
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def read_image(path: Path) -> npt.NDArray[np.uint8]:
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise VisionError(f"cannot decode image {path} (corrupt or not an image)")
    return image


def open_video(path: Path) -> cv2.VideoCapture:
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        capture.release()
        raise VisionError(f"cannot open video {path} (missing codec, corrupt or not a video)")
    return capture


def iter_video(path: Path, wanted: Callable[[int, float], bool] | None = None) -> Iterator[FileFrame]:
    """Frames of a video file in order, timed by the container's own timestamps (seconds).

    ``wanted(index, time_s)`` is asked for each frame once its packet is decoded (``grab``) and
    before its pixels are converted (``retrieve``): a frame it refuses costs the decode only (1080p
    H.264: 1.3x less than ``read()``, ``scripts/bench_capacity.py decode``). Without it every frame comes.
    """
    capture = open_video(path)
    fps = capture.get(cv2.CAP_PROP_FPS) or 0.0
    try:
        index = 0
        while capture.grab():
            position_s = capture.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
            if position_s <= 0 and index > 0 and fps > 0:  # some containers report no position
                position_s = index / fps
            if wanted is None or wanted(index, position_s):
                ok, image = capture.retrieve()
                if not ok or image is None:
                    raise VisionError(f"video {path}: frame {index} could not be decoded")
                yield FileFrame(path.name, index, position_s, image)
            index += 1
        if index == 0:
            raise VisionError(f"video {path} has no decodable frame")
    finally:
        capture.release()


def check_input(path: Path) -> None:
    """Raise :class:`VisionError` unless ``path`` is an image, a video or a folder (by its suffix)."""
    if not path.exists():
        raise VisionError(f"input not found: {path}")
    if not path.is_dir() and not is_video(path) and path.suffix.lower() not in IMAGE_SUFFIXES:
        raise VisionError(f"{path}: not an image, a video or a folder (by its suffix)")


def iter_path(path: Path) -> Iterator[FileFrame]:
    """Frames of an image, a folder of images, or a video."""
    check_input(path)
    if path.is_dir():
        files = image_files(path)
        if not files:
            raise VisionError(f"no images ({', '.join(sorted(IMAGE_SUFFIXES))}) in folder {path}")
        for index, file in enumerate(files):
            yield FileFrame(file.name, index, None, read_image(file))
    elif is_video(path):
        yield from iter_video(path)
    else:
        yield FileFrame(path.name, 0, None, read_image(path))


class FileSource:
    """Replays a video file or an image folder as one camera.

    Frames are those due at ``detect_fps`` on the file's timeline (images in a folder are
    ``1 / detect_fps`` apart), or every ``every_nth`` frame when that is set. Times are
    ``start_time`` plus the file's own offset. A file that cannot be read marks the source
    ``failed`` with the reason; the other cameras carry on.
    """

    QUEUE_SIZE = 8

    def __init__(
        self,
        camera_id: str,
        path: Path,
        detect_fps: float,
        start_time: datetime,
        frame_ready: threading.Event,
        every_nth: int | None = None,
        analyse: FrameAnalyser | None = None,
    ) -> None:
        if start_time.tzinfo is None:
            raise ValueError("start_time must be zone-aware")
        self.camera_id = camera_id
        self.path = path
        self.health = SourceHealth()
        self._period = 1.0 / detect_fps
        self._every_nth = every_nth
        self._analyse = analyse
        self._start_time = start_time
        self._frame_ready = frame_ready
        self._queue: queue.Queue[Frame | None] = queue.Queue(maxsize=self.QUEUE_SIZE)
        self._stop = threading.Event()
        self._done = False
        self._thread: threading.Thread | None = None
        self._next_due = 0.0  # seconds on the file's timeline; advanced by the reader thread only
        self._total = self._count_due_frames()

    def _count_due_frames(self) -> int | None:
        if self.path.is_dir():
            return len(image_files(self.path))
        capture = cv2.VideoCapture(str(self.path))
        try:
            frames, fps = capture.get(cv2.CAP_PROP_FRAME_COUNT), capture.get(cv2.CAP_PROP_FPS)
        finally:
            capture.release()
        if frames <= 0:
            return None
        if self._every_nth:
            return int(-(-frames // self._every_nth))
        return int(frames / fps / self._period) + 1 if fps > 0 else None

    @property
    def total_frames(self) -> int | None:
        return self._total

    @property
    def finished(self) -> bool:
        return self._done

    def start(self) -> None:
        self._thread = threading.Thread(target=self._read_all, name=f"source-{self.camera_id}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def poll(self) -> Frame | None:
        try:
            frame = self._queue.get_nowait()
        except queue.Empty:
            return None
        if frame is None:
            self._done = True
        return frame

    def _raw_frames(self) -> Iterator[tuple[int, float, npt.NDArray[np.uint8]]]:
        """The due frames only: a frame that is not due is counted as read and never converted."""
        if self.path.is_dir():
            files = image_files(self.path)
            if not files:
                raise VisionError(f"no images in folder {self.path}")
            for index, file in enumerate(files):
                if not self._take(index, index * self._period):
                    continue
                try:
                    image = read_image(file)
                except VisionError as error:  # one bad image must not end the folder
                    log.error("camera %s: %s; skipped", self.camera_id, error)
                    self.health.update(last_error=f"{error}; skipped")
                    continue
                yield index, index * self._period, image
        elif self.path.is_file():
            for frame in iter_video(self.path, self._take):
                yield frame.index, frame.time_s or 0.0, frame.image
        else:
            raise VisionError(f"source not found: {self.path}")

    def _take(self, index: int, offset_s: float) -> bool:
        """Whether frame ``index`` at ``offset_s`` on the file's timeline is due (and count it read)."""
        self.health.count(read=1, dropped=0)
        if self._every_nth:
            return index % self._every_nth == 0
        if offset_s + 1e-6 < self._next_due:
            return False
        while self._next_due <= offset_s + 1e-6:
            self._next_due += self._period
        return True

    def _put(self, item: Frame | None) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.2)
            except queue.Full:
                continue
            self._frame_ready.set()
            return True
        return False

    def _read_all(self) -> None:
        try:
            self.health.update(state=SourceState.UP)
            for index, offset_s, image in self._raw_frames():
                self.health.count(converted=1)
                if self._analyse is not None:
                    self._analyse(index, image)
                frame = Frame(self.camera_id, index, self._start_time + timedelta(seconds=offset_s), image)
                if not self._put(frame):
                    return
            self.health.update(state=SourceState.FINISHED)
        except VisionError as error:
            log.error("camera %s: %s", self.camera_id, error)
            self.health.update(state=SourceState.FAILED, last_error=str(error))
        except cv2.error as error:
            reason = f"decoder error in {self.path}: {str(error).strip().splitlines()[-1]}"
            log.error("camera %s: %s", self.camera_id, reason)
            self.health.update(state=SourceState.FAILED, last_error=reason)
        finally:
            self._put(None)
