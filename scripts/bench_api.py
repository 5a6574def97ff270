#!/usr/bin/env python3
"""API latency: under concurrent load while the pipeline runs, and at city scale on PostgreSQL.

**Load** (default): 30 days of minute data in SQLite, while the pipeline runs.

1. Builds a SQLite store with ``--days`` of observations for the demo's two sites, several per
   minute (so every minute bucket is filled), plus the demo config pointing at it.
2. Starts ``vision run <config> --serve`` in a subprocess: the demo clips go through the pipeline
   (writing to the same store) while the API serves real HTTP on loopback.
3. Sends ``--requests`` requests from ``--concurrency`` threads (bounded in count and time, to
   127.0.0.1 only): the series endpoint over 30 days by hour, over one day by minute, CSV, current
   rates and sites. Reports errors and p50/p95/p99 latency per kind.

**City** (``--city URL``): a PostgreSQL store with ``--cameras`` cameras at 62 sites and ``--days``
of observations (about 300 × 90 days × 0.8 a minute = 31 million rows, generated inside the
database by ``INSERT … SELECT generate_series``, then the rollups recounted by
``vision rebuild-rollups``'s code), and the read side timed in process over real HTTP: the 90-day
daily series of all sites, a 30-day hourly series of one site, current rates, a ``/metrics``
scrape, a 30-day report of one site. Each is timed ``--repeats`` times with the rollups (the
code now) and, where it finishes within ``--old-timeout`` s, the same request answered from raw
rows only (the code before rollups: every count a GROUP BY over the observations, every scrape
too)::

    .venv/bin/python scripts/bench_api.py --city postgresql+psycopg://vision@127.0.0.1:5432/postgres

The database must be empty or hold a previous city run (``--reuse`` keeps its rows).

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

from vision.config import load_config
from vision.outcome import Outcome
from vision.store import open_store
from vision.tracking import Observation

ROOT = Path(__file__).resolve().parents[1]


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


CITY_SITES = 62


def city_config(url: str, cameras: int) -> dict:
    """``cameras`` helmet cameras spread over CITY_SITES posts (Asia/Shanghai), the store at ``url``."""
    sites = [
        {"id": f"post-{i:02d}", "name": f"Post {i:02d}", "lat": 31.2 + 0.01 * (i % 8), "lon": 121.4 + 0.01 * (i // 8)}
        for i in range(CITY_SITES)
    ]
    model = str(ROOT / "models" / "helmet.yaml")
    return {
        "timezone": "Asia/Shanghai",
        "sites": sites,
        "cameras": [
            {
                "id": f"cam-{c:03d}",
                "site": f"post-{c % CITY_SITES:02d}",
                "source": "rtsp://cam/x",
                "category": "helmet",
                "model": model,
            }
            for c in range(cameras)
        ],
        "store": {"url": url},
    }


def fill_city(store, cameras: int, days: int, per_minute: float, end: datetime) -> int:
    """Observations generated in the database: each camera's ended_at spread evenly over the days with
    jitter, 80 % compliant, 15 % not, 5 % undetermined, one in ten on a shared two-wheeler."""
    import sqlalchemy as sa

    per_camera = int(days * 24 * 60 * per_minute)
    step = days * 86400 / per_camera
    start = (end - timedelta(days=days)).timestamp()
    run = store.start_run("bench_api city", "bench")
    with store.engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO observations (run_id, camera_id, site_id, category, track_id, started_at, ended_at,"
                " outcome, frames, mean_confidence, vote_share, max_size_px, riders_on_vehicle)"
                " SELECT :run, 'cam-' || lpad(c::text, 3, '0'), 'post-' || lpad((c % :sites)::text, 2, '0'), 'helmet',"
                " t, e - 4, e, CASE WHEN r < 0.8 THEN 'compliant' WHEN r < 0.95 THEN 'non_compliant'"
                " ELSE 'undetermined' END, 8, 0.8, 1.0, 40.0, CASE WHEN t % 10 = 0 THEN 2 ELSE 1 END"
                " FROM generate_series(0, :cameras - 1) AS c, generate_series(0, :per_camera - 1) AS t,"
                " LATERAL (SELECT :start + (t + random()) * :step AS e, random() AS r) AS x"
            ),
            {
                "run": run,
                "sites": CITY_SITES,
                "cameras": cameras,
                "per_camera": per_camera,
                "start": start,
                "step": step,
            },
        )
        connection.execute(
            sa.text(
                "INSERT INTO camera_uptime (run_id, camera_id, started_at, last_frame_at, ended_at)"
                " SELECT :run, 'cam-' || lpad(c::text, 3, '0'), :start, :end, :end"
                " FROM generate_series(0, :cameras - 1) c"
            ),
            {"run": run, "cameras": cameras, "start": start, "end": end.timestamp()},
        )
    store.end_run(run)
    return cameras * per_camera


def old_outcome_totals(store) -> list[tuple[str, str, str, int]]:
    """The scrape's totals as the code before rollups counted them: a GROUP BY over every observation."""
    import sqlalchemy as sa

    from vision.store.schema import observations_table

    o = observations_table.c
    query = sa.select(o.site_id, o.category, o.outcome, sa.func.count()).group_by(o.site_id, o.category, o.outcome)
    with store.engine.connect() as connection:
        return [(row[0], row[1], row[2], int(row[3])) for row in connection.execute(query)]


