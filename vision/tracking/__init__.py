"""Tracking stage: per-frame detections in, one :class:`Observation` per finished track out.

Why tracks and not frames: counting frames weights each person by how long they stand in view;
the rate it yields is not the share of people who comply.
"""

from vision.tracking.observation import Observation
from vision.tracking.tracker import VerdictTracker

__all__ = ["Observation", "VerdictTracker"]
