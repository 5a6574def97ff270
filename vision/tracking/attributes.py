"""Which person an attribute box (a phone) belongs to: the head whose reach holds it.

A phone in use while riding is at the ear, or in a hand in front of the chest or on the handlebar: beside the
head, or below it down to about three head heights. Each attribute box goes to at most one head, the nearest
whose reach holds its centre, so one phone never counts for a driver and a passenger both.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

# A head's reach, in its own widths across (each side) and heights down (and up, a phone raised to the ear).
REACH_ACROSS = 1.0
REACH_DOWN = 3.0
REACH_UP = 0.25


def attribute_reach(heads: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """``(H, 4)`` head boxes (xyxy, px) -> ``(H, 4)`` where an attribute of each can be."""
    widths, heights = heads[:, 2] - heads[:, 0], heads[:, 3] - heads[:, 1]
    return np.stack(
        [
            heads[:, 0] - REACH_ACROSS * widths,
            heads[:, 1] - REACH_UP * heights,
            heads[:, 2] + REACH_ACROSS * widths,
            heads[:, 3] + REACH_DOWN * heights,
        ],
        axis=1,
    ).astype(np.float32)


def owners(heads: npt.NDArray[np.float32], attributes: npt.NDArray[np.float32]) -> npt.NDArray[np.intp]:
    """``(A,)`` the index in ``heads (H, 4)`` each of ``attributes (A, 4)`` belongs to, or -1 (no head reaches it)."""
    if not len(heads) or not len(attributes):
        return np.full(len(attributes), -1, dtype=np.intp)
    reach = attribute_reach(heads)
    centres = np.stack([(attributes[:, 0] + attributes[:, 2]) / 2, (attributes[:, 1] + attributes[:, 3]) / 2], axis=1)
    inside = (
        (centres[:, None, 0] >= reach[None, :, 0])
        & (centres[:, None, 0] <= reach[None, :, 2])
        & (centres[:, None, 1] >= reach[None, :, 1])
        & (centres[:, None, 1] <= reach[None, :, 3])
    )
    head_centres = np.stack([(heads[:, 0] + heads[:, 2]) / 2, (heads[:, 1] + heads[:, 3]) / 2], axis=1)
    sizes = np.maximum(heads[:, 3] - heads[:, 1], 1.0)
    distance = np.linalg.norm(centres[:, None, :] - head_centres[None, :, :], axis=2) / sizes[None, :]
    distance = np.where(inside, distance, np.inf)
    nearest = np.argmin(distance, axis=1)
    return np.where(np.isfinite(distance[np.arange(len(attributes)), nearest]), nearest, -1).astype(np.intp)
