"""Detection accuracy: COCO-style AP from pycocotools, plus precision/recall at the operating threshold.

AP50 and AP50-95 come from ``pycocotools.cocoeval.COCOeval`` (101-point interpolation, IoU 0.50
to 0.95 in steps of 0.05, at most 100 detections per image and class) rather than a copy of it.
Precision and recall at the operating threshold are ours: greedy matching by descending score,
IoU ≥ 0.5, one detection per ground-truth box; tests check them against hand-computed cases.

Size buckets use COCO's area ranges, i.e. the square root of the box area: small < 32 px,
medium 32-96 px, large > 96 px.
"""

from __future__ import annotations

import contextlib
import io
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from vision.detectors.boxes import box_iou
from vision.detectors.detections import Detections
from vision.evaluation.voc import LabelledImage
from vision.outcome import Outcome

MATCH_IOU = 0.5
SIZE_BUCKETS = {"small": (0.0, 32.0), "medium": (32.0, 96.0), "large": (96.0, float("inf"))}
_COCO_AREA_INDEX = {"all": 0, "small": 1, "medium": 2, "large": 3}


@dataclass(frozen=True)
class ClassScores:
    AP50: float
    AP50_95: float
    precision: float
    recall: float
    n_gt: int
    n_pred: int


@dataclass(frozen=True)
class SizeScores:
    AP50: float
    recall: float
    n_gt: int


@dataclass(frozen=True)
class OutcomeScores:
    """Per-person verdict quality among ground-truth objects that a detection found (IoU ≥ 0.5).

    Among found people whose detection gave a verdict (not undetermined): ``sensitivity`` =
    P(judged non-compliant | non-compliant) and ``specificity`` = P(judged compliant | compliant),
    what the Rogan-Gladen correction of a rate needs; ``n_compliant``/``n_non_compliant`` count
    them. ``found`` is the share of ground-truth objects with an outcome that any detection above
    the threshold matched, ``decided`` the share of those that got a verdict.
    """

    sensitivity: float | None
    specificity: float | None
    n_compliant: int
    n_non_compliant: int
    found: float
    decided: float


@dataclass(frozen=True)
class EvalReport:
    """What ``vision eval`` prints; ``to_dict`` is its ``--json`` form."""

    classes: dict[str, ClassScores]
    sizes: dict[str, SizeScores]
    mean_ap50: float
    mean_ap50_95: float
    conf: float
    n_images: int
    ms_per_image: float | None = None
    unmatched_gt_classes: dict[str, int] | None = None
    outcomes: OutcomeScores | None = None
    class_conf: dict[str, float] | None = None  # per-class operating thresholds overriding ``conf``
    # With detection settings: how many images were tiled at native resolution (the rest letterboxed whole).
    tiled_images: int | None = None
    # Detector crops (model calls) per image, mean: 1 letterboxed whole; tiles, or riders' squares, add theirs.
    crops_per_image: float | None = None

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def normalise_class_name(name: str) -> str:
    """``'With Helmet'`` and ``'with_helmet'`` both become ``'with_helmet'``."""
    return re.sub(r"[^0-9a-z]+", "_", name.casefold()).strip("_")


def map_gt_labels(
    gt_labels: Sequence[str], model_classes: Sequence[str], aliases: Mapping[str, str] | None = None
) -> dict[str, str | None]:
    """Ground-truth class -> model class, through ``aliases`` first, then by normalised name."""
    by_normal = {normalise_class_name(name): name for name in model_classes}
    aliases = aliases or {}
    mapping: dict[str, str | None] = {}
    for label in set(gt_labels):
        target = aliases.get(label, label)
        mapping[label] = target if target in model_classes else by_normal.get(normalise_class_name(target))
    return mapping


