"""The second data type that leaves the tracking stage: one two-wheeler's trip and who rode it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from vision.outcome import Outcome


@dataclass(frozen=True)
class Trip:
    """One moving two-wheeler track that carried at least one rider: the unit a ticket is written for.

    Attributes:
        started_at, ended_at: time zone-aware times of the vehicle track's first and last sighting.
        vehicle_track_id: the two-wheeler's track id (the ``vehicle_track_id`` of its riders' observations).
        riders: the most heads seen riding it at once (the driver and any passengers; a head lost and
            found again as another track is still one person, ``vision.tracking.riders.most_together``).
        compliant, non_compliant, undetermined: those riders' verdicts, each from the head tracks joined
            into one person (``join_pieces``); they add up to ``riders``.
        key: the store's idempotency key, chosen when the trip ends (not part of equality).
    """

    camera_id: str
    site_id: str
    category: str
    vehicle_track_id: int
    started_at: datetime
    ended_at: datetime
    riders: int
    compliant: int
    non_compliant: int
    undetermined: int
    key: str = field(default_factory=lambda: uuid.uuid4().hex, compare=False)

    @property
    def outcome(self) -> Outcome:
        """Per vehicle: non-compliant when any rider was judged non-compliant (one ticket), compliant when
        every rider was judged compliant, else undetermined (a rider nobody could judge)."""
        if self.non_compliant:
            return Outcome.NON_COMPLIANT
        if self.riders and self.compliant == self.riders:
            return Outcome.COMPLIANT
        return Outcome.UNDETERMINED

    @property
    def carrying_passengers(self) -> bool:
        """Two or more riders on one two-wheeler."""
        return self.riders >= 2
