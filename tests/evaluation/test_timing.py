"""vision.evaluation.timing: candidates timed on the same inputs, taking turns input by input."""

from __future__ import annotations

import numpy as np

from spec_support import MODELS
from vision.detectors.spec import YoloOnnxSpec, load_spec
from vision.evaluation.timing import letterboxed_frames, ort_runner, time_alternating


def test_candidates_take_turns_on_every_input_after_a_warm_up():
    calls: list[tuple[str, float]] = []
    batches = [np.full((1, 3, 2, 2), value, np.float32) for value in (1.0, 2.0)]

    def runner(name: str):
        return lambda batch: calls.append((name, float(batch[0, 0, 0, 0]))) or batch

    samples = time_alternating({"a": runner("a"), "b": runner("b")}, batches, repeats=2)
    warm_up = [("a", 1.0), ("a", 2.0), ("b", 1.0), ("b", 2.0)]
    assert calls[:4] == warm_up
    assert calls[4:] == [("a", 1.0), ("b", 1.0), ("a", 2.0), ("b", 2.0)] * 2, (
        "each input goes to every candidate in turn"
    )
    assert {name: len(times) for name, times in samples.items()} == {"a": 4, "b": 4}
    assert all(t >= 0 for times in samples.values() for t in times)


def test_an_onnx_runner_answers_the_detectors_own_letterboxed_frames(data_dir):
    spec = load_spec(MODELS / "helmet.yaml")
    assert isinstance(spec, YoloOnnxSpec)
    frames = letterboxed_frames(spec, data_dir / "voc" / "helmet" / "images", threads=1)
    assert frames and all(frame.shape[:2] == (1, 3) and frame.dtype == np.float32 for frame in frames)
    raw = ort_runner(spec.path, "all", threads=1)(frames[0])
    assert raw.ndim == 3 and raw.shape[0] == 1 and raw.shape[1] == 4 + 3, (
        "boxes and the helmet model's three class scores"
    )
