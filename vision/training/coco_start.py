"""COCO-pretrained YOLO11n as an ultralytics checkpoint, rebuilt from ``../shared/weights``.

The shared weights hold YOLO11n's official COCO weights twice: an OpenVINO int8 export and the same
weights dequantised to float32 with BatchNorm *folded* into each convolution
(``yolo11n-coco-fused.npz``, keyed by ultralytics module path). ultralytics' ``Conv`` block is
conv (no bias) + BatchNorm + SiLU, so a folded ``(W, b)`` has to be put back into BatchNorm form.

How (the "recalibrate" way of the weights README): ``conv.weight = W`` and, from the measured
statistics ``mu, var`` (per output channel) of ``z = W * x`` over ``--calibration`` training
images, ``running_mean = mu``, ``running_var = var``, ``bn.weight = sqrt(var + eps)``,
``bn.bias = mu + b``. In eval mode BN(z) = z + b exactly (the folded conv, whatever ``mu, var``),
and in training mode the batch statistics BatchNorm uses are close to the running ones, so the
first fine-tuning steps start from the COCO function instead of a rescaled one (the identity-BN
alternative, ``running_var = 1``, would be exact in eval but off by each layer's variance in
training). One pass measures every layer: each block reproduces its folded conv exactly in eval
mode, so every layer's input is already the COCO network's.

Check: the rebuilt fp32 model and the OpenVINO int8 model detect on the same letterboxed images;
confident detections of either must match a same-class one of the other, with median differences
within 2 px and 0.03 score (see ``LoadCheck``). The report is written beside the checkpoint and into
the card by ``scripts/train.py``.

The same rebuild starts a stage from **one of our own YOLO11n exports** (``--onnx``, e.g. the
served ``models/helmet-yolo11n.onnx``): its folded weights are read from the ONNX graph
(``arrays_from_onnx``), and the check is against that file in ONNX Runtime, raw outputs and
detections (``check_against_onnx``). The checkpoints a model was trained through live in
``build/``, which a new machine does not have; the committed ONNX file always is there.

``scripts/coco_start.py`` is its command line; ``scripts/train.py`` builds its start checkpoints here.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
from torch import nn

from vision.detectors.boxes import box_iou, letterbox
from vision.detectors.yolo_onnx import decode_yolo_output
from vision.errors import VisionError

COCO_NC = 80
INPUT_SIZE = 640  # the OpenVINO export is static 1x3x640x640
CHECK_CONF = 0.25
CHECK_IOU = 0.7


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def letterboxed(images: list[Path], size: int = INPUT_SIZE) -> np.ndarray:
    """``(N, 3, size, size)`` float32 RGB in [0, 1], letterboxed as the serving path does."""
    batch = []
    for path in images:
        frame = cv2.imread(str(path))
        if frame is None:
            raise VisionError(f"cannot read {path}")
        padded, _ = letterbox(frame, (size, size))
        batch.append(padded[:, :, ::-1].transpose(2, 0, 1).astype(np.float32) / 255.0)
    return np.ascontiguousarray(np.stack(batch))


def arrays_from_onnx(onnx_file: Path) -> dict[str, np.ndarray]:
    """Every convolution's folded weight and bias in a YOLO11n ONNX export, keyed as the npz is.

    ultralytics names each conv's initializers by module path (``model.0.conv.weight``), and
    ``scripts/train.py`` stores them as fp16 followed by a ``Cast`` (times the folded BatchNorm
    scale, fp32): the constant chain is evaluated here, so the arrays are the exact numbers the
    ONNX graph convolves with.
    """
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(str(onnx_file)).graph
    stored = {init.name: numpy_helper.to_array(init) for init in graph.initializer}
    producers = {output: node for node in graph.node for output in node.output}

    def value(name: str) -> np.ndarray:
        if name in stored:
            return stored[name].astype(np.float32)
        node = producers.get(name)
        if node is not None and node.op_type in ("Cast", "Identity"):
            return value(node.input[0])
        if node is not None and node.op_type == "Mul":
            return value(node.input[0]) * value(node.input[1])
        raise VisionError(f"{onnx_file}: {name} is not a stored weight (made by {node.op_type if node else 'nothing'})")

    arrays: dict[str, np.ndarray] = {}
    for node in graph.node:
        if node.op_type != "Conv":
            continue
        for name in node.input[1:]:
            if not name.startswith("model."):
                raise VisionError(
                    f"{onnx_file}: conv input {name!r} is not named by module path (not an ultralytics export?)"
                )
            arrays[name] = value(name)
    return arrays


def build_model(arrays: dict[str, np.ndarray], calibration: np.ndarray, source: str = "npz") -> nn.Module:
    """ultralytics ``DetectionModel`` (yolo11n) holding folded conv weights ``arrays``, in eval mode.

    The class count is that of ``arrays`` (80 for the COCO npz, ours for our own exports).
    """
    from ultralytics.nn.modules import Conv
    from ultralytics.nn.tasks import DetectionModel

    classes, width = arrays["model.23.cv3.0.2.weight"].shape[:2]
    # The class branch's hidden width follows the class count it was built for: a model fine-tuned
    # from COCO keeps COCO's (80) with its own class count at the output, as ultralytics' transfer
    # builds it (``DetectionModel.load``). Build at that width, then give the outputs our classes.
    model = DetectionModel("yolo11n.yaml", nc=int(width), verbose=False)
    head = model.model[-1]
    if classes != width:
        for branch in head.cv3:
            branch[-1] = nn.Conv2d(branch[-1].in_channels, int(classes), 1)
        head.nc, head.no = int(classes), int(classes) + head.reg_max * 4
        model.nc = model.yaml["nc"] = int(classes)
    modules = dict(model.named_modules())
    used: set[str] = set()
    blocks: dict[str, tuple[nn.Conv2d, nn.BatchNorm2d, np.ndarray]] = {}
    for name, module in modules.items():
        if isinstance(module, Conv):
            weight, bias = arrays[f"{name}.conv.weight"], arrays[f"{name}.conv.bias"]
            used.update({f"{name}.conv.weight", f"{name}.conv.bias"})
            if tuple(module.conv.weight.shape) != weight.shape:
                raise VisionError(f"{name}: {source} weight {weight.shape} vs model {tuple(module.conv.weight.shape)}")
            module.conv.weight.data = torch.from_numpy(weight)
            blocks[name] = (module.conv, module.bn, bias)
        elif isinstance(module, nn.Conv2d) and f"{name}.weight" in arrays and not name.endswith(".conv"):
            # the last conv of each head branch: a plain Conv2d with its own bias
            module.weight.data = torch.from_numpy(arrays[f"{name}.weight"])
            module.bias.data = torch.from_numpy(arrays[f"{name}.bias"])
            used.update({f"{name}.weight", f"{name}.bias"})
    dfl = modules["model.23.dfl.conv"].weight
    if not np.allclose(arrays["model.23.dfl.conv.weight"], dfl.detach().numpy()):
        raise VisionError(f"{source}: its DFL weights are not ultralytics' fixed arange(16)")
    used.add("model.23.dfl.conv.weight")
    unused = sorted(set(arrays) - used)
    if unused:
        raise VisionError(f"{source}: {len(unused)} arrays not loaded, e.g. {unused[:3]}")

    # Measure z = W * x per conv (hooks on the bare conv), then set BN so that BN(z) = z + b.
    sums: dict[str, list[torch.Tensor]] = {name: [] for name in blocks}

    def hook(name: str) -> Any:
        def record(_module: nn.Module, _inputs: Any, output: torch.Tensor) -> None:
            sums[name].append(torch.stack([output.mean((0, 2, 3)), (output**2).mean((0, 2, 3))]))

        return record

    # First make each block exactly the folded conv with identity-like BN, so inputs are right.
    for _name, (_conv, bn, bias) in blocks.items():
        bn.running_mean.zero_()
        bn.running_var.fill_(1.0 - bn.eps)
        bn.weight.data.fill_(1.0)
        bn.bias.data = torch.from_numpy(bias).clone()
    handles = [conv.register_forward_hook(hook(name)) for name, (conv, _bn, _bias) in blocks.items()]
    model.eval()
    with torch.no_grad():
        for start in range(0, len(calibration), 8):
            model(torch.from_numpy(calibration[start : start + 8]))
    for handle in handles:
        handle.remove()
    with torch.no_grad():
        for name, (_conv, bn, bias) in blocks.items():
            first, second = torch.stack(sums[name]).mean(0)
            var = (second - first**2).clamp_min(1e-6)
            bn.running_mean.copy_(first)
            bn.running_var.copy_(var)
            bn.weight.data = torch.sqrt(var + bn.eps)
            bn.bias.data = first + torch.from_numpy(bias)
    return model


@dataclass
class LoadCheck:
    """Rebuilt fp32 vs OpenVINO int8 detections, matched per class at IoU >= 0.5.

    Only detections scoring at least ``CLEAR_SCORE`` in one model are matched: the int8 model
    quantises activations too, so scores move by a few hundredths and a box near the 0.25 cut can
    fall either side of it. The medians are the agreement; the maxima show the int8 tail.
    """

    images: int
    matched: int
    unmatched: int
    median_box_px: float
    max_box_px: float
    median_score_diff: float
    p95_score_diff: float
    max_score_diff: float
    passed: bool


CLEAR_SCORE = 0.4
MAX_MEDIAN_BOX_PX = 2.0
MAX_MEDIAN_SCORE_DIFF = 0.03
MAX_P95_SCORE_DIFF = 0.12


def _detections(raw: np.ndarray) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    return [decode_yolo_output(raw[i], CHECK_CONF, CHECK_IOU, 300) for i in range(raw.shape[0])]


def check_against_openvino(model: nn.Module, xml_file: Path, batch: np.ndarray) -> LoadCheck:
    """Compare the rebuilt model's detections with the OpenVINO int8 model's on ``batch``."""
    import openvino as ov

    compiled = ov.Core().compile_model(str(xml_file), "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    raw_ov = np.concatenate([compiled(batch[i : i + 1])[0] for i in range(len(batch))])
    with torch.no_grad():
        raw_pt = model(torch.from_numpy(batch))[0].numpy()
    unmatched, box_px, score_diff = 0, [], []
    for (b_ov, s_ov, c_ov), (b_pt, s_pt, c_pt) in zip(_detections(raw_ov), _detections(raw_pt), strict=True):
        for ref, ref_s, ref_c, other, other_s, other_c in (
            (b_ov, s_ov, c_ov, b_pt, s_pt, c_pt),
            (b_pt, s_pt, c_pt, b_ov, s_ov, c_ov),
        ):
            iou = box_iou(ref, other) if len(ref) and len(other) else np.zeros((len(ref), len(other)))
            for i in np.flatnonzero(ref_s >= CLEAR_SCORE):
                same = np.flatnonzero(other_c == ref_c[i])
                if same.size == 0 or iou[i, same].max() < 0.5:
                    unmatched += 1
                    continue
                j = same[iou[i, same].argmax()]
                box_px.append(float(np.abs(ref[i] - other[j]).max()))
                score_diff.append(float(abs(ref_s[i] - other_s[j])))
    if not box_px:
        raise VisionError("the OpenVINO model found nothing on the check images: pick images with COCO objects")
    check = LoadCheck(
        images=len(batch),
        matched=len(box_px),
        unmatched=unmatched,
        median_box_px=round(float(np.median(box_px)), 2),
        max_box_px=round(max(box_px), 2),
        median_score_diff=round(float(np.median(score_diff)), 4),
        p95_score_diff=round(float(np.percentile(score_diff, 95)), 4),
        max_score_diff=round(max(score_diff), 4),
        passed=False,
    )
    check.passed = (
        unmatched <= max(1, len(box_px) // 20)
        and check.median_box_px <= MAX_MEDIAN_BOX_PX
        and check.median_score_diff <= MAX_MEDIAN_SCORE_DIFF
        and check.p95_score_diff <= MAX_P95_SCORE_DIFF
    )
    return check


def save_checkpoint(
    model: nn.Module, out: Path, meta: dict[str, Any], names: dict[int, str] | None = None, key: str = "coco_start"
) -> None:
    """An ultralytics checkpoint (``model`` + ``train_args``), loadable by ``YOLO(out)`` for fine-tuning."""
    import ultralytics

    model.names = names or {i: f"coco_{i}" for i in range(COCO_NC)}
    out.parent.mkdir(parents=True, exist_ok=True)
    torch.save(
        {
            "model": model,
            "train_args": {"imgsz": INPUT_SIZE, "task": "detect"},
            "version": ultralytics.__version__,
            "date": None,
            key: meta,
        },
        out,
    )


def make_start_checkpoint(
    npz_file: Path,
    openvino_xml: Path,
    images: list[Path],
    out: Path,
    calibration_images: int = 200,
    check: list[Path] | None = None,
) -> dict[str, Any]:
    """Build, check and save the start checkpoint; return what the card records (raises if the check fails).

    ``images``' first ``calibration_images`` set BatchNorm's statistics; ``check`` (default the last
    8 of ``images``) are compared with the OpenVINO model.
    """
    torch.manual_seed(0)
    calibration = letterboxed(images[:calibration_images])
    model = build_model(dict(np.load(npz_file)), calibration, str(npz_file))
    check_files = check or images[-8:]
    result = check_against_openvino(model, openvino_xml, letterboxed(check_files))
    meta = {
        "npz": str(npz_file),
        "npz_sha256": sha256(npz_file),
        "openvino": str(openvino_xml),
        "openvino_sha256": sha256(openvino_xml.with_suffix(".bin")),
        "calibration_images": len(calibration),
        "bn_recalibration": "running stats measured on the calibration images; BN(z) = z + folded bias exactly",
        "check": asdict(result),
        "check_images": [path.name for path in check_files],
    }
    if not result.passed:
        raise VisionError(f"the rebuilt YOLO11n does not reproduce the OpenVINO model: {result}")
    save_checkpoint(model, out, meta)
    out.with_suffix(".json").write_text(json.dumps(meta, indent=1) + "\n")
    return meta


# The rebuilt model against the ONNX file it came from, raw outputs on letterboxed images: both
# compute in fp32 with the same weights, so only summation order and BatchNorm's (z - mu) / s * s
# round-trip differ.
MAX_ONNX_BOX_DIFF_PX = 0.05
MAX_ONNX_SCORE_DIFF = 1e-3


def check_against_onnx(model: nn.Module, onnx_file: Path, batch: np.ndarray) -> dict[str, Any]:
    """Raw-output and detection agreement of ``model`` with ONNX Runtime running ``onnx_file`` on ``batch``."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(onnx_file), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    raw_onnx = np.concatenate([session.run(None, {name: batch[i : i + 1]})[0] for i in range(len(batch))])
    with torch.no_grad():
        raw_pt = model(torch.from_numpy(batch))[0].numpy()
    box_diff = float(np.abs(raw_onnx[:, :4] - raw_pt[:, :4]).max())
    score_diff = float(np.abs(raw_onnx[:, 4:] - raw_pt[:, 4:]).max())
    same = True
    for (b_onnx, s_onnx, c_onnx), (b_pt, s_pt, c_pt) in zip(_detections(raw_onnx), _detections(raw_pt), strict=True):
        same &= len(b_onnx) == len(b_pt) and bool((c_onnx == c_pt).all())
        same &= bool(np.abs(b_onnx - b_pt).max(initial=0.0) <= MAX_ONNX_BOX_DIFF_PX)
        same &= bool(np.abs(s_onnx - s_pt).max(initial=0.0) <= MAX_ONNX_SCORE_DIFF)
    return {
        "images": len(batch),
        "max_box_diff_px": round(box_diff, 5),
        "max_score_diff": round(score_diff, 6),
        "detections_identical": same,
        "passed": same and box_diff <= MAX_ONNX_BOX_DIFF_PX and score_diff <= MAX_ONNX_SCORE_DIFF,
    }


