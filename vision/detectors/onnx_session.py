"""One place that opens ONNX Runtime sessions, with the options every backend wants."""

from __future__ import annotations

import ast
import os
from pathlib import Path

import onnxruntime as ort

from vision.errors import VisionError


def open_session(path: Path, threads: int | None = None, spin_wait: bool = False) -> ort.InferenceSession:
    """Open ``path`` on the CPU with all graph optimisations and ``threads`` intra-op threads.

    ``threads=None`` uses every core. Without ``spin_wait`` the inference threads sleep between
    calls instead of spinning (ONNX Runtime's default): on a box serving many cameras a spinning
    thread burns the core that decoding and the pipeline's own thread are waiting for.

    A missing or unreadable file raises :class:`VisionError` naming it, rather than ONNX Runtime's
    protobuf message.
    """
    if not path.is_file():
        raise VisionError(f"model file not found: {path}")
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = threads or os.cpu_count() or 1
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    if not spin_wait:
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.add_session_config_entry("session.inter_op.allow_spinning", "0")
    options.log_severity_level = 3  # errors only: the fp16-storage Casts make ORT chatty at init
    try:
        return ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])
    except Exception as error:  # ORT raises its own Fail/InvalidProtobuf types
        raise VisionError(f"cannot load ONNX model {path}: {str(error).splitlines()[0]}") from error


def model_metadata(session: ort.InferenceSession) -> dict[str, str]:
    """The ``metadata_props`` an exporter wrote (ultralytics writes ``names``, ``stride``, ``imgsz``)."""
    return dict(session.get_modelmeta().custom_metadata_map)


def parse_class_names(raw: str, path: Path) -> tuple[str, ...]:
    """Parse ultralytics' ``names`` metadata, a dict literal like ``"{0: 'person', 1: 'car'}"``."""
    try:
        names = ast.literal_eval(raw)
    except (ValueError, SyntaxError) as error:
        raise VisionError(f"{path}: metadata 'names' is not a dict literal: {raw[:80]!r}") from error
    if isinstance(names, dict):
        return tuple(str(names[key]) for key in sorted(names))
    if isinstance(names, list | tuple):
        return tuple(str(name) for name in names)
    raise VisionError(f"{path}: metadata 'names' is neither a dict nor a list: {raw[:80]!r}")
