#!/usr/bin/env python3
"""Measure each default detector on its validation split and write the figures into its model card.

For every entry of ``CARDS`` this runs the same code as ``vision eval`` and writes

- ``models/<spec>.eval.json``: the ``vision eval --json`` object, plus how it was made;
- the "Measured" section of ``models/<card>.md``, between the ``measured`` markers.

``tests/evaluation/test_model_cards.py`` re-runs the evaluation and checks it reproduces the JSON,
so a card can never drift from what the model does. Usage (from the repository root)::

    .venv/bin/python scripts/model_cards.py [--only helmet]
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import onnxruntime

from vision import __version__
from vision.config import Detection
from vision.detectors import load_spec
from vision.evaluation.runner import evaluate_spec
from vision.evaluation.voc import load_voc

ROOT = Path(__file__).resolve().parents[1]

DATASETS = ROOT.parent / "shared" / "datasets"


@dataclass(frozen=True)
class Card:
    name: str
    spec: Path
    card: Path
    data: Path
    split: str = "val.txt"
    section: str = "measured"  # a card can hold several measured sections (one per spec of its model)
    detection: str | None = None  # vision eval --detection (e.g. tiles for wide frames)
    eval_name: str | None = None  # default <spec>.eval.json

    @property
    def eval_json(self) -> Path:
        return self.spec.parent / self.eval_name if self.eval_name else self.spec.with_suffix(".eval.json")

    @property
    def markers(self) -> tuple[str, str]:
        return f"<!-- {self.section}:start -->", f"<!-- {self.section}:end -->"


CARDS = (
    # The helmet model as a default helmet camera runs it: riders first (detection auto = riders).
    Card(
        "helmet",
        ROOT / "models/helmet.yaml",
        ROOT / "models/helmet-yolo11n.md",
        DATASETS / "bike-helmet",
        detection="riders",
    ),
    Card(
        "helmet-gate",
        ROOT / "models/helmet.yaml",
        ROOT / "models/helmet-yolo11n.md",
        DATASETS / "gate-camera",
        section="measured-gate",
        detection="riders",
        eval_name="helmet.gate-camera.eval.json",
    ),
    Card(
        "helmet-gate-id",
        ROOT / "models/helmet.yaml",
        ROOT / "models/helmet-yolo11n.md",
        DATASETS / "gate-camera-id",
        section="measured-gate-id",
        detection="riders",
        eval_name="helmet.gate-camera-id.eval.json",
    ),
    Card(
        "helmet-yolov12m",
        ROOT / "models/helmet-yolov12m.yaml",
        ROOT / "models/helmet-yolov12m.md",
        DATASETS / "bike-helmet",
    ),
    Card("mask", ROOT / "models/mask-two-stage.yaml", ROOT / "models/mask-two-stage.md", DATASETS / "face-mask"),
    Card("mask-yolo", ROOT / "models/mask-yolo.yaml", ROOT / "models/mask-yolo11n.md", DATASETS / "face-mask"),
    Card(
        "helmet-openvino",
        ROOT / "models/helmet-openvino.yaml",
        ROOT / "models/helmet-yolov12m.md",
        DATASETS / "bike-helmet",
        section="measured-openvino",
    ),
)


def markdown(card: Card, result: dict) -> str:
    command = (
        f"vision eval --model {card.spec.relative_to(ROOT)} --data ../shared/datasets/{card.data.name} "
        f"--split {card.split}" + (f" --detection {card.detection}" if card.detection else "")
    )
    start, end = card.markers
    runtime = result.get("runtime", f"ONNX Runtime {onnxruntime.__version__}")
    lines = [
        start,
        f"Measured by `scripts/model_cards.py` (the same code as `{command}`), vision {__version__}, "
        f"{runtime}, {result['threads']} threads on {result['machine']}.",
        "",
        f"{result['n_images']} images, operating threshold {result['conf']}"
        + "".join(f", {name} {value:g}" for name, value in (result.get("class_conf") or {}).items())
        + (" (the spec's `class_conf`)" if result.get("class_conf") else "")
        + ":",
        "",
        "| class | AP50 | AP50-95 | precision | recall | n_gt |",
        "|---|---|---|---|---|---|",
    ]
    for name, scores in result["classes"].items():
        lines.append(
            f"| {name} | {scores['AP50']:.3f} | {scores['AP50_95']:.3f} | {scores['precision']:.3f} "
            f"| {scores['recall']:.3f} | {scores['n_gt']} |"
        )
    lines += ["", "| size (√area) | AP50 | recall | n_gt |", "|---|---|---|---|"]
    for bucket, label in (("small", "< 32 px"), ("medium", "32–96 px"), ("large", "> 96 px")):
        scores = result["sizes"][bucket]
        lines.append(f"| {label} | {scores['AP50']:.3f} | {scores['recall']:.3f} | {scores['n_gt']} |")
    outcomes = result.get("outcomes")
    if outcomes:
        lines += [
            "",
            f"Verdicts of the people it found (IoU ≥ 0.5, any class; {outcomes['found']:.1%} of labelled people "
            f"found, {outcomes['decided']:.1%} of those given a verdict): among decided verdicts, sensitivity "
            f"for non-compliance {outcomes['sensitivity']:.3f} "
            f"(n = {outcomes['n_non_compliant']}), "
            f"specificity {outcomes['specificity']:.3f} (n = {outcomes['n_compliant']}). These feed the "
            "Rogan–Gladen adjusted rate.",
        ]
    if result.get("unmatched_gt_classes"):
        lines += ["", f"Ground-truth classes the model lacks (left out): {result['unmatched_gt_classes']}."]
    lines += ["", f"Speed: {result['ms_per_image']:.0f} ms per image (median, batch 1, decode excluded).", end]
    return "\n".join(lines)


def runtime_name(spec: object) -> str:
    """Which runtime and precision ran the network, with its version."""
    if getattr(spec, "runtime", "onnxruntime") == "openvino":
        import openvino

        return f"OpenVINO {openvino.__version__.split('-')[0]} {spec.precision}"  # type: ignore[attr-defined]
    return f"ONNX Runtime {onnxruntime.__version__} f32"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=[card.name for card in CARDS], action="append")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    if not DATASETS.is_dir():
        raise SystemExit(f"needs the labelled datasets at {DATASETS}")
    for card in CARDS:
        if args.only and card.name not in args.only:
            continue
        spec = load_spec(card.spec)
        spec = spec.model_copy(update={"threads": args.threads, "evaluation": None})
        detection = Detection(mode=card.detection) if card.detection else None
        report = evaluate_spec(spec, load_voc(card.data, card.split), detection=detection)
        result = {
            "model": str(card.spec.relative_to(ROOT)),
            "data": f"../shared/datasets/{card.data.name}",
            "split": card.split,
            "detection": card.detection,
            "threads": args.threads,
            "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}",
            "runtime": runtime_name(spec),
            **report.to_dict(),
        }
        card.eval_json.write_text(json.dumps(result, indent=1) + "\n")
        text = card.card.read_text()
        section = markdown(card, result)
        start, end = card.markers
        pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.DOTALL)
        if not pattern.search(text):
            raise SystemExit(f"{card.card}: no {start} ... {end} section to fill")
        card.card.write_text(pattern.sub(lambda _, section=section: section, text))
        print(f"{card.name}: wrote {card.eval_json.relative_to(ROOT)} and {card.card.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
