"""scripts/eval_phone.py: per labelled rider, a phone linked by the tracker's rule through the served path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from script_support import load_script

from spec_support import require_built_model

eval_phone = load_script("eval_phone")
ROOT = Path(__file__).resolve().parents[1]
DATASETS = ROOT.parent / "shared" / "datasets"


def test_the_table_counts_found_false_and_missed_phones_per_threshold():
    rows = [(True, 0.6, "candidate"), (True, 0.15, "candidate"), (False, 0.25, "candidate"), (False, 0.0, "random")]
    by_threshold = {row["threshold"]: row for row in eval_phone.table(rows)}
    assert (by_threshold[0.1]["true_positives"], by_threshold[0.1]["false_positives"]) == (2, 1)
    assert by_threshold[0.2]["precision"] == pytest.approx(1 / 2) and by_threshold[0.2]["recall"] == 0.5
    assert by_threshold[0.5]["false_positives"] == 0 and by_threshold[0.5]["recall"] == 0.5


def test_the_rider_on_the_phone_is_found_and_the_others_are_not(tmp_path):
    """Three labelled heads of the committed labels through the served path: the bike-helmet rider holding a
    phone to his ear is found at the served threshold, two helmeted riders without a phone are not."""
    model = require_built_model("helmet-phone.yaml")
    if not (DATASETS / "bike-helmet").is_dir():
        pytest.skip(f"needs the labelled datasets at {DATASETS} (../shared/datasets, not present on this machine)")
    labels = json.loads((ROOT / "models" / "helmet-phone.labels.json").read_text())
    phone = next(h for h in labels["heads"] if h["image"] == "BikesHelmets369.jpg")
    others = [h for h in labels["heads"] if not h["phone"] and h["selected"] == "random"][:2]
    subset = tmp_path / "labels.json"
    subset.write_text(json.dumps({**labels, "heads": [phone, *others]}))
    rows = eval_phone.phone_scores(model, json.loads(subset.read_text()), DATASETS)
    assert [labelled for labelled, _, _ in rows].count(True) == 1
    assert all((score >= 0.2) == labelled for labelled, score, _ in rows), rows
