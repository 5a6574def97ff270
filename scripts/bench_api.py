#!/usr/bin/env python3
"""API latency under concurrent load, on 30 days of minute data, while the pipeline runs.

1. Builds a SQLite store with ``--days`` of observations for the demo's two sites, several per
   minute (so every minute bucket is filled), plus the demo config pointing at it.
2. Starts ``vision run <config> --serve`` in a subprocess: the demo clips go through the pipeline
   (writing to the same store) while the API serves real HTTP on loopback.
3. Sends ``--requests`` requests from ``--concurrency`` threads (bounded in count and time, to
   127.0.0.1 only): the series endpoint over 30 days by hour, over one day by minute, CSV, current
   rates and sites. Reports errors and p50/p95/p99 latency per kind.

Usage::

    .venv/bin/python scripts/bench_api.py [--days 30 --requests 400 --concurrency 8]
"""

from __future__ import annotations

import argparse
import json
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from vision.config import load_config  # noqa: E402
from vision.outcome import Outcome  # noqa: E402
from vision.store import open_store  # noqa: E402
from vision.tracking import Observation  # noqa: E402


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def fill_store(config_path: Path, days: int, per_minute: int, end: datetime) -> int:
    config = load_config(config_path)
    store = open_store(config.store.url)
    store.sync_config(config)
    run = store.start_run("bench_api history", "bench")
    rng = random.Random(1)
    total = 0
    cameras = [(camera.id, camera.site, camera.category.value) for camera in config.cameras]
    start = end - timedelta(days=days)
    batch: list[Observation] = []
    for minute in range(days * 24 * 60):
        moment = start + timedelta(minutes=minute)
        for camera_id, site, category in cameras:
            for k in range(per_minute):
                roll = rng.random()
                outcome = (
                    Outcome.COMPLIANT if roll < 0.8 else Outcome.NON_COMPLIANT if roll < 0.95 else Outcome.UNDETERMINED
                )
                ended = moment + timedelta(seconds=rng.uniform(0, 59))
                batch.append(
                    Observation(
                        camera_id,
                        site,
                        category,
                        minute * 10 + k,
                        ended - timedelta(seconds=4),
                        ended,
                        outcome,
                        8,
                        0.8,
                        1.0,
                        40.0,
                    )
                )
        if len(batch) >= 20_000:
            store.add_observations(run, batch)
            total += len(batch)
            batch.clear()
    store.add_observations(run, batch)
    total += len(batch)
    store.end_run(run)
    store.close()
    return total


def request(url: str) -> tuple[float, int]:
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    except OSError:
        status = 0
    return (time.perf_counter() - start) * 1000.0, status


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--per-minute", type=int, default=2, help="observations per camera per minute")
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        config = yaml.safe_load((ROOT / "configs" / "demo.yaml").read_text())
        for camera in config["cameras"]:
            camera["source"] = str(ROOT / "configs" / camera["source"])
            camera["model"] = str((ROOT / "configs" / camera["model"]).resolve())
            camera.pop("start_time", None)  # the pipeline's observations land "now", beside the history
        config["store"] = {"url": f"sqlite:///{folder / 'bench.db'}"}
        config_path = folder / "config.yaml"
        config_path.write_text(yaml.safe_dump(config))
        end = datetime.now(UTC).replace(second=0, microsecond=0)
        started = time.perf_counter()
        rows = fill_store(config_path, args.days, args.per_minute, end)
        print(f"store: {rows} observations over {args.days} days ({time.perf_counter() - started:.0f} s to write)")

        port = free_port()
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "vision",
                "run",
                str(config_path),
                "--serve",
                "--port",
                str(port),
                "-q",
                "--status-every",
                "60",
            ],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and request(base + "/healthz")[1] != 200:
            time.sleep(0.2)
        month = {"from": (end - timedelta(days=args.days)).isoformat(), "to": end.isoformat()}
        day = {"from": (end - timedelta(days=1)).isoformat(), "to": end.isoformat()}
        kinds = {
            "series 30 d by hour, one site": (
                "/api/v1/compliance/series",
                {**month, "bucket": "hour", "site": "school-gate-north"},
            ),
            "series 30 d by day, all sites": ("/api/v1/compliance/series", {**month, "bucket": "day"}),
            "series 1 d by minute, one site": (
                "/api/v1/compliance/series",
                {**day, "bucket": "minute", "site": "central-market"},
            ),
            "CSV 30 d by hour": ("/api/v1/compliance/series.csv", {**month, "bucket": "hour"}),
            "current rates": ("/api/v1/compliance/current", {}),
            "sites + health": ("/api/v1/sites", {}),
        }
        urls = [(name, f"{base}{path}?{urllib.parse.urlencode(params)}") for name, (path, params) in kinds.items()]
        plan = [urls[i % len(urls)] for i in range(args.requests)]
        load_started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
            results = list(pool.map(lambda item: (item[0], *request(item[1])), plan))
        load_seconds = time.perf_counter() - load_started
        pipeline_running = server.poll() is None
        metrics_ok = request(base + "/metrics")[1] == 200
        server.terminate()
        server.wait(timeout=60)

    errors = [r for r in results if r[2] != 200]
    print(
        f"{len(results)} requests, {args.concurrency} concurrent, {load_seconds:.1f} s "
        f"({len(results) / load_seconds:.1f} req/s), errors: {len(errors)}, pipeline running during the load: "
        f"{pipeline_running}, /metrics ok: {metrics_ok}\n"
    )
    print("| request | n | p50 ms | p95 ms | p99 ms |")
    print("|---|---|---|---|---|")
    summary: dict[str, dict[str, float]] = {}
    for name in kinds:
        latencies = [ms for kind, ms, status in results if kind == name and status == 200]
        if not latencies:
            continue
        summary[name] = {
            "n": len(latencies),
            "p50": statistics.median(latencies),
            "p95": percentile(latencies, 95),
            "p99": percentile(latencies, 99),
        }
        row = summary[name]
        print(f"| {name} | {row['n']:.0f} | {row['p50']:.0f} | {row['p95']:.0f} | {row['p99']:.0f} |")
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "errors": len(errors), "latency_ms": summary}, indent=1))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
