"""Riders only: heads count when they ride a moving two-wheeler track; others are non_rider."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from tracking_support import FPS, T0, frame_of, helmet_camera, helmet_info

from vision.config import Camera, Riders, Tracking
from vision.detectors.base import Category, ModelInfo
from vision.detectors.detections import Detections
from vision.errors import VisionError
from vision.outcome import Outcome
from vision.tracking import VerdictTracker
from vision.tracking.policy import RidersOnly, TrackEvidence, WeightedVote
from vision.tracking.riders import RiderPiece, join_pieces, makes_trip, most_together, ride_matrix, riding_heads

CLASSES = ("with_helmet", "without_helmet", "two_wheeler")
INFO = helmet_info("rider-model", CLASSES)
frame = frame_of(CLASSES)


def camera(**kwargs) -> Camera:
    return helmet_camera("gate", "school", **kwargs)


def scene(n: int, rider_heads: int = 1, guard: bool = True, parked_bike: bool = False) -> list[Detections]:
    """A two-wheeler crossing left to right with ``rider_heads`` heads on it; a guard's head standing still."""
    frames = []
    for i in range(n):
        x = 200 + 20 * i  # 100 px/s at 5 fps
        boxes = [(x, 400, x + 120, 520, 0.9, 2)]  # the vehicle, rider not inside (COCO style)
        for k in range(rider_heads):
            boxes.append((x + 20 + 45 * k, 330, x + 50 + 45 * k, 366, 0.8, 0 if k == 0 else 1))
        if guard:
            boxes.append((1500, 300, 1530, 336, 0.8, 1))  # standing, bare-headed
        if parked_bike:
            boxes.append((1480, 380, 1600, 500, 0.9, 2))  # parked under the guard: never moves
        frames.append(frame(*boxes))
    return frames


def run(tracker: VerdictTracker, frames: list[Detections], then_empty: int = 10, trips: list | None = None) -> list:
    """Feed ``frames`` and ``then_empty`` empty ones; returns the observations, the trips go to ``trips``."""
    observations = []
    for index, detections in enumerate([*frames, *[frame()] * then_empty]):
        observations += tracker.update(detections, T0 + timedelta(seconds=index / FPS))
        if trips is not None:
            trips += tracker.take_trips()
    return observations


def by_outcome(observations) -> dict[Outcome, list]:
    result: dict[Outcome, list] = {}
    for observation in observations:
        result.setdefault(observation.outcome, []).append(observation)
    return result


def test_the_rider_counts_once_and_the_standing_guard_is_a_non_rider():
    tracker = VerdictTracker(camera(), INFO, Tracking(), FPS)
    assert tracker.riders_only, "default for helmet cameras whose model boxes two-wheelers"
    observations = by_outcome(run(tracker, scene(30)))
    assert len(observations[Outcome.COMPLIANT]) == 1
    assert len(observations[Outcome.NON_RIDER]) == 1
    assert Outcome.NON_COMPLIANT not in observations, "the guard's bare head is not a violation"
    rider = observations[Outcome.COMPLIANT][0]
    assert rider.vehicle_track_id is not None and rider.riders_on_vehicle == 1
    guard = observations[Outcome.NON_RIDER][0]
    assert guard.vehicle_track_id is None and guard.riders_on_vehicle is None


def test_a_head_beside_a_parked_bicycle_is_not_a_rider():
    tracker = VerdictTracker(camera(), INFO, Tracking(), FPS)
    observations = by_outcome(run(tracker, scene(30, guard=True, parked_bike=True)))
    assert len(observations[Outcome.NON_RIDER]) == 1
    assert len(observations[Outcome.COMPLIANT]) == 1


def test_a_passenger_is_counted_and_both_heads_name_the_same_vehicle():
    tracker = VerdictTracker(camera(), INFO, Tracking(), FPS)
    observations = run(tracker, scene(30, rider_heads=2, guard=False))
    riders = [o for o in observations if o.outcome in (Outcome.COMPLIANT, Outcome.NON_COMPLIANT)]
    assert sorted(o.outcome for o in riders) == [Outcome.COMPLIANT, Outcome.NON_COMPLIANT]
    assert {o.vehicle_track_id for o in riders} == {riders[0].vehicle_track_id}
    assert [o.riders_on_vehicle for o in riders] == [2, 2]


