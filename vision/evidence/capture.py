"""What an observation keeps to be checked by a person: the best crop of its track and one snapshot.

The crop is the track's highest-scoring detection with a margin, at the camera's resolution; the
snapshot is that frame, downscaled, with the judged box drawn. **Nobody but the judged person is
recognisable** in either: everything outside the judged head (grown by ``BLUR_GROWTH``) is
obscured (:func:`obscure_outside`: a coarse mosaic of ``BACKGROUND_CELLS`` cells across the image,
smoothed), so the scene's layout stays for the reviewer while no bystander's face does, found by
the detector or not (an earlier version pixelated only the heads the detector had found and left
people standing beside the scooters recognisable). Where the category asks (masks) the judged
face is pixelated too. Pixelation (a mosaic of ``MOSAIC_CELLS`` cells across the box, then
smoothed) is chosen over a Gaussian blur, which can leave a large face recognisable. Measured with
a face detector at a low threshold on written snapshots: ``scripts/privacy_check.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

MOSAIC_CELLS = 5  # cells across a blurred head: its outline stays, its features are gone
BACKGROUND_CELLS = 24  # cells across the whole image outside the judged head: people, not faces
BLUR_GROWTH = 0.25  # each blurred box grows by this share per side: hair, ears, chin
JUDGED_COLOUR = (0, 200, 255)  # BGR


@dataclass(frozen=True)
class CaptureSettings:
    """How a camera's tracker keeps evidence: ``margin`` a share of the box, ``snapshot_width`` px."""

    margin: float
    snapshot_width: int
    blur_judged: bool


@dataclass(frozen=True)
class BestView:
    """A track's best detection so far, by reference: no pixel is copied on the detector thread.

    ``frame`` is the source's frame array (never written to afterwards), ``boxes (N, 4)`` every
    head/face box of that frame (xyxy px), ``judged`` the track's box among them. The evidence
    writer turns it into :class:`Evidence` (:func:`capture`) on its own thread.
    """

    frame: np.ndarray
    boxes: np.ndarray
    judged: int
    score: float

    def capture(self, settings: CaptureSettings) -> Evidence:
        return capture(
            self.frame,
            self.boxes,
            self.judged,
            self.score,
            margin=settings.margin,
            snapshot_width=settings.snapshot_width,
            blur_judged=settings.blur_judged,
        )


@dataclass(frozen=True)
class Evidence:
    """The pixels kept for one observation (BGR ``uint8``).

    Attributes:
        crop: ``(h, w, 3)`` the best detection of the track with ``margin`` around it.
        snapshot: ``(H, W, 3)`` its whole frame, at most ``snapshot_width`` wide, others pixelated.
        score: that detection's comparable score, in [0, 1].
    """

    crop: np.ndarray
    snapshot: np.ndarray
    score: float


def _grown(box: np.ndarray, share: float, width: int, height: int) -> tuple[int, int, int, int]:
    x1, y1, x2, y2 = (float(v) for v in box)
    dx, dy = (x2 - x1) * share, (y2 - y1) * share
    return (
        max(0, int(x1 - dx)),
        max(0, int(y1 - dy)),
        min(width, int(np.ceil(x2 + dx))),
        min(height, int(np.ceil(y2 + dy))),
    )


def pixelate(image: np.ndarray, boxes: np.ndarray) -> None:
    """Pixelate ``boxes (N, 4)`` xyxy px of ``image`` in place, each grown by ``BLUR_GROWTH``."""
    height, width = image.shape[:2]
    for box in boxes:
        x1, y1, x2, y2 = _grown(box, BLUR_GROWTH, width, height)
        if x2 - x1 < 2 or y2 - y1 < 2:
            continue
        region = image[y1:y2, x1:x2]
        cells = (MOSAIC_CELLS, max(1, round(MOSAIC_CELLS * (y2 - y1) / (x2 - x1))))
        small = cv2.resize(region, cells, interpolation=cv2.INTER_AREA)
        mosaic = cv2.resize(small, (x2 - x1, y2 - y1), interpolation=cv2.INTER_NEAREST)
        kernel = 2 * max(1, min(x2 - x1, y2 - y1) // MOSAIC_CELLS) + 1  # smooths the cells' edges away
        image[y1:y2, x1:x2] = cv2.GaussianBlur(mosaic, (kernel, kernel), 0)


def obscure_outside(image: np.ndarray, keep: tuple[int, int, int, int]) -> None:
    """Obscure every pixel of ``image`` outside ``keep`` (x1, y1, x2, y2 px) in place: a mosaic of
    ``BACKGROUND_CELLS`` cells across the image, smoothed, so no face outside is recognisable."""
    height, width = image.shape[:2]
    x1, y1, x2, y2 = keep
    kept = image[y1:y2, x1:x2].copy()
    cell = max(2, width // BACKGROUND_CELLS)
    small = cv2.resize(image, (max(1, width // cell), max(1, height // cell)), interpolation=cv2.INTER_AREA)
    coarse = cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)
    kernel = 2 * (cell // 2) + 1
    image[:] = cv2.GaussianBlur(coarse, (kernel, kernel), 0)
    image[y1:y2, x1:x2] = kept


def _only_the_judged(image: np.ndarray, boxes: np.ndarray, judged: int, blur_judged: bool) -> None:
    """In place: everything outside the judged head (grown by ``BLUR_GROWTH``) obscured, every other
    head inside that margin pixelated too (a passenger's face next to the rider's), the judged head
    itself kept as it is (pixelated as well with ``blur_judged``)."""
    height, width = image.shape[:2]
    jx1, jy1, jx2, jy2 = _grown(boxes[judged], 0.0, width, height)
    judged_pixels = image[jy1:jy2, jx1:jx2].copy()
    obscure_outside(image, _grown(boxes[judged], BLUR_GROWTH, width, height))
    pixelate(image, np.delete(boxes, judged, axis=0))
    image[jy1:jy2, jx1:jx2] = judged_pixels  # a neighbour's grown box must not cover the face under review
    if blur_judged:
        pixelate(image, boxes[judged : judged + 1])


def capture(
    frame: np.ndarray,
    boxes: np.ndarray,
    judged: int,
    score: float,
    *,
    margin: float,
    snapshot_width: int,
    blur_judged: bool,
) -> Evidence:
    """Evidence of detection ``judged`` among ``boxes (N, 4)`` (every head/face box of ``frame``, xyxy px).

    In both the crop and the snapshot only the judged head (grown by ``BLUR_GROWTH``) stays sharp.
    """
    height, width = frame.shape[:2]
    x1, y1, x2, y2 = _grown(boxes[judged], margin, width, height)
    crop = frame[y1:y2, x1:x2].copy()
    local = boxes.astype(np.float32) - np.array([x1, y1, x1, y1], dtype=np.float32)
    _only_the_judged(crop, local, judged, blur_judged)
    scale = min(1.0, snapshot_width / width)
    snapshot = cv2.resize(frame, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA)
    scaled = boxes.astype(np.float32) * scale
    _only_the_judged(snapshot, scaled, judged, blur_judged)
    jx1, jy1, jx2, jy2 = _grown(scaled[judged], 0.0, snapshot.shape[1], snapshot.shape[0])
    cv2.rectangle(snapshot, (jx1 - 3, jy1 - 3), (jx2 + 2, jy2 + 2), JUDGED_COLOUR, 2)  # around it, not on it
    return Evidence(crop=crop, snapshot=snapshot, score=score)
