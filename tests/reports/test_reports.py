"""`vision report` on a real SQLite store with observations at known times, and the two-proportion test."""

import argparse
import csv
import io
import math
import re
from datetime import UTC, datetime, timedelta

import pytest

from vision.compliance.rates import RateService, RateSettings
from vision.compliance.stats import two_proportion_test
from vision.config import load_config
from vision.errors import VisionError
from vision.outcome import Outcome
from vision.reports.build import Period, parse_time
from vision.reports.cli import add_report_parser
from vision.store import open_store
from vision.tracking import Observation
from vision.tracking.trip import Trip

T0 = datetime(2026, 11, 2, tzinfo=UTC)
DAY = timedelta(days=1)
FROM, TO = "2026-11-02T00:00:00Z", "2026-11-06T00:00:00Z"  # four UTC days

# (site, camera, category): per day, (compliant, non-compliant, undetermined).
DAYS = {
    ("north", "cam-north", "helmet"): [(31, 19, 2), (31, 19, 0), (35, 15, 1), (36, 14, 0)],  # 62/100 then 71/100
    ("market", "cam-market", "mask"): [(90, 10, 5), (90, 10, 0), (75, 25, 3), (75, 25, 0)],  # 180/200 then 150/200
    ("east", "cam-east", "helmet"): [(0, 0, 0), (0, 0, 0), (0, 0, 0), (5, 3, 2)],  # low sample, second half only
}
# North's heads that never rode a two-wheeler, per day: beside the rate, like undetermined.
NON_RIDERS = [0, 3, 0, 1]
# North, day 1: observation index -> (vehicle track, riders on it). Indices 0-30 are compliant, 31-49
# non-compliant, 50-51 undetermined: three decided passengers; one rode alone; an undetermined one is no passenger.
RIDES = {0: (1, 2), 1: (1, 2), 31: (2, 2), 32: (3, 1), 50: (4, 2)}


def write_config(tmp_path, models_dir, model_dir=None):
    helmet = (model_dir or models_dir) / "helmet.yaml"
    mask = (model_dir or models_dir) / "mask-two-stage.yaml"
    path = tmp_path / "sites.yaml"
    path.write_text(
        f"""
sites:
  - {{id: north, name: North gate}}
  - {{id: market, name: Central market}}
  - {{id: east, name: East road}}
  - {{id: quiet, name: Quiet corner}}
cameras:
  - {{id: cam-north, site: north, source: n.mp4, category: helmet, model: {helmet}}}
  - {{id: cam-market, site: market, source: m.mp4, category: mask, model: {mask}}}
  - {{id: cam-east, site: east, source: e.mp4, category: helmet, model: {helmet}}}
  - {{id: cam-quiet, site: quiet, source: q.mp4, category: helmet, model: {helmet}}}
compliance: {{confidence: 0.95, min_n: 30}}
store: {{url: "sqlite:///{tmp_path / "db" / "vision.db"}"}}
"""
    )
    return path


