#!/usr/bin/env python3
"""Trips per vehicle against labels: riders per two-wheeler and the passenger-carrying rate.

A labelled set whose images box both heads and two-wheelers (``gate-camera-id``) is rendered as a
clip by ``scripts/make_demo_clip.py`` (each image held ``--hold`` s, panning so that every
two-wheeler moves, at the set's own pixel size), run through ``vision run`` with the rider rule on
(riders first, the helmet camera's default), and the trips it stores are compared with the labels:

- **truth**: for each labelled two-wheeler, the labelled heads that sit on it by the rider rule's
  geometry (``vision.tracking.riders.ride_matrix``, default ``riders`` settings; a head on two
  vehicles goes to the nearer centre, as the tracker links it). A two-wheeler with no head on it
  (parked, or its rider unlabelled) is no trip;
- **measured**: the trips whose time lies in that image's hold (and the gap after it), with the
  camera's defaults (``detect_fps`` 5, the tracker's ``max_age_s`` 1.5 s: the gap is longer);
- per image, labelled and measured riders-per-trip are paired largest first; a labelled two-wheeler
  **matches** when its pair has the same number of riders. Reported: the share of labelled
  two-wheelers that match, trips found against labelled, and the passenger-carrying rate (trips with
  two or more riders) of each, with the per-vehicle helmet rate of each.

Usage::

    .venv/bin/python scripts/eval_trips.py --voc ../shared/datasets/gate-camera-id --split val.txt \\
        --out build/trips-eval [--model models/helmet.yaml] [--json build/trips-eval/result.json]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
from collections import Counter
from datetime import datetime
from pathlib import Path

import numpy as np
import sqlalchemy as sa
import yaml

from vision.categories import category_info
from vision.compliance.stats import wilson_interval
from vision.config import Riders
from vision.evaluation.voc import load_voc
from vision.outcome import Outcome
from vision.store.schema import trips_table
from vision.tracking.riders import ride_matrix

ROOT = Path(__file__).resolve().parents[1]
START = datetime.fromisoformat("2026-11-02T07:30:00+08:00")


def labelled_trips(voc: Path, split: str) -> dict[str, list[tuple[int, int]]]:
    """Per image: ``(riders, bare-headed riders)`` of each labelled two-wheeler that carries a labelled head."""
    vehicles = set(category_info("helmet").vehicle_classes)
    outcomes = category_info("helmet").class_outcomes
    rule = Riders()
    result: dict[str, list[tuple[int, int]]] = {}
    for image in load_voc(voc, split):
        labels = np.asarray(image.labels)
        is_vehicle = np.isin(labels, sorted(vehicles))
        heads, vehicle_boxes = image.xyxy[~is_vehicle], image.xyxy[is_vehicle]
        head_outcomes = [outcomes.get(str(name)) for name in labels[~is_vehicle]]
        rides = ride_matrix(heads.astype(np.float32), vehicle_boxes.astype(np.float32), rule)
        riders: Counter[int] = Counter()
        bare: Counter[int] = Counter()
        for row in range(len(heads)):
            candidates = np.flatnonzero(rides[row])
            if not candidates.size:
                continue
            head_cx = (heads[row, 0] + heads[row, 2]) / 2
            centres = (vehicle_boxes[candidates, 0] + vehicle_boxes[candidates, 2]) / 2
            vehicle = int(candidates[np.argmin(np.abs(centres - head_cx))])
            riders[vehicle] += 1
            bare[vehicle] += head_outcomes[row] is Outcome.NON_COMPLIANT
        result[image.name] = [(riders[v], bare[v]) for v in sorted(riders)]
    return result


def measured_trips(database: Path, truth: dict, hold_s: float, gap_s: float) -> dict[str, list[tuple[int, str]]]:
    """Per image: ``(riders, per-vehicle outcome)`` of each stored trip that ended during its hold (or gap)."""
    engine = sa.create_engine(f"sqlite:///{database}")
    t = trips_table.c
    with engine.connect() as connection:
        rows = connection.execute(sa.select(t.started_at, t.ended_at, t.riders, t.outcome)).all()
    engine.dispose()
    shown = truth["shown"]
    result: dict[str, list[tuple[int, str]]] = {scene["name"]: [] for scene in shown}
    origin = START.timestamp()
    for started, ended, riders, outcome in rows:
        middle = (started + ended) / 2 - origin
        for scene in shown:
            if scene["start_s"] <= middle < scene["start_s"] + hold_s + gap_s:
                result[scene["name"]].append((int(riders), str(outcome)))
                break
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--voc", type=Path, required=True)
    parser.add_argument("--split", default="val.txt")
    parser.add_argument("--out", type=Path, required=True, help="folder for the clip, config, store and result")
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "helmet.yaml")
    parser.add_argument("--hold", type=float, default=2.0)
    parser.add_argument("--gap", type=float, default=2.0, help="empty seconds between images (> max_age_s)")
    parser.add_argument("--fps", type=int, default=10)
    parser.add_argument("--detect-fps", type=float, default=5)
    parser.add_argument("--size", default="704x396", help="canvas: the set's 640x360 frames at their own scale")
    parser.add_argument("--pan", type=float, default=0.15, help="drift over one hold (so two-wheelers move)")
    parser.add_argument("--json", type=Path)
    parser.add_argument(
        "--tracking", type=json.loads, default={}, help="tracking settings of the run, e.g. '{\"match_buffer\": 0.3}'"
    )
    args = parser.parse_args()

    args.out.mkdir(parents=True, exist_ok=True)
    render = [
        *("--voc", str(args.voc.resolve()), "--split", args.split, "--fps", str(args.fps), "--hold", str(args.hold)),
        *("--gap", str(args.gap), "--size", args.size, "--fill", "0.91", "--pan", str(args.pan), "--crf", "20"),
    ]
    # A clip is reused only when it was rendered from the same set with the same settings (its name says so):
    # a clip of other settings holds its images at other times, and every trip would be read against the wrong image.
    clip = args.out / f"trips-{hashlib.sha256(' '.join(render).encode()).hexdigest()[:10]}.mp4"
    if not clip.exists():
        subprocess.run(
            [sys.executable, str(ROOT / "scripts" / "make_demo_clip.py"), *render, "--out", str(clip)], check=True
        )
    truth = json.loads(clip.with_suffix(".truth.json").read_text())
    database = args.out / "trips.db"
    database.unlink(missing_ok=True)
    config = {
        "timezone": "Asia/Shanghai",
        "sites": [{"id": "campus-gate", "name": "Campus gate"}],
        "cameras": [
            {
                "id": "gate-cam",
                "site": "campus-gate",
                "source": str(clip.resolve()),
                "category": "helmet",
                "model": str(args.model.resolve()),
                "detect_fps": args.detect_fps,
                "start_time": START.isoformat(),
            }
        ],
        # The tracker's defaults (max_age_s 1.5): scenes are kept apart by a longer --gap instead.
        "tracking": args.tracking,
        "store": {"url": f"sqlite:///{database.resolve()}"},
        "evidence": {"enabled": False},
    }
    config_path = args.out / "trips.yaml"
    config_path.write_text(yaml.safe_dump(config, sort_keys=False))
    subprocess.run([str(Path(sys.executable).with_name("vision")), "run", str(config_path)], check=True)

    labelled = labelled_trips(args.voc, args.split)
    measured = measured_trips(database, truth, args.hold, args.gap)
    matched = labelled_count = 0
    for name, vehicles in labelled.items():
        truth_riders = sorted((riders for riders, _ in vehicles), reverse=True)
        found = sorted((riders for riders, _ in measured.get(name, [])), reverse=True)
        labelled_count += len(truth_riders)
        matched += sum(a == b for a, b in zip(truth_riders, found, strict=False))
    truth_trips = [vehicle for vehicles in labelled.values() for vehicle in vehicles]
    found_trips = [trip for trips in measured.values() for trip in trips]
    truth_carrying = sum(riders >= 2 for riders, _ in truth_trips)
    found_carrying = sum(riders >= 2 for riders, _ in found_trips)
    truth_helmeted = sum(bare == 0 for _, bare in truth_trips)
    found_decided = [outcome for _, outcome in found_trips if outcome != Outcome.UNDETERMINED.value]
    found_helmeted = sum(outcome == Outcome.COMPLIANT.value for outcome in found_decided)
    riders_per_trip = Counter(riders for riders, _ in truth_trips)
    found_per_trip = Counter(riders for riders, _ in found_trips)

    def share(k: int, n: int) -> dict[str, float | int | None]:
        estimate = wilson_interval(k, n)
        return {"k": k, "n": n, "rate": estimate.rate, "low": estimate.low, "high": estimate.high}

    result = {
        "voc": str(args.voc),
        "split": args.split,
        "model": str(args.model),
        "tracking": args.tracking,
        "images": len(labelled),
        "labelled_trips": len(truth_trips),
        "measured_trips": len(found_trips),
        "riders_per_trip_match": share(matched, labelled_count),
        "labelled_riders_per_trip": dict(sorted(riders_per_trip.items())),
        "measured_riders_per_trip": dict(sorted(found_per_trip.items())),
        "passenger_carrying": {
            "labelled": share(truth_carrying, len(truth_trips)),
            "measured": share(found_carrying, len(found_trips)),
        },
        "helmet_per_vehicle": {
            "labelled": share(truth_helmeted, len(truth_trips)),
            "measured": share(found_helmeted, len(found_decided)),
        },
    }
    text = json.dumps(result, indent=1)
    print(text)
    (args.json or args.out / "result.json").write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
