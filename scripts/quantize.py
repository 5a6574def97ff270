#!/usr/bin/env python3
"""int8 static quantization (QDQ) of a YOLO ONNX model, calibrated on training images.

Needs ``onnx`` beside ONNX Runtime (the build venv has both)::

    build/venvs/helmet/bin/python scripts/quantize.py --spec models/helmet.yaml \\
        --calibration ../shared/datasets/bike-helmet --split train.txt --images 64 \\
        --out models/helmet-yolov12m.int8.onnx

Steps: ONNX Runtime's pre-processing (shape inference and graph optimisation: the fp16-storage
Cast/Mul pairs fold back into plain fp32 weights), then ``quantize_static`` with QDQ nodes,
per-channel int8 weights, uint8 activations and MinMax calibration on letterboxed training images
prepared exactly as the detector prepares frames. Whether the result is kept is decided by
``vision eval`` on val (AP50 within 1 point) and ``scripts/bench_detector.py``-style timing: see
models/README.md.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np
import onnx
from onnxruntime.quantization import (
    CalibrationDataReader,
    CalibrationMethod,
    QuantFormat,
    QuantType,
    quantize_static,
)
from onnxruntime.quantization.shape_inference import quant_pre_process

from vision.detectors.spec import YoloOnnxSpec, load_spec
from vision.detectors.yolo_onnx import YoloOnnxDetector
from vision.evaluation.voc import load_voc

ROOT = Path(__file__).resolve().parents[1]


class LetterboxedImages(CalibrationDataReader):
    """Feeds ``(1, 3, H, W)`` inputs made by the detector's own pre-processing."""

    def __init__(self, detector: YoloOnnxDetector, paths: list[Path]) -> None:
        self._detector = detector
        self._paths = iter(paths)

    def get_next(self) -> dict[str, np.ndarray] | None:
        path = next(self._paths, None)
        if path is None:
            return None
        batch, _ = self._detector.preprocess([cv2.imread(str(path))])
        return {"images": batch}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--spec", type=Path, required=True, help="a yolo_onnx detector spec")
    parser.add_argument("--calibration", type=Path, required=True, help="VOC folder of calibration images")
    parser.add_argument("--split", default="train.txt")
    parser.add_argument("--images", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument(
        "--keep-float",
        default="/model.21/",
        help="name prefix of nodes left in fp32: the detection head, whose output concatenates pixel "
        "coordinates (0-640) with scores (0-1), which one int8 scale cannot both hold",
    )
    parser.add_argument(
        "--ops", nargs="*", default=["Conv"], help="op types to quantize (none given: every supported op)"
    )
    args = parser.parse_args()

    spec = load_spec(args.spec)
    if not isinstance(spec, YoloOnnxSpec):
        raise SystemExit(f"{args.spec}: int8 quantization here is for yolo_onnx specs")
    detector = YoloOnnxDetector(spec)
    images = load_voc(args.calibration, args.split)
    chosen = random.Random(args.seed).sample(images, min(args.images, len(images)))
    with tempfile.TemporaryDirectory() as tmp:
        prepared = Path(tmp) / "prepared.onnx"
        quant_pre_process(str(spec.path), str(prepared), skip_symbolic_shape=True)
        head = [node.name for node in onnx.load(str(prepared)).graph.node if node.name.startswith(args.keep_float)]
        quantize_static(
            str(prepared),
            str(args.out),
            LetterboxedImages(detector, [image.image_path for image in chosen]),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            weight_type=QuantType.QInt8,
            activation_type=QuantType.QUInt8,
            calibrate_method=CalibrationMethod.MinMax,
            op_types_to_quantize=args.ops or None,
            nodes_to_exclude=head,
            extra_options={"ActivationSymmetric": False, "WeightSymmetric": True},
        )
    # Keep the exporter's metadata (class names, stride): the detector reads them.
    source, quantized = onnx.load(str(spec.path)), onnx.load(str(args.out))
    del quantized.metadata_props[:]
    quantized.metadata_props.extend(source.metadata_props)
    onnx.save(quantized, str(args.out))
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.1f} MB) from {len(chosen)} calibration images")
    return 0


if __name__ == "__main__":
    sys.exit(main())