@pytest.fixture
def config_path(tmp_path, models_dir):
    path = write_config(tmp_path, models_dir)
    config = load_config(path)
    store = open_store(config.store.url)
    store.sync_config(config)
    run = store.start_run(path, "test")
    observations = []
    track = 0
    for (site, camera, category), days in DAYS.items():
        for day, counts in enumerate(days):
            outcomes = [Outcome.COMPLIANT] * counts[0] + [Outcome.NON_COMPLIANT] * counts[1]
            outcomes += [Outcome.UNDETERMINED] * counts[2]
            if site == "north":
                outcomes += [Outcome.NON_RIDER] * NON_RIDERS[day]
            for index, outcome in enumerate(outcomes):  # spread over the day's hours
                ended = T0 + day * DAY + timedelta(minutes=7 + 11 * index)
                track += 1
                vehicle, riders = RIDES.get(index, (None, None)) if (site, day) == ("north", 0) else (None, None)
                observations.append(
                    Observation(
                        camera,
                        site,
                        category,
                        track,
                        ended - timedelta(seconds=4),
                        ended,
                        outcome,
                        9,
                        0.8,
                        1.0,
                        50,
                        vehicle_track_id=vehicle,
                        riders_on_vehicle=riders,
                    )
                )
    # Just outside the period: the day before, and the excluded end.
    for ended in (T0 - timedelta(seconds=1), T0 + 4 * DAY):
        track += 1
        observations.append(
            Observation("cam-north", "north", "helmet", track, ended, ended, Outcome.NON_COMPLIANT, 9, 0.8, 1.0, 50)
        )
    store.add_observations(run, observations)
    # North's two-wheelers on day 2: three trips, one carrying a bare-headed passenger.
    trips = [(2, 2, 0), (1, 1, 0), (2, 1, 1)]
    store.add_trips(
        run,
        [
            Trip("cam-north", "north", "helmet", 70 + i, T0 + DAY + timedelta(hours=9, minutes=i),
                 T0 + DAY + timedelta(hours=9, minutes=i, seconds=8), riders, compliant, bare, 0)
            for i, (riders, compliant, bare) in enumerate(trips)
        ],
    )  # fmt: skip
    up = store.camera_up(run, "cam-north", T0 + timedelta(hours=6))
    store.camera_down(up, T0 + timedelta(hours=8, minutes=30), "stream ended")
    store.close()
    return path


def run_report(*argv):
    parser = argparse.ArgumentParser(prog="vision")
    add_report_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["report", *map(str, argv)])
    return args.handler(args)


def period_points(config_path, start=T0, end=T0 + 4 * DAY, bucket=None):
    config = load_config(config_path)
    store = open_store(config.store.url)
    try:
        return RateService(store, RateSettings(confidence=0.95, min_n=30)).rates(start, end, bucket)
    finally:
        store.close()


def test_html_report_is_self_contained_and_agrees_with_the_rate_service(config_path, tmp_path, capsys):
    out = tmp_path / "report.html"
    assert run_report(config_path, "--from", FROM, "--to", TO, "--out", out, "-q") == 0
    assert f"wrote {out}" in capsys.readouterr().out
    html = out.read_text()
    for name in ("North gate", "Central market", "East road", "Quiet corner"):
        assert name in html
    assert html.count('src="data:image/png;base64,') >= 3  # a trend per site with data, and rankings
    assert "http://" not in html and "https://" not in html and 'src="http' not in html
    assert "<script" not in html and "<link" not in html

    points = {p.site_id: p for p in period_points(config_path)}
    assert set(points) == {"north", "market", "east"}
    assert (points["north"].compliant, points["north"].non_compliant, points["north"].undetermined) == (133, 67, 3)
    assert (points["north"].non_rider, points["north"].passengers, points["north"].n) == (4, 3, 200)
    assert "<th>undetermined</th><th>non-rider</th><th>passengers</th>" in html
    assert "<td>133</td><td>67</td><td>3</td><td>4</td><td>3</td>" in html  # north's counts in the site table
    # Per two-wheeler: north's three trips, two with every rider helmeted, two carrying a passenger.
    vehicles = html.split("<h2>Per two-wheeler</h2>", 1)[1].split("<h2>", 1)[0]
    assert "<th>trips</th><th>every rider compliant</th><th>carrying passengers</th>" in vehicles
    assert '<td>3</td><td class="flag">66.7%' in vehicles and "n=3" in vehicles and ", 2/3</small>" in vehicles
    assert "East" not in vehicles, "a site without trips has no per-vehicle row"
    for point in points.values():
        row = f"<td>{point.estimate.rate:.1%}</td><td>{point.estimate.low * 100:.1f}–{point.estimate.high * 100:.1f}%"
        assert row + f"</td><td>{point.n}</td><td>{point.compliant}</td><td>{point.non_compliant}</td>" in html
    assert "<td>2:30</td>" in html  # the north camera's 2.5 h of frames
    assert "low sample" in html  # east: 8 decided observations
    assert 'Quiet corner<br><small>quiet</small></td><td class="text">Helmet wearing</td>' in html
    assert "no observations in this period" in html

    # Halves of the period: days 1-2 against days 3-4; CI and p as in test_two_proportion_test_matches_scipy.
    assert (
        "Helmet wearing at North gate rose from 62% to 71% (+9 points, 95% CI -4 to +22); "
        "the difference is within what chance alone produces (p = 0.18)."
    ) in html
    assert (
        "Mask wearing at Central market fell from 90% to 75% (-15 points, 95% CI -22 to -8); "
        "a change this large would be unlikely by chance (p &lt; 0.001)."
    ) in html
    assert "Helmet wearing at East road cannot be compared: the first period has no decided observations." in html
    # North (66.5 %, n=200) and East (62.5 %, n=8) overlap: the helmet ranking is not significant.
    assert "All sites' intervals overlap, so this ranking is not significant" in html
    # Adjusted rates come from the models' measured sensitivity and specificity.
    config = load_config(config_path)
    from vision.compliance.rates import detector_errors

    errors = detector_errors(config)
    assert set(errors) == {"helmet", "mask"}
    store = open_store(config.store.url)
    (adjusted,) = RateService(store, RateSettings(detector_errors=errors)).rates(T0, T0 + 4 * DAY, site_id="market")
    store.close()
    assert f"{adjusted.adjusted.rate:.1%}<br><small>" in html


