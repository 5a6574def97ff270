"""Verdict policies: how one finished track's collected evidence becomes one outcome.

The tracker collects, per track, the vote weight of each outcome and how long and how large the
track was (:class:`TrackEvidence`); a :class:`VerdictPolicy` turns that into an outcome and the
winning share. The tracker takes its policy as a part, so another rule (a stricter vote, a
relation between two objects) is a new policy, not a new branch in the tracker.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from vision.outcome import Outcome


@dataclass(frozen=True)
class TrackEvidence:
    """What one track collected: vote weight per outcome, frames seen, largest box short side (px), and
    the objects linked to it: ``vehicle_track_id``, the two-wheeler track it rode (None: none, or the
    camera does not link riders); ``attributes``, per attribute class (``cell_phone``), the frames in
    which such a box was linked to it."""

    weights: Mapping[Outcome, float]
    frames: int
    max_size_px: float
    vehicle_track_id: int | None = None
    attributes: Mapping[str, int] = field(default_factory=dict)


class VerdictPolicy(Protocol):
    """Evidence of one track in, ``(outcome, share of the vote it won in [0, 1])`` out."""

    def decide(self, evidence: TrackEvidence) -> tuple[Outcome, float]: ...


@dataclass(frozen=True)
class WeightedVote:
    """The confidence-weighted vote: the outcome with most weight wins.

    Tracks seen in fewer than ``min_frames`` frames, or never at a short side of ``min_size_px``
    or more, or never judged, are undetermined. Ties go to non-compliant: a verdict we cannot
    separate is not evidence of compliance.
    """

    min_frames: int
    min_size_px: float

    def decide(self, evidence: TrackEvidence) -> tuple[Outcome, float]:
        judged = {
            outcome: weight
            for outcome, weight in evidence.weights.items()
            if outcome in (Outcome.COMPLIANT, Outcome.NON_COMPLIANT)
        }
        total = sum(judged.values())
        if evidence.frames < self.min_frames or evidence.max_size_px < self.min_size_px or total <= 0:
            return Outcome.UNDETERMINED, 0.0
        outcome = max(judged, key=lambda o: (judged[o], o is Outcome.NON_COMPLIANT))
        return outcome, judged[outcome] / total


@dataclass(frozen=True)
class AttributeSeen:
    """The presence rule of an attribute category (phone use): a subject with ``attribute`` linked in at least
    ``min_linked_frames`` of its frames, and at least ``min_share`` of them, is non-compliant; one seen long and
    large enough without it is compliant (the share is that of frames without it). One frame's box is not enough:
    a phone detector's single false positive on a hand or a mirror would ticket the rider.

    Tracks seen in fewer than ``min_frames`` frames or never at ``min_size_px`` are undetermined, as in the vote.
    """

    attribute: str
    min_frames: int
    min_size_px: float
    min_linked_frames: int = 2
    min_share: float = 0.2

    def decide(self, evidence: TrackEvidence) -> tuple[Outcome, float]:
        if evidence.frames < self.min_frames or evidence.max_size_px < self.min_size_px:
            return Outcome.UNDETERMINED, 0.0
        share = evidence.attributes.get(self.attribute, 0) / evidence.frames
        if evidence.attributes.get(self.attribute, 0) >= self.min_linked_frames and share >= self.min_share:
            return Outcome.NON_COMPLIANT, share
        return Outcome.COMPLIANT, 1.0 - share


@dataclass(frozen=True)
class RidersOnly:
    """The rider rule as a policy: a subject that rode no moving two-wheeler is ``NON_RIDER`` (counted
    apart from the rate); a rider's verdict is ``inner``'s. A camera that counts riders only
    (``cameras[].riders_only``) wraps its vote in it."""

    inner: VerdictPolicy

    def decide(self, evidence: TrackEvidence) -> tuple[Outcome, float]:
        if evidence.vehicle_track_id is None:
            return Outcome.NON_RIDER, 0.0
        return self.inner.decide(evidence)
