#!/usr/bin/env python3
"""Where a detector's AP goes on a labelled set: missed heads, wrong classes, unmatched boxes.

AP50 alone does not say whether a class is lost to misses, to confusion with the other class or
to boxes where nothing is labelled. This script counts, at the spec's operating threshold and
IoU >= 0.3 (a 30 px head is matched loosely, as a tracker would):

- per labelled class: found with the right class, found only as another class, missed; and the
  same by head size (``by_size``: the label's sqrt(width x height) in image pixels, < 16, 16-24,
  24-32, >= 32 px), printed as a table with ``--table`` for every ``--voc`` given::

    .venv/bin/python scripts/detection_errors.py models/helmet.yaml --table \
        --voc ../shared/datasets/gate-camera ../shared/datasets/gate-camera-id ../shared/datasets/bike-helmet

- on the riders path, per class, where the heads not found with the right class lie: inside a rider
  square that was run (the two-wheeler was found, the head in its square was not: the model's miss)
  or outside every square (its two-wheeler was not found: the vehicle pass's miss);

- (``--bounds``) what AP50 the same boxes would reach if the model's errors of one kind were gone:
  the served boxes (AP floor, as ``vision eval``); the same head boxes, one per head, with the class
  of the labelled head each covers (IoU >= 0.5: every confusion fixed, nothing found or moved); and
  those without the head boxes that cover no labelled head (every box on an unlabelled person gone,
  too). What a better head classifier could win is the first step; what is left above it is boxes
  where nothing is labelled and heads no box covers::

    .venv/bin/python scripts/detection_errors.py models/helmet.yaml --bounds \
        --voc ../shared/datasets/gate-camera ../shared/datasets/gate-camera-id ../shared/datasets/bike-helmet

- detections that match no label, by class, and (``--sheet``) a contact sheet of the best
  scoring of them, each shown with its surroundings, to look at what they are::

    .venv/bin/python scripts/detection_errors.py models/helmet.yaml \\
        --voc ../shared/datasets/gate-camera --split val.txt --detection tiles --sheet build/analysis/gate-fp.png

On gate-camera val such a sheet shows why that set's precision is low for any model that boxes
heads: only riders coming towards the camera are labelled there (its README: riders only), so
riders seen from behind, pillion passengers and pedestrians are "unmatched" though they are heads.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from vision.categories import vehicle_class_names
from vision.config import Detection
from vision.detectors import Detections, build_detector, load_spec
from vision.detectors.boxes import box_iou, nms
from vision.detectors.motion import RegionPlanner
from vision.detectors.regions import Region, detect_regions, merge_groups
from vision.evaluation.metrics import evaluate, map_gt_labels
from vision.evaluation.runner import AP_SCORE_FLOOR, predict_images
from vision.evaluation.voc import LabelledImage, load_voc
from vision.outcome import Outcome

ROOT = Path(__file__).resolve().parents[1]

MATCH_IOU = 0.3
SIZE_BINS = ((0, 16, "< 16"), (16, 24, "16-24"), (24, 32, "24-32"), (32, float("inf"), ">= 32"))
OUTCOMES = ("found", "other class only", "missed")
# Bounds: the head boxes of one head (a box per class the model hesitates over) are one box at this IoU, and
# a box tells a labelled head's class when it covers it as AP50 counts a find.
SAME_HEAD_IOU = 0.6
AP_IOU = 0.5
BOUNDS = ("served", "classes from the labels", "and no box on an unlabelled head")


def size_bin(box: np.ndarray) -> str:
    """The size bin of an xyxy box by sqrt(width x height), px."""
    side = float(np.sqrt(max(0.0, box[2] - box[0]) * max(0.0, box[3] - box[1])))
    return next(name for low, high, name in SIZE_BINS if low <= side < high)


SHEET_CELL = 160
SHEET_COLUMNS = 8


def rider_squares(detector, frame: np.ndarray, vehicle_conf: float) -> list[Region]:
    """The rider squares the riders path runs on ``frame``: its first pass again, then the planner's squares."""
    info = detector.info
    planner = RegionPlanner(
        Detection(mode="riders"), info.input_size, info.native_frame_height, None, vehicle_conf, True
    )
    plan = planner.plan(frame)
    (first,) = detect_regions(detector, [frame], [plan], merge_groups(info.class_names))
    return planner.rider_crops(first, frame.shape[:2])