def test_csv_has_a_row_per_site_and_day_and_adds_up(config_path, tmp_path):
    out = tmp_path / "report.csv"
    assert run_report(config_path, "--from", FROM, "--to", TO, "--format", "csv", "--out", out, "-q") == 0
    every = list(csv.DictReader(io.StringIO(out.read_text())))
    rows = [row for row in every if row["unit"] == "person"]
    (vehicles,) = [row for row in every if row["unit"] == "vehicle"]  # north's trips, over the whole period
    assert (vehicles["site_id"], vehicles["bucket"], vehicles["compliant"], vehicles["non_compliant"]) == (
        "north",
        "range",
        "2",
        "1",
    )
    assert vehicles["passengers"] == "2" and float(vehicles["passenger_rate"]) == pytest.approx(2 / 3)
    assert [(r["site_id"], r["start"][:10]) for r in rows if r["site_id"] == "north"] == [
        ("north", f"2026-11-0{day}") for day in (2, 3, 4, 5)
    ]
    assert len(rows) == 4 + 4 + 1  # east has observations on one day only; quiet has none
    for (site, _camera, _category), days in DAYS.items():
        site_rows = [r for r in rows if r["site_id"] == site]
        for column, index in (("compliant", 0), ("non_compliant", 1), ("undetermined", 2)):
            assert sum(int(r[column]) for r in site_rows) == sum(day[index] for day in days)
        assert sum(int(r["non_rider"]) for r in site_rows) == (sum(NON_RIDERS) if site == "north" else 0)
    north = [r for r in rows if r["site_id"] == "north"]
    assert [int(r["passengers"]) for r in north] == [3, 0, 0, 0]
    assert [int(r["non_rider"]) for r in north] == NON_RIDERS
    for row in rows:
        start, end = datetime.fromisoformat(row["start"]), datetime.fromisoformat(row["end"])
        assert start.utcoffset() == timedelta(0) and end - start == DAY
        assert int(row["n"]) == int(row["compliant"]) + int(row["non_compliant"])
        assert float(row["rate"]) == pytest.approx(int(row["compliant"]) / int(row["n"]), abs=1e-6)
        assert float(row["low"]) <= float(row["rate"]) <= float(row["high"])
        assert row["adjusted_rate"] != ""
    east = next(r for r in rows if r["site_id"] == "east")
    assert east["low_sample"] == "true" and east["n"] == "8"
    daily = period_points(config_path, bucket="day")
    assert [(p.site_id, p.compliant, p.non_compliant) for p in daily] == [
        (r["site_id"], int(r["compliant"]), int(r["non_compliant"])) for r in sorted(rows, key=lambda r: r["site_id"])
    ]


