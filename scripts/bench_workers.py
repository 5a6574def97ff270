#!/usr/bin/env python3
"""Workers under faults: cameras held, takeover after kill -9, observations lost and doubled, spool replay.

Runs the scenario of ``tests/workers/test_workers.py`` with the issue's sizes (3 workers x 10
cameras, then a fourth worker joins, one is killed with SIGKILL, PostgreSQL is stopped for
``--outage`` seconds, one worker is frozen with SIGSTOP for twice the TTL and resumed) against
real ``vision worker`` processes, a throwaway PostgreSQL cluster
(Debian's postgresql server binaries) and loopback MJPEG cameras looping a real clip, and prints
one table and (``--json``) the raw figures::

    .venv/bin/python scripts/bench_workers.py [--outage 30] [--ttl 8] [--json out/bench_workers.json]

Side by side in one run, as a ratio: the write path's cost to the detector thread, a journal
append against a direct synchronous write to the same PostgreSQL (what the detector thread did
before the writer), per observation.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from vision.testing.fleet import Fleet, fault_scenario
from vision.testing.postgres import PostgresCluster

ROOT = Path(__file__).resolve().parents[1]


def hot_path_cost(store_url: str, folder: Path, count: int = 300) -> dict[str, float]:
    """Seconds per observation on the calling thread: StoreWriter journal vs a direct store write."""
    from vision.store import open_store
    from vision.store.writer import StoreWriter
    from vision.testing.observations import observations

    store = open_store(store_url)
    run = store.start_run("bench", "bench")
    batch = observations(count)
    started = time.perf_counter()
    for observation in batch[: count // 2]:
        store.add_observations(run, [observation])
    direct = (time.perf_counter() - started) / (count // 2)
    writer = StoreWriter(store, folder / "bench-spool").start()
    started = time.perf_counter()
    for observation in batch[count // 2 :]:
        writer.observations(run, [observation])
    journal = (time.perf_counter() - started) / (count - count // 2)
    writer.close()
    store.close()
    return {"direct_s": direct, "journal_s": journal, "ratio": direct / journal}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--cameras", type=int, default=10)
    parser.add_argument("--ttl", type=float, default=8.0, help="workers.lease_ttl_s")
    parser.add_argument("--outage", type=float, default=30.0, help="seconds PostgreSQL is stopped")
    parser.add_argument("--json", type=Path, help="write the figures here too")
    args = parser.parse_args()
    cluster = PostgresCluster().start()
    folder = Path(tempfile.mkdtemp(prefix="vision-bench-workers-"))
    fleet = Fleet(folder, cluster.url, cameras=args.cameras, lease_ttl_s=args.ttl, capacity=args.cameras)
    try:
        result = fault_scenario(fleet, cluster, workers=args.workers, outage_s=args.outage)
        result["hot_path"] = hot_path_cost(cluster.url, folder)
    finally:
        fleet.close()
        cluster.remove()
    rows = [
        ("cameras held after start", result["held_after_start"]),
        (f"after w{args.workers} joined (cameras moved, max moves per camera)",
         f"{result['held_after_join']} ({result['cameras_moved']}, {result['moves_per_camera_max']})"),
        ("takeover after kill -9 of " + result["killed"], f"{result['takeover_s']:.1f} s (TTL {args.ttl:g} s)"),
        (f"records spooled during a {args.outage:g} s outage", result["spooled_during_outage"]),
        ("spool written after PostgreSQL was back", f"{result['spool_replay_s']:.1f} s"),
        ("observations: workers' own counts", result["own_counts"]),
        ("observations: store rows per worker", result["store_rows"]),
        ("observations lost / duplicated", f"{result['lost']} / {result['duplicated']}"),
        ("cameras watched by two workers at once", len(result["overlaps"])),
        (f"{result['frozen']} frozen (SIGSTOP) for 2 x TTL: takeover, then its rows of those cameras after the freeze",
         f"{result['takeover_while_frozen_s']:.1f} s, {result['frozen_rows_after_freeze']}"),
        ("detector thread per observation: direct write / journal",
         f"{result['hot_path']['direct_s'] * 1e3:.2f} ms / {result['hot_path']['journal_s'] * 1e3:.3f} ms"
         f" ({result['hot_path']['ratio']:.0f}x)"),
    ]  # fmt: skip
    print("\n| figure | value |\n|---|---|")
    for name, value in rows:
        print(f"| {name} | {value} |")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=1, default=str) + "\n")
    clean = result["lost"] == 0 and result["duplicated"] == 0 and not result["overlaps"]
    return 0 if clean and result["frozen_rows_after_freeze"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
