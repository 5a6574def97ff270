#!/usr/bin/env python3
"""Pipeline overhead and camera scaling, measured side by side in one run.

1. **Overhead**: the same frames through the detector alone (``detect`` on each frame), then
   through the whole pipeline (file source thread, batching, ByteTrack, votes, SQLite writes,
   metrics) with one camera. Overhead = pipeline time per frame / detector time per frame - 1.
2. **Scaling**: 1, 4 and 16 cameras replaying the same clip, each in a fresh process so that its
   peak memory (max RSS) is its own; cameras sharing a model are batched into one call. One more
   1-camera run with ``evidence.enabled: false`` gives the cost of keeping evidence (a crop and
   a snapshot per track) as a frames/s ratio.
3. **Regions vs whole frame** (``--wide``, needs ``../shared/datasets/gate-camera``): 1920×1080
   clips of the school-gate camera, a *quiet* scene (one val frame held for 5 × ``--frames``
   frames, sensor noise, one small object crossing for a quarter of the clip) and a *busy* one
   (``--frames`` consecutive val frames, riders and cars everywhere), each run with
   ``detection.mode`` ``whole`` (the frame letterboxed: 1 call), ``tiles`` (the frame covered at
   native resolution every frame), ``motion`` and ``riders`` (the frame whole, then a crop per
   rider) for 1, 4 and 16 cameras: detector crops per frame (inference calls) and frames/s, in
   one run.

The clip of parts 1-2 is the demo's, cut to ``--frames`` frames sampled at the camera's
``detect_fps`` (so every frame reaches the detector). Run from the repository root::

    .venv/bin/python scripts/bench_pipeline.py [--model models/helmet.yaml --input-size 320 --frames 40]
    .venv/bin/python scripts/bench_pipeline.py --wide --model models/helmet.yaml --input-size 640 --frames 20
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
import numpy as np
import yaml
from prometheus_client import CollectorRegistry

from vision.config import load_config
from vision.detectors import build_detector, load_spec
from vision.pipeline import Pipeline
from vision.store import open_store

ROOT = Path(__file__).resolve().parents[1]

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
    for key in load_spec(model).path_fields():
        if key in spec:
            spec[key] = str((model.parent / spec[key]).resolve())
    if input_size and spec.get("type") == "yolo_onnx":
        spec["input_size"] = input_size
    spec["threads"] = 2
    path = folder / "spec.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


GATE = ROOT.parent / "shared" / "datasets" / "gate-camera"
# The quiet clip is this many times ``--frames`` long: a quiet gate is quiet for minutes, and the
# first frame (tiled whole, no motion reference yet) should not dominate it.
QUIET_FACTOR = 5


def write_frames(frames: list, out: Path) -> None:
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"mp4v"), DETECT_FPS, (width, height))
    for image in frames:
        writer.write(image)
    writer.release()


def wide_scenes(frames: int, folder: Path) -> dict[str, Path]:
    """The quiet and busy 1920×1080 gate clips (see the module docstring)."""
    names = (GATE / "val.txt").read_text().split()
    if not names:
        raise SystemExit(f"{GATE}: no val frames")
    rng = np.random.default_rng(0)
    still = cv2.imread(str(GATE / "images" / f"{names[0]}.jpg"))
    quiet = []
    frames_quiet = QUIET_FACTOR * frames
    for index in range(frames_quiet):
        image = np.clip(still.astype(np.int16) + rng.normal(0, 2, still.shape), 0, 255).astype(np.uint8)
        if frames_quiet // 2 <= index < frames_quiet // 2 + max(2, frames_quiet // 4):
            x = 400 + 12 * (index - frames_quiet // 2)
            image[220:300, x : x + 60] = (40, 40, 160)  # a small object crossing the road
        quiet.append(image)
    busy = [cv2.imread(str(GATE / "images" / f"{name}.jpg")) for name in names[:frames]]
    clips = {"quiet": folder / "quiet.mp4", "busy": folder / "busy.mp4"}
    write_frames(quiet, clips["quiet"])
    write_frames(busy, clips["busy"])
    return clips


def write_config(
    clip: Path, spec: Path, cameras: int, folder: Path, category: str, mode: str | None = None, evidence: bool = True
) -> Path:
    detection = {"detection": {"mode": mode}} if mode else {}
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
                **detection,
            }
            for i in range(cameras)
        ],
        "tracking": {"max_age_s": 0.5},
        "store": {"url": f"sqlite:///{folder / f'bench-{cameras}-{clip.stem}-{mode}-{evidence}.db'}"},
        "evidence": {"enabled": evidence},
    }
    path = folder / f"config-{cameras}-{clip.stem}-{mode or 'default'}-{evidence}.yaml"
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
    summary = pipeline.summary().values()
    frames = sum(int(info.frames_processed) for info in summary)
    crops = sum(float(info.regions_per_frame) * int(info.frames_processed) for info in summary)
    return {
        "seconds": seconds,
        "frames": frames,
        "frames_per_s": frames / seconds,
        "crops_per_frame": crops / frames if frames else 0.0,
        "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def run_in_worker(config: Path) -> dict[str, float]:
    output = subprocess.run([sys.executable, __file__, "--worker", str(config)], capture_output=True, text=True)
    if output.returncode != 0:
        raise SystemExit(f"bench worker failed on {config.name}:\n{output.stderr[-3000:]}")
    return json.loads(output.stdout.strip().splitlines()[-1])


def wide_bench(args: argparse.Namespace) -> int:
    """Part 3: whole frame vs motion regions on the quiet and busy gate clips, 1/4/16 cameras."""
    if not (GATE / "val.txt").is_file():
        raise SystemExit(f"--wide needs {GATE}")
    results: dict[str, object] = {}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        clips = wide_scenes(args.frames, folder)
        spec_path = write_spec(args.model, args.input_size, folder)
        category = load_spec(spec_path).category
        for scene, clip in clips.items():
            for cameras in args.cameras:
                for mode in ("whole", "tiles", "motion", "riders"):
                    config = write_config(
                        clip, spec_path, cameras, folder, category.value if category else "helmet", mode
                    )
                    run = run_in_worker(config)
                    results[f"{scene}_{mode}_{cameras}"] = run
                    rows.append((scene, cameras, mode, run))
    print(f"{args.frames} frames per camera, 1920x1080, model {args.model.name} (input {args.input_size}), 2 threads\n")
    print("| scene | cameras | detection | detector crops/frame | frames/s | wall s |")
    print("|---|---|---|---|---|---|")
    for scene, cameras, mode, run in rows:
        print(
            f"| {scene} | {cameras} | {mode} | {run['crops_per_frame']:.2f} | {run['frames_per_s']:.2f} "
            f"| {run['seconds']:.1f} |"
        )
    for scene in clips:
        for cameras in args.cameras:
            riders = results[f"{scene}_riders_{cameras}"]
            assert isinstance(riders, dict)
            for other in ("whole", "tiles", "motion"):
                base = results[f"{scene}_{other}_{cameras}"]
                assert isinstance(base, dict)
                fewer = (
                    base["crops_per_frame"] / riders["crops_per_frame"] if riders["crops_per_frame"] else float("inf")
                )
                faster = riders["frames_per_s"] / base["frames_per_s"]
                print(
                    f"{scene}, {cameras} camera(s), riders vs {other}: {fewer:.1f}x fewer detector calls, "
                    f"{faster:.2f}x frames/s"
                )
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "helmet.yaml")
    parser.add_argument("--input-size", type=int, default=320, help="YOLO input size for the bench")
    parser.add_argument("--clip", type=Path, default=ROOT / "configs" / "demo" / "helmet.mp4")
    parser.add_argument("--frames", type=int, default=40)
    parser.add_argument("--cameras", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--wide", action="store_true", help="only part 3: regions vs whole on the gate clips")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(run_worker(args.worker)))
        return 0

    if args.wide:
        return wide_bench(args)
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
            run = run_in_worker(write_config(clip, spec_path, cameras, folder, category))
            results[f"cameras_{cameras}"] = run
            rows.append((cameras, run))
        without = run_in_worker(write_config(clip, spec_path, 1, folder, category, evidence=False))
        results["evidence_off_1_camera"] = without
    one = results.get("cameras_1")
    print(
        f"{len(frames)} frames of {args.clip.name} at {DETECT_FPS:g} fps, model {args.model.name} "
        f"(input {args.input_size}), 2 threads\n"
    )
    print(f"detector alone: {detector_ms:.1f} ms/frame median, {len(frames) / detector_total:.2f} frames/s")
    if isinstance(one, dict):
        overhead = (one["seconds"] / one["frames"]) / (detector_total / len(frames)) - 1
        results["overhead"] = overhead
        print(f"full pipeline, 1 camera: {one['frames_per_s']:.2f} frames/s -> overhead {overhead:+.1%}")
        off = results["evidence_off_1_camera"]
        assert isinstance(off, dict)
        print(
            f"evidence kept (crop + snapshot per track) vs off, 1 camera: {one['frames_per_s']:.2f} vs"
            f" {off['frames_per_s']:.2f} frames/s ({one['frames_per_s'] / off['frames_per_s']:.2f}x)\n"
        )
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
