#!/usr/bin/env python3
"""Every helmet model on every helmet check, whole frame and regions, in one table.

The checks (``vision eval`` on each, the served input size of each spec):

- ``served``: what a default helmet camera does (``--detection riders``: two-wheelers on the whole
  frame, then a native crop per rider) on the three val splits: ``gate-camera`` (1080p CCTV),
  ``gate-camera-id`` (360p campus gate, human-labelled two-wheelers) and ``bike-helmet``;
- ``bike-helmet`` val: close-up photos, letterboxed whole;
- ``gate-camera`` val: real 1920×1080 school-gate frames, letterboxed whole (``whole``) and tiled
  at native resolution as a wide camera's frame is (``tiles``, ``--detection tiles``);
- the **wide-frame check** (``build/wide-check``, made by ``scripts/render_small.py``): bike-helmet
  val rendered at 12-30 px onto 1920×1080 frames, ``whole`` and ``tiles``;
- the **near check** (``build/near-check``, ``scripts/render_small.py ... --head-px 100 250
  --per-frame 1 --enlarge``): the same photos enlarged onto 1920×1080 frames, riders close to a
  wide camera (heads 88-200 px, two-wheelers wider than a tile), ``whole`` and ``tiles``;
- two-wheeler AP50 on the teacher-labelled val of ``build/helmet-wide`` (models with that class);
- ``gate-camera`` val tiles **riders only** (models that box two-wheelers): only heads on a
  detected two-wheeler are scored, as a ``riders_only`` camera counts them (``vision eval
  --riders-only``). gate-camera labels riders alone, so this is the check of the heads the
  pipeline counts there; it is not the model's plain AP.

::

    .venv/bin/python scripts/eval_helmet_models.py models/helmet.yaml models/helmet-yolov12m.yaml \\
        --json build/eval/helmet-models.json

prints a markdown table (AP50 with / without helmet per check and path) and writes every report.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from vision.config import Detection, Riders
from vision.detectors import build_detector, load_spec
from vision.evaluation.runner import evaluate_spec
from vision.evaluation.voc import load_voc

ROOT = Path(__file__).resolve().parents[1]

SHARED = ROOT.parent / "shared" / "datasets"
TILES = Detection(mode="tiles")
RIDERS = Detection(mode="riders")
CHECKS = [  # name, VOC folder, split, detection, riders-only rule
    ("served: gate-camera val, riders", SHARED / "gate-camera", "val.txt", RIDERS, None),
    ("served: gate-camera-id val, riders", SHARED / "gate-camera-id", "val.txt", RIDERS, None),
    ("served: bike-helmet val, riders", SHARED / "bike-helmet", "val.txt", RIDERS, None),
    ("gate-camera-id val, whole", SHARED / "gate-camera-id", "val.txt", None, None),
    ("bike-helmet val", SHARED / "bike-helmet", "val.txt", None, None),
    ("gate-camera val, whole", SHARED / "gate-camera", "val.txt", None, None),
    ("gate-camera val, tiles", SHARED / "gate-camera", "val.txt", TILES, None),
    ("gate-camera val, tiles, riders only", SHARED / "gate-camera", "val.txt", TILES, Riders()),
    ("wide check, whole", ROOT / "build" / "wide-check", "val.txt", None, None),
    ("wide check, tiles", ROOT / "build" / "wide-check", "val.txt", TILES, None),
    ("near check, whole", ROOT / "build" / "near-check", "val.txt", None, None),
    ("near check, tiles", ROOT / "build" / "near-check", "val.txt", TILES, None),
    ("two-wheeler, helmet-wide val (teacher)", ROOT / "build" / "helmet-wide", "val.txt", None, None),
]
HEADS = ("with_helmet", "without_helmet")


def _ap(report: dict, name: str) -> str:
    for class_name, scores in report["classes"].items():
        if class_name.lower().replace(" ", "_") == name:
            return f"{scores['AP50']:.3f} ({scores['n_gt']})"
    return "-"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("specs", type=Path, nargs="+")
    parser.add_argument("--json", type=Path, help="write every report here")
    parser.add_argument("--only", nargs="*", help="run only the checks whose name starts with one of these")
    args = parser.parse_args()
    results: dict[str, dict[str, dict]] = {}
    for spec_path in args.specs:
        spec = load_spec(spec_path)
        has_vehicle = "two_wheeler" in build_detector(spec).info.class_names
        results[str(spec_path)] = {}
        for name, data, split, detection, riders in CHECKS:
            if args.only and not any(name.startswith(prefix) for prefix in args.only):
                continue
            if not (data / split).is_file():
                print(f"skip {name}: {data / split} not found", file=sys.stderr)
                continue
            if (name.startswith("two-wheeler") or riders is not None) and not has_vehicle:
                continue
            images = load_voc(data, split)
            report = evaluate_spec(
                spec, images, progress=False, measure_speed=False, detection=detection, riders=riders
            )
            results[str(spec_path)][name] = report.to_dict()
            print(f"{spec_path} | {name}: " + ", ".join(f"{h} {_ap(report.to_dict(), h)}" for h in HEADS), flush=True)
    print("\n| model | check | AP50 with_helmet (n) | AP50 without_helmet (n) | AP50 two_wheeler (n) |")
    print("|---|---|---|---|---|")
    for spec_path, reports in results.items():
        for name, report in reports.items():
            row = [_ap(report, h) for h in (*HEADS, "two_wheeler")]
            print(f"| `{Path(spec_path).name}` | {name} | " + " | ".join(row) + " |")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
