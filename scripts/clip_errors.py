#!/usr/bin/env python3
"""Where a clip's rate goes: each shown image's labelled heads against what ``vision run`` counted then.

A rate within a few points of the labels can hide errors that cancel, and a rate off by six points does
not say whether heads were missed, judged wrong or counted where no label is (a pillion passenger or a
rider seen from behind that the labels leave out). A clip made by ``scripts/make_demo_clip.py`` shows
each labelled image for ``--hold`` seconds, then a gap; its truth file lists them in order (``shown``:
name, start second, labels). This script puts each observation of a run in the image whose time span
(hold and gap) its track started in, and prints per image the labelled heads by outcome against the
counted ones, then the totals: heads counted beyond the labels (``extra``) and labelled heads not
counted (``missing``), per outcome. An image with one helmeted head labelled and one helmeted plus one
bare counted is an extra bare head (someone unlabelled, or a duplicate track); one with two helmeted
labelled and one of each counted is a helmet judged bare (a missing helmeted and an extra bare head)::

    .venv/bin/vision run configs/eval/gate-val-held.yaml
    .venv/bin/python scripts/clip_errors.py --config configs/eval/gate-val-held.yaml \\
        --truth build/gate/gate-val-held.truth.json [--run 1] [--json build/gate/errors.json]

Non-riders and undetermined tracks are listed but count neither way: the rate leaves them out too.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from vision.config import load_config
from vision.outcome import Outcome
from vision.store import open_store

LABEL_OUTCOMES = {"with_helmet": Outcome.COMPLIANT.value, "without_helmet": Outcome.NON_COMPLIANT.value}
JUDGED = (Outcome.COMPLIANT.value, Outcome.NON_COMPLIANT.value)


@dataclass(frozen=True)
class ImageCounts:
    """One shown image: its labelled heads and the observations counted in its span, by outcome value."""

    name: str
    labelled: Counter[str]
    counted: Counter[str]

    def difference(self, outcome: str) -> int:
        """Counted minus labelled heads of ``outcome`` (> 0: extra, < 0: missing)."""
        return self.counted[outcome] - self.labelled[outcome]


def image_counts(truth: dict, started_at: list[tuple[float, str]], clip_start: float) -> list[ImageCounts]:
    """Per image of ``truth["shown"]`` (in order), the observations ``(track start, epoch s; outcome)`` whose
    start lies in its span: from its ``start_s`` after ``clip_start`` (epoch s) to the next image's."""
    shown = truth["shown"]
    starts = [clip_start + float(image["start_s"]) for image in shown]
    ends = [*starts[1:], clip_start + float(truth["duration_s"])]
    result = []
    for image, start, end in zip(shown, starts, ends, strict=True):
        labels = Counter(LABEL_OUTCOMES.get(label, label) for label in image["labels"])
        counted = Counter(outcome for at, outcome in started_at if start <= at < end)
        result.append(ImageCounts(image["name"], labels, counted))
    return result


def totals(images: list[ImageCounts]) -> dict[str, dict[str, int]]:
    """Per judged outcome: labelled, counted, extra (counted beyond the labels) and missing, summed image by image."""
    return {
        outcome: {
            "labelled": sum(image.labelled[outcome] for image in images),
            "counted": sum(image.counted[outcome] for image in images),
            "extra": sum(max(0, image.difference(outcome)) for image in images),
            "missing": sum(max(0, -image.difference(outcome)) for image in images),
        }
        for outcome in JUDGED
    }


def rate(counts: dict[str, dict[str, int]], key: str) -> float | None:
    """The compliant share of the judged heads under ``key`` (labelled or counted)."""
    compliant, non_compliant = counts[Outcome.COMPLIANT.value][key], counts[Outcome.NON_COMPLIANT.value][key]
    return compliant / (compliant + non_compliant) if compliant + non_compliant else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, required=True, help="the config the clip was run with (one camera)")
    parser.add_argument("--truth", type=Path, required=True, help="the clip's truth file (make_demo_clip.py)")
    parser.add_argument("--run", type=int, help="the run to read (default: the latest in the store)")
    parser.add_argument("--json", type=Path, help="also write the per-image counts and the totals here")
    args = parser.parse_args()
    config = load_config(args.config)
    if len(config.cameras) != 1 or config.cameras[0].start_time is None:
        raise SystemExit(f"{args.config}: expected one camera with a start_time (the clip's first frame)")
    truth = json.loads(args.truth.read_text())
    store = open_store(config.store.url)
    try:
        rows, after = [], 0
        while page := store.observations(limit=10_000, after_id=after):
            rows += page
            after = page[-1].id
    finally:
        store.close()
    if not rows:
        raise SystemExit(f"{config.store.url}: no observations; run the clip first (vision run {args.config})")
    run = args.run if args.run is not None else max(row.run_id for row in rows)
    started = [(row.started_at, row.outcome) for row in rows if row.run_id == run]
    images = image_counts(truth, started, config.cameras[0].start_time.timestamp())
    summed = totals(images)
    for image in images:
        if any(image.difference(outcome) for outcome in JUDGED):
            print(f"{image.name[:40]:40s} labelled {dict(image.labelled)}  counted {dict(image.counted)}")
    print(f"\nrun {run}, {len(images)} images:")
    for outcome, counts in summed.items():
        print(f"  {outcome:14s} " + ", ".join(f"{key} {value}" for key, value in counts.items()))
    labelled_rate, counted_rate = rate(summed, "labelled"), rate(summed, "counted")
    if labelled_rate is not None and counted_rate is not None:
        print(f"  rate: labelled {labelled_rate:.1%}, counted {counted_rate:.1%}")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "run": run,
                    "images": [
                        {"name": image.name, "labelled": image.labelled, "counted": image.counted} for image in images
                    ],
                    "totals": summed,
                },
                indent=1,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
