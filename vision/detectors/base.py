"""What every detector backend offers: its model's description and one batched ``detect`` call."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from vision.detectors.detections import Detections
from vision.outcome import Outcome

Frame = npt.NDArray[np.uint8]
"""One image: ``(H, W, 3) uint8`` in OpenCV's BGR order."""


class Category(StrEnum):
    """What a detector measures."""

    HELMET = "helmet"
    MASK = "mask"


@dataclass(frozen=True)
class ModelInfo:
    """A loaded model's identity and the meaning of its classes.

    ``outcomes`` maps each of ``class_names`` to a verdict; classes it does not name are
    ``UNDETERMINED``.
    """

    name: str
    class_names: tuple[str, ...]
    category: Category | None = None
    outcomes: Mapping[str, Outcome] | None = None
    input_size: int | None = None

    def outcome_of(self, class_name: str) -> Outcome:
        return (self.outcomes or {}).get(class_name, Outcome.UNDETERMINED)


@runtime_checkable
class Detector(Protocol):
    """A detector backend: frames in, one :class:`Detections` per frame out, in order."""

    @property
    def info(self) -> ModelInfo: ...

    def detect(self, frames: Sequence[Frame]) -> list[Detections]: ...
