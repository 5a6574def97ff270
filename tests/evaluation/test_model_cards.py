"""Each default model reproduces the figures in its model card (``models/*.eval.json``) on val."""

import json

import pytest

from vision.detectors import load_spec
from vision.evaluation.runner import evaluate_spec
from vision.evaluation.voc import load_voc


@pytest.mark.parametrize(
    ("spec_name", "dataset"), [("helmet", "bike-helmet"), ("mask-two-stage", "face-mask"), ("mask-yolo", "face-mask")]
)
def test_eval_reproduces_the_model_card(models_dir, shared_datasets, spec_name, dataset):
    card = json.loads((models_dir / f"{spec_name}.eval.json").read_text())
    spec = load_spec(models_dir / f"{spec_name}.yaml").model_copy(update={"threads": card["threads"]})
    report = evaluate_spec(
        spec, load_voc(shared_datasets / dataset, card["split"]), progress=False, measure_speed=False
    ).to_dict()
    assert report["n_images"] == card["n_images"] and report["conf"] == card["conf"]
    assert report["classes"].keys() == card["classes"].keys()
    for name, expected in card["classes"].items():
        measured = report["classes"][name]
        assert measured["n_gt"] == expected["n_gt"] and measured["n_pred"] == expected["n_pred"], name
        for metric in ("AP50", "AP50_95", "precision", "recall"):
            assert measured[metric] == pytest.approx(expected[metric], abs=1e-6), (name, metric)
    assert report["outcomes"] == pytest.approx(card["outcomes"])
    for bucket, expected in card["sizes"].items():
        assert report["sizes"][bucket] == pytest.approx(expected), bucket
