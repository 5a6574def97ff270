"""Frames from files on disk: one image, a folder of images, or a video file."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from vision.errors import VisionError

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


def iter_video(path: Path) -> Iterator[FileFrame]:
    """Every frame of a video file in order, timed by the container's own timestamps."""
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise VisionError(f"cannot open video {path} (missing codec, corrupt or not a video)")
    try:
        index = 0
        while True:
            ok, image = capture.read()
            if not ok:
                break
            yield FileFrame(path.name, index, capture.get(cv2.CAP_PROP_POS_MSEC) / 1000.0, image)
            index += 1
        if index == 0:
            raise VisionError(f"video {path} has no decodable frame")
    finally:
        capture.release()


def iter_path(path: Path) -> Iterator[FileFrame]:
    """Frames of an image, a folder of images, or a video."""
    if not path.exists():
        raise VisionError(f"input not found: {path}")
    if path.is_dir():
        files = image_files(path)
        if not files:
            raise VisionError(f"no images ({', '.join(sorted(IMAGE_SUFFIXES))}) in folder {path}")
        for index, file in enumerate(files):
            yield FileFrame(file.name, index, None, read_image(file))
    elif is_video(path):
        yield from iter_video(path)
    elif path.suffix.lower() in IMAGE_SUFFIXES:
        yield FileFrame(path.name, 0, None, read_image(path))
    else:
        raise VisionError(f"{path}: not an image, a video or a folder (by its suffix)")
