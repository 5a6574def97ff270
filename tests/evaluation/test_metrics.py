"""The metric code against hand-computed cases (AP itself comes from pycocotools)."""

from pathlib import Path

import numpy as np
import pytest

from vision.detectors.detections import Detections
from vision.evaluation.metrics import OutcomeScores, evaluate, map_gt_labels, normalise_class_name
from vision.evaluation.voc import LabelledImage
from vision.outcome import Outcome

CLASSES = ("With Helmet", "Without Helmet")


def image(boxes, labels, size=(200, 200)) -> LabelledImage:
    return LabelledImage("img", Path("img.jpg"), size, np.asarray(boxes, np.float32).reshape(-1, 4), tuple(labels))


def dets(boxes, scores, class_ids) -> Detections:
    return Detections(xyxy=np.asarray(boxes).reshape(-1, 4), scores=scores, class_ids=class_ids, class_names=CLASSES)


def test_perfect_predictions_score_one():
    gt = image([[10, 10, 50, 50], [100, 100, 180, 180]], ["with_helmet", "without_helmet"])
    report = evaluate([gt], [dets(gt.xyxy, [0.9, 0.8], [0, 1])], CLASSES, conf=0.25)
    for name in CLASSES:
        scores = report.classes[name]
        assert (scores.AP50, scores.AP50_95, scores.precision, scores.recall) == pytest.approx((1, 1, 1, 1))
        assert scores.n_gt == 1
    assert [report.sizes[b].n_gt for b in ("small", "medium", "large")] == [0, 2, 0]  # 40 px and 80 px


def test_a_false_positive_between_two_hits():
    # Ranked: hit (0.9), miss (0.8), hit (0.7). Precision 1, 1/2, 2/3 at recall 1/2, 1/2, 1.
    # 101-point interpolation: recall 0.00..0.50 (51 points) at precision 1, 0.51..1.00 (50) at 2/3.
    gt = image([[10, 10, 50, 50], [100, 100, 140, 140]], ["with_helmet"] * 2)
    predictions = dets([[10, 10, 50, 50], [150, 10, 190, 50], [100, 100, 140, 140]], [0.9, 0.8, 0.7], [0, 0, 0])
    report = evaluate([gt], [predictions], CLASSES, conf=0.75)
    scores = report.classes["With Helmet"]
    assert scores.AP50 == pytest.approx((51 + 50 * 2 / 3) / 101)
    assert scores.AP50_95 == pytest.approx(scores.AP50)  # the hits are exact, so every IoU threshold agrees
    # At conf 0.75 only the first two count: one hit, one miss.
    assert (scores.precision, scores.recall, scores.n_pred) == (0.5, 0.5, 2)
    assert "Without Helmet" not in report.classes  # no ground truth of that class: not scored


def test_iou_below_one_half_is_a_miss_and_a_loose_box_counts_only_at_low_iou():
    gt = image([[0, 0, 100, 100]], ["with_helmet"])
    # IoU 0.6 (60 x 100 inside 100 x 100): a hit at 0.50-0.60, a miss from 0.65 up -> AP50-95 = 3/10.
    report = evaluate([gt], [dets([[0, 0, 60, 100]], [0.9], [0])], CLASSES, conf=0.25)
    assert report.classes["With Helmet"].AP50 == pytest.approx(1.0)
    assert report.classes["With Helmet"].AP50_95 == pytest.approx(0.3)
    report = evaluate([gt], [dets([[0, 0, 40, 100]], [0.9], [0])], CLASSES, conf=0.25)
    assert report.classes["With Helmet"].AP50 == 0 and report.classes["With Helmet"].recall == 0


def test_one_detection_matches_one_ground_truth_box():
    gt = image([[0, 0, 10, 10], [0, 0, 10, 10]], ["with_helmet", "with_helmet"])
    report = evaluate([gt], [dets([[0, 0, 10, 10]], [0.9], [0])], CLASSES, conf=0.25)
    assert report.classes["With Helmet"].recall == 0.5 and report.classes["With Helmet"].precision == 1.0


def test_wrong_class_is_a_miss_for_both_classes():
    gt = image([[0, 0, 50, 50]], ["without_helmet"])
    report = evaluate([gt], [dets([[0, 0, 50, 50]], [0.9], [0])], CLASSES, conf=0.25)
    assert report.classes["Without Helmet"].AP50 == 0 and report.classes["Without Helmet"].recall == 0


