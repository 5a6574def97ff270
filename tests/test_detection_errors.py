"""scripts/detection_errors.py: every labelled head is accounted for once, on the committed wide frames."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import cv2
from script_support import load_script

from vision.evaluation.voc import load_voc

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
