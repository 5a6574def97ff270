"""Frame-by-frame tracker scripts: what goes in each frame, which observations come out."""

from datetime import timedelta

import numpy as np
import pytest
from tracking_support import FPS, T0, frame_of, helmet_camera, helmet_info

from vision.config import Camera, Gates, Tracking, Zone
from vision.detectors.base import Category, ModelInfo
from vision.detectors.detections import Detections
from vision.outcome import Outcome
from vision.tracking import VerdictTracker

CLASSES = ("With Helmet", "Without Helmet", "face_too_small")
INFO = helmet_info("test", CLASSES)
frame = frame_of(CLASSES)


def camera(**kwargs) -> Camera:
    return helmet_camera("cam", "site", **kwargs)


def run(tracker: VerdictTracker, frames: list[Detections], then_empty: int = 0) -> list:
    observations = []
    for index, detections in enumerate([*frames, *[frame()] * then_empty]):
        observations += tracker.update(detections, T0 + timedelta(seconds=index / FPS))
    return observations


def walking_head(n: int, class_of=lambda i: 0, score: float = 0.8, x0: float = 100, step: float = 4):
    return [frame((x0 + step * i, 100, x0 + 40 + step * i, 140, score, class_of(i))) for i in range(n)]


def test_one_person_for_thirty_seconds_is_one_observation():
    tracker = VerdictTracker(camera(), INFO, Tracking(max_age_s=1.0), FPS)
    observations = run(tracker, walking_head(150, step=0.5), then_empty=10)
    assert len(observations) == 1
    (observation,) = observations
    assert observation.outcome is Outcome.COMPLIANT and observation.vote_share == 1.0
    # The first frame only confirms the track (two consecutive frames are needed for an id).
    assert observation.frames == 149
    assert observation.ended_at - observation.started_at == timedelta(seconds=148 / FPS)
    assert observation.mean_confidence == pytest.approx(0.8)
    assert (observation.camera_id, observation.site_id, observation.category) == ("cam", "site", "helmet")


def test_vote_is_confidence_weighted():
    # 6 frames say "with" at 0.5, 4 frames say "without" at 0.9: 3.0 vs 3.6 -> non-compliant.
    heads = [
        frame((100 + i, 100, 140 + i, 140, 0.9 if i % 5 in (1, 3) else 0.5, 1 if i % 5 in (1, 3) else 0))
        for i in range(11)
    ]
    (observation,) = run(VerdictTracker(camera(), INFO, Tracking(), FPS), heads, then_empty=10)
    assert observation.outcome is Outcome.NON_COMPLIANT
    assert observation.vote_share == pytest.approx(3.6 / 6.6, abs=1e-6)


def test_two_people_are_two_observations_and_finish_flushes_open_tracks():
    tracker = VerdictTracker(camera(), INFO, Tracking(), FPS)
    frames = [frame((100 + i, 100, 140 + i, 140, 0.8, 0), (400 - i, 300, 440 - i, 340, 0.8, 1)) for i in range(10)]
    assert run(tracker, frames) == []  # still in view
    outcomes = sorted(o.outcome for o in tracker.finish())
    assert outcomes == [Outcome.COMPLIANT, Outcome.NON_COMPLIANT]
    assert tracker.finish() == []


@pytest.mark.parametrize(
    ("tracking", "heads", "expected"),
    [
        (Tracking(min_frames=5), walking_head(4), Outcome.UNDETERMINED),  # 3 tracked frames < 5
        (Tracking(min_frames=3), walking_head(4), Outcome.COMPLIANT),
        (Tracking(min_size_px=50), walking_head(10), Outcome.UNDETERMINED),  # 40 px heads
        (Tracking(), walking_head(10, class_of=lambda i: 2), Outcome.UNDETERMINED),  # never judged
    ],
)
def test_short_small_or_unjudged_tracks_are_undetermined(tracking, heads, expected):
    (observation,) = run(VerdictTracker(camera(), INFO, tracking, FPS), heads, then_empty=10)
    assert observation.outcome is expected


def test_detections_outside_every_zone_do_not_count():
    zones = (Zone(name="lane", polygon=((0, 0), (300, 0), (300, 300), (0, 300))),)
    tracker = VerdictTracker(camera(zones=zones), INFO, Tracking(), FPS)
    frames = [frame((100 + i, 100, 140 + i, 140, 0.8, 0), (500, 100, 540, 140, 0.8, 1)) for i in range(10)]
    (observation,) = run(tracker, frames, then_empty=10)
    assert observation.zone == "lane" and observation.outcome is Outcome.COMPLIANT


def test_speed_gate_drops_standing_people_and_keeps_riders():
    tracker = VerdictTracker(camera(gates=Gates(min_speed_px_s=20)), INFO, Tracking(), FPS)
    standing = walking_head(20, step=0.0)
    riding = walking_head(20, step=10.0, x0=300)  # 50 px/s
    frames = [frame((*s.xyxy[0], 0.8, 0), (*r.xyxy[0], 0.8, 1)) for s, r in zip(standing, riding, strict=True)]
    observations = run(tracker, frames, then_empty=10)
    assert [o.outcome for o in observations] == [Outcome.NON_COMPLIANT]
    assert tracker.gated_out == 1


