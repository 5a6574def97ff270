#!/usr/bin/env python3
"""Per-frame speed of the same model, same frames, in one run: ultralytics ``.pt`` vs our ONNX backend.

Also times our backend at smaller input sizes, and at the served size on OpenVINO f32 and bf16
when the ``[openvino]`` extra is installed (same ONNX file), and reports how far each one's boxes
are from ultralytics' on each frame. Needs the ``[train]`` extra (ultralytics + torch) for the ``.pt``
side; run it from the repository root, e.g.::

    python scripts/build_models.py --only helmet --keep-venvs      # writes models/helmet-yolov12m.pt
    build/venvs/helmet/bin/pip install -e .                         # our package beside ultralytics
    build/venvs/helmet/bin/python scripts/bench_detector.py --threads 2

ultralytics is timed twice: as a user gets it (it sets torch to ``cpu_count - 1`` threads, one
on a 2-core machine) and with the same ``--threads`` as our backend, the fair comparison. Both
use the same rect letterbox (ultralytics pads dynamic-shape inputs only to a stride multiple).
Times are medians over ``--repeats`` passes of every frame, after a warm-up; ratios matter more
than absolute figures on a shared machine.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import time
from pathlib import Path

import cv2
import numpy as np

from vision.detectors.boxes import box_iou
from vision.detectors.spec import YoloOnnxSpec, load_spec
from vision.detectors.yolo_onnx import YoloOnnxDetector

ROOT = Path(__file__).resolve().parents[1]


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000.0


def time_ultralytics(
    pt_path: Path, frames: list[np.ndarray], spec: YoloOnnxSpec, threads: int | None, repeats: int
) -> tuple[float, list, int]:
    """Median ms per ``predict`` call; ``threads=None`` keeps the thread count ultralytics chose itself."""
    import torch
    from ultralytics import YOLO

    if threads is not None:
        torch.set_num_threads(threads)
    used_threads = torch.get_num_threads()
    model = YOLO(str(pt_path), task="detect")
    kwargs = {"imgsz": spec.input_size, "conf": spec.conf, "iou": spec.iou, "max_det": spec.max_detections}
    model.predict(frames[0], verbose=False, **kwargs)  # warm-up
    samples, boxes = [], []
    for _ in range(repeats):
        for frame in frames:
            start = time.perf_counter()
            result = model.predict(frame, verbose=False, **kwargs)[0]
            samples.append(time.perf_counter() - start)
    for frame in frames:
        result = model.predict(frame, verbose=False, **kwargs)[0]
        boxes.append((result.boxes.xyxy.cpu().numpy(), result.boxes.cls.cpu().numpy().astype(int)))
    return median_ms(samples), boxes, used_threads


def time_onnx(spec: YoloOnnxSpec, frames: list[np.ndarray], repeats: int):
    detector = YoloOnnxDetector(spec)
    detector.detect(frames[:1])  # warm-up
    stages: dict[str, list[float]] = {"preprocess": [], "inference": [], "nms": [], "total": []}
    outputs = []
    for _ in range(repeats):
        for frame in frames:
            t0 = time.perf_counter()
            batch, transforms = detector.preprocess([frame])
            t1 = time.perf_counter()
            raw = detector.infer(batch)
            t2 = time.perf_counter()
            detections = detector.postprocess(raw, transforms, [frame])[0]
            t3 = time.perf_counter()
            for name, seconds in zip(stages, (t1 - t0, t2 - t1, t3 - t2, t3 - t0), strict=True):
                stages[name].append(seconds)
            if len(outputs) < len(frames):
                outputs.append((detections.xyxy, detections.class_ids))
    return {name: median_ms(values) for name, values in stages.items()}, outputs


def box_agreement(ours, theirs) -> tuple[int, int, float]:
    """(frames where counts and classes agree, frames, worst corner distance in px over matched boxes)."""
    agree, worst = 0, 0.0
    for (our_boxes, our_classes), (their_boxes, their_classes) in zip(ours, theirs, strict=True):
        if len(our_boxes) == len(their_boxes):
            if len(our_boxes):
                pairs = box_iou(our_boxes, their_boxes).argmax(axis=1)
                if (our_classes == their_classes[pairs]).all():
                    agree += 1
                    worst = max(worst, float(np.abs(our_boxes - their_boxes[pairs]).max()))
            else:
                agree += 1
    return agree, len(ours), worst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--spec", type=Path, default=ROOT / "models" / "helmet.yaml")
    parser.add_argument("--pt", type=Path, default=ROOT / "models" / "helmet-yolov12m.pt")
    parser.add_argument("--images", type=Path, default=ROOT / "tests" / "data" / "voc" / "helmet" / "images")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sizes", type=int, nargs="+", default=[640, 480, 320])
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()

    spec = load_spec(args.spec)
    assert isinstance(spec, YoloOnnxSpec), "bench_detector compares YOLO ONNX specs"
    spec = spec.model_copy(update={"threads": args.threads})
    frames = [cv2.imread(str(path)) for path in sorted(args.images.glob("*.jpg"))]
    # ultralytics as a user gets it (it picks its own torch thread count: cpu_count - 1, so 1 on a
    # 2-core machine), then with the same threads as our backend.
    default_ms, _, default_threads = time_ultralytics(args.pt, frames, spec, None, args.repeats)
    ultralytics_ms, ultralytics_boxes, _ = time_ultralytics(args.pt, frames, spec, args.threads, args.repeats)
    rows = [
        (f"ultralytics predict (.pt), its default {default_threads} thread(s)", spec.input_size, None, default_ms),
        (f"ultralytics predict (.pt), {args.threads} threads", spec.input_size, None, ultralytics_ms),
    ]
    results: dict[str, object] = {
        "frames": len(frames),
        "threads": args.threads,
        "ultralytics_default_threads": default_threads,
        "ultralytics_default_ms": default_ms,
        "ultralytics_ms": ultralytics_ms,
    }
    agreements: dict[str, dict[str, float]] = {}
    for size in args.sizes:
        stages, outputs = time_onnx(spec.model_copy(update={"input_size": size}), frames, args.repeats)
        rows.append(("vision backend, ONNX Runtime f32", size, stages, stages["total"]))
        results[f"onnx_{size}"] = stages
        if size == spec.input_size:
            agree, total, worst = box_agreement(outputs, ultralytics_boxes)
            agreements["ONNX Runtime f32"] = {"frames_agree": agree, "frames": total, "max_corner_diff_px": worst}
    # The optional runtime (the [openvino] extra), same model file, at the served size.
    if importlib.util.find_spec("openvino") is not None:
        for precision in ("f32", "bf16"):
            runtime_spec = spec.model_copy(update={"runtime": "openvino", "precision": precision})
            stages, outputs = time_onnx(runtime_spec, frames, args.repeats)
            rows.append((f"vision backend, OpenVINO {precision}", spec.input_size, stages, stages["total"]))
            results[f"openvino_{precision}_{spec.input_size}"] = stages
            agree, total, worst = box_agreement(outputs, ultralytics_boxes)
            agreements[f"OpenVINO {precision}"] = {"frames_agree": agree, "frames": total, "max_corner_diff_px": worst}
    results["agreement"] = agreements

    print(f"{len(frames)} frames from {args.images}, {args.threads} threads, median of {args.repeats} passes\n")
    print(
        "| runtime | input | preprocess ms | inference ms | NMS ms | total ms/frame "
        f"| speed-up vs .pt ({args.threads} threads) | vs .pt (default threads) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name, size, stages, total in rows:
        parts = " | ".join(f"{stages[k]:.1f}" for k in ("preprocess", "inference", "nms")) if stages else "- | - | -"
        print(
            f"| {name} | {size} | {parts} | {total:.1f} | {ultralytics_ms / total:.2f}× | {default_ms / total:.2f}× |"
        )
    print()
    for runtime, agreement in agreements.items():
        print(
            f"{runtime} boxes vs ultralytics at {spec.input_size}: {agreement['frames_agree']}/{agreement['frames']} "
            f"frames with the same detections, worst corner difference {agreement['max_corner_diff_px']:.3f} px"
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
