"""A trained YOLO checkpoint to the ONNX file we serve, checked: weights stored as fp16 when that reproduces
the fp32 export's detections, compute kept fp32.

Used by ``scripts/train.py`` and ``scripts/average_weights.py`` (their exports), and by the YOLOv12m build
step ``scripts/build_models/helmet.py``. Needs the ``[train]`` extra (torch, ultralytics, onnx); the
serving path never imports it.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# ultralytics reads these at import time: no hub or asset download, settings kept out of $HOME.
os.environ.setdefault("YOLO_OFFLINE", "1")
os.environ.setdefault("YOLO_CONFIG_DIR", tempfile.mkdtemp(prefix="yolo-config-"))

import cv2
import numpy as np
import onnx
import onnxruntime as ort
import torch
from onnx import TensorProto, helper, numpy_helper
from ultralytics import YOLO
from ultralytics.data.augment import LetterBox
from ultralytics.nn.modules.conv import Conv
from ultralytics.nn.tasks import DetectionModel, torch_safe_load
from ultralytics.utils.nms import non_max_suppression

from vision.errors import VisionError

IMGSZ = 640
OPSET = 17
CONF = 0.25  # the anchors that can become detections, and the NMS of the export check
IOU = 0.7
THREADS = 2
MAX_FP16_STORAGE_DIFF = 1e-3  # fp32 vs fp16-storage ONNX, raw outputs (boxes px, scores)
CHECK_IMAGES = 16  # val images used to check an export
LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class RawDiff:
    """Largest absolute difference between two raw ``(B, 4 + nc, N)`` detector outputs.

    ``*_confident`` only over anchors whose best class score reaches ``CONF`` in either output,
    i.e. the anchors that can become detections.
    """

    boxes: float
    scores: float
    boxes_confident: float
    scores_confident: float

    def __str__(self) -> str:
        return (
            f"boxes {self.boxes:.2e} px, scores {self.scores:.2e} (anchors with score >= {CONF}: "
            f"boxes {self.boxes_confident:.2e} px, scores {self.scores_confident:.2e})"
        )


def letterboxed_batch(paths: list[Path], imgsz: int = IMGSZ) -> np.ndarray:
    """Square ``imgsz`` letterbox (ultralytics' LetterBox, pad 114), RGB, /255, NCHW float32."""
    letterbox = LetterBox(new_shape=(imgsz, imgsz), auto=False)
    batch = []
    for path in paths:
        image = cv2.imread(str(path))
        if image is None:
            raise VisionError(f"cannot read {path}")
        padded = letterbox(image=image)
        batch.append(padded[..., ::-1].transpose(2, 0, 1).astype(np.float32) / 255.0)
    return np.ascontiguousarray(np.stack(batch))


def raw_diff(a: np.ndarray, b: np.ndarray) -> RawDiff:
    """Largest differences between two raw outputs of the same shape."""
    if a.shape != b.shape:
        raise AssertionError(f"output shapes differ: {a.shape} vs {b.shape}")
    diff = np.abs(a.astype(np.float64) - b.astype(np.float64))
    confident = np.maximum(a[:, 4:].max(1), b[:, 4:].max(1)) >= CONF  # (B, N)
    box_diff, score_diff = diff[:, :4].max(1), diff[:, 4:].max(1)  # (B, N)
    return RawDiff(
        boxes=float(box_diff.max()),
        scores=float(score_diff.max()),
        boxes_confident=float(box_diff[confident].max(initial=0.0)),
        scores_confident=float(score_diff[confident].max(initial=0.0)),
    )


def detections(raw: np.ndarray) -> list[np.ndarray]:
    """ultralytics NMS (conf 0.25, IoU 0.7) on raw outputs -> per image ``(n, 6)`` xyxy/score/class."""
    kept = non_max_suppression(torch.from_numpy(raw.copy()), CONF, IOU, max_det=300)
    return [k.numpy() for k in kept]


def compare_detections(a: list[np.ndarray], b: list[np.ndarray]) -> tuple[bool, float, float]:
    """Whether both detection lists have the same boxes (count and classes), and max box/score diff."""
    same, box, score = True, 0.0, 0.0
    for da, db in zip(a, b, strict=True):
        if da.shape != db.shape or not np.array_equal(da[:, 5], db[:, 5]):
            same = False
            continue
        if len(da):
            box = max(box, float(np.abs(da[:, :4] - db[:, :4]).max()))
            score = max(score, float(np.abs(da[:, 4] - db[:, 4]).max()))
    return same, box, score


@dataclass(frozen=True)
class Fp16Storage:
    """What ``store_weights_fp16`` did: initializers per treatment and the values they hold."""

    folded: int  # fp16 conv weight x fp32 BN scale: exactly the fp32 weight the export folded
    rounded: int  # plain fp16 (not a BN-folded conv weight)
    rounded_lossless: int  # of those, already exactly representable in fp16
    kept: int  # 1-D / scalar float32 initializers (biases) kept as they are
    values_fp16: int
    values_fp32: int


def bn_fold_factors(model: DetectionModel) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """For each ``Conv`` (conv + BatchNorm) of ``model``: ONNX initializer name -> (fp16 weight, fp32 scale).

    ultralytics' export fuses BN into the conv (``torch.nn.utils.fusion.fuse_conv_bn_weights``):
    ``w = w16 * (gamma * rsqrt(var + eps))`` computed in fp32, where ``w16`` is the checkpoint's fp16
    weight. Storing ``w16`` and the per-channel scale reproduces ``w`` bit for bit.
    """
    factors = {}
    for name, module in model.named_modules():
        if isinstance(module, Conv) and isinstance(getattr(module, "bn", None), torch.nn.BatchNorm2d):
            bn = module.bn
            scale = bn.weight.detach().float() * torch.rsqrt(bn.running_var.detach().float() + bn.eps)
            weight = module.conv.weight.detach()
            if weight.dtype != torch.float16:
                continue
            shape = (-1,) + (1,) * (weight.ndim - 1)
            factors[f"{name}.conv.weight"] = (weight.numpy(), scale.reshape(shape).numpy())
    return factors


def store_weights_fp16(model: onnx.ModelProto, factors: dict[str, tuple[np.ndarray, np.ndarray]]) -> Fp16Storage:
    """Store the float32 weight initializers as float16, followed by ``Cast(to=FLOAT)`` (and ``Mul``).

    Compute stays fp32: the added nodes have only initializer inputs, so ONNX Runtime constant-folds
    them when the session is created. A BN-folded conv weight whose checkpoint factors reproduce it
    exactly is stored as ``Cast(w16) * scale`` (lossless); any other weight is rounded to fp16; 1-D
    and scalar initializers (biases, constants: ~0.2 % of the values) stay float32.
    """
    graph = model.graph
    graph_inputs = {i.name for i in graph.input}
    initializers: list[onnx.TensorProto] = []
    nodes: list[onnx.NodeProto] = []
    folded = rounded = rounded_lossless = kept = values_fp16 = values_fp32 = 0
    for init in graph.initializer:
        if init.data_type != TensorProto.FLOAT:
            initializers.append(init)
            continue
        if init.name in graph_inputs:
            raise ValueError(f"initializer {init.name} is also a graph input")
        array = numpy_helper.to_array(init)
        if array.ndim < 2:
            initializers.append(init)
            kept += 1
            values_fp32 += array.size
            continue
        half_name = f"{init.name}__fp16"
        weight16, scale = factors.get(init.name, (np.zeros(0, np.float16), np.ones(1, np.float32)))
        if weight16.shape == array.shape and np.array_equal(weight16.astype(np.float32) * scale, array):
            scale_name = f"{init.name}__bn_scale"
            initializers += [
                numpy_helper.from_array(weight16, name=half_name),
                numpy_helper.from_array(scale.astype(np.float32), name=scale_name),
            ]
            nodes += [
                helper.make_node(
                    "Cast", [half_name], [f"{init.name}__fp32"], name=f"{init.name}__cast", to=TensorProto.FLOAT
                ),
                helper.make_node("Mul", [f"{init.name}__fp32", scale_name], [init.name], name=f"{init.name}__scale"),
            ]
            folded += 1
            values_fp32 += scale.size
        else:
            half = array.astype(np.float16)
            if not np.isfinite(half).all():
                raise ValueError(f"initializer {init.name} overflows float16")
            initializers.append(numpy_helper.from_array(half, name=half_name))
            nodes.append(
                helper.make_node("Cast", [half_name], [init.name], name=f"{init.name}__cast", to=TensorProto.FLOAT)
            )
            rounded += 1
            rounded_lossless += int(np.array_equal(half.astype(np.float32), array))
        values_fp16 += array.size
    graph_nodes = list(graph.node)
    graph.ClearField("initializer")
    graph.initializer.extend(initializers)
    graph.ClearField("node")
    graph.node.extend([*nodes, *graph_nodes])
    return Fp16Storage(folded, rounded, rounded_lossless, kept, values_fp16, values_fp32)


def ort_session(path: Path, optimized_out: Path | None = None) -> ort.InferenceSession:
    """An ONNX Runtime CPU session with every graph optimisation (``optimized_out``: where to save its graph)."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = THREADS
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    if optimized_out is not None:
        options.optimized_model_filepath = str(optimized_out)
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def ort_raw_output(session: ort.InferenceSession, images: np.ndarray) -> np.ndarray:
    """Raw ``(B, 4 + nc, N)`` output of ``session`` on ``images`` ``(B, 3, H, W)``, one image at a time."""
    name = session.get_inputs()[0].name
    return np.concatenate([session.run(None, {name: image[None]})[0] for image in images])


def describe_io(model: onnx.ModelProto) -> str:
    """The graph's inputs and outputs with their dimensions, as the model card writes them."""

    def dims(value: onnx.ValueInfoProto) -> str:
        shape = value.type.tensor_type.shape.dim
        return "(" + ", ".join(d.dim_param or str(d.dim_value) for d in shape) + ")"

    ins = ", ".join(f"{v.name}{dims(v)}" for v in model.graph.input)
    outs = ", ".join(f"{v.name}{dims(v)}" for v in model.graph.output)
    return f"inputs {ins}; outputs {outs}"


def export_fp32(checkpoint: Path, work_dir: Path, imgsz: int = IMGSZ) -> Path:
    """ultralytics' ONNX export of ``checkpoint`` into ``work_dir`` (opset 17, dynamic batch/height/width, onnxslim),
    without the export's date in its metadata, so that exporting the same checkpoint again gives the same bytes."""
    staged = work_dir / checkpoint.name
    shutil.copyfile(checkpoint, staged)
    fp32_file = Path(
        YOLO(str(staged)).export(format="onnx", imgsz=imgsz, opset=OPSET, dynamic=True, simplify=True, device="cpu")
    )
    model = onnx.load(str(fp32_file))
    kept_props = [p for p in model.metadata_props if p.key != "date"]
    del model.metadata_props[:]
    model.metadata_props.extend(kept_props)
    onnx.save(model, str(fp32_file))
    return fp32_file


def export_checked(best: Path, out_file: Path, imgsz: int, check_images: list[Path]) -> dict[str, Any]:
    """Export ``best`` to ``out_file``; fp16 weight storage if it reproduces the fp32 export on ``check_images``.

    Returns the card's account of the export (sizes, what was stored how, the check's differences).
    """
    ckpt, _ = torch_safe_load(str(best))
    model = ckpt.get("ema") or ckpt["model"]
    with tempfile.TemporaryDirectory(prefix="train-onnx-") as tmp:
        fp32_file = export_fp32(best, Path(tmp), imgsz)
        fp16_model = onnx.load(str(fp32_file))
        storage = store_weights_fp16(fp16_model, bn_fold_factors(model))
        onnx.checker.check_model(fp16_model)
        fp16_file = Path(tmp) / "fp16-storage.onnx"
        onnx.save(fp16_model, str(fp16_file))

        batch = letterboxed_batch(check_images, imgsz)
        raw32 = ort_raw_output(ort_session(fp32_file), batch)
        raw16 = ort_raw_output(ort_session(fp16_file), batch)
        diff = raw_diff(raw32, raw16)
        same, box, score = compare_detections(detections(raw32), detections(raw16))
        lossless = storage.rounded == storage.rounded_lossless
        ok = same and diff.boxes < MAX_FP16_STORAGE_DIFF and diff.scores < MAX_FP16_STORAGE_DIFF
        report = {
            "fp32_mb": round(fp32_file.stat().st_size / 1e6, 1),
            "fp16_storage": ok,
            "folded_bn_weights": storage.folded,
            "rounded_weights": storage.rounded,
            "rounded_lossless": storage.rounded_lossless,
            "fp32_vs_fp16_storage": str(diff),
            "detections_identical": same,
            "detections_max_diff": {"box_px": box, "score": score},
            "check_images": len(check_images),
            "lossless_by_construction": lossless,
        }
        LOG.info("fp32 vs fp16-storage ONNX on %d val images: %s; NMS detections identical %s", len(batch), diff, same)
        if not ok:
            LOG.warning("fp16 weight storage changed the outputs: keeping the fp32 export")
        shutil.copyfile(fp16_file if ok else fp32_file, out_file)
        report["onnx_mb"] = round(out_file.stat().st_size / 1e6, 1)
        report["io"] = describe_io(onnx.load(str(out_file)))
    return report