def city(args: argparse.Namespace) -> int:
    import threading

    import sqlalchemy as sa
    import uvicorn
    from prometheus_client import CollectorRegistry

    from vision.api import create_app
    from vision.compliance.rates import RateService, RateSettings
    from vision.config import VisionConfig
    from vision.reports.build import Period, build_report
    from vision.store import counts as counts_module

    config = VisionConfig.model_validate(city_config(args.city, args.cameras))
    store = open_store(args.city)
    store.sync_config(config)
    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    existing = store.count_observations()
    if existing and not args.reuse:
        print(f"the store holds {existing} observations: pass --reuse to time them, or empty it", file=sys.stderr)
        return 2
    if not existing:
        started = time.perf_counter()
        rows = fill_city(store, args.cameras, args.days, args.per_minute, end)
        print(f"store: {rows} observations generated in {time.perf_counter() - started:.0f} s")
        started = time.perf_counter()
        hourly = store.rebuild_rollups()
        with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(sa.text("VACUUM ANALYZE"))
        print(f"rollups: {hourly} hourly rows, counted in {time.perf_counter() - started:.0f} s (with VACUUM ANALYZE)")
    with store.engine.connect() as connection:
        end = datetime.fromtimestamp(
            connection.execute(sa.text("SELECT max(ended_at) FROM observations")).scalar_one(), UTC
        ).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    rows = store.count_observations()
    registry = CollectorRegistry()
    rates = RateService(store, RateSettings.from_config(config, errors={}))
    app = create_app(config, store, registry, rates, clock=lambda: end)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    quarter = {"from": (end - timedelta(days=args.days)).isoformat(), "to": end.isoformat()}
    month = {"from": (end - timedelta(days=30)).isoformat(), "to": end.isoformat()}

    def fetch(path: str, params: dict) -> float:
        elapsed, status = request(f"{base}{path}?{urllib.parse.urlencode(params)}")
        if status != 200:
            raise RuntimeError(f"{path} answered {status}")
        return elapsed

    def report() -> float:
        started = time.perf_counter()
        build_report(store, config, Period(end - timedelta(days=30), end), sites=["post-00"], rates=rates)
        return (time.perf_counter() - started) * 1000.0

    kinds = {
        f"series {args.days} d by day, all sites": lambda: fetch(
            "/api/v1/compliance/series", {**quarter, "bucket": "day"}
        ),
        "series 30 d by hour, one site": lambda: fetch(
            "/api/v1/compliance/series", {**month, "bucket": "hour", "site": "post-00"}
        ),
        "current rates": lambda: fetch("/api/v1/compliance/current", {}),
        "/metrics scrape": lambda: fetch("/metrics", {}),
        "report, 30 d, one site": report,
    }
    results: dict[str, dict[str, dict[str, float]]] = {"rollups": {}, "raw rows (before)": {}}
    original_tally_rows, original_totals = counts_module.tally_rows, store.outcome_totals
    for variant in results:
        if variant != "rollups":  # the code before rollups: every count from raw rows (count_rows reads tallies)
            counts_module.tally_rows = lambda connection, query, rollups=True: original_tally_rows(
                connection, query, False
            )  # type: ignore[assignment]
            store.outcome_totals = lambda: old_outcome_totals(store)  # type: ignore[method-assign]
        for name, measure in kinds.items():
            times: list[float] = []
            budget = time.monotonic() + args.old_timeout if variant != "rollups" else float("inf")
            for _ in range(args.repeats if variant == "rollups" else max(1, args.repeats // 4)):
                times.append(measure())
                if time.monotonic() > budget:
                    break
            results[variant][name] = {"n": len(times), "p50": statistics.median(times), "p95": percentile(times, 95)}
    counts_module.tally_rows, store.outcome_totals = original_tally_rows, original_totals  # type: ignore[method-assign]
    server.should_exit = True
    print(f"\n{rows} observations, {args.cameras} cameras, {CITY_SITES} sites, {args.days} days (PostgreSQL)\n")
    print("| request | rollups p50 ms | p95 ms | raw rows (before) p50 ms | p95 ms |")
    print("|---|---|---|---|---|")
    for name in kinds:
        new, old = results["rollups"][name], results["raw rows (before)"][name]
        print(
            f"| {name} | {new['p50']:.0f} | {new['p95']:.0f} | {old['p50']:.0f} | {old['p95']:.0f} (n={old['n']:.0f}) |"
        )
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "latency_ms": results}, indent=1))
    store.close()
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--city", metavar="URL", help="PostgreSQL URL: the city-scale read-side benchmark")
    parser.add_argument("--cameras", type=int, default=300, help="--city: cameras")
    parser.add_argument("--repeats", type=int, default=20, help="--city: timings per request")
    parser.add_argument("--old-timeout", type=float, default=120, help="--city: seconds per request kind, old code")
    parser.add_argument("--reuse", action="store_true", help="--city: time the rows already in the store")
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--per-minute", type=float, default=2, help="observations per camera per minute")
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if args.city:
        return city(args)
    args.per_minute = int(args.per_minute)

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
