"""Each default model reproduces the figures in its model card (``models/*.eval.json``) on val.

fp32 specs must reproduce them exactly. The bf16 OpenVINO spec gets a small tolerance: its kernels
(AMX or AVX-512 BF16) round differently from one CPU generation to the next, which can move a
score by ~1e-2 and a borderline detection across the threshold.
"""

import importlib.util
import json

import pytest

from spec_support import require_built_model
from vision.config import Detection
from vision.detectors import load_spec
from vision.evaluation.runner import evaluate_spec
from vision.evaluation.voc import load_voc


@pytest.mark.parametrize(
    ("spec_name", "dataset", "eval_json"),
    [
        ("helmet", "bike-helmet", "helmet.eval.json"),
        ("helmet", "gate-camera", "helmet.gate-camera.eval.json"),
        ("helmet", "gate-camera-id", "helmet.gate-camera-id.eval.json"),
        ("helmet-yolov12m", "bike-helmet", "helmet-yolov12m.eval.json"),
        ("mask-two-stage", "face-mask", "mask-two-stage.eval.json"),
        ("mask-yolo", "face-mask", "mask-yolo.eval.json"),
        ("helmet-openvino", "bike-helmet", "helmet-openvino.eval.json"),
    ],
)
def test_eval_reproduces_the_model_card(models_dir, shared_datasets, spec_name, dataset, eval_json):
    card = json.loads((models_dir / eval_json).read_text())
    assert card["data"].endswith(dataset)
    detection = Detection(mode=card["detection"]) if card.get("detection") else None
    spec = load_spec(require_built_model(f"{spec_name}.yaml")).model_copy(update={"threads": card["threads"]})
    bf16 = getattr(spec, "precision", "f32") == "bf16"
    if bf16:
        if importlib.util.find_spec("openvino") is None:
            pytest.skip("openvino is not installed (the [openvino] extra)")
        import openvino

        if "BF16" not in openvino.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES"):
            pytest.skip("this CPU has no bf16 support")
    metric_tolerance, count_tolerance = (0.01, 2) if bf16 else (1e-6, 0)
    report = evaluate_spec(
        spec,
        load_voc(shared_datasets / dataset, card["split"]),
        progress=False,
        measure_speed=False,
        detection=detection,
    ).to_dict()
    assert report["n_images"] == card["n_images"] and report["conf"] == card["conf"]
    assert report["classes"].keys() == card["classes"].keys()
    for name, expected in card["classes"].items():
        measured = report["classes"][name]
        assert measured["n_gt"] == expected["n_gt"], name
        assert abs(measured["n_pred"] - expected["n_pred"]) <= count_tolerance, name
        for metric in ("AP50", "AP50_95", "precision", "recall"):
            assert measured[metric] == pytest.approx(expected[metric], abs=metric_tolerance), (name, metric)

    def close(measured: dict, expected: dict, where: str) -> None:
        assert measured.keys() == expected.keys(), where
        for key, value in expected.items():
            tolerance = count_tolerance if key.startswith("n_") else metric_tolerance
            assert measured[key] == pytest.approx(value, abs=tolerance), (where, key)

    close(report["outcomes"], card["outcomes"], "outcomes")
    for bucket, expected in card["sizes"].items():
        close(report["sizes"][bucket], expected, bucket)
