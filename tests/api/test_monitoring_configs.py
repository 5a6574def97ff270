"""The shipped Prometheus config, alert rules and Grafana dashboard refer to metrics we export."""

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

MONITORING = Path(__file__).resolve().parents[2] / "configs" / "monitoring"


def exported_names(client) -> set[str]:
    names = set()
    for family in text_string_to_metric_families(client.get("/metrics").text):
        names |= {sample.name for sample in family.samples} | {family.name}
    return names


def test_dashboard_and_rules_use_only_exported_metrics(client):
    # Camera health metrics appear only while a pipeline runs: add them from the pipeline's registry.
    from prometheus_client import CollectorRegistry

    from vision.metrics import CameraSample, PipelineMetrics
    from vision.sources.base import SourceHealth

    registry = CollectorRegistry()
    metrics = PipelineMetrics(registry)
    health = SourceHealth()
    health.count(read=1)
    metrics.watch_sources(lambda: [CameraSample("c", "s", health)])
    metrics.frames_processed.labels("c", "s").inc()
    metrics.inference_latency.labels("m").observe(0.1)
    from prometheus_client import generate_latest

    names = exported_names(client)
    for family in text_string_to_metric_families(generate_latest(registry).decode()):
        names |= {sample.name for sample in family.samples}
    dashboard = json.loads((MONITORING / "grafana-dashboard.json").read_text())
    expressions = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    expressions += re.findall(r"expr: (.+)", (MONITORING / "vision-alerts.yml").read_text())
    used = {name for expr in expressions for name in re.findall(r"\bvision_[a-z_]+", expr)}
    assert used and used <= names, used - names


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool not installed (Debian package 'prometheus')")
def test_prometheus_config_and_rules_are_valid():
    for args in (["check", "config", "prometheus.yml"], ["check", "rules", "vision-alerts.yml"]):
        result = subprocess.run(["promtool", *args], cwd=MONITORING, capture_output=True, text=True, timeout=30)
        assert result.returncode == 0, result.stdout + result.stderr
