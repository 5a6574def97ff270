#!/usr/bin/env python3
"""Which smaller YOLO architectures could be a faster helmet model: network time vs the served YOLOv12m.

Speed does not depend on the weights, so each candidate is built from ultralytics' model YAML with
random weights and two classes, exported to ONNX (dynamic shapes, as ``scripts/train.py`` exports)
and timed on ONNX Runtime (all optimisations, ``--threads`` threads) on the same letterboxed frames
as ``models/helmet.yaml``, alternating frame by frame so machine noise hits every row alike. A
candidate is worth training only if its speed-up reaches the target (3× for the fast helmet model).
Needs the training extra (ultralytics), e.g. the helmet build environment::

    build/venvs/helmet/bin/python scripts/bench_architectures.py yolo11n yolo11s yolo12n yolo12s
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import tempfile
from pathlib import Path

os.environ["YOLO_OFFLINE"] = "1"
os.environ.setdefault("YOLO_CONFIG_DIR", tempfile.mkdtemp(prefix="yolo-config-"))

import yaml
from ultralytics import YOLO
from ultralytics.utils import ROOT as ULTRALYTICS_ROOT

from vision.detectors.spec import YoloOnnxSpec, load_spec
from vision.detectors.yolo_onnx import YoloOnnxDetector
from vision.evaluation.timing import letterboxed_frames, ort_runner, time_alternating

ROOT = Path(__file__).resolve().parents[1]

FAMILY_YAML = {"yolo11": "11/yolo11.yaml", "yolo12": "12/yolo12.yaml", "yolov8": "v8/yolov8.yaml"}


def export_random(name: str, classes: int, size: int, workdir: Path) -> Path:
    """``yolo11n`` -> an ONNX export of that architecture with ``classes`` outputs and random weights."""
    family, scale = name[:-1], name[-1]
    if family not in FAMILY_YAML:
        raise SystemExit(f"{name}: expected one of {sorted(FAMILY_YAML)} followed by a scale letter (n/s/m/l/x)")
    config = yaml.safe_load((ULTRALYTICS_ROOT / "cfg" / "models" / FAMILY_YAML[family]).read_text())
    config["nc"] = classes
    if scale not in config["scales"]:
        raise SystemExit(f"{name}: {family} has scales {sorted(config['scales'])}")
    model_yaml = workdir / f"{name}.yaml"  # ultralytics reads the scale from the file name
    model_yaml.write_text(yaml.safe_dump(config))
    # ultralytics writes a YAML-built model's export into the working directory, not beside the YAML
    with contextlib.chdir(workdir):
        exported = YOLO(str(model_yaml)).export(format="onnx", imgsz=size, dynamic=True, simplify=False, opset=17)
        return Path(exported).resolve()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("architectures", nargs="+", help="e.g. yolo11n yolo12s")
    parser.add_argument("--spec", type=Path, default=ROOT / "models" / "helmet.yaml", help="the model to beat")
    parser.add_argument("--images", type=Path, default=ROOT / "tests" / "data" / "voc" / "helmet" / "images")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    spec = load_spec(args.spec)
    assert isinstance(spec, YoloOnnxSpec), "the reference must be a YOLO ONNX spec"
    batches = letterboxed_frames(spec, args.images, args.threads)
    reference = f"{spec.path.name} (served)"
    classes = len(YoloOnnxDetector(spec).info.class_names)
    with tempfile.TemporaryDirectory() as workdir:
        paths = {reference: spec.path}
        for name in args.architectures:
            paths[f"{name} (random weights)"] = export_random(name, classes, spec.input_size, Path(workdir))
        runners = {label: ort_runner(path, "all", args.threads) for label, path in paths.items()}
        samples = time_alternating(runners, batches, args.repeats)
    shapes = sorted({batch.shape[2:] for batch in batches})
    print(f"\n{len(batches)} frames letterboxed to {shapes}, ONNX Runtime, {args.threads} threads, ", end="")
    print(f"median of {args.repeats} alternating passes\n")
    print("| network | ms/frame | speed-up vs served |")
    print("|---|---|---|")
    reference_s = statistics.median(samples[reference])
    for label, values in samples.items():
        median = statistics.median(values)
        print(f"| {label} | {median * 1000:.1f} | {reference_s / median:.2f}× |")


if __name__ == "__main__":
    main()