def test_the_report_and_the_api_write_a_rate_alike(config_path, tmp_path):
    """One serialiser (vision/compliance/rows.py): the same day of the same site reads the same in both CSVs."""
    from fastapi.testclient import TestClient

    from vision.api import create_app
    from vision.compliance.rows import RATE_FIELDS
    from vision.store import open_store

    out = tmp_path / "report.csv"
    assert run_report(config_path, "--from", FROM, "--to", TO, "--format", "csv", "--out", out, "-q") == 0
    rows = csv.DictReader(io.StringIO(out.read_text()))
    report = {(r["site_id"], r["start"]): r for r in rows if not r["period"] and r["unit"] == "person"}
    config = load_config(config_path)
    store = open_store(config.store.url)
    try:
        answer = TestClient(create_app(config, store)).get(
            "/api/v1/compliance/series.csv", params={"from": FROM, "to": TO, "bucket": "day"}
        )
    finally:
        store.close()
    api = {(r["site_id"], r["start"]): r for r in csv.DictReader(io.StringIO(answer.text))}
    assert api.keys() == report.keys() and len(api) == 9
    for key, row in api.items():
        # adjusted_*: the report's rate service reads the model cards, the API's here does not.
        shared = [f for f in RATE_FIELDS if not f.startswith("adjusted")]
        assert {f: row[f] for f in shared} == {f: report[key][f] for f in shared}, key
    assert {row["low_sample"] for row in api.values()} == {"true", "false"}


def test_site_category_hour_filters_and_missing_model_specs(config_path, tmp_path, capsys):
    # The same store through a config whose model specs are not on this machine: no adjusted rates, a warning.
    (tmp_path / "elsewhere").mkdir()
    other = write_config(tmp_path / "elsewhere", tmp_path, model_dir=tmp_path / "no-models")
    config = load_config(config_path)
    out = tmp_path / "north.csv"
    argv = ["--from", FROM, "--to", "2026-11-03T00:00:00+00:00", "--site", "north", "--category", "helmet"]
    argv += ["--bucket", "hour", "--format", "csv", "--out", out, "--store", config.store.url, "-q"]
    assert run_report(other, *argv) == 0
    assert "Adjusted rates are left out" in capsys.readouterr().err
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert {r["site_id"] for r in rows} == {"north"} and {r["bucket"] for r in rows} == {"hour"}
    assert sum(int(r["compliant"]) + int(r["non_compliant"]) + int(r["undetermined"]) for r in rows) == 52
    assert all(r["adjusted_rate"] == "" for r in rows)
    assert next(r for r in rows if r["start"].startswith("2026-11-02T06:"))["coverage_s"] == "3600.0"


def test_given_comparison_period_is_before_when_earlier(config_path, tmp_path):
    out = tmp_path / "compare.html"
    argv = ["--from", "2026-11-05T00:00:00Z", "--to", TO, "--compare-from", FROM, "--compare-to", "2026-11-03T00:00Z"]
    assert run_report(config_path, *argv, "--category", "helmet", "--site", "north", "--out", out, "-q") == 0
    html = out.read_text()
    # Day 1 (31/50) against day 4 (36/50).
    comparison = two_proportion_test(31, 50, 36, 50)
    assert f"(p = {comparison.p_value:.2f})" in html
    assert "Helmet wearing at North gate rose from 62% to 72% (+10 points" in html
    assert "Central market" not in html