def test_size_buckets_count_recall_by_ground_truth_size():
    gt = image([[0, 0, 20, 20], [50, 50, 110, 110], [0, 100, 100, 200]], ["with_helmet"] * 3)
    report = evaluate([gt], [dets([[50, 50, 110, 110]], [0.9], [0])], CLASSES, conf=0.25)
    assert {k: (v.n_gt, v.recall) for k, v in report.sizes.items()} == {
        "small": (1, 0.0),
        "medium": (1, 1.0),
        "large": (1, 0.0),
    }


def test_unmatched_ground_truth_classes_are_reported_not_silently_scored():
    gt = image([[0, 0, 50, 50], [60, 60, 90, 90]], ["with_helmet", "mask_weared_incorrect"])
    report = evaluate([gt], [dets([[0, 0, 50, 50]], [0.9], [0])], CLASSES, conf=0.25)
    assert report.unmatched_gt_classes == {"mask_weared_incorrect": 1}


@pytest.mark.parametrize(
    ("name", "expected"),
    [("With Helmet", "with_helmet"), ("without_helmet", "without_helmet"), ("  Mask-On ", "mask_on")],
)
def test_normalise_class_name(name, expected):
    assert normalise_class_name(name) == expected


def test_aliases_win_over_name_matching():
    mapping = map_gt_labels(
        ["mask_weared_incorrect", "with_mask", "other"],
        ["with_mask", "without_mask"],
        {"mask_weared_incorrect": "without_mask"},
    )
    assert mapping == {"mask_weared_incorrect": "without_mask", "with_mask": "with_mask", "other": None}


def test_outcome_scores_count_verdicts_of_found_people():
    outcomes = {"With Helmet": Outcome.COMPLIANT, "Without Helmet": Outcome.NON_COMPLIANT}
    gt = image(
        [[0, 0, 50, 50], [100, 0, 150, 50], [0, 100, 50, 150], [100, 100, 150, 150]],
        ["with_helmet", "with_helmet", "without_helmet", "without_helmet"],
    )
    # Found: helmet judged bare (wrong), helmet judged helmet, bare judged bare. Missed: one bare head.
    predictions = dets([[0, 0, 50, 50], [100, 0, 150, 50], [0, 100, 50, 150]], [0.9, 0.8, 0.7], [1, 0, 1])
    report = evaluate([gt], [predictions], CLASSES, conf=0.25, outcomes=outcomes)
    assert report.outcomes == OutcomeScores(
        sensitivity=1.0, specificity=0.5, n_compliant=2, n_non_compliant=1, found=0.75, decided=1.0
    )


def test_undetermined_verdicts_count_as_found_but_not_in_sensitivity():
    classes = ("with_mask", "without_mask", "face_too_small")
    outcomes = {"with_mask": Outcome.COMPLIANT, "without_mask": Outcome.NON_COMPLIANT}
    gt = image([[0, 0, 50, 50], [100, 0, 150, 50]], ["without_mask", "without_mask"])
    predictions = Detections(xyxy=gt.xyxy, scores=[0.9, 0.8], class_ids=[1, 2], class_names=classes)
    report = evaluate([gt], [predictions], classes, conf=0.25, outcomes=outcomes)
    assert report.outcomes == OutcomeScores(
        sensitivity=1.0, specificity=None, n_compliant=0, n_non_compliant=1, found=1.0, decided=0.5
    )


def test_class_conf_sets_the_operating_threshold_per_class():
    outcomes = {"With Helmet": Outcome.COMPLIANT, "Without Helmet": Outcome.NON_COMPLIANT}
    gt = image([[0, 0, 50, 50], [100, 0, 150, 50]], ["with_helmet", "without_helmet"])
    predictions = dets(gt.xyxy, [0.5, 0.2], [0, 1])
    # One threshold of 0.25 misses the bare head (0.2); 0.15 for that class alone finds it.
    plain = evaluate([gt], [predictions], CLASSES, conf=0.25, outcomes=outcomes)
    assert plain.classes["Without Helmet"].recall == 0.0 and plain.outcomes.found == 0.5
    per_class = evaluate(
        [gt], [predictions], CLASSES, conf=0.25, outcomes=outcomes, class_conf={"Without Helmet": 0.15}
    )
    assert per_class.classes["Without Helmet"].recall == 1.0 and per_class.outcomes.found == 1.0
    assert per_class.classes["With Helmet"].recall == 1.0 and per_class.class_conf == {"Without Helmet": 0.15}
