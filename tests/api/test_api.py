"""The HTTP API on a real store, through FastAPI's test client (real ASGI app, real SQL)."""

import csv
import dataclasses
import io
from datetime import timedelta

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from api_support import NOW, TOKEN, at_now, make_config, observation
from vision.api import create_app
from vision.compliance.rates import RateService, RateSettings
from vision.outcome import Outcome
from vision.store.database import CameraReport, Store

UNREACHABLE = "postgresql+psycopg://vision@127.0.0.1:9/none?connect_timeout=1"  # nothing listens on port 9


def iso(moment):
    return moment.isoformat()


def test_sites_with_camera_health(client):
    sites = {site["id"]: site for site in client.get("/api/v1/sites").json()}
    assert sites["gate"]["threshold"] == 0.9 and sites["market"]["threshold"] == 0.9  # default
    gate_camera = sites["gate"]["cameras"][0]["health"]
    assert gate_camera["up"] and gate_camera["state"] == "up" and gate_camera["reconnects"] == 1
    assert 0 <= gate_camera["last_frame_age_s"] < 60
    market_camera = sites["market"]["cameras"][0]["health"]
    assert not market_camera["up"] and "***" in market_camera["last_error"]


def test_series_agrees_with_the_store(client, store):
    start, end = NOW - timedelta(days=3), NOW + timedelta(minutes=1)
    body = client.get(
        "/api/v1/compliance/series", params={"from": iso(start), "to": iso(end), "bucket": "day", "site": "market"}
    ).json()
    (series,) = body["series"]
    expected = RateService(store, RateSettings(min_n=10)).rates(start, end, "day", site_id="market")
    assert [p["compliant"] for p in series["points"]] == [p.compliant for p in expected]
    assert sum(p["compliant"] for p in series["points"]) == 23
    assert sum(p["undetermined"] for p in series["points"]) == 3
    for point in series["points"]:
        assert point["start"].endswith("Z") or point["start"].endswith("+00:00")
        assert point["low"] <= point["rate"] <= point["high"]


def test_csv_export_has_the_same_numbers(client):
    params = {"from": iso(NOW - timedelta(hours=2)), "to": iso(NOW + timedelta(minutes=1)), "bucket": "hour"}
    response = client.get("/api/v1/compliance/series.csv", params=params)
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    gate = [row for row in rows if row["site_id"] == "gate"]
    assert sum(int(row["compliant"]) for row in gate) == 6 and sum(int(row["non_compliant"]) for row in gate) == 14


def test_per_vehicle_series_counts_trips_and_passenger_carrying(client):
    params = {"from": iso(NOW - timedelta(hours=1)), "to": iso(NOW + timedelta(minutes=1)), "bucket": "range"}
    body = client.get("/api/v1/compliance/series", params={**params, "unit": "vehicle"}).json()
    (series,) = body["series"]
    assert series["site_id"] == "gate" and series["unit"] == "vehicle"
    (point,) = series["points"]
    assert (point["compliant"], point["non_compliant"], point["undetermined"], point["n"]) == (6, 5, 1, 11)
    assert point["rate"] == pytest.approx(6 / 11) and point["passengers"] == 7
    assert (
        point["passenger_rate"] == pytest.approx(7 / 12) and point["passenger_low"] < 7 / 12 < point["passenger_high"]
    )
    people = client.get("/api/v1/compliance/series", params={**params, "site": "gate"}).json()["series"][0]
    assert people["unit"] == "person" and people["points"][0]["passenger_rate"] is None
    response = client.get("/api/v1/compliance/series.csv", params={**params, "unit": "vehicle"})
    (row,) = csv.DictReader(io.StringIO(response.text))
    assert (row["unit"], row["compliant"], row["passenger_rate"]) == ("vehicle", "6", f"{7 / 12:.6f}")
    assert "vehicle" in response.headers["content-disposition"]
    assert client.get("/api/v1/compliance/series", params={**params, "unit": "car"}).status_code == 422


def test_current_rates_sort_and_below_filter(client):
    rows = client.get("/api/v1/compliance/current").json()
    assert [row["site_id"] for row in rows] == ["gate", "market"]  # ascending rate
    gate = rows[0]
    assert gate["point"]["rate"] == pytest.approx(6 / 20) and gate["confidently_below"] is True
    assert gate["point"]["n"] == 20
    assert rows[1]["point"]["rate"] == pytest.approx(18 / 20) and rows[1]["point"]["undetermined"] == 3
    assert [r["site_id"] for r in client.get("/api/v1/compliance/current", params={"sort": "-rate"}).json()] == [
        "market",
        "gate",
    ]
    below = client.get("/api/v1/compliance/current", params={"below": 0.85, "confident": True}).json()
    assert [row["site_id"] for row in below] == ["gate"]


