#!/usr/bin/env python3
"""Build ``models/helmet-yolov12m.{pt,onnx}`` from the ``helmet-detector`` wheel on PyPI.

Run by ``scripts/build_models.py`` inside ``build/venvs/helmet`` (torch, ultralytics, onnx,
onnxruntime, onnxslim, helmet-detector; versions pinned there).

Why a rewrite is needed
-----------------------
``helmet-detector`` 2.1.0 ships ``helmet_detector_pkg/weights/best.pt``: a YOLOv12m (classes
``{0: 'With Helmet', 1: 'Without Helmet'}``) trained with the original YOLOv12 fork of ultralytics
(8.3.63). That fork's area-attention module ``AAttn`` holds three convolutions: ``qk`` (all q rows,
then all k rows), ``v`` and a 5x5 depthwise positional encoding ``pe``. Current ultralytics unpickles
the checkpoint but its ``AAttn.forward`` expects one fused ``qkv`` convolution whose rows hold, per
head h, q_h, k_h and v_h in turn, and a 7x7 ``pe``; the forward pass fails with
``'AAttn' object has no attribute 'qkv'``, and training from the checkpoint silently re-initialises
the attention weights. Both forwards compute the same function (area split over the flattened
spatial positions, multi-head attention with per-head channel groups, ``pe(v)`` added before
``proj``), so the fork's weights can be rewritten exactly:

* ``qkv`` = rows interleaved per head from ``qk`` and ``v`` (conv weight and every BatchNorm
  vector permuted the same way; BN ``eps``/``momentum`` kept);
* ``pe`` 5x5 kernel zero-padded (centred) to 7x7 (same output with padding 3 instead of 2);
* ``proj`` unchanged.

The script checks this numerically: it runs the original checkpoint through a verification-only
re-implementation of the fork's forward and the rewritten checkpoint through stock ultralytics on
real images and asserts that the raw outputs agree. It then saves the rewritten checkpoint (fp16,
loadable by plain ``ultralytics.YOLO``), exports ONNX (opset 17, dynamic batch/height/width),
stores the ONNX weights as fp16 with a ``Cast`` to fp32 after each (compute stays fp32; a conv
weight with BatchNorm folded in is stored as its checkpoint fp16 weight times the fp32 BN scale, so
the stored model reproduces the fp32 export bit for bit), checks and times the result against the
fp32 ONNX, and writes the golden detections of ultralytics'
``predict`` for ``tests/data/voc/helmet/images`` to ``tests/data/golden/helmet_ultralytics.json``.
"""

from __future__ import annotations

import argparse
import atexit
import copy
import importlib.metadata
import importlib.util
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
import types
from pathlib import Path
from typing import Any

if __name__ == "__main__" and os.environ.get("PYTHONHASHSEED") != "0":
    # onnxslim's shape annotations (value_info) depend on set iteration order: fix the hash seed
    # so that rebuilding gives a byte-identical ONNX file.
    os.environ["PYTHONHASHSEED"] = "0"
    os.execv(sys.executable, [sys.executable, *sys.argv])

# Ultralytics reads these at import time: no hub/asset download, settings kept out of $HOME.
_CONFIG_DIR = tempfile.mkdtemp(prefix="yolo-config-")
os.environ["YOLO_OFFLINE"] = "1"
os.environ["YOLO_CONFIG_DIR"] = _CONFIG_DIR
atexit.register(shutil.rmtree, _CONFIG_DIR, ignore_errors=True)

import numpy as np  # noqa: E402
import onnx  # noqa: E402
import onnxruntime as ort  # noqa: E402
import torch  # noqa: E402
import ultralytics  # noqa: E402
from ultralytics import YOLO  # noqa: E402
from ultralytics.nn.modules.block import AAttn  # noqa: E402
from ultralytics.nn.tasks import DetectionModel, torch_safe_load  # noqa: E402
from ultralytics.utils.torch_utils import intersect_dicts  # noqa: E402

# Shared with scripts/train.py's export; scripts/build_models.py puts the repository on this step's PYTHONPATH.
from vision.training.onnx_export import (  # noqa: E402
    CONF,
    IMGSZ,
    IOU,
    MAX_FP16_STORAGE_DIFF,
    OPSET,
    THREADS,
    bn_fold_factors,
    compare_detections,
    describe_io,
    detections,
    export_fp32,
    letterboxed_batch,
    ort_raw_output,
    ort_session,
    raw_diff,
    store_weights_fp16,
)