def in_any(box: np.ndarray, squares: list[Region]) -> bool:
    """Whether the centre of ``box`` (xyxy) lies in one of ``squares``."""
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    return any(s.x <= cx <= s.x + s.width and s.y <= cy <= s.y + s.height for s in squares)


def analyse(
    spec_path: Path,
    voc: Path,
    split: str,
    mode: str,
    sheet: Path | None,
    sheet_count: int,
    confused_sheet: Path | None = None,
) -> dict:
    spec = load_spec(spec_path)
    detector = build_detector(spec)
    images = load_voc(voc, split)
    vehicles = vehicle_class_names()
    # two-wheelers are looked for at the lowest threshold any of them is served at, as vision eval does
    vehicle_conf = min((spec.class_conf.get(name, spec.conf) for name in vehicles), default=spec.conf)
    predicted = predict_images(
        detector, images, progress=False, detection=Detection(mode=mode), vehicle_conf=vehicle_conf
    )
    predictions = predicted.detections
    non_compliant = {
        name for name in detector.info.class_names if detector.info.outcome_of(name) is Outcome.NON_COMPLIANT
    }
    labelled: Counter[tuple[str, str]] = Counter()
    by_size: Counter[tuple[str, str, str]] = Counter()
    not_found_where: Counter[tuple[str, str]] = Counter()
    unmatched: list[tuple[float, str, int, list[float]]] = []
    confused: list[tuple[float, str, int, list[float]]] = []
    for index, (image, dets) in enumerate(zip(images, predictions, strict=True)):
        keep = np.array([name not in vehicles for name in dets.labels], bool) & (dets.scores > spec.conf)
        boxes, scores = dets.xyxy[keep], dets.scores[keep]
        names = [name for name, k in zip(dets.labels, keep, strict=True) if k]
        gt_keep = np.array([label not in vehicles for label in image.labels], bool)
        gt_boxes = image.xyxy[gt_keep]
        gt_labels = [label for label, k in zip(image.labels, gt_keep, strict=True) if k]
        ious = box_iou(gt_boxes, boxes) if len(gt_boxes) and len(boxes) else np.zeros((len(gt_boxes), len(boxes)))
        squares: list[Region] | None = None
        for row, label in enumerate(gt_labels):
            matches = np.flatnonzero(ious[row] >= MATCH_IOU) if ious.shape[1] else np.zeros(0, int)
            found = {names[j] for j in matches}
            what = "found" if label in found else "other class only" if found else "missed"
            labelled[(label, what)] += 1
            if what != "found" and predicted.modes[index] == "riders":
                if squares is None:
                    squares = rider_squares(detector, cv2.imread(str(image.image_path)), vehicle_conf)
                not_found_where[(label, "in a rider square" if in_any(gt_boxes[row], squares) else "in none")] += 1
            by_size[(label, size_bin(gt_boxes[row]), what)] += 1
            if found and label not in found:
                best = max(matches, key=lambda j: scores[j])
                confused.append((float(scores[best]), f"{label}>{names[best]}", index, gt_boxes[row].tolist()))
        for column in range(len(boxes)):
            if not ious.shape[0] or ious[:, column].max() < MATCH_IOU:
                unmatched.append((float(scores[column]), names[column], index, boxes[column].tolist()))
    unmatched.sort(key=lambda item: -item[0])
    if sheet is not None:
        write_sheet(sheet, unmatched[:sheet_count], images, non_compliant)
    if confused_sheet is not None:
        confused.sort(key=lambda item: -item[0])
        write_sheet(confused_sheet, confused[:sheet_count], images, set())
    return {
        "spec": str(spec_path),
        "data": f"{voc} {split}",
        "path": "/".join(sorted(set(predicted.modes))),
        "conf": spec.conf,
        "match_iou": MATCH_IOU,
        "labelled": {f"{label}: {what}": count for (label, what), count in sorted(labelled.items())},
        "by_size": {
            label: {
                name: {what: by_size[(label, name, what)] for what in OUTCOMES}
                for _, _, name in SIZE_BINS
                if any(by_size[(label, name, what)] for what in OUTCOMES)
            }
            for label in sorted({label for label, _, _ in by_size})
        },
        "not_found_on_the_riders_path": {
            f"{label}: {where}": count for (label, where), count in sorted(not_found_where.items())
        },
        "unmatched": dict(Counter(name for _, name, _, _ in unmatched)),
        "unmatched_score_0.5_or_more": dict(Counter(name for score, name, _, _ in unmatched if score >= 0.5)),
    }


