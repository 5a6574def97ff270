"""Languages: complete catalogues, Accept-Language, locale formats, and a report rendered in both languages."""

from __future__ import annotations

import re
import shutil
import subprocess
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from vision.compliance.rates import RateService, RateSettings
from vision.config import VisionConfig
from vision.i18n import LANGUAGES, Translator, extract_messages, messages, negotiate, untranslated
from vision.outcome import Outcome
from vision.reports.build import Period, build_report
from vision.reports.render import render_html, trend_chart
from vision.store import open_store
from vision.tracking import Observation

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
SHANGHAI = ZoneInfo("Asia/Shanghai")
CONFIG = VisionConfig.model_validate(
    {
        "timezone": "Asia/Shanghai",
        "language": "zh-CN",
        "sites": [{"id": "gate-6", "name": "六号门"}, {"id": "market", "name": "East market"}],
        "cameras": [
            {"id": "g", "site": "gate-6", "source": "g.mp4", "category": "helmet", "model": "m.yaml"},
            {"id": "m", "site": "market", "source": "m.mp4", "category": "mask", "model": "m.yaml"},
        ],
        "compliance": {"min_n": 5, "periods": {"morning_peak": "07:00-09:00", "evening_peak": "17:00-19:00"}},
    }
)
START = datetime(2026, 11, 2, tzinfo=SHANGHAI)


def test_every_marked_message_is_translated():
    wanted = {message for message, _ in extract_messages()}
    assert len(wanted) > 150  # the report, the dashboard script and its page
    for language in LANGUAGES[1:]:
        assert untranslated(language, wanted) == [], f"{language} lacks translations; run scripts/i18n_catalog.py"
        stale = set(messages(language)) - wanted
        assert not stale, f"{language} translates messages no longer used: {sorted(stale)[:5]}"


def test_translations_keep_their_placeholders():
    for message, translation in messages("zh-CN").items():
        assert set(re.findall(r"\{\w+\}", message)) == set(re.findall(r"\{\w+\}", translation)), message


def test_accept_language_picks_the_best_language_we_have():
    assert negotiate("zh-CN,zh;q=0.9,en;q=0.8", "en") == "zh-CN"
    assert negotiate("en-US,en;q=0.9", "zh-CN") == "en"
    assert negotiate("fr-FR,zh-Hans;q=0.5", "en") == "zh-CN"
    assert negotiate("zh-TW,en;q=0.5", "zh-CN") == "en"  # Traditional Chinese: no catalogue, next choice
    assert negotiate("de", "zh-CN") == "zh-CN"
    assert negotiate(None, "en") == "en"


def test_numbers_and_dates_follow_the_locale():
    moment = datetime(2026, 11, 2, 23, 30, tzinfo=UTC)
    chinese, english = Translator("zh-CN"), Translator("en")
    assert chinese.datetime_text(moment, SHANGHAI) == "2026年11月3日 07:30"
    assert english.datetime_text(moment, SHANGHAI) == "2026-11-03 07:30"
    assert chinese.percent(0.9543) == "95.4%" and english.number(12345) == "12,345"
    with pytest.raises(ValueError, match="expected one of en, zh-CN"):
        Translator("fr")


def _observation(hour: float, outcome: Outcome, site: str, camera: str, category: str, track: int) -> Observation:
    ended = START + timedelta(hours=hour)
    return Observation(camera, site, category, track, ended - timedelta(seconds=4), ended, outcome, 8, 0.8, 1.0, 30.0)


@pytest.fixture
def report_store(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'vision.db'}")
    store.sync_config(CONFIG)
    run = store.start_run("i18n.yaml", "test")
    observations = []
    for day in range(4):
        for index in range(12):  # 07:00-08:50 local: the morning peak; 7 of 12 compliant
            outcome = Outcome.COMPLIANT if index < 7 + day % 2 else Outcome.NON_COMPLIANT
            observations.append(
                _observation(24 * day + 7 + index / 6, outcome, "gate-6", "g", "helmet", 100 * day + index)
            )
        for index in range(6):  # 12:00 local: outside both peaks, all compliant
            observations.append(
                _observation(
                    24 * day + 12 + index / 6, Outcome.COMPLIANT, "gate-6", "g", "helmet", 50 + 100 * day + index
                )
            )
        observations.append(_observation(24 * day + 17.5, Outcome.NON_COMPLIANT, "market", "m", "mask", 99 + 100 * day))
    store.add_observations(run, observations)
    yield store
    store.close()


def _report(store, language: str):
    rates = RateService(store, RateSettings.from_config(CONFIG, errors={}))
    return build_report(store, CONFIG, Period(START, START + timedelta(days=4)), rates=rates, language=language)


def test_the_report_in_chinese_leaves_no_english_behind(report_store):
    html = render_html(_report(report_store, "zh-CN"))
    assert '<html lang="zh-CN">' in html and "合规报告" in html and "每日时段" in html
    text = re.sub(r"<[^>]+>|data:image/png;base64,[A-Za-z0-9+/=]+", " ", html)
    english = {m for m in messages("zh-CN") if len(m) > 3 and re.search(r"[a-z]{4}", m) and "{" not in m}
    left = sorted(m for m in english if m in text)
    assert left == [], f"untranslated in the zh-CN report: {left[:5]}"
    # Per-period rates counted by hand: 7 or 8 of 12 compliant each morning, in local (UTC+8) days.
    assert "58.3%" in html and "66.7%" in html  # 7/12 and 8/12, days 1 and 2 of the morning peak
    assert "2026-11-02" in html and "Asia/Shanghai" in html


def test_the_english_report_shows_local_times_and_periods(report_store):
    html = render_html(_report(report_store, "en"))
    assert '<html lang="en">' in html and "Daily periods" in html and "morning_peak" in html
    assert "2026-11-02 00:00 – 2026-11-06 00:00 Asia/Shanghai" in html


def _missing_glyph_warnings(report) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        trend_chart(report.sites[0], report)
    return [str(w.message) for w in caught if "missing from font" in str(w.message)]


def test_chinese_chart_text_has_its_glyphs(report_store):
    if (
        not shutil.which("fc-list")
        or not subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True).stdout
    ):
        pytest.skip("no CJK font installed (make test installs Debian's fonts-wqy-microhei)")
    report = _report(report_store, "zh-CN")
    assert _missing_glyph_warnings(report) == []


def test_the_chinese_report_renders_in_a_browser(report_store, tmp_path):
    if not CHROMIUM.is_file():
        pytest.skip(f"needs headless Chromium at {CHROMIUM} (Debian: apt-get install chromium)")
    page = tmp_path / "report.zh-CN.html"
    page.write_text(render_html(_report(report_store, "zh-CN")), encoding="utf-8")
    shot = tmp_path / "report.png"
    command = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--window-size=1200,1600",
        f"--screenshot={shot}",
        page.as_uri(),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 30_000
    (ROOT / "out").mkdir(exist_ok=True)
    shutil.copyfile(shot, ROOT / "out" / "report.zh-CN.png")