def test_an_empty_period_writes_a_report_that_says_so(config_path, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert run_report(config_path, "--from", "2027-01-01T00:00:00+01:00", "--to", "2027-01-02T00:00:00+01:00") == 0
    assert "warning: no observations" in capsys.readouterr().err
    html = (tmp_path / "out" / "report-20261231T230000Z-20270101T230000Z.html").read_text()
    assert "No observations in this period." in html


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--from", "2026-11-02T00:00:00", "--to", TO], "--from '2026-11-02T00:00:00': needs a time zone"),
        (["--from", FROM, "--to", "2026-11-06"], "--to '2026-11-06': needs a time zone"),
        (["--from", "yesterday", "--to", TO], "not an ISO 8601 time"),
        (["--from", TO, "--to", FROM], "is not before --to"),
        (["--from", FROM, "--to", TO, "--compare-from", FROM], "--compare-from and --compare-to go together"),
        (["--from", FROM, "--to", TO, "--compare-from", FROM, "--compare-to", "2026-11-03"], "needs a time zone"),
        (["--from", FROM, "--to", TO, "--site", "nowhere"], "unknown site(s) ['nowhere']"),
    ],
)
def test_bad_arguments_are_clear_errors(config_path, tmp_path, argv, message):
    with pytest.raises(VisionError, match=re.escape(message)):
        run_report(config_path, *argv, "--out", tmp_path / "x.html", "-q")


def test_a_missing_store_file_is_not_created(tmp_path, models_dir):
    path = write_config(tmp_path, models_dir)
    with pytest.raises(VisionError, match="no such database file"):
        run_report(path, "--from", FROM, "--to", TO, "-q")
    assert not (tmp_path / "db" / "vision.db").exists()


def test_parse_time_keeps_the_zone_and_period_rejects_empty_ranges():
    assert parse_time("2026-11-02T08:00:00+01:00", "--from") == T0 + timedelta(hours=7)
    with pytest.raises(VisionError, match="start must be before the end"):
        Period(T0, T0)


@pytest.mark.parametrize(
    ("x1", "n1", "x2", "n2", "low", "high", "p_value"),
    [
        # References from scipy 1.17.1: low/high = Newcombe's hybrid score interval of p2 - p1 built from
        # scipy.stats.binomtest(x, n).proportion_ci(0.95, method="wilson") of each side,
        #   d - sqrt((p2 - l2)^2 + (u1 - p1)^2), d + sqrt((u2 - p2)^2 + (p1 - l1)^2);
        # p = scipy.stats.chi2_contingency([[x1, n1 - x1], [x2, n2 - x2]], correction=False).pvalue,
        # which equals the pooled two-proportion z-test.
        (62, 100, 71, 100, -0.0404773, 0.2163375, 0.1775542),
        (31, 50, 45, 60, -0.0423181, 0.2963979, 0.1418032),
        (180, 200, 150, 200, -0.2229265, -0.0761288, 7.890224e-05),
        (5, 12, 9, 11, 0.0056327, 0.6602191, 0.04873378),
        (40, 40, 38, 40, -0.1650388, 0.0447971, 0.1520781),
        (120, 400, 160, 410, 0.0247449, 0.1545965, 0.006933742),
    ],
)
def test_two_proportion_test_matches_scipy(x1, n1, x2, n2, low, high, p_value):
    result = two_proportion_test(x1, n1, x2, n2)
    assert result.difference == pytest.approx(x2 / n2 - x1 / n1)
    assert (result.low, result.high) == pytest.approx((low, high), abs=1e-6)
    assert result.p_value == pytest.approx(p_value, rel=1e-5)
    assert math.copysign(1, result.z) == math.copysign(1, result.difference)


def test_two_proportion_test_edge_cases():
    assert two_proportion_test(0, 0, 5, 10).p_value is None
    same = two_proportion_test(20, 20, 30, 30)  # all compliant twice: no evidence of change
    assert (same.difference, same.z, same.p_value) == (0.0, 0.0, 1.0)
    assert same.low < 0 < same.high
    wider = two_proportion_test(62, 100, 71, 100, confidence=0.99)
    assert wider.low < -0.0404773 and wider.high > 0.2163375
