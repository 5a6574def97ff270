"""Evidence through the real pipeline, store and API: one crop per observation, retention, a broken disk, audits."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime
from pathlib import Path

import cv2
import pytest
import yaml
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry

from spec_support import write_helmet_spec
from vision.api import create_app
from vision.compliance.rates import RateService
from vision.compliance.stats import lang_reiczigel, wilson_interval
from vision.config import load_config
from vision.outcome import ValidationCounts
from vision.pipeline import Pipeline
from vision.store import open_store

ROOT = Path(__file__).resolve().parents[2]

CLIP = ROOT / "tests" / "data" / "clips" / "helmet5.mp4"
TOKEN = "evidence-token-0123456789"
WHOLE_RANGE = (datetime(1970, 1, 2, tzinfo=UTC), datetime(2200, 1, 1, tzinfo=UTC))


def run(tmp_path: Path, **evidence) -> tuple:
    spec = write_helmet_spec(tmp_path, 480)
    config = {
        "sites": [{"id": "gate", "name": "Gate", "timezone": "Asia/Shanghai"}],
        "cameras": [
            {
                "id": "cam",
                "site": "gate",
                "source": str(CLIP),
                "category": "helmet",
                "model": str(spec),
                "detect_fps": 5,
                "riders_only": False,
                "start_time": "2026-11-02T07:30:00+08:00",
            }
        ],
        "tracking": {"max_age_s": 0.5, "min_frames": 3, "min_size_px": 12},
        "store": {"url": f"sqlite:///{tmp_path / 'vision.db'}"},
        "evidence": evidence,
        "api": {"token": TOKEN},
        "compliance": {"min_audit_marks": 4},
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    loaded = load_config(path)
    store = open_store(loaded.store.url)
    registry = CollectorRegistry()
    Pipeline(loaded, store, path, registry=registry, progress=False).run(threading.Event())
    return loaded, store, registry


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("evidence")
    config, store, registry = run(tmp_path, max_total_mb=50)
    yield config, store, registry, tmp_path
    store.close()


def test_every_observation_keeps_one_crop_and_one_snapshot(demo):
    config, store, registry, tmp_path = demo
    rows = store.observations(limit=1000)
    assert len(rows) >= 4
    evidence = store.evidence_of([row.obs_key for row in rows])
    assert set(evidence) == {row.obs_key for row in rows}
    folder = config.evidence.evidence_folder(config.store.url)
    assert folder == tmp_path / "vision.db.evidence"
    for row in rows:
        kept = evidence[row.obs_key]
        crop = cv2.imread(str(folder / kept.crop_path))
        snapshot = cv2.imread(str(folder / kept.snapshot_path))
        assert crop is not None and snapshot is not None and crop.shape[0] >= row.max_size_px
        assert snapshot.shape[1] == 640  # the clip's width: no wider than the frame
        assert kept.crop_path.startswith("gate/2026-11-")
    assert registry.get_sample_value("vision_evidence_written_total") == len(rows)


def test_pixels_need_the_token_and_counts_do_not(demo):
    config, store, _, _ = demo
    client = TestClient(create_app(config, store))
    first = store.observations(limit=1)[0]
    assert client.get(f"/api/v1/observations/{first.id}/crop.jpg").status_code == 401
    assert client.get(f"/api/v1/observations/{first.id}/snapshot.jpg").status_code == 401
    answer = client.get(f"/api/v1/observations/{first.id}/crop.jpg", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200 and answer.headers["content-type"] == "image/jpeg"
    assert cv2.imdecode(__import__("numpy").frombuffer(answer.content, "uint8"), cv2.IMREAD_COLOR) is not None
    page = client.get("/api/v1/review", params={"site": "gate"}).json()  # open: no pixels in it
    assert {item["evidence"] for item in page["items"]} == {"kept"}
    assert (
        client.get("/api/v1/observations/999999/crop.jpg", headers={"Authorization": f"Bearer {TOKEN}"}).status_code
        == 404
    )


def test_a_small_size_limit_removes_the_oldest_pixels_and_keeps_every_count(tmp_path):
    (tmp_path / "a").mkdir()
    config, store, _ = run(tmp_path / "a", max_total_mb=0.02, sweep_every_s=1)  # 20 kB: a few crops
    try:
        rows = store.observations(limit=1000)
        before = RateService.from_config(store, config, errors={}).rates(*WHOLE_RANGE)
        from vision.evidence.writer import EvidenceWriter, Retention
        from vision.store.writer import StoreWriter

        writer = StoreWriter(store, config.store.spool_folder())
        evidence = EvidenceWriter(
            config.evidence.evidence_folder(config.store.url),
            writer.evidence_kept,
            retention=Retention(None, 20_000, 1),
            on_deleted=writer.evidence_gone,
        )
        by_age, by_size = evidence.sweep()
        writer.close()
        kept, deleted, kept_bytes = store.evidence_totals()
        assert by_size and not by_age and kept_bytes <= 20_000
        assert kept + deleted == len(rows) and deleted >= len(by_size)
        # The oldest went first: every deleted observation ended no later than every kept one.
        found = store.evidence_of([row.obs_key for row in rows])
        ended = {row.obs_key: row.ended_at for row in rows}
        gone = [ended[k] for k, e in found.items() if e.deleted_at is not None]
        left = [ended[k] for k, e in found.items() if e.deleted_at is None]
        assert not left or max(gone) <= min(left) + 1.0
        after = RateService.from_config(store, config, errors={}).rates(*WHOLE_RANGE)
        assert [(p.compliant, p.non_compliant, p.undetermined) for p in after] == [
            (p.compliant, p.non_compliant, p.undetermined) for p in before
        ]
        client = TestClient(create_app(config, store))
        row = next(r for r in rows if found[r.obs_key].deleted_at is not None)
        answer = client.get(f"/api/v1/observations/{row.id}/crop.jpg", headers={"Authorization": f"Bearer {TOKEN}"})
        assert answer.status_code == 410 and "counts are kept" in answer.json()["detail"]
    finally:
        store.close()


def test_an_unwritable_evidence_folder_loses_no_observation(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the folder should be")
    _, store, registry = run(tmp_path, folder=str(blocker / "evidence"))
    try:
        rows = store.observations(limit=1000)
        assert len(rows) >= 4  # counted as without the evidence
        assert store.evidence_of([row.obs_key for row in rows]) == {}
        assert registry.get_sample_value("vision_evidence_dropped_total", {"reason": "disk_error"}) == len(rows)
    finally:
        store.close()


def test_audit_marks_move_the_adjusted_rate_as_the_formula_says(demo):
    config, store, _, _ = demo
    client = TestClient(create_app(config, store))
    auth = {"Authorization": f"Bearer {TOKEN}"}
    body = {"site": "gate", "category": "helmet", "from": "2026-11-01T00:00:00Z", "to": "2026-11-03T00:00:00Z"}
    assert client.post("/api/v1/audit/samples", json={**body, "size": 50}).status_code == 401
    sample = client.post("/api/v1/audit/samples", json={**body, "size": 50, "seed": 3}, headers=auth).json()
    decided = [r for r in store.observations(limit=1000) if r.outcome in ("compliant", "non_compliant")]
    assert sorted(sample["observation_ids"]) == sorted(r.id for r in decided)  # fewer than asked: all of them
    again = client.post("/api/v1/audit/samples", json={**body, "size": 2, "seed": 3}, headers=auth).json()
    assert (
        again["observation_ids"]
        == client.post("/api/v1/audit/samples", json={**body, "size": 2, "seed": 3}, headers=auth).json()[
            "observation_ids"
        ]
    )  # the seed draws the same

    (before,) = RateService.from_config(store, config, errors={}).rates(*WHOLE_RANGE, site_id="gate")
    assert before.adjusted is None and before.adjusted_source is None
    by_id = {r.id: r for r in decided}
    marks = {}
    for index, observation_id in enumerate(sample["observation_ids"]):
        mark = "wrong" if index == 0 else "correct"  # the analyst finds one verdict wrong
        marks[observation_id] = mark
        assert client.put(f"/api/v1/audit/marks/{observation_id}", json={"mark": mark}, headers=auth).status_code == 200
    (after,) = RateService.from_config(store, config, errors={}).rates(*WHOLE_RANGE, site_id="gate")
    # By hand: the 2x2 table the marks imply, and Lang & Reiczigel on it.
    truth = {
        i: by_id[i].outcome
        if m == "correct"
        else ("compliant" if by_id[i].outcome == "non_compliant" else "non_compliant")
        for i, m in marks.items()
    }
    table = ValidationCounts(
        judged_non_compliant=sum(1 for i in marks if truth[i] == by_id[i].outcome == "non_compliant"),
        truly_non_compliant=sum(1 for i in marks if truth[i] == "non_compliant"),
        judged_compliant=sum(1 for i in marks if truth[i] == by_id[i].outcome == "compliant"),
        truly_compliant=sum(1 for i in marks if truth[i] == "compliant"),
    )
    # One verdict marked wrong among two or more: both true outcomes occur, whatever the clip's verdicts.
    assert len(marks) >= 2 and table.truly_compliant and table.truly_non_compliant, table
    expected = lang_reiczigel(wilson_interval(after.compliant, after.n), table)
    assert after.adjusted_source == "audit"
    assert (after.adjusted.rate, after.adjusted.low, after.adjusted.high) == pytest.approx(
        (expected.rate, expected.low, expected.high)
    )
    summary = client.get("/api/v1/audit/summary", params={"site": "gate", "category": "helmet"}).json()
    assert summary["marked"] == len(marks) and summary["used_for_rates"]


def test_the_report_shows_the_audit_and_example_crops(demo):
    from vision.reports.build import Period, build_report
    from vision.reports.render import render_html

    config, store, _, _ = demo
    decided = [r for r in store.observations(limit=1000) if r.outcome in ("compliant", "non_compliant")]
    if not store.audit_counts("gate", "helmet").marked:  # run alone: mark as the audit test does
        for index, row in enumerate(decided):
            store.set_mark(row.id, "wrong" if index == 0 else "correct")
    rates = RateService.from_config(store, config, errors={})
    period = Period(datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 3, tzinfo=UTC))
    report = build_report(store, config, period, rates=rates)
    (site,) = report.sites
    assert site.audit is not None and site.audit.counts.marked == store.audit_counts("gate", "helmet").marked
    shown = sum(len(paths) for paths in site.audit.examples.values())
    assert 1 <= shown <= 6
    html = render_html(report)
    assert "Audit and evidence" in html and "observations audited" in html
    assert html.count('<img class="crop"') == shown
    assert site.audit.source == "audit", "every decided observation is marked: the audit adjusts the rate"
    assert "audit (Lang &amp; Reiczigel interval)" in html


def test_the_review_page_shows_crops_with_the_token_and_marks(demo, tmp_path):
    from browser_support import CHROMIUM, browse, serve

    if not CHROMIUM.is_file():
        pytest.skip(f"needs headless Chromium at {CHROMIUM} (Debian: apt-get install chromium)")
    config, store, _, _ = demo
    rows = store.observations(limit=1000)
    for url in serve(create_app(config, store)):
        without = browse(CHROMIUM, tmp_path / "a", f"{url}/review?site=gate", "--dump-dom").stdout
        assert without.count('class="review-item"') == len(rows)
        # Times as the gate's clock showed them (07:30 in Shanghai), whatever the browser's zone.
        assert re.search(r"Nov 2, 2026, 7:30:\d\d\s?AM \(Asia/Shanghai\)", without), "the site's local time"
        assert "the token shows the crop" in without and 'src="blob:' not in without
        with_token = browse(CHROMIUM, tmp_path / "b", f"{url}/review?site=gate#token={TOKEN}", "--dump-dom").stdout
        assert with_token.count('src="blob:') == len(rows)  # every crop fetched with the token
        assert 'data-mark="correct"' in with_token and "marked" in with_token  # earlier marks are shown
        assert TOKEN not in with_token.split("<body")[1]  # the token left the page
        chinese = browse(
            CHROMIUM, tmp_path / "c", f"{url}/review?site=gate", "--accept-lang=zh-CN", "--dump-dom"
        ).stdout
        assert ">复核与核查</h1>" in chinese and ">Review and audit<" not in chinese
        assert re.search(r"2026年11月2日 07:30:\d\d \(Asia/Shanghai\)", chinese), "and in the page's language"


def test_bad_review_requests_are_named(demo):
    config, store, _, _ = demo
    client = TestClient(create_app(config, store))
    auth = {"Authorization": f"Bearer {TOKEN}"}
    assert "unknown site 'nowhere' (known: gate)" in client.get("/api/v1/review", params={"site": "nowhere"}).text
    body = {"site": "gate", "category": "helmet", "from": "2026-11-02T00:00:00", "to": "2026-11-03T00:00:00Z"}
    answer = client.post("/api/v1/audit/samples", json=body, headers=auth)
    assert answer.status_code == 422 and "no time zone" in answer.text
    answer = client.post(
        "/api/v1/audit/samples", json={**body, "from": "2026-11-02T00:00:00Z", "period": "x"}, headers=auth
    )
    assert answer.status_code == 422 and "unknown period 'x'" in answer.text
    answer = client.post(
        "/api/v1/audit/samples", json={**body, "from": "2026-11-02T00:00:00Z", "category": "seatbelt"}, headers=auth
    )
    assert answer.status_code == 422 and "'helmet', 'mask' or 'phone'" in answer.text
    first = store.observations(limit=1)[0]
    answer = client.put(f"/api/v1/audit/marks/{first.id}", json={"mark": "maybe"}, headers=auth)
    assert answer.status_code == 422
