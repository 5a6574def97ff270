"""One tracker per camera: ByteTrack (roboflow ``trackers``) plus the per-track vote.

ByteTrack gives a stable id per head or face across frames; this module keeps, per id, the
detections' outcome weights, size and path, and turns a track that has not been seen for
``max_age_s`` (counted in frames at the camera's ``detect_fps``) into one :class:`Observation`.
The tracker is class-agnostic on purpose: a head that flickers between "with" and "without"
across frames stays one person, and the vote decides.

Scores are first put on one scale for every class (:meth:`ModelInfo.comparable_scores`): a model
with per-class operating thresholds reports a bare face at 0.2 where it reports a mask at 0.3, and
with raw scores the tracker's activation threshold and the vote would drop or outvote the
low-threshold class and bias rates toward "compliant".

Each class has a role in its category (:class:`~vision.categories.Role`): subjects (heads, faces)
are the persons tracked here; vehicles (the category's ``vehicle_classes``, e.g. ``two_wheeler``)
are tracked by a second ByteTrack and never vote; attributes (a phone) are never a person. At a
``riders_only`` camera each head track is linked to the vehicle track it rides
(:mod:`vision.tracking.riders`), and the rider rule (:class:`~vision.tracking.policy.RidersOnly`) makes
a head that rode no moving vehicle a ``non_rider`` observation, counted apart from the rate. The verdict
itself is the injected :class:`~vision.tracking.policy.VerdictPolicy` (default: the weighted vote). A
vehicle whose riders' tracks have all finished ends as one :class:`~vision.tracking.trip.Trip`.

A camera measuring several categories (``categories: [helmet, phone]``) tracks each person once; each
attribute box is linked to the head that reaches it (:mod:`vision.tracking.attributes`), and a finished
track or trip gives one observation or trip per category, each by its own policy (phone use:
:class:`~vision.tracking.policy.AttributeSeen`).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime

import cv2
import numpy as np
import supervision as sv
from trackers import ByteTrackTracker

from vision.categories import Category, Role, category_info, roles_on
from vision.config import Camera, Gates, Tracking
from vision.detectors.base import ModelInfo
from vision.detectors.boxes import nms
from vision.detectors.detections import Detections
from vision.errors import VisionError
from vision.evidence.capture import BestView
from vision.outcome import Outcome
from vision.tracking.attributes import owners
from vision.tracking.observation import Observation
from vision.tracking.policy import AttributeSeen, RidersOnly, TrackEvidence, VerdictPolicy, WeightedVote
from vision.tracking.riders import RiderLinks, RiderPiece, join_pieces, makes_trip, most_together
from vision.tracking.trip import Trip

# Detections must appear in this many consecutive frames before ByteTrack gives them an id:
# a one-frame false positive never becomes a person.
CONFIRM_FRAMES = 2
# Class-aware NMS lets a detector put a "with" and a "without" box on the same head; before
# tracking, boxes overlapping a better one this much are the same person and are dropped, or
# they would start a second track and count the person twice.
DUPLICATE_IOU = 0.7
# Activation score for a model that does not say at which score it reports boxes.
DEFAULT_ACTIVATION_CONF = 0.25


@dataclass
class _TrackState:
    """What one track has collected so far (mutable, private to the tracker)."""

    first_seen: datetime
    last_seen: datetime
    first_anchor: tuple[float, float]
    last_anchor: tuple[float, float]
    first_frame: int = 0
    last_frame: int = 0
    last_box: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)
    frames: int = 0
    score_sum: float = 0.0
    max_size_px: float = 0.0
    weights: defaultdict[Outcome, float] = field(default_factory=lambda: defaultdict(float))
    zones: Counter[str] = field(default_factory=Counter)
    attributes: Counter[str] = field(default_factory=Counter)  # attribute class -> frames linked to this track
    best: BestView | None = None  # the detection its evidence will show
    # per attribute class, the frame where it was seen best on this track: a phone-use verdict's evidence shows it
    attribute_views: dict[str, BestView] = field(default_factory=dict)


def _piece(state: _TrackState, seat: tuple[float, float]) -> RiderPiece:
    """A head track's part in a trip (``seat``: its place on the vehicle, ``RiderPiece.seat``)."""
    return RiderPiece(
        state.first_frame,
        state.last_frame,
        state.frames,
        seat,
        dict(state.weights),
        state.max_size_px,
        dict(state.attributes),
    )


