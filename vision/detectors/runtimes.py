"""The inference runtimes a YOLO ONNX file can run on: ONNX Runtime (default) or OpenVINO (optional).

Both read the same ``.onnx`` file and hand back the same ``(B, 4 + nc, N)`` float32 output, so the
YOLO backend's pre- and post-processing do not know which one ran. Why two: ONNX Runtime is the
serving runtime and the only one that is always installed. OpenVINO (``pip install
'vision-compliance[openvino]'``) can run the network in **bf16** on CPUs with AMX (Intel Xeon 4th
generation and later), about twice ONNX Runtime's fp32 speed on the YOLOv12m here, at the price of
detections that are no longer bit-identical to the fp32 model: scores move by up to ~0.03 and boxes
by up to ~2 px, so a detection right at the threshold can appear or vanish. `models/README.md`
holds the measured speed and accuracy of each choice (``scripts/bench_runtimes.py``), and a spec
opts in with ``runtime: openvino`` and ``precision: bf16``. OpenVINO in f32 was no faster than ONNX
Runtime (0.6-1.1x across runs), so it is not the default either way.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Literal, Protocol

import numpy as np
import numpy.typing as npt

from vision.detectors.onnx_session import model_metadata, open_session
from vision.errors import VisionError

RuntimeName = Literal["onnxruntime", "openvino"]
Precision = Literal["f32", "bf16"]
Dim = int | None  # None: dynamic


class ModelRuntime(Protocol):
    """An opened single-input model. Shapes use ``None`` for a dynamic dimension."""

    input_name: str
    input_shape: tuple[Dim, ...]
    output_shape: tuple[Dim, ...]
    metadata: dict[str, str]  # the exporter's metadata_props (ultralytics: names, stride, imgsz)

    def run(self, batch: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """The first output for ``batch`` (float32)."""
        ...


def _dims(shape: object) -> tuple[Dim, ...]:
    return tuple(dim if isinstance(dim, int) else None for dim in shape)  # type: ignore[attr-defined]


class OnnxRuntimeModel:
    """ONNX Runtime on the CPU, every graph optimisation on (``open_session``)."""

    def __init__(self, path: Path, threads: int | None, spin_wait: bool = False) -> None:
        self._session = open_session(path, threads, spin_wait)
        model_input = self._session.get_inputs()[0]
        self.input_name: str = model_input.name
        self.input_shape = _dims(model_input.shape)
        self.output_shape = _dims(self._session.get_outputs()[0].shape)
        self.metadata = model_metadata(self._session)

    def run(self, batch: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        return self._session.run(None, {self.input_name: batch})[0]


class OpenVinoModel:
    """OpenVINO on the CPU, latency mode, ``threads`` inference threads, ``precision`` f32 or bf16.

    f32 is asked for explicitly because OpenVINO's CPU plugin otherwise picks bf16 by itself on AMX
    hardware; bf16 on a CPU without native bf16 is emulated and slower, and is refused here.
    """

    def __init__(self, path: Path, threads: int | None, precision: Precision) -> None:
        try:
            import openvino
        except ImportError as error:
            raise VisionError(
                f"{path}: runtime 'openvino' needs the openvino package: pip install 'vision-compliance[openvino]'"
            ) from error
        if not path.is_file():
            raise VisionError(f"model file not found: {path}")
        core = openvino.Core()
        if precision == "bf16" and "BF16" not in core.get_property("CPU", "OPTIMIZATION_CAPABILITIES"):
            raise VisionError(f"{path}: precision bf16 asked for, but this CPU has no bf16 support; use f32")
        try:
            model = core.read_model(str(path))
        except Exception as error:  # OpenVINO raises a generic RuntimeError with a long trace
            raise VisionError(f"cannot load ONNX model {path}: {str(error).splitlines()[0]}") from error
        config: dict[str, object] = {"PERFORMANCE_HINT": "LATENCY", "INFERENCE_PRECISION_HINT": precision}
        if threads:
            config["INFERENCE_NUM_THREADS"] = threads
        self._compiled = core.compile_model(model, "CPU", config)
        self.input_name = model.inputs[0].get_any_name()
        self.input_shape = _ov_dims(model.inputs[0].get_partial_shape())
        self.output_shape = _ov_dims(model.outputs[0].get_partial_shape())
        self.metadata = {}
        if model.has_rt_info(["framework"]):
            for key in model.get_rt_info()["framework"]:
                self.metadata[str(key)] = model.get_rt_info(["framework", str(key)]).astype(str)
        self._request = self._compiled.create_infer_request()
        # An infer request is not thread-safe (an ONNX Runtime session is): one caller at a time.
        self._lock = threading.Lock()

    def run(self, batch: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        with self._lock:
            result = self._request.infer({0: batch})
            # copy: the request reuses its output buffer on the next call
            return np.array(result[0], dtype=np.float32, copy=True)


def _ov_dims(shape: object) -> tuple[Dim, ...]:
    return tuple(dim.get_length() if dim.is_static else None for dim in shape)  # type: ignore[attr-defined]


def open_model(
    path: Path,
    threads: int | None,
    runtime: RuntimeName = "onnxruntime",
    precision: Precision = "f32",
    spin_wait: bool = False,
) -> ModelRuntime:
    """Open ``path`` on ``runtime``; ONNX Runtime only runs f32 (``spin_wait``: :func:`open_session`)."""
    if runtime == "openvino":
        return OpenVinoModel(path, threads, precision)
    if precision != "f32":
        raise VisionError(f"{path}: precision {precision} needs runtime 'openvino'; ONNX Runtime runs f32")
    return OnnxRuntimeModel(path, threads, spin_wait)
