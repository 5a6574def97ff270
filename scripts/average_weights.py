#!/usr/bin/env python3
"""The uniform average of ultralytics checkpoints of one network (a "model soup").

Checkpoints fine-tuned one from another (stage 2 from stage 1's best, ...) lie in one basin of
the loss, and the mean of their weights is often better than each (Wortsman et al., "Model
soups", ICML 2022). Floating-point tensors, BatchNorm running statistics included, are averaged;
integer buffers are taken from the first checkpoint. The result is an ultralytics checkpoint
(the first one's metadata, no optimizer), and with ``--onnx`` also a dynamic-shape ONNX file that
a ``yolo_onnx`` spec can point at; ``--export FILE`` exports it as ``scripts/train.py`` exports a
trained model (fp16 weight storage where it reproduces fp32 exactly, checked on ``--check-images``)::

    .venv/bin/python scripts/average_weights.py --out build/soups/s124/best.pt --onnx \\
        build/runs/helmet-yolo11n/weights/best.pt build/runs/helmet-yolo11n-s2/weights/best.pt \\
        build/runs/helmet-yolo11n-s4/weights/best.pt

Needs the ``[train]`` extra (torch, ultralytics). Measured in ``models/README.md``.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def average_checkpoints(paths: list[Path], weights: list[float] | None = None, folded: bool = False) -> dict[str, Any]:
    """An ultralytics checkpoint dict whose ``model`` is the mean of ``paths``' models (fp16 stored).

    ``weights`` (one per path, any positive scale) make it a weighted mean: a checkpoint that is
    itself the average of three stages can count as three. ``folded`` averages each network with
    its BatchNorms folded into the convolutions (ultralytics' ``fuse``), the form it is served in:
    a model rebuilt from an ONNX export (``scripts/coco_start.py --onnx``) and one trained from
    the COCO start split a folded convolution into conv and BatchNorm differently, so their unfolded
    tensors do not correspond one to one, while their folded ones do.
    """
    import torch

    if len(paths) < 2:
        raise SystemExit("average_weights: give two checkpoints or more")
    weights = [1.0] * len(paths) if weights is None else weights
    if len(weights) != len(paths) or any(weight <= 0 for weight in weights):
        raise SystemExit(f"average_weights: give one positive weight per checkpoint, got {weights} for {len(paths)}")
    shares = [weight / sum(weights) for weight in weights]
    checkpoints = [torch.load(path, map_location="cpu", weights_only=False) for path in paths]
    models = [(checkpoint.get("ema") or checkpoint["model"]).float() for checkpoint in checkpoints]
    if folded:
        models = [model.eval().fuse(verbose=False) for model in models]
    states = [model.state_dict() for model in models]
    for path, state in zip(paths[1:], states[1:], strict=True):
        if state.keys() != states[0].keys() or any(state[k].shape != states[0][k].shape for k in state):
            raise SystemExit(f"average_weights: {path} is not the same network as {paths[0]}")
    mean = {
        key: sum(share * state[key] for share, state in zip(shares, states, strict=True))
        if value.dtype.is_floating_point
        else value
        for key, value in states[0].items()
    }
    averaged = copy.deepcopy(models[0])
    averaged.load_state_dict(mean)
    result = dict(checkpoints[0])
    result.update(
        model=averaged.half(),
        ema=None,
        optimizer=None,
        epoch=-1,
        averaged_from=[str(p) for p in paths],
        averaged_weights=shares,
        averaged_folded=folded,
    )
    return result


def default_check_images(checkpoints: list[Path]) -> Path:
    """``build/yolo-data/<run>/images/val`` for the first checkpoint found in ``build/runs/<run>/weights/``."""
    for checkpoint in checkpoints:
        weights_dir = checkpoint.resolve().parent
        if weights_dir.name == "weights":
            return ROOT / "build" / "yolo-data" / weights_dir.parent.name / "images" / "val"
    return ROOT / "build" / "yolo-data" / "helmet-yolo11n" / "images" / "val"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoints", type=Path, nargs="+")
    parser.add_argument("--out", type=Path, required=True, help="the averaged checkpoint (.pt)")
    parser.add_argument(
        "--weights", type=float, nargs="+", help="one weight per checkpoint, in order (default: all equal)"
    )
    parser.add_argument(
        "--folded", action="store_true", help="average with BatchNorms folded into the convolutions (see above)"
    )
    parser.add_argument("--onnx", action="store_true", help="also export <out>.onnx (dynamic shapes, opset 17)")
    parser.add_argument("--export", type=Path, help="export with scripts/train.py's exporter to this .onnx")
    parser.add_argument(
        "--check-images",
        type=Path,
        help="folder of images the exporter compares fp32 and fp16-storage outputs on (its first 16); default: the "
        "val images of the run the first checkpoint comes from (build/yolo-data/<run>/images/val)",
    )
    parser.add_argument("--imgsz", type=int, default=640)
    args = parser.parse_args()
    if args.export:
        args.check_images = args.check_images or default_check_images(args.checkpoints)
        if not args.check_images.is_dir():
            raise SystemExit(f"--check-images: {args.check_images} is not a folder (name one with --check-images)")

    import torch

    result = average_checkpoints(args.checkpoints, args.weights, args.folded)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    torch.save(result, args.out)
    shares = ", ".join(f"{share:.3f}" for share in result["averaged_weights"])
    print(f"wrote {args.out}: the mean of {len(args.checkpoints)} checkpoints (shares {shares}, folded: {args.folded})")
    if args.onnx:
        from ultralytics import YOLO

        exported = YOLO(str(args.out)).export(format="onnx", dynamic=True, opset=17, imgsz=args.imgsz, simplify=True)
        print(f"wrote {exported}")
    if args.export:
        from vision.training.onnx_export import CHECK_IMAGES, export_checked

        images = sorted(args.check_images.iterdir())[:CHECK_IMAGES]
        if not images:
            raise SystemExit(f"--check-images: no images in {args.check_images}")
        report = export_checked(args.out, args.export, args.imgsz, images)
        print(json.dumps({"export": str(args.export), **report}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
