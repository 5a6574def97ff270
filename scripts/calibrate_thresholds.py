#!/usr/bin/env python3
"""Per-class operating thresholds that make a detector's counts match the labelled counts.

A compliance rate is a ratio of counts, so what matters is that each class is counted about as
often as it occurs, not that each box is right: a class the model under-detects (a rare one, such
as ``without_mask``) biases the rate toward the common one. For each class this finds the score
threshold above which the detector makes as many predictions of that class as there are labelled
objects of it on the given split (false positives then balance misses, per class), and prints
them as the spec's ``class_conf``. Choosing three numbers on val is a mild fit to val; the model
card says so next to the figures measured with them.

    .venv/bin/python scripts/calibrate_thresholds.py --spec models/mask-yolo.yaml \\
        --data ../shared/datasets/face-mask --split val.txt
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from vision.config import Detection
from vision.detectors import build_detector, load_spec
from vision.evaluation.metrics import map_gt_labels
from vision.evaluation.runner import AP_SCORE_FLOOR, predict_images
from vision.evaluation.voc import load_voc

SEARCH_FLOOR = 0.01  # below this a "detection" is noise; a class that needs less gets the floor


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--spec", type=Path, required=True)
    parser.add_argument("--data", type=Path, required=True, help="PASCAL VOC folder")
    parser.add_argument("--split", default="val.txt")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--detection",
        choices=("whole", "tiles", "riders"),
        help="detect as a camera would (tiles: wide frames at native size; riders: two-wheelers, then their riders)",
    )
    args = parser.parse_args()

    spec = load_spec(args.spec)
    update: dict[str, object] = {"conf": max(AP_SCORE_FLOOR, SEARCH_FLOOR), "threads": args.threads}
    if hasattr(spec, "class_conf"):
        update["class_conf"] = {}
    detector = build_detector(spec.model_copy(update=update))
    images = load_voc(args.data, args.split)
    detection = Detection(mode=args.detection) if args.detection else None
    # Riders are looked for on the two-wheelers the served threshold keeps, as a camera plans them.
    predictions = predict_images(detector, images, detection=detection, vehicle_conf=spec.conf or 0.0).detections
    labels = [label for image in images for label in image.labels]
    mapping = map_gt_labels(labels, detector.info.class_names, spec.eval_aliases)

    print(
        f"# {args.spec} on {args.data} ({args.split}{', ' + args.detection if args.detection else ''}), "
        f"{len(images)} images: count-matching thresholds"
    )
    print("# class: labelled / predicted above the spec's conf -> threshold")
    thresholds = {}
    for name in detector.info.class_names:
        n_labelled = sum(1 for label in labels if mapping[label] == name)
        if not n_labelled:
            continue
        scores = np.sort(np.concatenate([p.scores[np.array(p.labels, dtype=object) == name] for p in predictions]))
        scores = scores[::-1]
        # Scores are distinct floats in practice, so "> the (n+1)-th score" keeps exactly n predictions.
        thresholds[name] = round(float(scores[n_labelled]), 3) if len(scores) > n_labelled else SEARCH_FLOOR
        at_conf = int((scores > spec.conf).sum())
        print(f"#   {name}: {n_labelled} / {at_conf} at {spec.conf:g} -> {thresholds[name]:g}")
    print("class_conf:")
    for name, value in thresholds.items():
        print(f"  {name}: {value:g}")


if __name__ == "__main__":
    main()