def _greedy_matches(det_xyxy: np.ndarray, det_scores: np.ndarray, gt_xyxy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(is_tp per detection, matched per gt)`` for one image and one class."""
    is_tp = np.zeros(len(det_xyxy), dtype=bool)
    matched = np.zeros(len(gt_xyxy), dtype=bool)
    if not len(det_xyxy) or not len(gt_xyxy):
        return is_tp, matched
    ious = box_iou(det_xyxy, gt_xyxy)
    for det_index in np.argsort(-det_scores, kind="stable"):
        candidates = np.where(matched, -1.0, ious[det_index])
        best = int(candidates.argmax())
        if candidates[best] >= MATCH_IOU:
            is_tp[det_index] = True
            matched[best] = True
    return is_tp, matched


def _coco_eval(
    images: Sequence[LabelledImage],
    predictions: Sequence[Detections],
    classes: Sequence[str],
    gt_class: Sequence[list[str | None]],
) -> COCOeval | None:
    category_ids = {name: index + 1 for index, name in enumerate(classes)}
    gt: dict[str, list[dict[str, object]]] = {
        "images": [{"id": i, "height": img.size[0], "width": img.size[1]} for i, img in enumerate(images)],
        "categories": [{"id": cid, "name": name} for name, cid in category_ids.items()],
        "annotations": [],
    }
    results = []
    for image_id, (image, dets, labels) in enumerate(zip(images, predictions, gt_class, strict=True)):
        for box, label in zip(image.xyxy, labels, strict=True):
            if label is None:
                continue
            w, h = float(box[2] - box[0]), float(box[3] - box[1])
            gt["annotations"].append(
                {
                    "id": len(gt["annotations"]) + 1,
                    "image_id": image_id,
                    "category_id": category_ids[label],
                    "bbox": [float(box[0]), float(box[1]), w, h],
                    "area": w * h,
                    "iscrowd": 0,
                }
            )
        for box, score, name in zip(dets.xyxy, dets.scores, dets.labels, strict=True):
            if name in category_ids:
                results.append(
                    {
                        "image_id": image_id,
                        "category_id": category_ids[name],
                        "bbox": [float(box[0]), float(box[1]), float(box[2] - box[0]), float(box[3] - box[1])],
                        "score": float(score),
                    }
                )
    if not results or not gt["annotations"]:
        return None
    with contextlib.redirect_stdout(io.StringIO()):  # pycocotools narrates every step on stdout
        coco_gt = COCO()
        coco_gt.dataset = gt
        coco_gt.createIndex()
        coco_dt = coco_gt.loadRes(results)
        evaluator = COCOeval(coco_gt, coco_dt, iouType="bbox")
        evaluator.evaluate()
        evaluator.accumulate()
    return evaluator


def _mean_valid(values: np.ndarray) -> float:
    valid = values[values > -1]
    return float(valid.mean()) if valid.size else 0.0


def above_threshold(dets: Detections, conf: float, class_conf: Mapping[str, float] | None = None) -> np.ndarray:
    """``(K,)`` bool: which detections pass the operating threshold, ``class_conf[label]`` or ``conf``."""
    if not class_conf:
        return dets.scores > conf
    thresholds = np.array([class_conf.get(label, conf) for label in dets.labels], dtype=np.float64)
    return dets.scores > thresholds


def outcome_scores(
    images: Sequence[LabelledImage],
    predictions: Sequence[Detections],
    gt_class: Sequence[list[str | None]],
    outcomes: Mapping[str, Outcome],
    conf: float,
    class_conf: Mapping[str, float] | None = None,
) -> OutcomeScores:
    """Confusion of outcomes between ground-truth objects and the detections that found them.

    Matching ignores class (greedy by score, IoU ≥ 0.5, detections above the operating threshold),
    since the question is what verdict a found person gets.
    """
    confusion: Counter[tuple[Outcome, Outcome]] = Counter()
    n_gt = 0
    for image, dets, labels in zip(images, predictions, gt_class, strict=True):
        truth = [outcomes.get(label, Outcome.UNDETERMINED) if label else Outcome.UNDETERMINED for label in labels]
        judged = np.array([t is not Outcome.UNDETERMINED for t in truth], dtype=bool)
        n_gt += int(judged.sum())
        keep = above_threshold(dets, conf, class_conf)
        det_xyxy, det_scores = dets.xyxy[keep], dets.scores[keep]
        det_outcomes = [outcomes.get(name, Outcome.UNDETERMINED) for name in np.array(dets.labels, dtype=object)[keep]]
        gt_xyxy = image.xyxy[judged]
        gt_truth = [t for t in truth if t is not Outcome.UNDETERMINED]
        if not len(det_xyxy) or not len(gt_xyxy):
            continue
        ious = box_iou(det_xyxy, gt_xyxy)
        matched = np.zeros(len(gt_xyxy), dtype=bool)
        for det_index in np.argsort(-det_scores, kind="stable"):
            candidates = np.where(matched, -1.0, ious[det_index])
            best = int(candidates.argmax())
            if candidates[best] >= MATCH_IOU:
                matched[best] = True
                confusion[(gt_truth[best], det_outcomes[det_index])] += 1
    found = sum(confusion.values())
    decided = {key: count for key, count in confusion.items() if key[1] is not Outcome.UNDETERMINED}
    non_compliant = sum(v for (t, _), v in decided.items() if t is Outcome.NON_COMPLIANT)
    compliant = sum(v for (t, _), v in decided.items() if t is Outcome.COMPLIANT)
    hits_non_compliant = decided.get((Outcome.NON_COMPLIANT, Outcome.NON_COMPLIANT), 0)
    hits_compliant = decided.get((Outcome.COMPLIANT, Outcome.COMPLIANT), 0)
    return OutcomeScores(
        sensitivity=hits_non_compliant / non_compliant if non_compliant else None,
        specificity=hits_compliant / compliant if compliant else None,
        n_compliant=compliant,
        n_non_compliant=non_compliant,
        found=found / n_gt if n_gt else 0.0,
        decided=(compliant + non_compliant) / found if found else 0.0,
    )


def evaluate(
    images: Sequence[LabelledImage],
    predictions: Sequence[Detections],
    model_classes: Sequence[str],
    conf: float,
    aliases: Mapping[str, str] | None = None,
    outcomes: Mapping[str, Outcome] | None = None,
    class_conf: Mapping[str, float] | None = None,
) -> EvalReport:
    """Score ``predictions`` (one :class:`Detections` per image, ideally at a low threshold) against ``images``.

    Classes are the model's; a ground-truth class maps to one by ``aliases`` or by normalised name,
    and ground-truth classes that map to none are reported in ``unmatched_gt_classes`` and left out.
    ``conf`` is the operating threshold for precision and recall (detections with score > conf),
    ``class_conf`` overrides it for named classes.
    With ``outcomes`` (model class -> outcome) the report also gives per-person verdict quality.
    """
    if len(images) != len(predictions):
        raise ValueError(f"{len(images)} images but {len(predictions)} prediction sets")
    all_labels = [label for image in images for label in image.labels]
    mapping = map_gt_labels(all_labels, model_classes, aliases)
    gt_class = [[mapping[label] for label in image.labels] for image in images]
    unmatched = Counter(label for label in all_labels if mapping[label] is None)
    classes = [name for name in model_classes if any(name in labels for labels in gt_class)]

    evaluator = _coco_eval(images, predictions, classes, gt_class)
    class_scores: dict[str, ClassScores] = {}
    size_tp = Counter[str]()
    size_n = Counter[str]()
    for k, name in enumerate(classes):
        tp = n_pred = n_gt = 0
        for image, dets, labels in zip(images, predictions, gt_class, strict=True):
            gt_mask = np.array([label == name for label in labels], dtype=bool)
            det_mask = above_threshold(dets, conf, class_conf) & np.array([n == name for n in dets.labels], dtype=bool)
            is_tp, matched = _greedy_matches(dets.xyxy[det_mask], dets.scores[det_mask], image.xyxy[gt_mask])
            tp += int(is_tp.sum())
            n_pred += int(det_mask.sum())
            n_gt += int(gt_mask.sum())
            gt_boxes = image.xyxy[gt_mask]
            sides = np.sqrt(np.clip((gt_boxes[:, 2] - gt_boxes[:, 0]) * (gt_boxes[:, 3] - gt_boxes[:, 1]), 0, None))
            for bucket, (low, high) in SIZE_BUCKETS.items():
                in_bucket = (sides >= low) & (sides < high)
                size_n[bucket] += int(in_bucket.sum())
                size_tp[bucket] += int((matched & in_bucket).sum())
        if evaluator is not None:
            precision = evaluator.eval["precision"]  # [T, R, K, A, M]
            ap50 = _mean_valid(precision[0, :, k, 0, -1])
            ap = _mean_valid(precision[:, :, k, 0, -1])
        else:
            ap50 = ap = 0.0
        class_scores[name] = ClassScores(
            AP50=ap50,
            AP50_95=ap,
            precision=tp / n_pred if n_pred else 0.0,
            recall=tp / n_gt if n_gt else 0.0,
            n_gt=n_gt,
            n_pred=n_pred,
        )

    sizes = {}
    for bucket in SIZE_BUCKETS:
        if evaluator is not None:
            per_class = evaluator.eval["precision"][0, :, :, _COCO_AREA_INDEX[bucket], -1]
            class_aps = [_mean_valid(per_class[:, k]) for k in range(len(classes)) if (per_class[:, k] > -1).any()]
            ap50 = float(np.mean(class_aps)) if class_aps else 0.0
        else:
            ap50 = 0.0
        sizes[bucket] = SizeScores(
            AP50=ap50,
            recall=size_tp[bucket] / size_n[bucket] if size_n[bucket] else 0.0,
            n_gt=size_n[bucket],
        )
    return EvalReport(
        classes=class_scores,
        sizes=sizes,
        mean_ap50=float(np.mean([s.AP50 for s in class_scores.values()])) if class_scores else 0.0,
        mean_ap50_95=float(np.mean([s.AP50_95 for s in class_scores.values()])) if class_scores else 0.0,
        conf=conf,
        n_images=len(images),
        unmatched_gt_classes=dict(unmatched) or None,
        outcomes=outcome_scores(images, predictions, gt_class, outcomes, conf, class_conf) if outcomes else None,
        class_conf=dict(class_conf) if class_conf else None,
    )
