"""The one data type that leaves the tracking stage: a verdict on one person."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from vision.evidence.capture import BestView
from vision.outcome import Outcome


@dataclass(frozen=True)
class Observation:
    """One finished track and its verdict.

    Attributes:
        started_at, ended_at: time zone-aware times of the track's first and last detection.
        outcome: the confidence-weighted vote of its detections, or ``UNDETERMINED`` when the
            track was too short, too small, or never judged.
        frames: detections the track collected.
        mean_confidence: mean detector score over those detections, in [0, 1].
        vote_share: the winning outcome's share of the vote weight, in [0, 1] (0 if undetermined).
        max_size_px: the largest box short side seen, pixels.
        zone: the zone its anchor lay in most often, or None when the camera has no zones.
        vehicle_track_id: the two-wheeler track this head rode (same camera and run), or None
            when the camera does not link riders or the head rode nothing.
        riders_on_vehicle: how many head tracks rode that vehicle (2 or more: a passenger), or None.
        key: a random id, chosen when the track ends: the store's idempotency key, so a write
            retried from a spool after an unknown outcome is stored once. Not part of equality.
        evidence: its best detection (a reference to that frame), when the camera keeps evidence:
            the evidence writer makes the crop and snapshot from it; it never reaches the store.
    """

    camera_id: str
    site_id: str
    category: str
    track_id: int
    started_at: datetime
    ended_at: datetime
    outcome: Outcome
    frames: int
    mean_confidence: float
    vote_share: float
    max_size_px: float
    zone: str | None = None
    vehicle_track_id: int | None = None
    riders_on_vehicle: int | None = None
    key: str = field(default_factory=lambda: uuid.uuid4().hex, compare=False)
    evidence: BestView | None = field(default=None, compare=False, repr=False)
