#!/usr/bin/env python3
"""Pipeline overhead and camera scaling, measured side by side in one run.

1. **Overhead**: the same frames through the detector alone (``detect`` on each frame), then
   through the whole pipeline (file source thread, batching, ByteTrack, votes, SQLite writes,
   metrics) with one camera. Overhead = pipeline time per frame / detector time per frame - 1.
2. **Scaling**: 1, 4 and 16 cameras replaying the same clip, each in a fresh process so that its
   peak memory (max RSS) is its own; cameras sharing a model are batched into one call.

The clip is the demo's, cut to ``--frames`` frames sampled at the camera's ``detect_fps`` (so
every frame reaches the detector). Run from the repository root::

    .venv/bin/python scripts/bench_pipeline.py [--model models/helmet.yaml --input-size 320 --frames 40]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import cv2
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from prometheus_client import CollectorRegistry  # noqa: E402

from vision.config import load_config  # noqa: E402
from vision.detectors import build_detector, load_spec  # noqa: E402
from vision.pipeline import Pipeline  # noqa: E402
from vision.store import open_store  # noqa: E402

DETECT_FPS = 5.0


def cut_clip(source: Path, frames: int, out: Path) -> list:
    """Write the first ``frames`` frames due at ``DETECT_FPS`` to ``out`` at that rate; return them."""
    capture = cv2.VideoCapture(str(source))
    fps = capture.get(cv2.CAP_PROP_FPS)
    step = max(1, round(fps / DETECT_FPS))
    kept, index = [], 0
    while len(kept) < frames:
        ok, image = capture.read()
        if not ok:
            break
        if index % step == 0:
            kept.append(image)
        index += 1
    capture.release()
    height, width = kept[0].shape[:2]
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"mp4v"), DETECT_FPS, (width, height))
    for image in kept:
        writer.write(image)
    writer.release()
    return kept


def write_spec(model: Path, input_size: int | None, folder: Path) -> Path:
    spec = yaml.safe_load(model.read_text())
    for key in ("path", "face_model", "classifier_model", "evaluation"):
        if key in spec:
            spec[key] = str((model.parent / spec[key]).resolve())
    if input_size and spec.get("type") == "yolo_onnx":
        spec["input_size"] = input_size
    spec["threads"] = 2
    path = folder / "spec.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def write_config(clip: Path, spec: Path, cameras: int, folder: Path, category: str) -> Path:
    config = {
        "sites": [{"id": "site", "name": "Bench site"}],
        "cameras": [
            {
                "id": f"cam{i}",
                "site": "site",
                "source": str(clip),
                "category": category,
                "model": str(spec),
                "detect_fps": DETECT_FPS,
            }
            for i in range(cameras)
        ],
        "tracking": {"max_age_s": 0.5},
        "store": {"url": f"sqlite:///{folder / f'bench-{cameras}.db'}"},
    }
    path = folder / f"config-{cameras}.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def run_worker(config_path: Path) -> dict[str, float]:
    """One pipeline run in this process: wall time, frames processed, peak RSS."""
    config = load_config(config_path)
    store = open_store(config.store.url)
    pipeline = Pipeline(config, store, config_path, registry=CollectorRegistry(), progress=False)
    start = time.perf_counter()
    pipeline.run(threading.Event())
    seconds = time.perf_counter() - start
    frames = sum(int(info["frames_processed"]) for info in pipeline.summary().values())
    return {
        "seconds": seconds,
        "frames": frames,
        "frames_per_s": frames / seconds,
        "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "helmet.yaml")
    parser.add_argument("--input-size", type=int, default=320, help="YOLO input size for the bench")
    parser.add_argument("--clip", type=Path, default=ROOT / "configs" / "demo" / "helmet.mp4")
    parser.add_argument("--frames", type=int, default=40)
    parser.add_argument("--cameras", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(run_worker(args.worker)))
        return 0

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        clip = folder / "clip.mp4"
        frames = cut_clip(args.clip, args.frames, clip)
        spec_path = write_spec(args.model, args.input_size, folder)
        spec = load_spec(spec_path)
        detector = build_detector(spec)
        detector.detect(frames[:1])
        timings = []
        for frame in frames:
            start = time.perf_counter()
            detector.detect([frame])
            timings.append(time.perf_counter() - start)
        detector_ms = statistics.median(timings) * 1000
        detector_total = sum(timings)
        del detector
        category = spec.category.value if spec.category else "helmet"
        results: dict[str, object] = {"frames": len(frames), "detector_ms_per_frame": detector_ms}
        rows = []
        for cameras in args.cameras:
            config = write_config(clip, spec_path, cameras, folder, category)
            output = subprocess.run(
                [sys.executable, __file__, "--worker", str(config)], capture_output=True, text=True, check=True
            )
            run = json.loads(output.stdout.strip().splitlines()[-1])
            results[f"cameras_{cameras}"] = run
            rows.append((cameras, run))
    one = results.get("cameras_1")
    print(
        f"{len(frames)} frames of {args.clip.name} at {DETECT_FPS:g} fps, model {args.model.name} "
        f"(input {args.input_size}), 2 threads\n"
    )
    print(f"detector alone: {detector_ms:.1f} ms/frame median, {len(frames) / detector_total:.2f} frames/s")
    if isinstance(one, dict):
        overhead = (one["seconds"] / one["frames"]) / (detector_total / len(frames)) - 1
        results["overhead"] = overhead
        print(f"full pipeline, 1 camera: {one['frames_per_s']:.2f} frames/s -> overhead {overhead:+.1%}\n")
    print("| cameras | frames | wall s | frames/s | peak RSS MB |")
    print("|---|---|---|---|---|")
    for cameras, run in rows:
        print(
            f"| {cameras} | {run['frames']} | {run['seconds']:.1f} | {run['frames_per_s']:.2f} "
            f"| {run['max_rss_mb']:.0f} |"
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