def test_observations_paginate(client):
    first = client.get("/api/v1/observations", params={"limit": 40}).json()
    assert len(first["items"]) == 40 and first["next_after_id"] == first["items"][-1]["id"]
    rest = client.get("/api/v1/observations", params={"limit": 40, "after_id": first["next_after_id"]}).json()
    assert len(rest["items"]) == 8 and rest["next_after_id"] is None
    assert first["items"][0]["ended_at"].endswith("Z") or "+00:00" in first["items"][0]["ended_at"]


def add_riders(store) -> None:
    """At the gate, in the last hour: a compliant driver and a non-compliant passenger of vehicle 42, two non-riders."""
    run = store.start_run("test.yaml", "test")
    rows = [
        dataclasses.replace(
            observation("gate", "cam-gate", "helmet", 3, outcome, track), vehicle_track_id=42, riders_on_vehicle=2
        )
        for outcome, track in ((Outcome.COMPLIANT, 900), (Outcome.NON_COMPLIANT, 901))
    ]
    rows += [observation("gate", "cam-gate", "helmet", 4 + i, Outcome.NON_RIDER, 910 + i) for i in range(2)]
    store.add_observations(run, rows)


def test_non_riders_and_passengers_in_series_current_and_csv(client, store):
    add_riders(store)
    params = {"from": iso(NOW - timedelta(hours=2)), "to": iso(NOW + timedelta(minutes=1)), "bucket": "day"}
    body = client.get("/api/v1/compliance/series", params={**params, "site": "gate"}).json()
    (series,) = body["series"]
    points = series["points"]
    assert sum(p["non_rider"] for p in points) == 2 and sum(p["passengers"] for p in points) == 2
    assert sum(p["n"] for p in points) == 22  # 6 + 14 from fill, + the two riders; non-riders stay out
    assert all(p["n"] == p["compliant"] + p["non_compliant"] for p in points)
    market = client.get("/api/v1/compliance/series", params={**params, "site": "market"}).json()["series"][0]
    assert all(p["non_rider"] == 0 and p["passengers"] == 0 for p in market["points"])

    gate = next(row for row in client.get("/api/v1/compliance/current").json() if row["site_id"] == "gate")
    assert (gate["point"]["non_rider"], gate["point"]["passengers"], gate["point"]["n"]) == (2, 2, 22)
    assert gate["point"]["rate"] == pytest.approx(7 / 22)

    rows = list(csv.DictReader(io.StringIO(client.get("/api/v1/compliance/series.csv", params=params).text)))
    assert {"non_rider", "passengers"} <= set(rows[0])
    gate_rows = [row for row in rows if row["site_id"] == "gate"]
    assert sum(int(row["non_rider"]) for row in gate_rows) == 2
    assert sum(int(row["passengers"]) for row in gate_rows) == 2
    assert sum(int(row["n"]) for row in gate_rows) == 22


def test_observations_show_the_vehicle_they_rode(client, store):
    add_riders(store)
    items = client.get("/api/v1/observations", params={"limit": 1000}).json()["items"]
    by_track = {item["track_id"]: item for item in items}
    assert (by_track[900]["vehicle_track_id"], by_track[900]["riders_on_vehicle"]) == (42, 2)
    assert (by_track[901]["vehicle_track_id"], by_track[901]["riders_on_vehicle"]) == (42, 2)
    assert by_track[910]["outcome"] == "non_rider" and by_track[910]["vehicle_track_id"] is None
    assert by_track[1]["riders_on_vehicle"] is None  # fill's observations are not linked