ROOT = Path(__file__).resolve().parents[2]
MODEL_NAME = "helmet-yolov12m"
SOURCE_PACKAGE = "helmet-detector"
SOURCE_MODULE = "helmet_detector_pkg"
SOURCE_WEIGHTS = Path("weights") / "best.pt"
EXPECTED_NAMES = {0: "With Helmet", 1: "Without Helmet"}
IMAGES_DIR = ROOT / "tests" / "data" / "voc" / "helmet" / "images"
GOLDEN_FILE = ROOT / "tests" / "data" / "golden" / "helmet_ultralytics.json"

TIMING_RUNS = 10

MAX_REWRITE_DIFF_PX = 1e-2  # fork forward (original) vs stock ultralytics (rewritten), raw outputs
MAX_GOLDEN_BOX_DIFF_PX = 1.0  # ultralytics predict on the .pt vs on the final .onnx


# --------------------------------------------------------------------------------------------
# Source checkpoint and the attention rewrite
# --------------------------------------------------------------------------------------------


def locate_source_weights() -> Path:
    """Return ``helmet_detector_pkg/weights/best.pt`` of the installed ``helmet-detector``."""
    spec = importlib.util.find_spec(SOURCE_MODULE)  # locate without importing the package
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f"{SOURCE_PACKAGE} is not installed ({SOURCE_MODULE} not found)")
    path = Path(next(iter(spec.submodule_search_locations))) / SOURCE_WEIGHTS
    if not path.is_file():
        raise SystemExit(f"{path} not found in {SOURCE_PACKAGE}")
    return path


