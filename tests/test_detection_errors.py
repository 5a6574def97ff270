"""scripts/detection_errors.py: every labelled head is accounted for once, on the committed wide frames."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import cv2
import pytest
from script_support import load_script

from vision.evaluation.voc import LabelledImage, load_voc

ROOT = Path(__file__).resolve().parents[1]
detection_errors = load_script("detection_errors")


def test_each_labelled_head_is_found_confused_or_missed(data_dir, tmp_path):
    voc = data_dir / "voc" / "wide"
    heads = [label for image in load_voc(voc, "val.txt") for label in image.labels if label != "two_wheeler"]
    report = detection_errors.analyse(
        ROOT / "models" / "helmet.yaml", voc, "val.txt", "tiles", tmp_path / "sheet.png", 40
    )
    per_class = {
        name: sum(n for key, n in report["labelled"].items() if key.startswith(f"{name}:")) for name in set(heads)
    }
    assert per_class == {name: heads.count(name) for name in set(heads)}
    found = sum(n for key, n in report["labelled"].items() if key.endswith(": found"))
    assert found >= len(heads) // 2, "the served model finds most rendered heads on tiles"
    assert all(name in ("with_helmet", "without_helmet") for name in report["unmatched"])
    # The same heads by size: every labelled head in exactly one size bin, outcomes summing to the totals.
    for name in set(heads):
        sizes = report["by_size"][name]
        assert set(sizes) <= {"< 16", "16-24", "24-32", ">= 32"}
        assert sum(sum(counts.values()) for counts in sizes.values()) == heads.count(name)
        for what in ("found", "other class only", "missed"):
            assert sum(counts[what] for counts in sizes.values()) == report["labelled"].get(f"{name}: {what}", 0)
    table = detection_errors.size_table(report)
    assert table.count("\n| with_helmet |") == len(report["by_size"]["with_helmet"])


def test_size_bins_by_square_root_of_area():
    import numpy as np

    assert detection_errors.size_bin(np.array([0, 0, 15, 15])) == "< 16"
    assert detection_errors.size_bin(np.array([0, 0, 16, 16])) == "16-24"
    assert detection_errors.size_bin(np.array([0, 0, 12, 48])) == "24-32"  # sqrt(576) = 24
    assert detection_errors.size_bin(np.array([10, 10, 42, 42])) == ">= 32"


def _with_outcomes_swapped(voc: Path, out: Path) -> Path:
    """A copy of ``voc`` whose every head is labelled with the other outcome: a confusion for any model."""
    shutil.copytree(voc, out)
    swap = {
        "<name>with_helmet</name>": "<name>without_helmet</name>",
        "<name>without_helmet</name>": "<name>with_helmet</name>",
    }
    for annotation in (out / "annotations").glob("*.xml"):
        text = annotation.read_text()
        annotation.write_text(re.sub("|".join(map(re.escape, swap)), lambda match: swap[match.group(0)], text))
    return out


def test_the_confused_sheet_shows_every_head_found_only_as_the_other_class(data_dir, tmp_path):
    # The served model gets this fixture's outcomes right, so its labels are swapped to make confusions.
    voc = _with_outcomes_swapped(data_dir / "voc" / "wide", tmp_path / "swapped")
    sheet = tmp_path / "confused.png"
    report = detection_errors.analyse(ROOT / "models" / "helmet.yaml", voc, "val.txt", "tiles", None, 40, sheet)
    confused = sum(n for key, n in report["labelled"].items() if key.endswith(": other class only"))
    assert confused, "with the outcomes swapped, heads the served model finds are found as the other class"
    rows = -(-min(confused, 40) // detection_errors.SHEET_COLUMNS)
    assert cv2.imread(str(sheet)).shape[:2] == (rows * detection_errors.SHEET_CELL, 8 * detection_errors.SHEET_CELL)


def test_on_the_riders_path_every_head_not_found_lies_in_a_rider_square_or_in_none(data_dir):
    voc = data_dir / "voc" / "wide"
    report = detection_errors.analyse(ROOT / "models" / "helmet.yaml", voc, "val.txt", "riders", None, 0)
    assert report["path"] == "riders"
    for name in ("with_helmet", "without_helmet"):
        not_found = sum(report["labelled"].get(f"{name}: {what}", 0) for what in ("other class only", "missed"))
        where = {key: n for key, n in report["not_found_on_the_riders_path"].items() if key.startswith(f"{name}:")}
        assert set(where) <= {f"{name}: in a rider square", f"{name}: in none"}
        assert sum(where.values()) == not_found
    assert detection_errors.size_table(report).count("Not found with the right class") == bool(
        report["not_found_on_the_riders_path"]
    )


def test_bounds_fix_the_confusions_then_drop_the_boxes_on_unlabelled_heads():
    import numpy as np

    from vision.detectors import Detections

    names = ("with_helmet", "without_helmet", "two_wheeler")
    image = LabelledImage(
        "frame",
        Path("frame.jpg"),
        (100, 200),
        np.array([[10, 10, 30, 30], [50, 10, 70, 30], [40, 40, 90, 95]], np.float32),
        ("with_helmet", "without_helmet", "two_wheeler"),
    )
    found = Detections(
        np.array(
            [
                [10, 10, 30, 30],  # the helmeted head, called bare
                [50, 10, 70, 30],  # the bare head, right...
                [51, 10, 70, 30],  # ...and its second guess, helmeted
                [150, 10, 170, 30],  # a head nobody labelled (a passenger), called bare
                [40, 40, 90, 95],  # the two-wheeler
            ],
            np.float32,
        ),
        np.array([0.9, 0.8, 0.3, 0.95, 0.7], np.float32),
        np.array([1, 1, 0, 1, 2], np.int32),
        names,
    )
    bounds = detection_errors.ap_bounds([image], [found], names, ["with_helmet", "without_helmet"], 0.25)
    served, told, labelled_only = (bounds[name] for name in detection_errors.BOUNDS)
    # As served: two bare boxes score above the one bare head, and the helmeted head is found only at 0.3.
    assert served["without_helmet"] < told["without_helmet"] < labelled_only["without_helmet"] == pytest.approx(1.0)
    assert told["with_helmet"] == pytest.approx(1.0) and labelled_only["with_helmet"] == pytest.approx(1.0)
    assert served["with_helmet"] < 1.0 and served["without_helmet"] < 0.5
    table = detection_errors.bounds_table({"data": "d", "path": "riders", "ap50": bounds})
    assert table.count("\n| ") == 4 and "| and no box on an unlabelled head | 1.000 | 1.000 |" in table


def test_bounds_of_the_served_model_on_the_riders_path(data_dir):
    report = detection_errors.bounds(ROOT / "models" / "helmet.yaml", data_dir / "voc" / "wide", "val.txt", "riders")
    assert report["path"] == "riders"
    served, told, labelled_only = (report["ap50"][name] for name in detection_errors.BOUNDS)
    assert set(served) == {"with_helmet", "without_helmet"}
    for head in served:
        # Dropping boxes that cover no labelled head removes false positives only.
        assert 0.0 <= served[head] <= 1.0 and told[head] <= labelled_only[head]
