#!/usr/bin/env python3
"""COCO-pretrained YOLO11n as an ultralytics checkpoint, rebuilt from ``../shared/weights`` (how and why:
``vision.training.coco_start``).

Usage (the training environment)::

    .venv/bin/python scripts/coco_start.py --npz ../shared/weights/yolo11n-coco-fused.npz \\
        --openvino ../shared/weights/yolo11n-coco-int8-openvino/yolo11n.xml \\
        --images ../shared/datasets/bike-helmet/images --out build/coco/yolo11n-coco.pt
    .venv/bin/python scripts/coco_start.py --npz ../shared/weights/yolo11n-coco-fused.npz \\
        --openvino ../shared/weights/yolo11n-coco-int8-openvino/yolo11n.xml \\
        --images ../shared/datasets/bike-helmet/images --out build/coco/yolo11n-coco.pt \\
        --export-onnx models/coco-yolo11n.onnx   # the phone model of models/helmet-phone.yaml
    .venv/bin/python scripts/coco_start.py --onnx models/helmet-yolo11n.onnx \\
        --images ../shared/datasets/bike-helmet/images --out build/onnx-start/helmet-yolo11n.pt
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from vision.errors import VisionError
from vision.training.coco_start import export_coco_onnx, make_onnx_start_checkpoint, make_start_checkpoint


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--npz", type=Path, help="the COCO weights, folded (with --openvino)")
    source.add_argument("--onnx", type=Path, help="one of our YOLO11n ONNX exports, e.g. models/helmet-yolo11n.onnx")
    parser.add_argument("--openvino", type=Path, help="the int8 model's .xml (the check of an --npz start)")
    parser.add_argument("--images", type=Path, required=True, help="a folder of training images (calibration)")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--calibration", type=int, default=200)
    parser.add_argument(
        "--export-onnx",
        type=Path,
        help="with --npz: also write the COCO model as ONNX with COCO's class names (e.g. models/coco-yolo11n.onnx)",
    )
    args = parser.parse_args()
    images = sorted(args.images.glob("*.jpg"))
    try:
        meta = _build(args, images, parser)
    except VisionError as error:
        raise SystemExit(f"coco_start: {error}") from error
    print(json.dumps(meta, indent=1))
    return 0


def _build(args: argparse.Namespace, images: list[Path], parser: argparse.ArgumentParser) -> dict[str, Any]:
    if args.onnx:
        meta = make_onnx_start_checkpoint(args.onnx, images, args.out, args.calibration)
    elif args.openvino is None:
        parser.error("--npz needs --openvino (the model its load is checked against)")
    else:
        meta = make_start_checkpoint(args.npz, args.openvino, images, args.out, args.calibration)
        if args.export_onnx:
            meta["onnx"] = str(export_coco_onnx(args.out, args.openvino, args.export_onnx))
    return meta


if __name__ == "__main__":
    sys.exit(main())