def test_a_rider_and_a_passenger_make_one_trip_carrying_passengers():
    tracker = VerdictTracker(camera(), INFO, Tracking(), FPS)
    trips: list = []
    observations = run(tracker, scene(30, rider_heads=2, guard=True), trips=trips)
    assert len(trips) == 1, "one two-wheeler, one trip, however many heads rode it"
    trip = trips[0]
    assert (trip.riders, trip.compliant, trip.non_compliant, trip.undetermined) == (2, 1, 1, 0)
    assert trip.carrying_passengers and trip.outcome is Outcome.NON_COMPLIANT, "one bare head: one ticket"
    assert trip.vehicle_track_id == {o.vehicle_track_id for o in observations if o.vehicle_track_id is not None}.pop()
    # ByteTrack confirms a track on its second frame: the trip starts there and ends at the last sighting.
    assert trip.started_at == T0 + timedelta(seconds=1 / FPS) and trip.ended_at == T0 + timedelta(seconds=29 / FPS)
    assert tracker.finish() == [] and tracker.take_trips() == [], "counted once"


def test_a_lone_helmeted_rider_is_a_compliant_trip_and_the_trip_waits_for_the_last_rider():
    tracker = VerdictTracker(camera(), INFO, Tracking(), FPS)
    trips: list = []
    run(tracker, scene(30, rider_heads=1, guard=False), then_empty=0, trips=trips)
    assert trips == [], "the rider's track is still open"
    assert len(tracker.finish()) == 1
    (trip,) = tracker.take_trips()
    assert trip.riders == 1 and trip.outcome is Outcome.COMPLIANT and not trip.carrying_passengers


def passenger_seen_at(frames_seen: set[int], n: int = 40) -> list[Detections]:
    """A two-wheeler crossing with a helmeted rider seen in every frame and a bare-headed passenger behind
    them seen only in ``frames_seen``: a small head the detector finds, loses and finds again."""
    frames = []
    for i in range(n):
        x = 200 + 20 * i
        boxes = [(x, 400, x + 120, 520, 0.9, 2), (x + 20, 330, x + 50, 366, 0.8, 0)]
        if i in frames_seen:
            boxes.append((x + 65, 325, x + 95, 361, 0.8, 1))
        frames.append(frame(*boxes))
    return frames


def test_a_passenger_lost_and_found_again_is_one_passenger():
    # seen for 5 frames, lost for longer than max_age (two tracks), seen for 5 more
    tracker = VerdictTracker(camera(), INFO, Tracking(), FPS)
    trips: list = []
    observations = run(tracker, passenger_seen_at(set(range(2, 7)) | set(range(20, 25))), trips=trips)
    passenger_tracks = [o for o in observations if o.outcome is Outcome.NON_COMPLIANT]
    assert len(passenger_tracks) == 2, "the person's own observations stay two tracks"
    assert [o.riders_on_vehicle for o in observations if o.vehicle_track_id is not None] == [2, 2, 2]
    (trip,) = trips
    assert (trip.riders, trip.compliant, trip.non_compliant) == (2, 1, 1), "a rider and one passenger, not two"


def test_a_passenger_seen_only_in_short_tracks_is_a_passenger_judged_on_all_of_them():
    # three sightings of three frames each: every track is shorter than min_frames (the first detection
    # only confirms it), so none has a verdict of its own; the vehicle still carried two heads at once,
    # and the three tracks at one seat are one person whose pooled votes say bare-headed
    tracker = VerdictTracker(camera(), INFO, Tracking(), FPS)
    trips: list = []
    observations = run(tracker, passenger_seen_at({3, 4, 5, 15, 16, 17, 27, 28, 29}), trips=trips)
    assert sorted(o.frames for o in observations if o.outcome is Outcome.UNDETERMINED) == [2, 2, 2]
    (trip,) = trips
    assert (trip.riders, trip.compliant, trip.non_compliant) == (2, 1, 1)
    assert trip.carrying_passengers and trip.outcome is Outcome.NON_COMPLIANT


def piece(first: int, last: int, seat: tuple[float, float] = (0.0, -0.3), frames: int | None = None) -> RiderPiece:
    return RiderPiece(first, last, frames or last - first + 1, seat, {Outcome.COMPLIANT: 1.0}, 30.0)


def test_riders_are_the_heads_seen_together_and_pieces_at_one_seat_are_one_person():
    rider = piece(0, 20)
    fragments = [piece(2, 3, (0.3, -0.2)), piece(9, 10, (0.32, -0.25)), piece(15, 16, (0.29, -0.2))]
    assert most_together([rider, *fragments]) == 2
    persons = join_pieces([rider, *fragments])
    assert sorted(len(person) for person in persons) == [1, 3], "the passenger's three pieces are one person"
    # the rider's own track broken in two: one head at a time, one person
    assert most_together([piece(0, 8), piece(10, 20)]) == 1 and len(join_pieces([piece(0, 8), piece(10, 20)])) == 1
    # two heads seen together are never joined, whatever their seats
    assert len(join_pieces([piece(0, 5), piece(5, 9)])) == 2
    # a fragment at another seat is another person
    assert len(join_pieces([piece(0, 4), piece(6, 9, (0.4, -0.3))])) == 2
    assert makes_trip([piece(0, 1), piece(5, 5)], min_frames=3) is False, "a glimpse of a head makes no trip"
    assert makes_trip([piece(0, 1), piece(5, 6)], min_frames=3) is True


