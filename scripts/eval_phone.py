#!/usr/bin/env python3
"""Phone use against hand labels: per labelled rider, does the served path link a phone to them?

Each image of ``models/helmet-phone.labels.json`` (heads labelled ``phone: true/false`` by hand; the file says
how they were chosen and the rule) is detected as a helmet camera with ``categories: [helmet, phone]`` detects a
still frame (``detect_still``, riders first: two-wheelers on the frame, then each rider's square, where the
attribute model looks for phones). A labelled head is **predicted** to use a phone when a phone box at or above
the threshold belongs to it by the tracker's rule (``vision.tracking.attributes.owners``, among the image's
labelled heads). Reported per threshold: true/false positives, missed phones, precision and recall.

A camera's verdict needs a phone in at least two frames of the track (``AttributeSeen``): this per-frame table is
what that rule starts from, not the per-person rate.

Usage::

    .venv/bin/python scripts/eval_phone.py [--model models/helmet-phone.yaml] [--datasets ../shared/datasets] \\
        [--json build/phone-eval.json]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

import cv2
import numpy as np

from vision.config import Detection, Riders
from vision.detectors import build_detector, load_spec
from vision.detectors.motion import detect_still
from vision.detectors.spec import WithAttributesSpec
from vision.tracking.attributes import owners

ROOT = Path(__file__).resolve().parents[1]
THRESHOLDS = (0.05, 0.1, 0.2, 0.3, 0.5)


def phone_scores(model: Path, labels: dict, datasets: Path) -> list[tuple[bool, float, str]]:
    """``(labelled phone, best phone score linked to the head (0: none), selection)`` per labelled head."""
    spec = load_spec(model)
    if not isinstance(spec, WithAttributesSpec):
        raise SystemExit(f"{model}: a with_attributes spec is needed (the phone path), not {spec.type}")
    floor = min(THRESHOLDS)
    detector = build_detector(spec.model_copy(update={"attribute_conf": floor}))
    phone_id = detector.info.class_names.index(spec.attribute_classes.get("cell phone", "cell_phone"))
    by_image: dict[Path, list[dict]] = defaultdict(list)
    for head in labels["heads"]:
        by_image[datasets / head["dataset"] / "images" / head["image"]].append(head)
    rows = []
    for path, heads in sorted(by_image.items()):
        frame = cv2.imread(str(path))
        if frame is None:
            raise SystemExit(f"{path}: not found or not an image (--datasets points at ../shared/datasets)")
        found, _, _ = detect_still(detector, frame, Detection(), Riders(), vehicle_conf=load_spec(spec.base).conf)
        phones = found[(found.class_ids == phone_id) & (found.scores >= floor)]
        boxes = np.asarray([head["head"] for head in heads], np.float32)
        owner = owners(boxes, phones.xyxy)
        for index, head in enumerate(heads):
            scores = phones.scores[owner == index]
            rows.append((bool(head["phone"]), float(scores.max()) if len(scores) else 0.0, head["selected"]))
    return rows


def table(rows: list[tuple[bool, float, str]]) -> list[dict[str, object]]:
    result = []
    for threshold in THRESHOLDS:
        tp = sum(1 for phone, score, _ in rows if phone and score >= threshold)
        fp = sum(1 for phone, score, _ in rows if not phone and score >= threshold)
        fn = sum(1 for phone, score, _ in rows if phone and score < threshold)
        result.append(
            {
                "threshold": threshold,
                "true_positives": tp,
                "false_positives": fp,
                "missed": fn,
                "precision": tp / (tp + fp) if tp + fp else None,
                "recall": tp / (tp + fn) if tp + fn else None,
            }
        )
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "helmet-phone.yaml")
    parser.add_argument("--labels", type=Path, default=ROOT / "models" / "helmet-phone.labels.json")
    parser.add_argument("--datasets", type=Path, default=ROOT.parent / "shared" / "datasets")
    parser.add_argument("--json", type=Path, help="also write the table here")
    args = parser.parse_args(argv)
    labels = json.loads(args.labels.read_text())
    rows = phone_scores(args.model, labels, args.datasets)
    result = {
        "heads": len(rows),
        "phones": sum(phone for phone, _, _ in rows),
        "by_threshold": table(rows),
        "random_sample_flagged_at_0.2": sum(1 for _, score, how in rows if how == "random" and score >= 0.2),
    }
    print(f"{result['heads']} labelled heads, {result['phones']} with a phone ({args.labels.name})")
    print(f"{'threshold':>9} {'TP':>4} {'FP':>4} {'missed':>6} {'precision':>9} {'recall':>6}")
    for row in result["by_threshold"]:
        precision = "-" if row["precision"] is None else f"{row['precision']:.2f}"
        recall = "-" if row["recall"] is None else f"{row['recall']:.2f}"
        print(
            f"{row['threshold']:>9} {row['true_positives']:>4} {row['false_positives']:>4} {row['missed']:>6} "
            f"{precision:>9} {recall:>6}"
        )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