def _fork_attention_forward(self: AAttn, x: torch.Tensor) -> torch.Tensor:
    """Area attention exactly as the YOLOv12 fork computes it (separate ``qk``/``v``, ``pe(v)``).

    Verification only: bound onto the original (unrewritten) modules so the fork's checkpoint can
    be run as trained. The spatial positions are flattened and, for ``area > 1``, split into
    ``area`` consecutive chunks; heads are consecutive groups of ``head_dim`` channels.
    """
    batch, channels, height, width = x.shape
    positions = height * width
    qk = self.qk(x).flatten(2).transpose(1, 2)  # (B, N, 2C): all q channels, then all k channels
    v_map = self.v(x)
    positional = self.pe(v_map)
    v = v_map.flatten(2).transpose(1, 2)  # (B, N, C)
    if self.area > 1:
        qk = qk.reshape(batch * self.area, positions // self.area, channels * 2)
        v = v.reshape(batch * self.area, positions // self.area, channels)
    groups, length, _ = qk.shape
    q, k = qk.split([channels, channels], dim=2)
    q = q.transpose(1, 2).reshape(groups, self.num_heads, self.head_dim, length)
    k = k.transpose(1, 2).reshape(groups, self.num_heads, self.head_dim, length)
    v = v.transpose(1, 2).reshape(groups, self.num_heads, self.head_dim, length)
    attn = (q.transpose(-2, -1) @ k) * (self.head_dim**-0.5)
    attn = attn - attn.amax(dim=-1, keepdim=True)  # the fork's explicit, max-shifted softmax
    attn = attn.exp()
    attn = attn / attn.sum(dim=-1, keepdim=True)
    out = (v @ attn.transpose(-2, -1)).permute(0, 3, 1, 2)  # (B*area, N/area, heads, head_dim)
    out = out.reshape(batch, height, width, channels).permute(0, 3, 1, 2)
    return self.proj(out + positional)


def _is_fork_attention(module: torch.nn.Module) -> bool:
    return isinstance(module, AAttn) and hasattr(module, "qk") and hasattr(module, "v")


def _fork_attention_modules(model: torch.nn.Module) -> list[tuple[str, AAttn]]:
    return [(name, m) for name, m in model.named_modules() if _is_fork_attention(m)]


def patch_fork_forward(model: torch.nn.Module) -> int:
    """Bind the fork's attention forward onto every fork ``AAttn`` instance of ``model``."""
    modules = _fork_attention_modules(model)
    for _, module in modules:
        module.forward = types.MethodType(_fork_attention_forward, module)
    return len(modules)


def _interleave_heads(qk: torch.Tensor, v: torch.Tensor, num_heads: int) -> torch.Tensor:
    """Rows ``[q; k]`` and ``v`` (dim 0) -> ``[q_0, k_0, v_0, q_1, k_1, v_1, ...]``."""
    q, k = qk.chunk(2, dim=0)
    tail = q.shape[1:]
    per_head = [t.reshape(num_heads, -1, *tail) for t in (q, k, v)]
    return torch.stack(per_head, dim=1).reshape(-1, *tail)


def _fused_attention(old: AAttn) -> AAttn:
    """A current-layout ``AAttn`` computing the same function as the fork's ``old``."""
    dim = old.qk.conv.in_channels
    all_head_dim = old.num_heads * old.head_dim
    if old.pe.conv.kernel_size != (5, 5) or old.pe.conv.out_channels != all_head_dim:
        raise ValueError(f"unexpected fork pe conv: {old.pe.conv}")
    new = AAttn(dim, num_heads=old.num_heads, area=old.area)
    if new.head_dim != old.head_dim or new.pe.conv.kernel_size != (7, 7):
        raise ValueError("current ultralytics AAttn layout is not the one this rewrite targets")

    src = {k: t.detach().float() for k, t in old.state_dict().items()}
    state: dict[str, torch.Tensor] = {}
    for key in ("conv.weight", "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var"):
        state[f"qkv.{key}"] = _interleave_heads(src[f"qk.{key}"], src[f"v.{key}"], old.num_heads)
        state[f"proj.{key}"] = src[f"proj.{key}"]
        state[f"pe.{key}"] = src[f"pe.{key}"]
    state["pe.conv.weight"] = torch.nn.functional.pad(src["pe.conv.weight"], (1, 1, 1, 1))  # centred 5x5 -> 7x7
    for conv in ("qkv", "proj", "pe"):
        state[f"{conv}.bn.num_batches_tracked"] = old.state_dict()[
            f"{'qk' if conv == 'qkv' else conv}.bn.num_batches_tracked"
        ].clone()
    new.load_state_dict(state, strict=True)

    # ultralytics' initialize_weights() sets BN eps/momentum on the built model; a module made
    # here has PyTorch's defaults, so copy them from the fork's modules.
    for new_conv, old_conv in ((new.qkv, old.qk), (new.proj, old.proj), (new.pe, old.pe)):
        if old_conv is old.qk and (old.qk.bn.eps != old.v.bn.eps):
            raise ValueError("qk and v BatchNorm eps differ")
        new_conv.bn.eps = old_conv.bn.eps
        new_conv.bn.momentum = old_conv.bn.momentum

    dtype = old.qk.conv.weight.dtype
    requires_grad = old.qk.conv.weight.requires_grad
    new.to(dtype).train(old.training)
    for param in new.parameters():
        param.requires_grad_(requires_grad)
    return new


def rewrite_attention(model: torch.nn.Module) -> list[str]:
    """Replace every fork ``AAttn`` of ``model`` (in place) by its current-layout equivalent."""
    rewritten = []
    for name, old in _fork_attention_modules(model):
        parent_name, _, child = name.rpartition(".")
        setattr(model.get_submodule(parent_name), child, _fused_attention(old))
        rewritten.append(name)
    return rewritten


def count_transferable(model: DetectionModel) -> tuple[int, int]:
    """Tensors of ``model`` that a fresh current-ultralytics build of its yaml would accept."""
    fresh = DetectionModel(copy.deepcopy(model.yaml), nc=len(model.names), verbose=False)
    fresh_state = fresh.state_dict()
    matched = intersect_dicts(model.float().state_dict(), fresh_state)
    return len(matched), len(fresh_state)


# --------------------------------------------------------------------------------------------
# Images and raw outputs
# --------------------------------------------------------------------------------------------


def test_images() -> list[Path]:
    images = sorted(IMAGES_DIR.glob("*.jpg"), key=lambda p: p.name)
    if not images:
        raise SystemExit(f"no images in {IMAGES_DIR}")
    return images


def torch_raw_output(model: torch.nn.Module, images: np.ndarray) -> np.ndarray:
    """Raw ``(B, 4 + nc, N)`` output of an ultralytics DetectionModel in eval mode, one image at a time."""
    outs = []
    with torch.inference_mode():
        for image in images:
            pred = model(torch.from_numpy(image[None]))
            outs.append((pred[0] if isinstance(pred, (list, tuple)) else pred).float().numpy())
    return np.concatenate(outs)


# --------------------------------------------------------------------------------------------
# ONNX: export, fp16 storage, checks
# --------------------------------------------------------------------------------------------


def interleaved_median_ms(
    first: ort.InferenceSession, second: ort.InferenceSession, image: np.ndarray, runs: int = TIMING_RUNS
) -> tuple[float, float]:
    """Median wall time (ms) of ``session.run`` for two sessions, alternating runs so load hits both alike."""
    feeds = [(s, {s.get_inputs()[0].name: image}) for s in (first, second)]
    times: list[list[float]] = [[], []]
    for round_ in range(runs + 2):  # two warm-up rounds
        for index, (session, feed) in enumerate(feeds):
            start = time.perf_counter()
            session.run(None, feed)
            if round_ >= 2:
                times[index].append((time.perf_counter() - start) * 1000)
    return statistics.median(times[0]), statistics.median(times[1])


def count_nodes(path: Path) -> dict[str, int]:
    """Node count per op type of an ONNX file."""
    counts: dict[str, int] = {}
    for node in onnx.load(str(path)).graph.node:
        counts[node.op_type] = counts.get(node.op_type, 0) + 1
    return counts


# --------------------------------------------------------------------------------------------
# Golden detections of ultralytics predict
# --------------------------------------------------------------------------------------------


def predict_detections(weights: Path, images: list[Path]) -> dict[str, list[dict[str, Any]]]:
    model = YOLO(str(weights), task="detect")
    out: dict[str, list[dict[str, Any]]] = {}
    for path in images:
        result = model.predict(str(path), imgsz=IMGSZ, conf=CONF, iou=IOU, device="cpu", verbose=False)[0]
        boxes = result.boxes
        out[path.name] = [
            {
                "xyxy": [round(float(v), 3) for v in xyxy],
                "score": round(float(score), 5),
                "class_id": int(cls),
                "class_name": result.names[int(cls)],
            }
            for xyxy, score, cls in zip(boxes.xyxy.tolist(), boxes.conf.tolist(), boxes.cls.tolist(), strict=True)
        ]
    return out


def golden_agreement(
    golden: dict[str, list[dict[str, Any]]], other: dict[str, list[dict[str, Any]]]
) -> tuple[bool, float, float]:
    """Same detections (count, classes) per image, and max box / score difference."""
    same, box, score = True, 0.0, 0.0
    for name, dets in golden.items():
        others = other.get(name, [])
        if len(others) != len(dets) or [d["class_id"] for d in dets] != [d["class_id"] for d in others]:
            same = False
            continue
        for d, o in zip(dets, others, strict=True):
            box = max(box, max(abs(x - y) for x, y in zip(d["xyxy"], o["xyxy"], strict=True)))
            score = max(score, abs(d["score"] - o["score"]))
    return same, box, score


# --------------------------------------------------------------------------------------------


def _mb(path: Path) -> str:
    return f"{path.stat().st_size / 1e6:.1f} MB"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "models", help="models directory")
    args = parser.parse_args(argv)
    out_dir: Path = args.out.resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    pt_out = out_dir / f"{MODEL_NAME}.pt"
    onnx_out = out_dir / f"{MODEL_NAME}.onnx"
    torch.set_num_threads(THREADS)
    summary: list[str] = []

    # 1. source checkpoint
    source = locate_source_weights()
    version = importlib.metadata.version(SOURCE_PACKAGE)
    print(f"[helmet] source: {source} ({SOURCE_PACKAGE} {version}, {_mb(source)})", flush=True)
    ckpt, _ = torch_safe_load(str(source))
    model: DetectionModel = ckpt["model"]
    if dict(model.names) != EXPECTED_NAMES:
        raise SystemExit(f"unexpected class names {model.names}")
    tensors_before = len(model.state_dict())

    # 2. original (fork forward) vs rewritten (stock ultralytics) on real images
    images = test_images()
    batch = letterboxed_batch(images)
    original = copy.deepcopy(model).float().eval()
    patched = patch_fork_forward(original)
    rewritten = rewrite_attention(model)
    if len(rewritten) != patched or not rewritten:
        raise SystemExit(f"rewrote {len(rewritten)} AAttn modules, patched {patched}")
    if _fork_attention_modules(model):
        raise SystemExit("fork AAttn modules left after the rewrite")
    tensors_after = len(model.state_dict())
    transferable, fresh_total = count_transferable(copy.deepcopy(model))
    print(f"[helmet] rewrote {len(rewritten)} AAttn modules: {', '.join(rewritten)}", flush=True)
    raw_fork = torch_raw_output(original, batch)
    raw_rewritten = torch_raw_output(copy.deepcopy(model).float().eval(), batch)
    rewrite = raw_diff(raw_fork, raw_rewritten)
    print(f"[helmet] fork forward vs rewritten, raw outputs {raw_fork.shape}: max |diff| {rewrite}", flush=True)
    if rewrite.boxes >= MAX_REWRITE_DIFF_PX or rewrite.scores >= MAX_REWRITE_DIFF_PX:
        raise SystemExit(f"rewrite changed the outputs by {rewrite}")
    del original
    summary += [
        f"tensors: checkpoint {tensors_before} -> rewritten {tensors_after}; "
        f"{transferable}/{fresh_total} match a fresh current-ultralytics build of its yaml",
        f"rewrite: {len(rewritten)} AAttn modules; fork forward vs stock ultralytics on {len(images)} images "
        f"@{IMGSZ}: max |diff| {rewrite}",
    ]

    # 3. rewritten checkpoint (fp16 weights, as the original)
    ckpt["model"] = model
    ckpt["conversion"] = (
        f"{SOURCE_PACKAGE} {version} {SOURCE_MODULE}/{SOURCE_WEIGHTS.as_posix()}: YOLOv12-fork AAttn "
        "qk/v/pe(5x5) rewritten to ultralytics qkv/pe(7x7) by scripts/build_models/helmet.py"
    )
    torch.save(ckpt, pt_out)
    loaded = YOLO(str(pt_out))
    check = loaded.predict(str(images[0]), imgsz=IMGSZ, conf=CONF, iou=IOU, device="cpu", verbose=False)[0]
    if dict(loaded.names) != EXPECTED_NAMES:
        raise SystemExit(f"saved checkpoint has names {loaded.names}")
    print(
        f"[helmet] wrote {pt_out} ({_mb(pt_out)}); YOLO(...).predict ok: {len(check.boxes)} boxes on {images[0].name}",
        flush=True,
    )

    with tempfile.TemporaryDirectory(prefix="helmet-onnx-") as tmp:
        # 4. ONNX export (fp32)
        fp32_file = export_fp32(pt_out, Path(tmp))  # without its date: every rebuild gives the same bytes

        # 5. fp16 storage
        fp16_model = onnx.load(str(fp32_file))
        storage_info = store_weights_fp16(fp16_model, bn_fold_factors(model))
        onnx.checker.check_model(fp16_model)
        fp16_file = Path(tmp) / f"{MODEL_NAME}.fp16-storage.onnx"  # the export itself is tmp/<name>.onnx
        onnx.save(fp16_model, str(fp16_file))

        fp32_session = ort_session(fp32_file, optimized_out=Path(tmp) / "fp32.opt.onnx")
        fp16_session = ort_session(fp16_file, optimized_out=Path(tmp) / "fp16.opt.onnx")
        # after ORT's graph optimisation both graphs should hold the same nodes: Cast/Mul all folded
        opt16, opt32 = count_nodes(Path(tmp) / "fp16.opt.onnx"), count_nodes(Path(tmp) / "fp32.opt.onnx")
        extra_nodes = {op: n - opt32.get(op, 0) for op, n in opt16.items() if n != opt32.get(op, 0)}
        raw_fp32 = ort_raw_output(fp32_session, batch)
        raw_fp16 = ort_raw_output(fp16_session, batch)
        torch_vs_onnx = raw_diff(raw_rewritten, raw_fp32)
        storage = raw_diff(raw_fp32, raw_fp16)
        same_dets, det_box, det_score = compare_detections(detections(raw_fp32), detections(raw_fp16))
        print(
            f"[helmet] torch vs fp32 ONNX: {torch_vs_onnx}\n[helmet] fp32 vs fp16-storage ONNX: {storage}; "
            f"detections after NMS identical: {same_dets} (boxes {det_box:.2e} px, scores {det_score:.2e})",
            flush=True,
        )
        if not same_dets:
            raise SystemExit("fp16 weight storage changed the detections")
        if storage.scores >= MAX_FP16_STORAGE_DIFF or storage.boxes >= MAX_FP16_STORAGE_DIFF:
            raise SystemExit(f"fp16 weight storage moved the raw outputs by {storage}")

        # dynamic axes: other sizes and a batch
        shapes = []
        for size, count in ((480, 1), (320, 1), (IMGSZ, 2)):
            sized = letterboxed_batch(images[:count], size)
            shapes.append(tuple(fp16_session.run(None, {"images": sized})[0].shape))
        rect = letterboxed_batch(images[:1], IMGSZ)[:, :, 80:560, :]  # 480x640
        shapes.append(tuple(fp16_session.run(None, {"images": np.ascontiguousarray(rect)})[0].shape))
        print(f"[helmet] fp16-storage ONNX output shapes at 480, 320, batch 2 @640, 480x640: {shapes}", flush=True)

        # timing at 640, 2 threads
        ms_fp32, ms_fp16 = interleaved_median_ms(fp32_session, fp16_session, batch[:1])
        print(
            f"[helmet] onnxruntime 640x640, {THREADS} threads, median of {TIMING_RUNS} (interleaved): "
            f"fp32 {ms_fp32:.0f} ms, fp16-storage {ms_fp16:.0f} ms; nodes in excess after ORT optimisation: "
            f"{extra_nodes or 0}",
            flush=True,
        )
        fp32_size = fp32_file.stat().st_size
        shutil.copyfile(fp16_file, onnx_out)
        summary += [
            f"ONNX: {describe_io(fp16_model)}; opset {OPSET}",
            f"ONNX metadata_props: {json.dumps({p.key: p.value for p in fp16_model.metadata_props})}",
            f"ONNX fp16 storage: {storage_info.folded} conv weights as Cast(fp16) * fp32 BN scale (lossless), "
            f"{storage_info.rounded} rounded to fp16 ({storage_info.rounded_lossless} of them losslessly), "
            f"{storage_info.kept} 1-D/scalar kept fp32; "
            f"{storage_info.values_fp16:,} values fp16, {storage_info.values_fp32:,} fp32; "
            f"{len(fp16_model.graph.node)} nodes",
            f"torch (rewritten, fp32) vs fp32 ONNX: max |diff| {torch_vs_onnx}",
            f"fp32 vs fp16-storage ONNX ({len(images)} images @{IMGSZ}): max |diff| {storage}; "
            f"NMS detections identical {same_dets} (boxes {det_box:.2e} px, scores {det_score:.2e})",
            f"dynamic shapes ok: {shapes}",
            f"timing (onnxruntime {ort.__version__}, 640, {THREADS} threads, median of {TIMING_RUNS}): "
            f"fp32 {ms_fp32:.0f} ms, fp16-storage {ms_fp16:.0f} ms; "
            f"extra nodes left after ORT graph optimisation: {extra_nodes or 0}",
            f"sizes: source {_mb(source)}, {pt_out.name} {_mb(pt_out)}, fp32 ONNX {fp32_size / 1e6:.1f} MB "
            f"(not kept), {onnx_out.name} {_mb(onnx_out)}",
        ]

    # 6. golden detections of ultralytics predict (.pt), and the ONNX through the same predictor
    golden = predict_detections(pt_out, images)
    GOLDEN_FILE.parent.mkdir(parents=True, exist_ok=True)
    GOLDEN_FILE.write_text(
        json.dumps(
            {
                "model": MODEL_NAME,
                "imgsz": IMGSZ,
                "conf": CONF,
                "iou": IOU,
                "ultralytics_version": ultralytics.__version__,
                "images": golden,
            },
            indent=2,
        )
        + "\n"
    )
    onnx_dets = predict_detections(onnx_out, images)
    same, box, score = golden_agreement(golden, onnx_dets)
    count = sum(len(v) for v in golden.values())
    print(
        f"[helmet] wrote {GOLDEN_FILE.relative_to(ROOT)}: {count} detections on {len(images)} images; "
        f"ultralytics predict with the ONNX: same detections {same}, max |diff| boxes {box:.3f} px, "
        f"scores {score:.5f}",
        flush=True,
    )
    if not same or box > MAX_GOLDEN_BOX_DIFF_PX:
        raise SystemExit("ultralytics predict on the ONNX does not match the .pt")
    summary.append(
        f"golden: {count} detections on {len(images)} images; predict(.onnx) vs predict(.pt): same {same}, "
        f"boxes {box:.3f} px, scores {score:.5f}"
    )

    print("[helmet] summary:\n  " + "\n  ".join(summary), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
