"""/metrics: Prometheus' own parser, promtool's lint, and a real Prometheus server scraping it."""

import shutil
import subprocess
import threading
import time
import urllib.request

import pytest
import uvicorn
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from api_support import at_now, observation
from vision.api import create_app
from vision.metrics import PipelineMetrics
from vision.outcome import Outcome
from vision.sources.base import SourceHealth, SourceState
from vision.testing.cameras import free_port


def exposition(client) -> str:
    response = client.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    return response.text


def test_compliance_counters_and_rates_parse(client):
    families = {family.name: family for family in text_string_to_metric_families(exposition(client))}
    observations = {
        (s.labels["site"], s.labels["outcome"]): s.value
        for s in families["vision_observations"].samples
        if s.name == "vision_observations_total"
    }
    assert observations[("gate", "compliant")] == 6 and observations[("gate", "non_compliant")] == 14
    assert observations[("market", "undetermined")] == 3
    rates = {s.labels["site"]: s.value for s in families["vision_compliance_rate"].samples}
    assert rates == pytest.approx({"gate": 0.3, "market": 0.9})
    # Per two-wheeler (api_support.gate_trips): 6 of 11 decided trips compliant, 7 of 12 carrying passengers.
    assert {s.labels["site"]: s.value for s in families["vision_trips"].samples} == {"gate": 12}
    per_vehicle = {s.labels["site"]: s.value for s in families["vision_vehicle_compliance_rate"].samples}
    assert per_vehicle == pytest.approx({"gate": 6 / 11})
    carrying = {s.labels["site"]: s.value for s in families["vision_passenger_carrying_rate"].samples}
    assert carrying == pytest.approx({"gate": 7 / 12})


def test_non_riders_are_an_outcome_label_but_never_in_the_rate(client, store):
    run = store.start_run("test.yaml", "test")
    store.add_observations(
        run, [observation("gate", "cam-gate", "helmet", 2 + i, Outcome.NON_RIDER, 900 + i) for i in range(4)]
    )
    families = {family.name: family for family in text_string_to_metric_families(exposition(client))}
    assert "non_rider" in families["vision_observations"].documentation
    observations = {
        (s.labels["site"], s.labels["outcome"]): s.value
        for s in families["vision_observations"].samples
        if s.name == "vision_observations_total"
    }
    assert observations[("gate", "non_rider")] == 4 and ("market", "non_rider") not in observations
    rates = {s.labels["site"]: s.value for s in families["vision_compliance_rate"].samples}
    assert rates["gate"] == pytest.approx(0.3)  # still 6 of 20: the 4 non-riders are not in it
    decided = {s.labels["site"]: s.value for s in families["vision_compliance_decided_observations"].samples}
    assert decided["gate"] == 20


def test_pipeline_health_metrics_on_the_injected_registry(config, store):
    registry = CollectorRegistry()
    metrics = PipelineMetrics(registry)
    health = SourceHealth()
    health.count(read=10, dropped=3, reconnects=2)
    health.update(state=SourceState.UP)
    from vision.metrics import CameraSample

    metrics.watch_sources(lambda: [CameraSample("cam-gate", "gate", health)])
    metrics.frames_processed.labels("cam-gate", "gate").inc(7)
    metrics.inference_latency.labels("helmet").observe(0.2)
    labels = {"camera": "cam-gate", "site": "gate"}
    assert registry.get_sample_value("vision_camera_frames_read_total", labels) == 10
    assert registry.get_sample_value("vision_camera_frames_dropped_total", labels) == 3
    assert registry.get_sample_value("vision_camera_reconnects_total", labels) == 2
    assert registry.get_sample_value("vision_camera_up", labels) == 1
    assert registry.get_sample_value("vision_camera_frames_processed_total", labels) == 7
    assert registry.get_sample_value("vision_inference_latency_seconds_count", {"model": "helmet"}) == 1
    from fastapi.testclient import TestClient

    text = TestClient(create_app(config, store, registry=registry, clock=at_now)).get("/metrics").text
    assert "vision_camera_last_frame_age_seconds" in text and "vision_observations_total" in text


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool not installed (Debian package 'prometheus')")
def test_promtool_check_metrics_passes(client, tmp_path):
    result = subprocess.run(
        ["promtool", "check", "metrics"], input=exposition(client), capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture
def served(config, store):
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(config, store, clock=at_now), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1).read()
            break
        except OSError:
            time.sleep(0.1)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.mark.skipif(shutil.which("prometheus") is None, reason="prometheus server not installed (Debian 'prometheus')")
def test_a_real_prometheus_server_scrapes_the_compliance_counters(served, tmp_path):
    target = served.removeprefix("http://")
    prometheus_port = free_port()
    (tmp_path / "prometheus.yml").write_text(
        "global: {scrape_interval: 1s}\n"
        f"scrape_configs:\n  - job_name: vision\n    static_configs: [{{targets: ['{target}']}}]\n"
    )
    process = subprocess.Popen(
        [
            "prometheus",
            f"--config.file={tmp_path / 'prometheus.yml'}",
            f"--storage.tsdb.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{prometheus_port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        query = f"http://127.0.0.1:{prometheus_port}/api/v1/query?query=vision_observations_total"
        deadline, result = time.monotonic() + 40, []
        while time.monotonic() < deadline and not result:
            time.sleep(1)
            try:
                import json

                result = json.loads(urllib.request.urlopen(query, timeout=2).read())["data"]["result"]
            except OSError:
                continue
        values = {(r["metric"]["site"], r["metric"]["outcome"]): float(r["value"][1]) for r in result}
        assert values[("gate", "non_compliant")] == 14
    finally:
        process.terminate()
        process.wait(timeout=10)
