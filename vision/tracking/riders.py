"""Riders only: link head tracks to the two-wheeler tracks they ride.

A head is a rider's when, over most of its frames, it sits on one two-wheeler track that moves.
Geometry, per frame (``Riders`` settings): the head's centre lies inside the vehicle's box widened
by ``margin`` × its width on each side and raised by ``above`` × its height (the rider sits on the
vehicle, the head above the vehicle box: the two-wheeler class boxes the vehicle alone, as COCO
does) and not below the vehicle box's middle. Over the track: one vehicle track holds at least
``min_share`` of the head's frames, and that vehicle moved at ``min_vehicle_speed_px_s`` or more
over its life (a parked bicycle beside a standing guard is not ridden).

Two or more heads linked to one vehicle are a rider and passengers; each observation records the
vehicle's track id and how many heads rode it. Riders are counted as heads seen on the vehicle at
once (:func:`most_together`), not as head tracks: a small head is often found, lost and found again
as a new track (ByteTrack's prediction drifts off a 10 px box within a few frames). The head tracks
that rode one vehicle one after the other at the same seat are one person, whose votes are pooled
(:func:`join_pieces`).
"""

from __future__ import annotations

import math
from collections import Counter, OrderedDict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import numpy.typing as npt

from vision.categories import vehicle_class_names
from vision.config import Riders
from vision.detectors.detections import Detections
from vision.outcome import Outcome

# Finished vehicle tracks remembered for heads that end after them (a head track can outlive its
# vehicle's by a few frames); the oldest are forgotten beyond this many.
REMEMBERED_VEHICLES = 512
# Two head tracks on one vehicle that never share a frame are one rider when their seats are this
# close, in vehicle widths across and vehicle heights up (see ``join_pieces``).
SAME_SEAT = 0.15
# Head tracks seen in fewer frames than this (confirmed on two detections, then lost at once) do not
# make a trip on their own: as often a second box on a rider's head or a far bystander's.
MIN_PIECE_FRAMES = 2


@dataclass(frozen=True)
class RiderPiece:
    """One head track's part in a trip (an integer frame index is the tracker's processed-frame count).

    Attributes:
        first_frame, last_frame: the first and last frame the head track was seen in.
        frames: frames it was seen in.
        seat: ``(dx, dy)``, the head centre's mean place on the vehicle: across from the vehicle box's
            centre in its widths, and down from its top in its heights (negative: above the box).
        weights: the head track's vote weight per outcome.
        max_size_px: its largest box short side, px.
        attributes: per attribute class, the frames such a box was linked to it (``TrackEvidence.attributes``).
    """

    first_frame: int
    last_frame: int
    frames: int
    seat: tuple[float, float]
    weights: Mapping[Outcome, float]
    max_size_px: float
    attributes: Mapping[str, int] = field(default_factory=dict)


def join_pieces(pieces: Sequence[RiderPiece], same_seat: float = SAME_SEAT) -> list[list[RiderPiece]]:
    """The persons who rode one vehicle: its head tracks, each joined to an earlier person whose last
    piece ended before it began and whose seat is within ``same_seat`` on both axes (the nearest, if
    several); otherwise a new person. Two tracks seen in one frame are two heads, never joined; and
    nobody changes seats on a moving two-wheeler, so a rider lost and found again, or a rider's own
    long track and the fragment after it, is one person. There are never fewer persons than
    :func:`most_together`: pieces seen together are never joined."""
    persons: list[list[RiderPiece]] = []
    for piece in sorted(pieces, key=lambda p: (p.first_frame, p.last_frame)):
        best, best_distance = None, math.inf
        for person in persons:
            if person[-1].last_frame >= piece.first_frame:
                continue
            frames = sum(p.frames for p in person)
            seat_x = sum(p.seat[0] * p.frames for p in person) / frames
            seat_y = sum(p.seat[1] * p.frames for p in person) / frames
            dx, dy = abs(seat_x - piece.seat[0]), abs(seat_y - piece.seat[1])
            if dx <= same_seat and dy <= same_seat and math.hypot(dx, dy) < best_distance:
                best, best_distance = person, math.hypot(dx, dy)
        if best is None:
            persons.append([piece])
        else:
            best.append(piece)
    return persons


def most_together(pieces: Sequence[RiderPiece]) -> int:
    """The most head tracks that rode one vehicle at once (their spans of frames overlap): its riders.

    Counting heads seen together, rather than tracks, does not depend on the tracks staying whole: a
    passenger's small head found, lost and found again is two tracks one after the other, not two
    heads at once."""
    starts = sorted(piece.first_frame for piece in pieces)
    ends = sorted(piece.last_frame for piece in pieces)
    together = most = ended = 0
    for start in starts:
        while ended < len(ends) and ends[ended] < start:
            ended += 1
            together -= 1
        together += 1
        most = max(most, together)
    return most


def makes_trip(pieces: Sequence[RiderPiece], min_frames: int) -> bool:
    """Whether a vehicle's head tracks make it a trip: seen on it for ``min_frames`` frames in all, not counting
    tracks of fewer than ``MIN_PIECE_FRAMES`` frames."""
    return sum(piece.frames for piece in pieces if piece.frames >= MIN_PIECE_FRAMES) >= min_frames


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
        self._seats: dict[int, dict[int, tuple[float, float]]] = {}  # head track -> vehicle track -> seat sums

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
            vehicle = int(vehicle_ids[best])
            self._links.setdefault(int(head_id), Counter())[vehicle] += 1
            vx0, vy0, vx1, vy1 = (float(v) for v in vehicle_boxes[best])
            head_cy = (head_boxes[row, 1] + head_boxes[row, 3]) / 2
            seat_x = (float(head_cx) - (vx0 + vx1) / 2) / max(vx1 - vx0, 1.0)
            seat_y = (float(head_cy) - vy0) / max(vy1 - vy0, 1.0)
            seats = self._seats.setdefault(int(head_id), {})
            sum_x, sum_y = seats.get(vehicle, (0.0, 0.0))
            seats[vehicle] = (sum_x + seat_x, sum_y + seat_y)

    def seat(self, head_id: int, vehicle_id: int) -> tuple[float, float]:
        """``head_id``'s mean seat on ``vehicle_id`` (:attr:`RiderPiece.seat`) over the frames it was linked to it."""
        frames = self._links.get(head_id, Counter())[vehicle_id]
        sum_x, sum_y = self._seats.get(head_id, {}).get(vehicle_id, (0.0, 0.0))
        return (sum_x / frames, sum_y / frames) if frames else (0.0, 0.0)

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
        self, head_id: int, head_frames: int, open_heads: dict[int, int]
    ) -> tuple[int | None, set[int], tuple[float, float]]:
        """``(vehicle track, the open head tracks riding it too, its seat on it)`` for a finished head
        track, or ``(None, set(), (0, 0))``. ``open_heads`` maps the camera's still-open head tracks to
        their frame counts."""
        vehicle_id = self._ridden(head_id, head_frames)
        seat = self.seat(head_id, vehicle_id) if vehicle_id is not None else (0.0, 0.0)
        self._links.pop(head_id, None)
        self._seats.pop(head_id, None)
        if vehicle_id is None:
            return None, set(), seat
        still_open = {h for h, frames in open_heads.items() if h != head_id and self._ridden(h, frames) == vehicle_id}
        return vehicle_id, still_open, seat