def make_onnx_start_checkpoint(
    onnx_file: Path, images: list[Path], out: Path, calibration_images: int = 200, check: list[Path] | None = None
) -> dict[str, Any]:
    """A trainable checkpoint rebuilt from one of our YOLO11n ONNX exports (e.g. the served
    ``models/helmet-yolo11n.onnx``), so that a later stage starts from the served model when the run
    that made it is gone (``build/`` is not kept between machines). BatchNorm is recalibrated on
    ``images`` exactly as for the COCO start; the check runs both on ``check`` (default the last 8
    of ``images``) and must agree to ``MAX_ONNX_*``. Returns what the card records.
    """
    import ast

    import onnx

    torch.manual_seed(0)
    metadata = {prop.key: prop.value for prop in onnx.load(str(onnx_file)).metadata_props}
    names = ast.literal_eval(metadata["names"]) if "names" in metadata else None
    model = build_model(arrays_from_onnx(onnx_file), letterboxed(images[:calibration_images]), str(onnx_file))
    check_files = check or images[-8:]
    result = check_against_onnx(model, onnx_file, letterboxed(check_files))
    meta = {
        "onnx": str(onnx_file),
        "onnx_sha256": sha256(onnx_file),
        "classes": list(names.values()) if names else None,
        "calibration_images": min(calibration_images, len(images)),
        "bn_recalibration": "running stats measured on the calibration images; BN(z) = z + folded bias exactly",
        "check": result,
        "check_images": [path.name for path in check_files],
    }
    if not result["passed"]:
        raise VisionError(f"the rebuilt YOLO11n does not reproduce {onnx_file}: {result}")
    save_checkpoint(model, out, meta, names, key="onnx_start")
    out.with_suffix(".json").write_text(json.dumps(meta, indent=1) + "\n")
    return meta


def export_coco_onnx(checkpoint: Path, openvino_xml: Path, out: Path) -> Path:
    """The COCO start checkpoint as a dynamic-shape ONNX detector named with COCO's classes (read from the
    OpenVINO export's ``metadata.yaml``): the attribute model of ``models/helmet-phone.yaml`` (``cell phone``)."""
    import shutil
    import tempfile

    import yaml
    from ultralytics import YOLO

    names = yaml.safe_load((openvino_xml.parent / "metadata.yaml").read_text())["names"]
    saved = torch.load(checkpoint, map_location="cpu", weights_only=False)
    saved["model"].names = {int(key): str(value) for key, value in names.items()}
    with tempfile.TemporaryDirectory() as folder:
        named = Path(folder) / out.with_suffix(".pt").name
        torch.save(saved, named)
        exported = Path(YOLO(str(named)).export(format="onnx", imgsz=INPUT_SIZE, dynamic=True, simplify=True))
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(exported, out)
    return out