def ap_bounds(
    images: Sequence[LabelledImage],
    predictions: Sequence[Detections],
    class_names: Sequence[str],
    heads: Sequence[str],
    conf: float,
    aliases: dict[str, str] | None = None,
) -> dict[str, dict[str, float]]:
    """AP50 per class of ``heads`` for each of :data:`BOUNDS`: ``predictions`` (one per image, at the AP
    floor) as they are; their head boxes grouped one per head (class-agnostic NMS at :data:`SAME_HEAD_IOU`,
    the best score kept), each group that covers a labelled head (IoU >= :data:`AP_IOU`) given that head's
    class; and the same without the groups that cover no labelled head. Other classes (vehicles) are kept
    as they are in every row."""
    mapping = map_gt_labels([label for image in images for label in image.labels], class_names, aliases)
    head_ids = [class_names.index(name) for name in heads]
    told: list[Detections] = []
    labelled_only: list[Detections] = []
    for image, found in zip(images, predictions, strict=True):
        is_head = np.isin(found.class_ids, head_ids)
        boxes, scores, classes = found.xyxy[is_head], found.scores[is_head], found.class_ids[is_head]
        keep = nms(boxes, scores, None, SAME_HEAD_IOU) if len(boxes) else np.zeros(0, np.intp)
        boxes, scores, classes = boxes[keep], scores[keep], classes[keep].copy()
        label_ids = [class_names.index(m) if (m := mapping[label]) in heads else -1 for label in image.labels]
        labelled = np.asarray(label_ids) >= 0
        covers = np.zeros(len(boxes), bool)
        if labelled.any() and len(boxes):
            ious = box_iou(boxes, image.xyxy[labelled])
            covers = ious.max(1) >= AP_IOU
            classes[covers] = np.asarray(label_ids)[labelled][ious.argmax(1)[covers]]
        others = Detections(found.xyxy[~is_head], found.scores[~is_head], found.class_ids[~is_head], found.class_names)
        for rows, chosen in ((told, np.ones(len(boxes), bool)), (labelled_only, covers)):
            rows.append(
                Detections(
                    np.concatenate([others.xyxy, boxes[chosen]]),
                    np.concatenate([others.scores, scores[chosen]]),
                    np.concatenate([others.class_ids, classes[chosen]]),
                    found.class_names,
                )
            )
    bounds = {}
    for name, rows in zip(BOUNDS, (list(predictions), told, labelled_only), strict=True):
        report = evaluate(images, rows, class_names, conf, aliases)
        bounds[name] = {head: report.classes[head].AP50 for head in heads if head in report.classes}
    return bounds


def bounds(spec_path: Path, voc: Path, split: str, mode: str) -> dict:
    """:func:`ap_bounds` of the spec on a labelled set, detected as ``vision eval --detection mode`` does."""
    spec = load_spec(spec_path)
    detector = build_detector(spec.model_copy(update={"conf": min(spec.conf, AP_SCORE_FLOOR)}))
    images = load_voc(voc, split)
    vehicles = vehicle_class_names()
    vehicle_conf = min((spec.class_conf.get(name, spec.conf) for name in vehicles), default=spec.conf)
    predicted = predict_images(
        detector, images, progress=False, detection=Detection(mode=mode), vehicle_conf=vehicle_conf
    )
    names = detector.info.class_names
    heads = [name for name in names if name not in vehicles]
    return {
        "spec": str(spec_path),
        "data": f"{voc} {split}",
        "path": "/".join(sorted(set(predicted.modes))),
        "ap50": ap_bounds(images, predicted.detections, names, heads, spec.conf, spec.eval_aliases),
    }


def bounds_table(report: dict) -> str:
    """:func:`bounds` as a Markdown table: a row per bound, AP50 per head class."""
    heads = list(report["ap50"][BOUNDS[0]])
    lines = [
        f"{report['data']} ({report['path']})",
        "",
        "| AP50 of | " + " | ".join(heads) + " |",
        "|---|" + "---|" * len(heads),
    ]
    lines += [
        f"| {name} | " + " | ".join(f"{row[h]:.3f}" for h in heads) + " |" for name, row in report["ap50"].items()
    ]
    return "\n".join(lines)


