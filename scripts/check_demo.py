#!/usr/bin/env python3
"""Compare the last run's per-site rates with the clips' ground truth (``<clip>.truth.json``).

For every file camera whose clip has a truth file beside it (written by
``scripts/make_demo_clip.py``), prints the measured rate, its interval and the true rate, and
exits with status 1 if a rate is more than ``--tolerance`` away or its interval misses the truth::

    vision run configs/demo.yaml && python scripts/check_demo.py configs/demo.yaml
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from vision.compliance.rates import RateService, RateSettings
from vision.config import load_config
from vision.store import open_store
from vision.store.schema import runs_table


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("config", type=Path)
    parser.add_argument("--run", type=int, help="run id (default: the latest)")
    parser.add_argument("--tolerance", type=float, default=0.05, help="largest allowed |measured - true| rate")
    args = parser.parse_args()
    config = load_config(args.config)
    store = open_store(config.store.url)
    with store.engine.connect() as connection:
        run_id = args.run or connection.execute(sa.select(sa.func.max(runs_table.c.id))).scalar()
    if run_id is None:
        raise SystemExit(f"no run in {config.store.url}: run `vision run {args.config}` first")
    points = {
        (p.site_id, p.category): p
        for p in RateService(store, RateSettings.from_config(config, errors={})).rates(
            datetime(1970, 1, 1, tzinfo=UTC), datetime(2200, 1, 1, tzinfo=UTC), run_id=run_id
        )
    }
    failures = 0
    print(f"run {run_id}: measured vs ground truth (tolerance {args.tolerance:.0%})")
    for camera in config.cameras:
        truth_path = Path(str(camera.source)).with_suffix(".truth.json")
        if not truth_path.is_file():
            continue
        truth = json.loads(truth_path.read_text())
        point = points.get((camera.site, camera.category.value))
        if point is None or point.estimate.rate is None:
            print(f"  {camera.site}: no decided observation (truth {truth['rate']:.1%})")
            failures += 1
            continue
        estimate = point.estimate
        true_n = truth["counts"]["compliant"] + truth["counts"]["non_compliant"]
        error = estimate.rate - truth["rate"]
        covered = estimate.low <= truth["rate"] <= estimate.high
        ok = abs(error) <= args.tolerance and covered
        failures += not ok
        print(
            f"  {camera.site:<22} measured {estimate.rate:6.1%} [{estimate.low:.1%}, {estimate.high:.1%}] "
            f"n={point.n:<4} truth {truth['rate']:6.1%} (n={true_n}) "
            f"error {error:+.1%} interval {'covers' if covered else 'MISSES'} the truth  {'OK' if ok else 'FAIL'}"
        )
    store.close()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
