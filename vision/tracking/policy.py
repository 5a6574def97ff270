"""Verdict policies: how one finished track's collected evidence becomes one outcome.

The tracker collects, per track, the vote weight of each outcome and how long and how large the
track was (:class:`TrackEvidence`); a :class:`VerdictPolicy` turns that into an outcome and the
winning share. The tracker takes its policy as a part, so another rule (a stricter vote, a
relation between two objects) is a new policy, not a new branch in the tracker.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from vision.outcome import Outcome


@dataclass(frozen=True)
class TrackEvidence:
    """What one track collected: vote weight per outcome, frames seen, largest box short side (px), and
    the objects linked to it: ``vehicle_track_id``, the two-wheeler track it rode (None: none, or the
    camera does not link riders)."""

    weights: Mapping[Outcome, float]
    frames: int
    max_size_px: float
    vehicle_track_id: int | None = None


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
class RidersOnly:
    """The rider rule as a policy: a subject that rode no moving two-wheeler is ``NON_RIDER`` (counted
    apart from the rate); a rider's verdict is ``inner``'s. A camera that counts riders only
    (``cameras[].riders_only``) wraps its vote in it."""

    inner: VerdictPolicy

    def decide(self, evidence: TrackEvidence) -> tuple[Outcome, float]:
        if evidence.vehicle_track_id is None:
            return Outcome.NON_RIDER, 0.0
        return self.inner.decide(evidence)
