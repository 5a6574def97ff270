"""``vision run --serve`` end to end: pipeline and API in one process, over real HTTP."""

import csv
import json
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from spec_support import write_helmet_spec, write_one_camera_config
from vision.testing.cameras import free_port

ROOT = Path(__file__).resolve().parents[1]
CLIPS = ROOT / "tests" / "data" / "clips"


def get(url: str):
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read().decode()


def test_run_serve_agrees_with_the_store_and_the_report(tmp_path):
    spec = write_helmet_spec(tmp_path, 320)
    config_path = write_one_camera_config(
        tmp_path,
        CLIPS / "helmet5.mp4",
        spec,
        site={"lat": 52.0, "lon": 4.0},
        tracking={"max_age_s": 0.5},
        start_time="2026-11-02T08:00:00+00:00",
    )
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [sys.executable, "-m", "vision", "run", str(config_path), "--serve", "--port", str(port), "-q"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline, state = time.monotonic() + 180, None
        while time.monotonic() < deadline and state != "finished":
            time.sleep(0.5)
            try:
                state = json.loads(get(base + "/api/v1/sites"))[0]["cameras"][0]["health"]["state"]
            except OSError:
                continue
        assert state == "finished", "the clip did not finish in time"
        params = "from=2026-11-02T00:00:00Z&to=2026-11-03T00:00:00Z&bucket=day&site=gate"
        (point,) = json.loads(get(f"{base}/api/v1/compliance/series?{params}"))["series"][0]["points"]
        observations = json.loads(get(f"{base}/api/v1/observations?limit=1000"))["items"]
        assert point["compliant"] == sum(o["outcome"] == "compliant" for o in observations) > 0
        assert point["non_compliant"] == sum(o["outcome"] == "non_compliant" for o in observations) > 0
        assert point["adjusted_rate"] is not None  # the spec's measured error feeds Rogan-Gladen
        metrics = get(base + "/metrics")
        assert (
            f'vision_observations_total{{category="helmet",outcome="compliant",site="gate"}} {point["compliant"]}.0'
            in metrics
        )
        assert 'vision_camera_frames_processed_total{camera="cam",site="gate"}' in metrics
    finally:
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr
    report = tmp_path / "report.csv"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "vision",
            "report",
            str(config_path),
            "--from",
            "2026-11-02T00:00:00Z",
            "--to",
            "2026-11-03T00:00:00Z",
            "--format",
            "csv",
            "--out",
            str(report),
            "-q",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    rows = list(csv.DictReader(report.open()))
    assert sum(int(row["compliant"]) for row in rows) == point["compliant"]
    assert sum(int(row["non_compliant"]) for row in rows) == point["non_compliant"]
    assert "gate" in stdout  # the end-of-run table
