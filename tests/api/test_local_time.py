"""The API in the sites' local time: offsets in and out, daily periods, the dashboard's language."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from api_support import make_config
from vision.api import create_app
from vision.outcome import Outcome
from vision.store import open_store
from vision.tracking import Observation

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY = datetime(2026, 11, 2, tzinfo=SHANGHAI)


@pytest.fixture
def client(tmp_path):
    config = make_config(
        tmp_path,
        timezone="Asia/Shanghai",
        language="zh-CN",
        compliance={"min_n": 2, "periods": {"morning_peak": "07:00-09:00", "evening_peak": "17:00-19:00"}},
    )
    store = open_store(config.store.url)
    store.sync_config(config)
    run = store.start_run("local.yaml", "test")
    # Gate, local times: 07:10 C, 07:50 N, 08:59 C (morning peak: 2 of 3), 12:00 C, 17:30 N (evening: 0 of 1),
    # and 07:20 the next day C.
    times = [(7, 10, "c"), (7, 50, "n"), (8, 59, "c"), (12, 0, "c"), (17, 30, "n"), (31, 20, "c")]
    store.add_observations(
        run,
        [
            Observation(
                "cam-gate",
                "gate",
                "helmet",
                index,
                DAY + timedelta(hours=h, minutes=m) - timedelta(seconds=4),
                DAY + timedelta(hours=h, minutes=m),
                Outcome.COMPLIANT if verdict == "c" else Outcome.NON_COMPLIANT,
                8,
                0.8,
                1.0,
                30.0,
            )
            for index, (h, m, verdict) in enumerate(times)
        ],
    )
    yield TestClient(create_app(config, store))
    store.close()


def _series(client, **params):
    response = client.get("/api/v1/compliance/series", params={"site": "gate", **params})
    assert response.status_code == 200, response.text
    (series,) = response.json()["series"]
    return series


def test_day_buckets_are_local_days_with_offsets(client):
    series = _series(client, **{"from": "2026-11-01T16:00:00Z", "to": "2026-11-03T16:00:00Z", "bucket": "day"})
    assert series["timezone"] == "Asia/Shanghai"
    assert [(p["start"], p["end"], p["compliant"], p["non_compliant"]) for p in series["points"]] == [
        ("2026-11-02T00:00:00+08:00", "2026-11-03T00:00:00+08:00", 3, 2),
        ("2026-11-03T00:00:00+08:00", "2026-11-04T00:00:00+08:00", 1, 0),
    ]


def test_a_period_per_day_and_over_the_range(client):
    window = {"from": "2026-11-02T00:00:00+08:00", "to": "2026-11-04T00:00:00+08:00"}
    per_day = _series(client, **window, bucket="day", period="morning_peak")
    assert per_day["period"] == "morning_peak"
    assert [(p["start"], p["end"], p["compliant"], p["n"]) for p in per_day["points"]] == [
        ("2026-11-02T07:00:00+08:00", "2026-11-02T09:00:00+08:00", 2, 3),
        ("2026-11-03T07:00:00+08:00", "2026-11-03T09:00:00+08:00", 1, 1),
    ]
    (whole,) = _series(client, **window, bucket="range", period="evening_peak")["points"]
    assert (whole["compliant"], whole["non_compliant"]) == (0, 1)
    csv_text = client.get(
        "/api/v1/compliance/series.csv", params={"site": "gate", **window, "bucket": "day", "period": "morning_peak"}
    ).text
    rows = list(csv.DictReader(io.StringIO(csv_text)))
    assert [(r["period"], r["start"]) for r in rows] == [
        ("morning_peak", "2026-11-02T07:00:00+08:00"),
        ("morning_peak", "2026-11-03T07:00:00+08:00"),
    ]


def test_bad_period_requests_name_the_problem(client):
    window = {"site": "gate", "from": "2026-11-02T00:00:00+08:00", "to": "2026-11-04T00:00:00+08:00"}
    unknown = client.get("/api/v1/compliance/series", params={**window, "bucket": "day", "period": "noon"})
    assert unknown.status_code == 422 and "unknown period 'noon'" in unknown.json()["detail"]
    hourly = client.get("/api/v1/compliance/series", params={**window, "bucket": "hour", "period": "morning_peak"})
    assert hourly.status_code == 422 and "per day or over the whole range" in hourly.json()["detail"]
    naive = client.get("/api/v1/compliance/series", params={**window, "from": "2026-11-02T00:00:00"})
    assert naive.status_code == 422


def test_periods_sites_and_language(client):
    assert client.get("/api/v1/compliance/periods").json() == [
        {"name": "morning_peak", "local_time": "07:00-09:00", "start_s": 25200, "length_s": 7200},
        {"name": "evening_peak", "local_time": "17:00-19:00", "start_s": 61200, "length_s": 7200},
    ]
    assert {s["id"]: s["timezone"] for s in client.get("/api/v1/sites").json()} == {
        "gate": "Asia/Shanghai",
        "market": "Asia/Shanghai",
    }
    chinese = client.get("/api/v1/i18n").json()  # no Accept-Language: the config's language
    assert chinese["language"] == "zh-CN" and chinese["messages"]["Helmet wearing"] == "头盔佩戴"
    assert chinese["timezone"] == "Asia/Shanghai"
    english = client.get("/api/v1/i18n", headers={"Accept-Language": "en-GB,en;q=0.9"}).json()
    assert english["language"] == "en" and english["messages"] == {}
    assert client.get("/api/v1/i18n", params={"lang": "fr"}).status_code == 422
