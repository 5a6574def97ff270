"""Timing candidates side by side: every candidate gets the same inputs, and calls alternate between
them input by input, so that a noisy machine's slow moments hit every candidate alike (the
benchmark scripts' rule: ratios from one run, never absolute times from two)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import onnxruntime as ort

from vision.detectors.spec import YoloOnnxSpec
from vision.detectors.yolo_onnx import YoloOnnxDetector
from vision.errors import VisionError

LEVELS = {
    "disabled": ort.GraphOptimizationLevel.ORT_DISABLE_ALL,
    "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
    "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
    "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
}
# One network call: a (B, 3, H, W) float32 batch in, the raw output out.
Runner = Callable[[npt.NDArray[np.float32]], npt.NDArray[np.float32]]


def ort_runner(path: Path, level: str, threads: int) -> Runner:
    """The raw network call of an ONNX file on ONNX Runtime's CPU provider at an optimisation ``level``."""
    options = ort.SessionOptions()
    options.graph_optimization_level = LEVELS[level]
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return lambda batch: session.run(None, {name: batch})[0]


def letterboxed_frames(spec: YoloOnnxSpec, images: Path, threads: int) -> list[npt.NDArray[np.float32]]:
    """Every ``.jpg`` in ``images`` as the spec's detector feeds it to the network: ``(1, 3, H, W)`` each."""
    detector = YoloOnnxDetector(spec.model_copy(update={"threads": threads}))
    batches = []
    for path in sorted(images.glob("*.jpg")):
        if (image := cv2.imread(str(path))) is None:
            raise VisionError(f"cannot read {path}")
        batches.append(detector.preprocess([image])[0])
    if not batches:
        raise VisionError(f"no .jpg images in {images}")
    return batches


def time_alternating(
    runners: dict[str, Runner], batches: list[npt.NDArray[np.float32]], repeats: int
) -> dict[str, list[float]]:
    """Seconds per call of every runner, alternating between them frame by frame (after one warm-up pass)."""
    for run in runners.values():
        for batch in batches:
            run(batch)
    samples: dict[str, list[float]] = {name: [] for name in runners}
    for _ in range(repeats):
        for batch in batches:
            for name, run in runners.items():
                start = time.perf_counter()
                run(batch)
                samples[name].append(time.perf_counter() - start)
    return samples