def test_someone_sitting_on_a_parked_two_wheeler_is_no_trip():
    tracker = VerdictTracker(camera(), INFO, Tracking(), FPS)
    parked = [frame((600, 400, 720, 520, 0.9, 2), (620, 330, 650, 366, 0.8, 1)) for _ in range(30)]
    trips: list = []
    observations = run(tracker, parked, trips=trips)
    assert [o.outcome for o in observations] == [Outcome.NON_RIDER]
    assert trips == [] and tracker.take_trips() == []


def test_riders_only_off_counts_every_head():
    tracker = VerdictTracker(camera(riders_only=False), INFO, Tracking(), FPS)
    observations = by_outcome(run(tracker, scene(30)))
    assert len(observations[Outcome.COMPLIANT]) == 1 and len(observations[Outcome.NON_COMPLIANT]) == 1
    assert Outcome.NON_RIDER not in observations


def test_riders_only_needs_a_model_with_vehicles():
    heads_only = ModelInfo(
        name="heads", class_names=CLASSES[:2], category=Category.HELMET, outcomes=dict(INFO.outcomes or {})
    )
    assert not VerdictTracker(camera(), heads_only, Tracking(), FPS).riders_only
    with pytest.raises(VisionError, match="riders_only needs a model that boxes vehicles"):
        VerdictTracker(camera(riders_only=True), heads_only, Tracking(), FPS)


def test_ride_geometry():
    vehicle = np.array([[100, 200, 220, 320]], np.float32)
    heads = np.array(
        [
            [140, 120, 170, 150],  # above the vehicle: riding
            [140, 270, 170, 300],  # below the vehicle's middle: beside it on the ground
            [400, 120, 430, 150],  # far to the side
            [140, -80, 170, -50],  # far above
        ],
        np.float32,
    )
    assert ride_matrix(heads, vehicle, Riders())[:, 0].tolist() == [True, False, False, False]


def test_open_boxes_hold_heads_and_vehicles():
    tracker = VerdictTracker(camera(), INFO, Tracking(), FPS)
    for index, detections in enumerate(scene(4, guard=False)):
        tracker.update(detections, T0 + timedelta(seconds=index / FPS))
    assert len(tracker.open_boxes()) == 2


def test_weighted_vote_policy():
    vote = WeightedVote(min_frames=3, min_size_px=16)
    evidence = TrackEvidence({Outcome.COMPLIANT: 3.0, Outcome.NON_COMPLIANT: 3.6}, frames=10, max_size_px=30)
    outcome, share = vote.decide(evidence)
    assert outcome is Outcome.NON_COMPLIANT and share == pytest.approx(3.6 / 6.6)
    assert vote.decide(TrackEvidence({Outcome.COMPLIANT: 1.0}, frames=2, max_size_px=30))[0] is Outcome.UNDETERMINED


def test_one_frame_keeps_the_heads_on_a_confident_two_wheeler_and_the_vehicles():
    detections = frame(
        (200, 400, 320, 520, 0.9, 2),  # a two-wheeler
        (220, 330, 250, 366, 0.3, 0),  # its rider's head: kept whatever its score
        (265, 335, 295, 371, 0.05, 1),  # a passenger's, low but on the vehicle
        (1500, 300, 1530, 336, 0.8, 1),  # a guard standing: no vehicle under him
        (900, 400, 1020, 520, 0.2, 2),  # a doubtful vehicle (under the threshold) ...
        (920, 330, 950, 366, 0.7, 0),  # ... carries no rider
        (230, 600, 260, 636, 0.8, 0),  # below the vehicle's middle: not on it
    )
    kept = riding_heads(detections, Riders(), vehicle_conf=0.25)
    assert kept.labels == ["two_wheeler", "with_helmet", "without_helmet", "two_wheeler"]
    np.testing.assert_array_equal(kept.scores, np.float32([0.9, 0.3, 0.05, 0.2]))
    assert len(riding_heads(Detections.empty(CLASSES), Riders(), 0.25)) == 0


def test_the_rider_rule_is_a_policy_around_the_vote():
    rule = RidersOnly(WeightedVote(min_frames=3, min_size_px=16))
    evidence = TrackEvidence({Outcome.NON_COMPLIANT: 2.0}, frames=10, max_size_px=30)
    assert rule.decide(evidence) == (Outcome.NON_RIDER, 0.0), "rode nothing"
    riding = TrackEvidence({Outcome.NON_COMPLIANT: 2.0}, frames=10, max_size_px=30, vehicle_track_id=4)
    assert rule.decide(riding) == (Outcome.NON_COMPLIANT, 1.0)