def size_table(report: dict) -> str:
    """``by_size`` as a Markdown table: one row per class and size, found / confused / missed."""
    lines = [
        f"{report['data']} ({report['path']})",
        "",
        "| class | head px | labelled | found | other class only | missed |",
        "|---|---|---|---|---|---|",
    ]
    for label, sizes in report["by_size"].items():
        for name, counts in sizes.items():
            total = sum(counts.values())
            shares = " | ".join(f"{counts[what]} ({counts[what] / total:.0%})" for what in OUTCOMES)
            lines.append(f"| {label} | {name} | {total} | {shares} |")
    if report["not_found_on_the_riders_path"]:
        where = "; ".join(f"{key} {count}" for key, count in report["not_found_on_the_riders_path"].items())
        lines += ["", f"Not found with the right class, by where the head lies: {where}"]
    return "\n".join(lines)


def write_sheet(
    path: Path, items: list[tuple[float, str, int, list[float]]], images: list[LabelledImage], red: set[str]
) -> None:
    """A grid of crops (2.5 box sizes around each box), the box drawn (red: a class in ``red``, else
    blue), class and score written."""
    cells = []
    for score, name, index, (x0, y0, x1, y1) in items:
        frame = cv2.imread(str(images[index].image_path))
        cx, cy, reach = (x0 + x1) / 2, (y0 + y1) / 2, max(x1 - x0, y1 - y0) * 2.5
        left, top = int(max(0, cx - reach)), int(max(0, cy - reach))
        crop = frame[top : int(cy + reach), left : int(cx + reach)].copy()
        colour = (0, 0, 255) if name in red else (255, 0, 0)
        cv2.rectangle(crop, (int(x0 - left), int(y0 - top)), (int(x1 - left), int(y1 - top)), colour, 1)
        cell = cv2.resize(crop, (SHEET_CELL, SHEET_CELL))
        cv2.putText(cell, f"{name[:24]} {score:.2f}", (2, 12), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 255, 255), 1)
        cells.append(cell)
    while len(cells) % SHEET_COLUMNS:
        cells.append(np.zeros((SHEET_CELL, SHEET_CELL, 3), np.uint8))
    rows = [np.hstack(cells[i : i + SHEET_COLUMNS]) for i in range(0, len(cells), SHEET_COLUMNS)]
    path.parent.mkdir(parents=True, exist_ok=True)
    if rows:
        cv2.imwrite(str(path), np.vstack(rows))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("spec", type=Path)
    parser.add_argument("--voc", type=Path, nargs="+", required=True, help="one or more VOC folders")
    parser.add_argument("--split", default="val.txt")
    parser.add_argument(
        "--detection",
        choices=("whole", "tiles", "riders", "auto"),
        default="auto",
        help="how each image is detected, as vision eval --detection (default auto: as a camera serves it)",
    )
    parser.add_argument("--sheet", type=Path, help="write a contact sheet of the best unmatched detections (PNG)")
    parser.add_argument(
        "--confused-sheet",
        type=Path,
        help="write a contact sheet of the labelled heads found only as another class (the label's box drawn; "
        "the text is label>prediction and the prediction's score)",
    )
    parser.add_argument("--sheet-count", type=int, default=40)
    parser.add_argument("--table", action="store_true", help="print the per-size tables, not the JSON")
    parser.add_argument(
        "--bounds",
        action="store_true",
        help="print AP50 as served, with every confusion fixed, and with no box on an unlabelled head too "
        "(with --table as tables)",
    )
    args = parser.parse_args()
    if len(args.voc) > 1 and (args.sheet or args.confused_sheet):
        parser.error("--sheet and --confused-sheet take one --voc")
    if args.bounds and (args.sheet or args.confused_sheet):
        parser.error("--bounds writes no sheet")
    for voc in args.voc:
        if args.bounds:
            found = bounds(args.spec, voc, args.split, args.detection)
            print(bounds_table(found) + "\n" if args.table else json.dumps(found, indent=1))
            continue
        result = analyse(args.spec, voc, args.split, args.detection, args.sheet, args.sheet_count, args.confused_sheet)
        print(size_table(result) + "\n" if args.table else json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