class ZoneFilter:
    """Assigns each detection's anchor (box centre, pixels) to the first zone containing it."""

    def __init__(self, zones: dict[str, np.ndarray]) -> None:
        self._zones = {name: polygon.astype(np.float32).reshape(-1, 1, 2) for name, polygon in zones.items()}

    def zone_of(self, anchors: np.ndarray) -> list[str | None]:
        """``anchors (N, 2)`` -> zone name or None per anchor; with no zones every anchor is in ``None``."""
        if not self._zones:
            return [None] * len(anchors)
        result: list[str | None] = []
        for x, y in anchors:
            inside = (
                name
                for name, polygon in self._zones.items()
                if cv2.pointPolygonTest(polygon, (float(x), float(y)), False) >= 0
            )
            result.append(next(inside, None))
        return result

    @property
    def active(self) -> bool:
        return bool(self._zones)


def anchors_of(xyxy: np.ndarray) -> np.ndarray:
    """``(N, 4)`` boxes -> ``(N, 2)`` centres, the point zones and speed gates use."""
    return np.stack([(xyxy[:, 0] + xyxy[:, 2]) / 2, (xyxy[:, 1] + xyxy[:, 3]) / 2], axis=1)


def riders_only(camera: Camera, info: ModelInfo) -> bool:
    """Whether ``camera`` counts riders only: its setting, else its category's default if the model boxes vehicles."""
    vehicles = set(category_info(camera.category).vehicle_classes) & set(info.class_names)
    wanted = camera.riders_only
    if wanted is None:
        return category_info(camera.category).riders_only_default and bool(vehicles)
    if wanted and not vehicles:
        raise VisionError(
            f"camera {camera.id}: riders_only needs a model that boxes vehicles "
            f"({', '.join(category_info(camera.category).vehicle_classes) or 'none in this category'}); "
            f"{info.name} has classes {', '.join(info.class_names)}"
        )
    return wanted


