"""What every detector backend offers: its model's description and one batched ``detect`` call."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from vision.categories import Category
from vision.detectors.detections import Detections
from vision.outcome import Outcome

Frame = npt.NDArray[np.uint8]
"""One image: ``(H, W, 3) uint8`` in OpenCV's BGR order."""


@dataclass(frozen=True)
class ModelInfo:
    """A loaded model's identity and the meaning of its classes.

    ``outcomes`` maps each of ``class_names`` to a verdict; classes it does not name are
    ``UNDETERMINED``. ``conf`` is the score at which the detector reports a box and
    ``class_conf`` the classes whose operating threshold differs from it (a detector with
    count-matched thresholds reports a rare class at a lower score than a common one).
    """

    name: str
    class_names: tuple[str, ...]
    category: Category | None = None
    outcomes: Mapping[str, Outcome] | None = None
    input_size: int | None = None
    conf: float | None = None
    class_conf: Mapping[str, float] | None = None
    native_frame_height: int | None = None  # the spec's: tiles of lower-resolution frames are magnified

    def outcome_of(self, class_name: str) -> Outcome:
        return (self.outcomes or {}).get(class_name, Outcome.UNDETERMINED)

    @cached_property
    def _operating_thresholds(self) -> npt.NDArray[np.float64] | None:
        """``(len(class_names),)`` per-class thresholds, or None when there is nothing to rescale."""
        if not self.class_conf or self.conf is None or not 0.0 < self.conf < 1.0:
            return None
        thresholds = [self.class_conf.get(name, self.conf) for name in self.class_names]
        return np.clip(np.array(thresholds, dtype=np.float64), 1e-6, 1.0 - 1e-6)

    def comparable_scores(
        self, scores: npt.NDArray[np.floating], class_ids: npt.NDArray[np.integer]
    ) -> npt.NDArray[np.float64]:
        """``(N,)`` scores -> ``(N,)`` scores on one scale for every class, in ``[0, 1]``.

        Each class's score is mapped piecewise-linearly so that its operating threshold lands on
        ``conf`` (and 0 -> 0, 1 -> 1). Downstream thresholds and weights (a tracker's activation
        score, a vote between classes) then treat a box just above its own class's threshold alike
        for every class, instead of undoing per-class thresholds by favouring the class that
        scores high. Identity when the model has no per-class thresholds.
        """
        wide: npt.NDArray[np.float64] = np.asarray(scores, dtype=np.float64)
        thresholds = self._operating_thresholds
        if thresholds is None or self.conf is None:
            return wide
        operating = thresholds[np.asarray(class_ids, dtype=np.intp)]
        below = wide * self.conf / operating
        above = self.conf + (wide - operating) * (1.0 - self.conf) / (1.0 - operating)
        return np.clip(np.where(wide < operating, below, above), 0.0, 1.0).astype(np.float64)


@runtime_checkable
class Detector(Protocol):
    """A detector backend: frames in, one :class:`Detections` per frame out, in order."""

    @property
    def info(self) -> ModelInfo: ...

    def detect(self, frames: Sequence[Frame], input_size: int | None = None) -> list[Detections]:
        """``input_size``: the long side of the network input for this call (default the spec's); a
        backend with a fixed input size ignores it. The rider crops of ``detection.mode: riders``
        use it to run small crops at their own scale instead of magnifying every one to the input."""
        ...
