"""The serving path (``vision run``, ``worker``, ``serve``, ``eval``) never imports torch, ultralytics or the
training package: a box that serves cameras installs neither."""

from __future__ import annotations

import json
import subprocess
import sys

SERVING_MODULES = (
    "vision.cli",
    "vision.pipeline",
    "vision.api.app",
    "vision.workers.worker",
    "vision.evaluation.runner",
)
TRAINING_ONLY = ("torch", "ultralytics", "vision.training")


def test_the_serving_modules_import_nothing_of_training():
    code = (
        "import importlib, json, sys\n"
        f"for name in {SERVING_MODULES!r}: importlib.import_module(name)\n"
        f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {TRAINING_ONLY!r} or "
        f"m.startswith('vision.training'))))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