def test_a_model_without_outcomes_is_refused():
    with pytest.raises(ValueError, match="maps no class to an outcome"):
        VerdictTracker(camera(), ModelInfo(name="bare", class_names=("a",)), Tracking(), FPS)


def test_two_classes_on_one_head_are_one_person():
    # Class-aware NMS can leave a "with" and a "without" box on the same head.
    frames = [frame((100 + i, 100, 140 + i, 140, 0.6, 0), (101 + i, 100, 141 + i, 141, 0.45, 1)) for i in range(10)]
    (observation,) = run(VerdictTracker(camera(), INFO, Tracking(), FPS), frames, then_empty=10)
    assert observation.outcome is Outcome.COMPLIANT


# A model that reports bare heads from 0.15 and helmets only from 0.4 (count-matched thresholds).
CALIBRATED = ModelInfo(
    name="calibrated",
    class_names=CLASSES,
    category=Category.HELMET,
    outcomes=INFO.outcomes,
    conf=0.25,
    class_conf={"With Helmet": 0.4, "Without Helmet": 0.15},
)


def test_a_box_above_its_own_class_threshold_starts_a_track():
    # 0.2 is below the model's global conf but above the bare-head threshold: it is a reported person.
    heads = walking_head(10, class_of=lambda i: 1, score=0.2)
    (observation,) = run(VerdictTracker(camera(), CALIBRATED, Tracking(), FPS), heads, then_empty=10)
    assert observation.outcome is Outcome.NON_COMPLIANT
    assert observation.mean_confidence == pytest.approx(0.2)  # raw detector scores are what is recorded
    # An explicit activation score above the comparable one (0.2 * 0.25 / 0.15 = 0.33) keeps it out.
    assert run(VerdictTracker(camera(), CALIBRATED, Tracking(activation_conf=0.4), FPS), heads, then_empty=10) == []


def test_vote_weighs_each_class_relative_to_its_own_threshold():
    # Raw, "with" at 0.5 outweighs "without" at 0.3; each just above its own threshold they count
    # alike: 0.5 -> 0.25 + 0.1 * 0.75 / 0.6 = 0.375, 0.3 -> 0.25 + 0.15 * 0.75 / 0.85 = 0.382.
    # 13 frames: the first only confirms the track, then six of each class.
    heads = [frame((100 + i, 100, 140 + i, 140, *((0.3, 1) if i % 2 else (0.5, 0)))) for i in range(13)]
    (raw,) = run(VerdictTracker(camera(), INFO, Tracking(), FPS), heads, then_empty=10)
    (calibrated,) = run(VerdictTracker(camera(), CALIBRATED, Tracking(), FPS), heads, then_empty=10)
    assert raw.outcome is Outcome.COMPLIANT
    assert calibrated.outcome is Outcome.NON_COMPLIANT


def test_a_tracker_of_a_camera_attached_again_goes_on_from_the_ids_used_before():
    first = VerdictTracker(camera(), INFO, Tracking(), FPS)
    two_people = [frame((100 + i, 100, 140 + i, 140, 0.8, 0), (400 - i, 300, 440 - i, 340, 0.8, 1)) for i in range(10)]
    run(first, two_people)
    earlier = sorted(o.track_id for o in first.finish())
    assert first.last_track_id == max(earlier)
    # The camera's lease came back later in the same run: a new tracker, whose ByteTrack counts from 1 again.
    second = VerdictTracker(camera(), INFO, Tracking(), FPS, first_track_id=first.last_track_id + 1)
    run(second, two_people)
    later = sorted(o.track_id for o in second.finish())
    assert len(later) == 2 and min(later) > max(earlier), "no (camera, run, track) is reused"
    assert second.last_track_id == max(later)


def test_the_tracker_says_when_it_has_settled_what_it_saw():
    """``unsettled`` (a planner looks at still frames while it is true): a new head is unsettled until its
    track is confirmed and has the frames of a verdict; a settled head stays in ``open_head_boxes``."""
    tracker = VerdictTracker(camera(), INFO, Tracking(max_age_s=1.0, min_frames=3), FPS)
    states = []
    for detections in walking_head(6, step=0.0):
        tracker.update(detections, T0)
        states.append(tracker.unsettled)
    # Frame 1: not yet confirmed; frames 2-3: confirmed with 1-2 frames; frame 4 on: 3 frames, settled.
    assert states == [True, True, True, False, False, False]
    np.testing.assert_allclose(tracker.open_head_boxes(), [[100, 100, 140, 140]])
    tracker.update(frame(), T0)
    assert not tracker.unsettled and len(tracker.open_head_boxes()) == 1, "a frame without it: still open"