class VerdictTracker:
    """Frames' detections in, finished tracks' observations out, for one camera."""

    def __init__(
        self,
        camera: Camera,
        info: ModelInfo,
        tracking: Tracking,
        frame_rate: float,
        policy: VerdictPolicy | None = None,
        keep_evidence: bool = False,
        first_track_id: int = 0,
    ) -> None:
        """``first_track_id``: the lowest track id this tracker hands out (heads and vehicles; ByteTrack
        counts from 0). A camera attached again in the same run starts after the ids it used before
        (``last_track_id``), so that ``(camera, run, track)`` names one person, and one two-wheeler,
        in the store."""
        if not info.outcomes:
            raise ValueError(f"camera {camera.id}: model {info.name} maps no class to an outcome")
        self.camera = camera
        self.tracking = tracking
        self.keep_evidence = keep_evidence
        roles = roles_on(camera.categories, info.class_names)
        self._is_vehicle = np.array([role is Role.VEHICLE for role in roles], dtype=bool)
        # Attributes (a phone) belong to a person and are never one: kept out of the person tracks and
        # linked to the person whose head reaches them (vision.tracking.attributes).
        self._is_subject = np.array([role is Role.SUBJECT for role in roles], dtype=bool)
        self._is_attribute = np.array([role is Role.ATTRIBUTE for role in roles], dtype=bool)
        self.riders_only = riders_only(camera, info)
        vote = policy or WeightedVote(tracking.min_frames, tracking.min_size_px)
        # One verdict per category the camera measures, on the same tracks: the first by its model's classes,
        # the others (phone use) by an attribute linked to the track.
        self.policies: dict[Category, VerdictPolicy] = {camera.category: vote}
        for category in camera.categories[1:]:
            attribute = category_info(category).violation_attribute
            assert attribute is not None  # the config allows only attribute categories after the first
            if attribute not in info.class_names:
                raise VisionError(
                    f"camera {camera.id}: {category.value} needs a model that boxes {attribute}; "
                    f"{info.name} has classes {', '.join(info.class_names)}"
                )
            self.policies[category] = AttributeSeen(attribute, tracking.min_frames, tracking.min_size_px)
        if self.riders_only:
            self.policies = {category: RidersOnly(inner) for category, inner in self.policies.items()}
        self.policy: VerdictPolicy = self.policies[camera.category]
        # Per vehicle track (ByteTrack id): the finished head tracks that rode it; a trip ends once no
        # open head track rides it (take_trips), and counts the persons its pieces join into.
        self._trip_riders: dict[int, list[RiderPiece]] = {}
        self._trips: list[Trip] = []
        self._riders = RiderLinks(camera.riders)
        self._outcome_by_class = [info.outcome_of(name) for name in info.class_names]
        self._info = info
        self._zones = ZoneFilter({zone.name: np.asarray(zone.polygon) for zone in camera.zones})
        self._gates: Gates = camera.gates
        # Track age is counted in processed frames, not seconds: when the detector falls behind
        # detect_fps on a live stream, frames arrive further apart, and a time limit would end every
        # track between two frames. At the nominal rate both readings agree.
        self.max_age_frames = max(1, round(tracking.max_age_s * frame_rate))
        self._frame = 0
        self._track_id_offset = first_track_id
        self.last_track_id = first_track_id - 1  # the highest id handed out so far
        activation_conf = tracking.activation_conf
        if activation_conf is None:
            activation_conf = info.conf if info.conf is not None else DEFAULT_ACTIVATION_CONF
        self._activation_conf = activation_conf
        self._tracker = self._bytetrack(frame_rate)
        self._vehicle_tracker = self._bytetrack(frame_rate) if self._is_vehicle.any() else None
        self._tracks: dict[int, _TrackState] = {}
        self._vehicle_boxes: dict[int, tuple[int, tuple[float, float, float, float]]] = {}  # id -> (frame, box)
        self.gated_out = 0  # tracks dropped by a gate (e.g. too slow for a rider)
        # The last frame left something to learn: a detection not yet in a confirmed track, or a head
        # track with fewer frames than a verdict needs. A planner keeps looking, even at a still scene.
        self.unsettled = False
        self._vehicles_pending = False

    def _bytetrack(self, frame_rate: float) -> ByteTrackTracker:
        return ByteTrackTracker(
            lost_track_buffer=max(1, round(self.tracking.max_age_s * 30)),  # counted in 30 fps frames
            frame_rate=frame_rate,
            track_activation_threshold=self._activation_conf,
            high_conf_det_threshold=self._activation_conf,
            minimum_consecutive_frames=CONFIRM_FRAMES,
            minimum_iou_threshold=self.tracking.match_iou,
        )

    def open_head_boxes(self) -> np.ndarray:
        """``(T, 4)`` last boxes of the open head tracks (a rider's square is kept while one is near it)."""
        return np.asarray([state.last_box for state in self._tracks.values()], dtype=np.float32).reshape(-1, 4)

    def open_boxes(self) -> np.ndarray:
        """``(T, 4)`` last boxes of the open tracks (heads and vehicles) seen in the last ``max_age`` frames.

        A camera detecting on motion regions keeps a region on each, so a rider who stops is not lost.
        """
        boxes = [state.last_box for state in self._tracks.values()]
        boxes += [box for frame, box in self._vehicle_boxes.values() if self._frame - frame <= self.max_age_frames]
        return np.asarray(boxes, dtype=np.float32).reshape(-1, 4)

    def update(self, detections: Detections, time: datetime, image: np.ndarray | None = None) -> list[Observation]:
        """Feed one frame's detections (taken at ``time``); returns the tracks that just finished.

        With ``image`` (the frame, BGR) and ``keep_evidence``, each track keeps a reference to its
        best-scoring detection so far (:class:`BestView`: its frame and that frame's head boxes).
        """
        vehicle_ids = np.zeros(0, np.int64)
        vehicle_xyxy = np.zeros((0, 4), np.float32)
        self._vehicles_pending = False
        if self._vehicle_tracker is not None:
            is_vehicle = self._is_vehicle[detections.class_ids]
            vehicle_ids, vehicle_xyxy = self._update_vehicles(detections[is_vehicle], time)
        attributes = detections[self._is_attribute[detections.class_ids]]
        detections = detections[self._is_subject[detections.class_ids]]
        comparable = self._info.comparable_scores(detections.scores, detections.class_ids)
        if len(detections) > 1:
            keep_ids = np.sort(nms(detections.xyxy, comparable.astype(np.float32), None, DUPLICATE_IOU))
            detections, comparable = detections[keep_ids], comparable[keep_ids]
        anchors = anchors_of(detections.xyxy)
        zones = self._zones.zone_of(anchors)
        every_head = detections.xyxy  # also those outside the zones: evidence blurs them all
        positions = np.arange(len(detections))
        if self._zones.active:
            keep = np.array([zone is not None for zone in zones], dtype=bool)
            detections, anchors, comparable = detections[keep], anchors[keep], comparable[keep]
            positions = positions[keep]
            zones = [zone for zone in zones if zone is not None]
        tracked = self._tracker.update(
            sv.Detections(
                xyxy=detections.xyxy.astype(np.float64),
                confidence=comparable,
                class_id=detections.class_ids.astype(int),
                data={"index": np.arange(len(detections))},
            ),
            timestamp=None,
        )
        self._frame += 1
        head_ids, head_rows = [], []
        self.unsettled = bool((tracked.tracker_id < 0).any()) or self._vehicles_pending
        for track_id, index in zip(tracked.tracker_id, tracked.data.get("index", []), strict=True):
            if track_id < 0:
                continue
            self._collect(
                int(track_id), detections, float(comparable[index]), int(index), anchors[index], zones[index], time
            )
            state = self._tracks[int(track_id)]
            if (
                image is not None
                and self.keep_evidence
                and (state.best is None or comparable[index] > state.best.score)
            ):
                state.best = BestView(image, every_head, int(positions[index]), float(comparable[index]))
            head_ids.append(int(track_id))
            head_rows.append(int(index))
        if self.riders_only and head_ids and len(vehicle_ids):
            self._riders.link(np.asarray(head_ids, np.int64), detections.xyxy[head_rows], vehicle_ids, vehicle_xyxy)
        if head_ids and len(attributes):
            for track_id, name, score, row in self._link_attributes(head_ids, detections.xyxy[head_rows], attributes):
                state = self._tracks[track_id]
                seen = state.attribute_views.get(name)
                if image is not None and self.keep_evidence and (seen is None or score > seen.score):
                    state.attribute_views[name] = BestView(image, every_head, int(positions[head_rows[row]]), score)
        finished = self._finish_stale()
        self.unsettled |= any(state.frames < self.tracking.min_frames for state in self._tracks.values())
        return finished

    def _link_attributes(
        self, head_ids: list[int], head_xyxy: np.ndarray, attributes: Detections
    ) -> list[tuple[int, str, float, int]]:
        """Count, for each head track seen this frame, the attribute classes whose boxes it owns (once a frame);
        returns ``(track id, class, best score, the head's row in head_ids)`` of each link counted."""
        owner = owners(head_xyxy.astype(np.float32), attributes.xyxy.astype(np.float32))
        names = self._info.class_names
        best: dict[tuple[int, str], tuple[float, int]] = {}
        for index, row in enumerate(owner):
            if row >= 0:
                key = (head_ids[row], names[attributes.class_ids[index]])
                score = float(attributes.scores[index])
                if key not in best or score > best[key][0]:
                    best[key] = (score, int(row))
        for track_id, name in best:
            self._tracks[track_id].attributes[name] += 1
        return [(track_id, name, score, row) for (track_id, name), (score, row) in best.items()]

    def _update_vehicles(self, vehicles: Detections, time: datetime) -> tuple[np.ndarray, np.ndarray]:
        """Track this frame's vehicle boxes; ``(ids (V,), xyxy (V, 4))`` of the confirmed ones."""
        assert self._vehicle_tracker is not None
        tracked = self._vehicle_tracker.update(
            sv.Detections(
                xyxy=vehicles.xyxy.astype(np.float64),
                confidence=vehicles.scores.astype(np.float64),
                class_id=vehicles.class_ids.astype(int),
            ),
            timestamp=None,
        )
        confirmed = tracked.tracker_id >= 0
        self._vehicles_pending = not confirmed.all()
        ids = tracked.tracker_id[confirmed].astype(np.int64)
        xyxy = tracked.xyxy[confirmed].astype(np.float32)
        for track_id, box in zip(ids, xyxy, strict=True):
            anchor = (float((box[0] + box[2]) / 2), float((box[1] + box[3]) / 2))
            self._riders.see_vehicle(int(track_id), anchor, time)
            x1, y1, x2, y2 = (float(v) for v in box)
            self._vehicle_boxes[int(track_id)] = (self._frame + 1, (x1, y1, x2, y2))
        stale = [i for i, (frame, _) in self._vehicle_boxes.items() if self._frame - frame > self.max_age_frames]
        for track_id in stale:
            del self._vehicle_boxes[track_id]
        return ids, xyxy

    def _collect(
        self,
        track_id: int,
        detections: Detections,
        vote_weight: float,
        index: int,
        anchor: np.ndarray,
        zone: str | None,
        time: datetime,
    ) -> None:
        point = (float(anchor[0]), float(anchor[1]))
        state = self._tracks.get(track_id)
        if state is None:
            state = self._tracks[track_id] = _TrackState(time, time, point, point, first_frame=self._frame)
        state.last_seen, state.last_anchor, state.last_frame = time, point, self._frame
        score = float(detections.scores[index])
        x1, y1, x2, y2 = detections.xyxy[index]
        state.last_box = (float(x1), float(y1), float(x2), float(y2))
        state.frames += 1
        state.score_sum += score
        state.max_size_px = max(state.max_size_px, float(min(x2 - x1, y2 - y1)))
        state.weights[self._outcome_by_class[detections.class_ids[index]]] += vote_weight
        if zone is not None:
            state.zones[zone] += 1

    def _finish_stale(self) -> list[Observation]:
        stale = [
            track_id for track_id, state in self._tracks.items() if self._frame - state.last_frame > self.max_age_frames
        ]
        finished = [obs for track_id in stale for obs in self._observations(track_id, self._tracks.pop(track_id))]
        self._end_trips(final=False)
        return finished

    def finish(self) -> list[Observation]:
        """Close every open track (at shutdown or end of file) and return their observations."""
        observations = []
        for track_id in list(self._tracks):
            observations += self._observations(track_id, self._tracks.pop(track_id))
        self._end_trips(final=True)
        return observations

    def take_trips(self) -> list[Trip]:
        """The trips that ended since the last call (a riders-only camera's two-wheelers that carried riders)."""
        trips, self._trips = self._trips, []
        return trips

    def _end_trips(self, final: bool) -> None:
        """A vehicle's trip ends when no open head track rides it (every rider's track has finished)."""
        if not self._trip_riders:  # every frame asks: most have nothing pending
            return
        riding = self._riders.vehicles_of(self._tracks) if not final else set()
        for vehicle_id in [v for v in self._trip_riders if v not in riding]:
            pieces = self._trip_riders.pop(vehicle_id)
            vehicle = self._riders.vehicles.get(vehicle_id)
            if vehicle is None or not makes_trip(pieces, self.tracking.min_frames):
                continue
            # As many riders as heads were seen on it at once; their verdicts are those of the persons
            # seen longest (there are at least as many persons as heads seen at once).
            persons = sorted(join_pieces(pieces), key=lambda person: -sum(piece.frames for piece in person))
            riders = [_pooled(person, vehicle_id) for person in persons[: most_together(pieces)]]
            for category, policy in self.policies.items():  # one trip per category measured
                outcomes = [policy.decide(evidence)[0] for evidence in riders]
                self._trips.append(
                    Trip(
                        camera_id=self.camera.id,
                        site_id=self.camera.site,
                        category=category.value,
                        vehicle_track_id=self._public_id(vehicle_id),
                        started_at=vehicle.first_seen,
                        ended_at=vehicle.last_seen,
                        riders=len(outcomes),
                        compliant=outcomes.count(Outcome.COMPLIANT),
                        non_compliant=outcomes.count(Outcome.NON_COMPLIANT),
                        undetermined=outcomes.count(Outcome.UNDETERMINED),
                    )
                )

    def _public_id(self, raw_id: int) -> int:
        """A ByteTrack id (from 0 in each tracker) as the id stored: shifted past earlier attaches."""
        public = self._track_id_offset + raw_id
        self.last_track_id = max(self.last_track_id, public)
        return public

    def _observations(self, track_id: int, state: _TrackState) -> list[Observation]:
        """A finished track's observations, one per category the camera measures (none if a gate dropped it)."""
        duration = (state.last_seen - state.first_seen).total_seconds()
        if self._gates.min_speed_px_s is not None:
            distance = math.dist(state.first_anchor, state.last_anchor)
            if duration <= 0 or distance / duration < self._gates.min_speed_px_s:
                self.gated_out += 1
                return []
        vehicle_id: int | None = None
        riders: int | None = None
        if self.riders_only:
            open_heads = {head: other.frames for head, other in self._tracks.items()}
            vehicle_id, still_open, seat = self._riders.finish(track_id, state.frames, open_heads)
            if vehicle_id is not None:
                pieces = self._trip_riders.setdefault(vehicle_id, [])
                pieces.append(_piece(state, seat))
                # the heads still riding it count as seen so far (a seat does not matter to the count)
                riders = most_together([*pieces, *(_piece(self._tracks[head], seat) for head in still_open)])
        evidence = TrackEvidence(
            dict(state.weights),
            state.frames,
            state.max_size_px,
            vehicle_track_id=vehicle_id,
            attributes=dict(state.attributes),
        )
        observations = []
        for category, policy in self.policies.items():
            outcome, share = policy.decide(evidence)
            view = state.best
            if (attribute := category_info(category).violation_attribute) and outcome is Outcome.NON_COMPLIANT:
                view = state.attribute_views.get(attribute, view)  # the frame that shows the phone
            observations.append(
                Observation(
                    camera_id=self.camera.id,
                    site_id=self.camera.site,
                    category=category.value,
                    track_id=self._public_id(track_id),
                    started_at=state.first_seen,
                    ended_at=state.last_seen,
                    outcome=outcome,
                    frames=state.frames,
                    mean_confidence=state.score_sum / state.frames,
                    vote_share=share,
                    max_size_px=state.max_size_px,
                    zone=state.zones.most_common(1)[0][0] if state.zones else None,
                    vehicle_track_id=None if vehicle_id is None else self._public_id(vehicle_id),
                    riders_on_vehicle=riders,
                    evidence=view,
                )
            )
        return observations


def _pooled(pieces: list[RiderPiece], vehicle_id: int) -> TrackEvidence:
    """One rider's evidence from the head tracks joined into them: votes, frames and linked attributes pooled."""
    weights: defaultdict[Outcome, float] = defaultdict(float)
    attributes: Counter[str] = Counter()
    for piece in pieces:
        for outcome, weight in piece.weights.items():
            weights[outcome] += weight
        attributes.update(piece.attributes)
    return TrackEvidence(
        dict(weights),
        sum(piece.frames for piece in pieces),
        max(piece.max_size_px for piece in pieces),
        vehicle_track_id=vehicle_id,
        attributes=dict(attributes),
    )
