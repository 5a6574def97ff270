"""Phone use: a phone box a rider's head reaches is linked to that person; one camera, two categories."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from vision.config import Camera, Tracking
from vision.detectors.base import Category, ModelInfo
from vision.detectors.detections import Detections
from vision.errors import VisionError
from vision.outcome import Outcome
from vision.tracking import VerdictTracker
from vision.tracking.attributes import owners
from vision.tracking.policy import AttributeSeen, TrackEvidence

CLASSES = ("with_helmet", "without_helmet", "two_wheeler", "cell_phone")
INFO = ModelInfo(
    name="rider-and-phone-model",
    class_names=CLASSES,
    category=Category.HELMET,
    outcomes={"with_helmet": Outcome.COMPLIANT, "without_helmet": Outcome.NON_COMPLIANT},
)
T0 = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
FPS = 5.0


def camera(categories=("helmet", "phone"), **kwargs) -> Camera:
    return Camera(id="gate", site="school", source="x.mp4", categories=categories, model="m.yaml", **kwargs)


def frame(*boxes: tuple[float, float, float, float, float, int]) -> Detections:
    array = np.asarray(boxes, dtype=np.float32).reshape(-1, 6)
    return Detections(xyxy=array[:, :4], scores=array[:, 4], class_ids=array[:, 5].astype(int), class_names=CLASSES)


def ride(n: int, phone_at: set[int], passenger: bool = True) -> list[Detections]:
    """A two-wheeler crossing with a helmeted driver (front) and a bare-headed passenger; in the frames
    ``phone_at`` the driver holds a phone at chest height, under and beside his head."""
    frames = []
    for i in range(n):
        x = 200 + 20 * i
        boxes = [(x, 400, x + 120, 520, 0.9, 2), (x + 70, 330, x + 100, 366, 0.8, 0)]
        if passenger:
            boxes.append((x + 20, 326, x + 50, 362, 0.8, 1))
        if i in phone_at:
            boxes.append((x + 100, 380, x + 112, 396, 0.5, 3))
        frames.append(frame(*boxes))
    return frames


def run(tracker: VerdictTracker, frames: list[Detections], then_empty: int = 10) -> tuple[list, list]:
    observations, trips = [], []
    for index, detections in enumerate([*frames, *[frame()] * then_empty]):
        observations += tracker.update(detections, T0 + timedelta(seconds=index / FPS))
        trips += tracker.take_trips()
    return observations, trips


def test_a_driver_on_the_phone_is_one_violation_and_the_passenger_is_not():
    observations, trips = run(VerdictTracker(camera(), INFO, Tracking(), FPS), ride(20, phone_at=set(range(3, 12))))
    helmet = {o.track_id: o.outcome for o in observations if o.category == "helmet"}
    phone = {o.track_id: o.outcome for o in observations if o.category == "phone"}
    assert helmet.keys() == phone.keys() and len(helmet) == 2, "both categories judge the same two tracks"
    driver = next(t for t, outcome in helmet.items() if outcome is Outcome.COMPLIANT)
    passenger = next(t for t, outcome in helmet.items() if outcome is Outcome.NON_COMPLIANT)
    assert (phone[driver], phone[passenger]) == (Outcome.NON_COMPLIANT, Outcome.COMPLIANT)
    assert not any(o.category == "cell_phone" for o in observations), "a phone is never a person"
    by_category = {t.category: t for t in trips}
    assert by_category.keys() == {"helmet", "phone"}, "one trip per category for the one two-wheeler"
    assert (by_category["phone"].riders, by_category["phone"].non_compliant) == (2, 1)
    assert by_category["phone"].outcome is Outcome.NON_COMPLIANT
    assert by_category["helmet"].outcome is Outcome.NON_COMPLIANT  # the bare-headed passenger


def test_a_phone_seen_in_one_frame_is_not_phone_use():
    observations, _ = run(VerdictTracker(camera(), INFO, Tracking(), FPS), ride(20, phone_at={5}, passenger=False))
    assert [o.outcome for o in observations if o.category == "phone"] == [Outcome.COMPLIANT]


def test_a_helmet_only_camera_ignores_phones_and_makes_no_phone_observation():
    observations, _ = run(VerdictTracker(camera(("helmet",)), INFO, Tracking(), FPS), ride(20, phone_at=set(range(20))))
    assert {o.category for o in observations} == {"helmet"} and len(observations) == 2


def test_phone_use_needs_a_model_that_boxes_phones():
    info = ModelInfo(name="heads-only", class_names=CLASSES[:3], category=Category.HELMET, outcomes=INFO.outcomes)
    with pytest.raises(VisionError, match="phone needs a model that boxes cell_phone"):
        VerdictTracker(camera(), info, Tracking(), FPS)


def test_each_phone_goes_to_the_nearest_head_that_reaches_it():
    heads = np.array([[100, 100, 130, 136], [200, 100, 230, 136]], np.float32)
    phones = np.array(
        [
            [128, 150, 140, 166],  # below and beside the first head
            [180, 150, 192, 166],  # between both, nearer the second
            [400, 150, 412, 166],  # nobody's
            [110, 300, 122, 316],  # far below the first head (at its feet)
        ],
        np.float32,
    )
    assert owners(heads, phones).tolist() == [0, 1, -1, -1]
    assert owners(heads[:0], phones).tolist() == [-1, -1, -1, -1]


@pytest.mark.parametrize(
    ("frames", "linked", "expected"),
    [(10, 0, Outcome.COMPLIANT), (10, 1, Outcome.COMPLIANT), (10, 2, Outcome.NON_COMPLIANT),
     (30, 3, Outcome.COMPLIANT), (2, 2, Outcome.UNDETERMINED)],
)  # fmt: skip
def test_attribute_rule(frames, linked, expected):
    policy = AttributeSeen("cell_phone", min_frames=3, min_size_px=16)
    evidence = TrackEvidence({Outcome.COMPLIANT: 1.0}, frames, 30.0, attributes={"cell_phone": linked})
    assert policy.decide(evidence)[0] is expected


def test_a_phone_use_verdict_s_evidence_is_the_frame_that_shows_the_phone_best():
    """The helmet verdict's evidence is the head's best detection; the phone verdict's, the frame where the phone
    linked to that head scored highest (frame 7 here), so the ticket's picture shows the phone."""
    tracker = VerdictTracker(camera(), INFO, Tracking(), FPS, keep_evidence=True)
    frames = ride(20, phone_at=set(range(3, 12)), passenger=False)
    frames = [
        Detections(f.xyxy, np.where(f.class_ids == 3, 0.9 if i == 7 else 0.4, f.scores), f.class_ids, CLASSES)
        for i, f in enumerate(frames)
    ]
    observations = []
    for index, detections in enumerate([*frames, *[frame()] * 10]):
        image = np.full((4, 4, 3), index, np.uint8)  # each frame's pixels say which frame it is
        observations += tracker.update(detections, T0 + timedelta(seconds=index / FPS), image)
    by_category = {o.category: o for o in observations}
    assert by_category["phone"].outcome is Outcome.NON_COMPLIANT
    assert by_category["phone"].evidence.frame[0, 0, 0] == 7
    assert by_category["helmet"].evidence is not None
