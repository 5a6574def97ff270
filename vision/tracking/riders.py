"""Riders only: link head tracks to the two-wheeler tracks they ride.

A head is a rider's when, over most of its frames, it sits on one two-wheeler track that moves.
Geometry, per frame (``Riders`` settings): the head's centre lies inside the vehicle's box widened
by ``margin`` × its width on each side and raised by ``above`` × its height (the rider sits on the
vehicle, the head above the vehicle box: the two-wheeler class boxes the vehicle alone, as COCO
does) and not below the vehicle box's middle. Over the track: one vehicle track holds at least
``min_share`` of the head's frames, and that vehicle moved at ``min_vehicle_speed_px_s`` or more
over its life (a parked bicycle beside a standing guard is not ridden).

Two or more heads linked to one vehicle are a rider and passengers; each observation records the
vehicle's track id and how many heads rode it.
"""

from __future__ import annotations

import math
from collections import Counter, OrderedDict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import numpy.typing as npt

from vision.categories import vehicle_class_names
from vision.config import Riders
from vision.detectors.detections import Detections

# Finished vehicle tracks remembered for heads that end after them (a head track can outlive its
# vehicle's by a few frames); the oldest are forgotten beyond this many.
REMEMBERED_VEHICLES = 512


@dataclass
class VehicleTrack:
    """One two-wheeler track's path: first and last anchor (px) and time."""

    first_seen: datetime
    last_seen: datetime
    first_anchor: tuple[float, float]
    last_anchor: tuple[float, float]
    frames: int = 1

    def speed_px_s(self) -> float:
        duration = (self.last_seen - self.first_seen).total_seconds()
        return math.dist(self.first_anchor, self.last_anchor) / duration if duration > 0 else 0.0


def ride_matrix(
    heads: npt.NDArray[np.float32], vehicles: npt.NDArray[np.float32], rule: Riders
) -> npt.NDArray[np.bool_]:
    """``(H, V)``: does head ``h`` (xyxy) sit on vehicle ``v`` (xyxy) in this frame."""
    if not len(heads) or not len(vehicles):
        return np.zeros((len(heads), len(vehicles)), dtype=bool)
    cx = ((heads[:, 0] + heads[:, 2]) / 2)[:, None]
    cy = ((heads[:, 1] + heads[:, 3]) / 2)[:, None]
    vx0, vy0, vx1, vy1 = (vehicles[:, i][None, :] for i in range(4))
    width, height = vx1 - vx0, vy1 - vy0
    inside_x = (cx >= vx0 - rule.margin * width) & (cx <= vx1 + rule.margin * width)
    inside_y = (cy >= vy0 - rule.above * height) & (cy <= (vy0 + vy1) / 2)
    return inside_x & inside_y


def riding_heads(detections: Detections, rule: Riders, vehicle_conf: float) -> Detections:
    """One frame's ``detections`` with only the heads that sit on a two-wheeler, and the vehicles.

    The frame-by-frame half of ``riders_only``, for scoring a detector against labels that box
    riders alone (gate-camera): a head stays when :func:`ride_matrix` puts it on a vehicle detected
    at ``vehicle_conf`` or more (the tracker's activation threshold). The track-level halves, the
    share of frames and the vehicle's speed, need video and are not applied.
    """
    vehicle_names = vehicle_class_names()
    vehicle_ids = [i for i, name in enumerate(detections.class_names) if name in vehicle_names]
    is_vehicle = np.isin(detections.class_ids, vehicle_ids)
    vehicles = detections.xyxy[is_vehicle & (detections.scores >= vehicle_conf)]
    rides = ride_matrix(detections.xyxy[~is_vehicle], vehicles, rule).any(axis=1)
    keep = is_vehicle.copy()
    keep[np.flatnonzero(~is_vehicle)[rides]] = True
    return detections[keep]


class RiderLinks:
    """Per camera: which vehicle track each head track rode, frame by frame."""

    def __init__(self, rule: Riders) -> None:
        self.rule = rule
        self.vehicles: OrderedDict[int, VehicleTrack] = OrderedDict()
        self._links: dict[int, Counter[int]] = {}  # head track -> vehicle track -> frames
        self._finished_riders: dict[int, set[int]] = {}  # vehicle track -> finished head tracks on it

    def see_vehicle(self, track_id: int, anchor: tuple[float, float], time: datetime) -> None:
        state = self.vehicles.get(track_id)
        if state is None:
            self.vehicles[track_id] = VehicleTrack(time, time, anchor, anchor)
            while len(self.vehicles) > REMEMBERED_VEHICLES:
                self.vehicles.popitem(last=False)
        else:
            state.last_seen, state.last_anchor = time, anchor
            state.frames += 1
            self.vehicles.move_to_end(track_id)

    def link(
        self,
        head_ids: npt.NDArray[np.int64],
        head_boxes: npt.NDArray[np.float32],
        vehicle_ids: npt.NDArray[np.int64],
        vehicle_boxes: npt.NDArray[np.float32],
    ) -> None:
        """Record this frame's head-on-vehicle pairs (a head on several vehicles takes the nearest centre)."""
        rides = ride_matrix(head_boxes, vehicle_boxes, self.rule)
        for row, head_id in enumerate(head_ids):
            candidates = np.flatnonzero(rides[row])
            if not candidates.size:
                continue
            head_cx = (head_boxes[row, 0] + head_boxes[row, 2]) / 2
            vehicle_cx = (vehicle_boxes[candidates, 0] + vehicle_boxes[candidates, 2]) / 2
            best = candidates[np.argmin(np.abs(vehicle_cx - head_cx))]
            self._links.setdefault(int(head_id), Counter())[int(vehicle_ids[best])] += 1

    def vehicles_of(self, head_ids: Collection[int]) -> set[int]:
        """Vehicle tracks any of ``head_ids`` (open head tracks) has been seen on so far."""
        return {vehicle for head in head_ids for vehicle in self._links.get(head, ())}

    def _ridden(self, head_id: int, head_frames: int) -> int | None:
        """The vehicle track ``head_id`` rode, if one holds ``min_share`` of its frames and moved."""
        links = self._links.get(head_id)
        if not links or head_frames <= 0:
            return None
        vehicle_id, frames = links.most_common(1)[0]
        vehicle = self.vehicles.get(vehicle_id)
        if frames < self.rule.min_share * head_frames or vehicle is None:
            return None
        return vehicle_id if vehicle.speed_px_s() >= self.rule.min_vehicle_speed_px_s else None

    def finish(
        self, head_id: int, head_frames: int, open_heads: dict[int, int], min_frames: int = 1
    ) -> tuple[int | None, int | None]:
        """``(vehicle track, heads that rode it)`` for a finished head track, or ``(None, None)``.

        ``open_heads`` maps the camera's still-open head tracks to their frame counts: a passenger
        whose track is still open counts already. Only head tracks of ``min_frames`` or more count
        as riders of a vehicle (a one-frame fragment of a head is not a second person on it).
        """
        vehicle_id = self._ridden(head_id, head_frames)
        self._links.pop(head_id, None)
        if vehicle_id is None:
            return None, None
        riders = self._finished_riders.setdefault(vehicle_id, set())
        if head_frames >= min_frames:
            riders.add(head_id)
        open_heads = {h: frames for h, frames in open_heads.items() if frames >= min_frames}
        still_open = {h for h, frames in open_heads.items() if h != head_id and self._ridden(h, frames) == vehicle_id}
        if len(self._finished_riders) > REMEMBERED_VEHICLES:
            self._finished_riders.pop(next(iter(self._finished_riders)))
        return vehicle_id, max(1, len(riders | still_open))
