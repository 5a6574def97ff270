#!/usr/bin/env python3
"""Helmet detector specs side by side: ms per frame of the whole ``detect`` call, alternating, one run.

Each spec detects the same frames (``tests/data/voc/helmet/images`` and the committed wide frames
``tests/data/voc/wide/images``, each letterboxed by the spec at its own input size), one frame at a
time, the specs taking turns frame by frame so that machine noise hits all of them alike. The
time is the whole ``detect`` call (letterbox, network, decode, NMS), ONNX Runtime with
``--threads`` threads. The first spec is the reference of the ratio column::

    .venv/bin/python scripts/bench_helmet_models.py models/helmet-yolov12m.yaml models/helmet.yaml

``--turns pass`` makes the specs take turns pass by pass instead of frame by frame: a model then
runs warm, as a camera's model does between other models' batches (frame by frame, switching
between a 40 MB and a 6 MB network every call slows both, the small one most). ``--images FOLDER``
takes other frames, e.g. the committed face-mask photos for mask models::

    .venv/bin/python scripts/bench_helmet_models.py OLD.yaml NEW.yaml --images tests/data/voc/mask/images
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import cv2

from vision.detectors import build_detector, load_spec

ROOT = Path(__file__).resolve().parents[1]

IMAGES = [ROOT / "tests" / "data" / "voc" / "helmet" / "images", ROOT / "tests" / "data" / "voc" / "wide" / "images"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("specs", type=Path, nargs="+")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3, help="passes over the frames")
    parser.add_argument("--images", type=Path, action="append", help="folder of frames (default: the helmet ones)")
    parser.add_argument("--turns", choices=("frame", "pass"), default="frame", help="alternate per frame or per pass")
    args = parser.parse_args()
    folders = args.images or IMAGES
    frames = [cv2.imread(str(path)) for folder in folders for path in sorted(folder.glob("*.jpg"))]
    detectors = []
    for path in args.specs:
        spec = load_spec(path).model_copy(update={"threads": args.threads})
        detector = build_detector(spec)
        detector.detect(frames[:1])  # warm-up: first-run allocations
        detectors.append((path, spec, detector))
    timings: dict[Path, list[float]] = {path: [] for path, _, _ in detectors}
    for _ in range(args.repeats):
        turns = [[(frame, d) for d in detectors] for frame in frames]
        if args.turns == "pass":
            turns = [[(frame, d) for frame in frames] for d in detectors]
        for turn in turns:
            for frame, (path, _, detector) in turn:
                start = time.perf_counter()
                detector.detect([frame])
                timings[path].append((time.perf_counter() - start) * 1000)
    reference = statistics.median(timings[detectors[0][0]])
    print(f"{len(frames)} frames × {args.repeats}, ONNX Runtime, {args.threads} threads, turns by {args.turns}\n")
    print("| spec | input | file MB | ms/frame (median) | speed-up vs first |")
    print("|---|---|---|---|---|")
    for path, spec, _ in detectors:
        median = statistics.median(timings[path])
        size = spec.path.stat().st_size / 1e6 if hasattr(spec, "path") else float("nan")
        input_size = getattr(spec, "input_size", "-")
        print(f"| `{path.name}` | {input_size} | {size:.1f} | {median:.1f} | {reference / median:.2f}× |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
