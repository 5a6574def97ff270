"""The one data type that leaves the detector stage."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True, eq=False)
class Detections:
    """Objects found in one frame.

    Attributes:
        xyxy: ``(N, 4) float32`` box corners ``x1, y1, x2, y2`` in pixels of the source frame.
        scores: ``(N,) float32`` confidence in ``[0, 1]``.
        class_ids: ``(N,) int32`` indices into ``class_names``.
        class_names: the model's full class list (not one entry per detection).

    Boolean or integer indexing returns a new ``Detections``::

        confident = detections[detections.scores > 0.5]
    """

    xyxy: npt.NDArray[np.float32]
    scores: npt.NDArray[np.float32]
    class_ids: npt.NDArray[np.int32]
    class_names: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        xyxy = np.asarray(self.xyxy, dtype=np.float32).reshape(-1, 4)
        scores = np.asarray(self.scores, dtype=np.float32).reshape(-1)
        class_ids = np.asarray(self.class_ids, dtype=np.int32).reshape(-1)
        if not (len(xyxy) == len(scores) == len(class_ids)):
            raise ValueError(
                f"Detections arrays disagree in length: xyxy {len(xyxy)}, scores {len(scores)}, "
                f"class_ids {len(class_ids)}"
            )
        if len(class_ids) and self.class_names and int(class_ids.max()) >= len(self.class_names):
            raise ValueError(f"class id {int(class_ids.max())} out of range for {len(self.class_names)} class names")
        for name, value in (("xyxy", xyxy), ("scores", scores), ("class_ids", class_ids)):
            value.setflags(write=False)
            object.__setattr__(self, name, value)
        object.__setattr__(self, "class_names", tuple(self.class_names))

    @classmethod
    def empty(cls, class_names: Sequence[str] = ()) -> Detections:
        return cls(
            xyxy=np.zeros((0, 4), np.float32),
            scores=np.zeros(0, np.float32),
            class_ids=np.zeros(0, np.int32),
            class_names=tuple(class_names),
        )

    @classmethod
    def concatenated(cls, parts: Sequence[Detections], class_names: Sequence[str]) -> Detections:
        """One :class:`Detections` holding every box of ``parts`` (of the same class list, ``class_names``)."""
        if not parts:
            return cls.empty(class_names)
        return cls(
            np.concatenate([part.xyxy for part in parts]),
            np.concatenate([part.scores for part in parts]),
            np.concatenate([part.class_ids for part in parts]),
            tuple(class_names),
        )

    def __len__(self) -> int:
        return len(self.scores)

    def __getitem__(self, index: npt.ArrayLike | slice) -> Detections:
        selector = index if isinstance(index, slice) else np.asarray(index)
        return Detections(
            xyxy=self.xyxy[selector],
            scores=self.scores[selector],
            class_ids=self.class_ids[selector],
            class_names=self.class_names,
        )

    @property
    def labels(self) -> list[str]:
        """Class name of each detection, ``(N,)``."""
        return [self.class_names[i] for i in self.class_ids]

    @property
    def areas(self) -> npt.NDArray[np.float32]:
        """Box areas in square pixels, ``(N,)``."""
        return (self.xyxy[:, 2] - self.xyxy[:, 0]) * (self.xyxy[:, 3] - self.xyxy[:, 1])

    def to_records(self) -> list[dict[str, object]]:
        """JSON-ready list: ``[{"xyxy": [x1, y1, x2, y2], "score": s, "class_id": c, "class_name": n}]``."""
        return [
            {
                "xyxy": [round(float(v), 2) for v in box],
                "score": round(float(score), 5),
                "class_id": int(class_id),
                "class_name": self.class_names[class_id] if self.class_names else str(class_id),
            }
            for box, score, class_id in zip(self.xyxy, self.scores, self.class_ids, strict=True)
        ]