@pytest.mark.parametrize(
    ("path", "params", "status", "message"),
    [
        (
            "/api/v1/compliance/series",
            {"from": "2026-11-01T00:00:00", "to": "2026-11-02T00:00:00Z"},
            422,
            "no time zone",
        ),
        (
            "/api/v1/compliance/series",
            {"from": "2026-11-02T00:00:00Z", "to": "2026-11-01T00:00:00Z"},
            422,
            "after from",
        ),
        ("/api/v1/compliance/series", {"from": "yesterday", "to": "2026-11-01T00:00:00Z"}, 422, "datetime"),
        (
            "/api/v1/compliance/series",
            {"from": "2020-01-01T00:00Z", "to": "2026-01-01T00:00Z", "bucket": "minute"},
            422,
            "choose a larger bucket",
        ),
        (
            "/api/v1/compliance/series",
            {"from": "2026-11-01T00:00Z", "to": "2026-11-02T00:00Z", "site": "x"},
            404,
            "unknown site",
        ),
        (
            "/api/v1/compliance/series",
            {"from": "2026-11-01T00:00Z", "to": "2026-11-02T00:00Z", "bucket": "week"},
            422,
            "minute",
        ),
        ("/api/v1/compliance/current", {"window_minutes": 0}, 422, "greater than or equal to 1"),
        ("/api/v1/observations", {"limit": 5000}, 422, "less than or equal to 1000"),
        (
            "/api/v1/compliance/current",
            {"category": "hats"},
            422,
            "Input should be 'helmet', 'mask' or 'phone'",
        ),
    ],
)
def test_bad_parameters_get_a_clear_4xx(client, path, params, status, message):
    response = client.get(path, params=params)
    assert response.status_code == status
    assert message in response.text


def test_categories_come_from_the_category_registry(client):
    by_id = {c["id"]: c for c in client.get("/api/v1/categories").json()}
    assert set(by_id) == {"helmet", "mask", "phone"}
    phone = by_id["phone"]
    assert phone["violation_attribute"] == "cell_phone" and phone["attribute_classes"] == ["cell_phone"]
    assert by_id["helmet"]["violation_attribute"] is None
    assert by_id["helmet"]["vehicle_classes"] == ["two_wheeler"] and by_id["helmet"]["riders_only_default"]
    assert by_id["mask"]["non_compliant_classes"] == ["without_mask", "mask_weared_incorrect"]
    assert by_id["helmet"]["title"] == "Helmet wearing"


def test_health_and_readiness(client, config, store):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["cameras_up"] == 1
    assert any("cam-market: down" in problem for problem in ready.json()["problems"])
    store.set_camera_status("cam-gate", CameraReport(state="down", last_error="stream ended"))
    all_down = client.get("/readyz")  # still serving: the dashboard must show the outage
    assert all_down.status_code == 200 and all_down.json()["cameras_up"] == 0
    assert any("cam-gate: down (stream ended)" in problem for problem in all_down.json()["problems"])
    away = TestClient(create_app(config, Store(sa.create_engine(UNREACHABLE)), clock=at_now))
    not_ready = away.get("/readyz")
    assert not_ready.status_code == 503 and not_ready.json()["store"] == "unreachable"


def test_state_changing_endpoints_need_the_token(client, tmp_path, store, monkeypatch):
    assert client.post("/api/v1/alerts/test").status_code == 401
    assert client.post("/api/v1/alerts/test", headers={"Authorization": "Bearer wrong"}).status_code == 401
    answer = client.post("/api/v1/alerts/test", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200 and answer.json() == {"sent": False, "detail": "no alerts.webhook_url configured"}
    no_token = make_config(tmp_path, api={})
    monkeypatch.delenv("VISION_API_TOKEN", raising=False)
    assert TestClient(create_app(no_token, store, clock=at_now)).post("/api/v1/alerts/test").status_code == 403


def test_cors_only_for_configured_origins(tmp_path, store):
    config = make_config(tmp_path, api={"token": TOKEN, "cors_origins": ["https://dash.example.org"]})
    client = TestClient(create_app(config, store, clock=at_now))
    allowed = client.get("/api/v1/sites", headers={"Origin": "https://dash.example.org"})
    assert allowed.headers["access-control-allow-origin"] == "https://dash.example.org"
    other = client.get("/api/v1/sites", headers={"Origin": "https://elsewhere.example"})
    assert "access-control-allow-origin" not in other.headers


def test_openapi_documents_every_route(client):
    paths = client.get("/openapi.json").json()["paths"]
    for path in (
        "/api/v1/categories",
        "/api/v1/sites",
        "/api/v1/compliance/series",
        "/api/v1/compliance/current",
        "/api/v1/observations",
        "/api/v1/compliance/series.csv",
        "/healthz",
        "/readyz",
    ):
        assert path in paths
