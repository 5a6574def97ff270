"""The dashboard page as a browser shows it: the real app on a loopback port, rendered by headless Chromium."""

from __future__ import annotations

import os
import re
import shutil
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from browser_support import CHROMIUM, browse, console_problems, serve
from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from script_support import load_script

from vision.api import create_app
from vision.api.app import STATIC
from vision.config import VisionConfig
from vision.i18n import messages
from vision.outcome import Outcome
from vision.store import CameraReport, open_store
from vision.tracking import Observation
from vision.tracking.trip import Trip

vendor_web_assets = load_script("vendor_web_assets")
CONFIG = VisionConfig.model_validate(
    {
        "sites": [
            {"id": "harbour-gate", "name": "Harbour gate", "lat": 51.9225, "lon": 4.4792, "threshold": 0.75},
            {"id": "old-town-square", "name": "Old town square", "lat": 51.9190, "lon": 4.4870},
        ],
        "cameras": [
            {"id": "harbour-cam", "site": "harbour-gate", "source": "a.mp4", "category": "helmet", "model": "m.yaml"},
            {"id": "square-cam", "site": "old-town-square", "source": "b.mp4", "category": "mask", "model": "m.yaml"},
        ],
        "compliance": {"min_n": 25},  # the square's 20 are low n, the harbour's 50 are not: the API says which
    }
)


def observations(site: str, camera: str, category: str, outcomes: list[Outcome], start: datetime) -> list[Observation]:
    result = []
    for track, outcome in enumerate(outcomes):
        # Spread over days (7 h apart): the page's figures are the API's over the whole range, not one day's.
        ended = start + timedelta(hours=7 * track, seconds=20 * track)
        result.append(
            Observation(camera, site, category, track, ended - timedelta(seconds=4), ended, outcome, 9, 0.8, 1.0, 40.0)
        )
    return result


@pytest.fixture(scope="module")
def chromium() -> Path:
    if not CHROMIUM.is_file():
        pytest.skip(f"needs headless Chromium at {CHROMIUM} (Debian: apt-get install chromium)")
    return CHROMIUM


@pytest.fixture
def store(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'vision.db'}")
    store.sync_config(CONFIG)
    run = store.start_run("dashboard-test.yaml", "test")
    # Harbour gate: 40 of 50 decided compliant (80.0 %), 3 undetermined; the square: 12 of 20 (60.0 %, low n).
    harbour = [Outcome.COMPLIANT] * 4 + [Outcome.NON_COMPLIANT]
    harbour = harbour * 10 + [Outcome.UNDETERMINED] * 3
    square = [Outcome.COMPLIANT] * 3 + [Outcome.NON_COMPLIANT] * 2
    square = square * 4
    # The page reads the browser's clock, so the data is placed relative to now, when the test runs:
    # like the demo's replayed clips, 40 days back, outside every rolling window of "current".
    start = (datetime.now(UTC) - timedelta(days=40)).replace(hour=8, minute=0, second=0, microsecond=0)
    store.add_observations(run, observations("harbour-gate", "harbour-cam", "helmet", harbour, start))
    store.add_observations(run, observations("old-town-square", "square-cam", "mask", square, start))
    # The harbour's two-wheelers: 15 of 20 trips with every rider helmeted, 6 of 20 carrying a passenger.
    trips = []
    for index in range(20):
        ended = start + timedelta(hours=7 * index, seconds=30)
        riders, bare = (2 if index % 10 < 3 else 1), int(index % 4 == 3)
        trips.append(
            Trip(
                "harbour-cam",
                "harbour-gate",
                "helmet",
                index,
                ended - timedelta(seconds=5),
                ended,
                riders,
                riders - bare,
                bare,
                0,
            )
        )
    store.add_trips(run, trips)
    common = {"fps": 5.0, "frames_read": 900, "frames_processed": 450, "frames_dropped": 0}
    store.set_camera_status(
        "harbour-cam", CameraReport(state="up", reconnects=2, last_frame_wall_at=time.time() - 3, **common)
    )
    store.register_worker("worker-east", "box-1", 4242, capacity=4, version="test")
    store.lease_round("worker-east", ["harbour-cam"], 4, lease_s=60, claim=True)
    store.register_worker("worker-west", "box-2", 4343, capacity=4, version="test")
    store.worker_stopped("worker-west")
    store.set_camera_status(
        "square-cam",
        CameraReport(state="down", reconnects=5, last_frame_wall_at=time.time() - 600, last_error="EOF", **common),
    )
    yield store
    store.close()


@pytest.fixture
def dashboard_url(store):
    for url in serve(create_app(CONFIG, store)):
        with urllib.request.urlopen(f"{url}/healthz", timeout=5) as response:
            assert response.status == 200
        yield url


def test_the_page_loads_nothing_from_the_network():
    page = (STATIC / "index.html").read_text()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert not re.search(r"https?://", (STATIC / "dashboard.css").read_text())
    # The only absolute URL in our scripts is the SVG namespace, which is a name, not a request.
    urls = {url for script in STATIC.glob("*.js") for url in re.findall(r"https?://[^\s\"'`]+", script.read_text())}
    assert urls == {"http://www.w3.org/2000/svg"}
    # The libraries it loads are ours, vendored from npm and unchanged (scripts/vendor_web_assets.py).
    for library in re.findall(r"""(?:src|href)="/static/(vendor/[^"]+)""", page):
        assert (STATIC / library).is_file(), library
    assert vendor_web_assets.check() == []


def test_every_name_a_dashboard_module_imports_is_exported_where_it_says():
    """The dashboard's ES modules (no build step): a wrong import would only fail in the browser."""
    exports = {
        script.name: set(
            re.findall(r"^export (?:async function|function|const|let) ([\w$]+)", script.read_text(), re.M)
        )
        for script in STATIC.glob("*.js")
    }
    imports = 0
    for script in STATIC.glob("*.js"):
        for names, module in re.findall(r'^import \{ ([^}]+) \} from "\./([\w.]+)";', script.read_text(), re.M):
            for name in names.split(", "):
                assert name in exports[module], f"{script.name} imports {name} from {module}, which does not export it"
                imports += 1
    assert imports > 50


def test_dashboard_renders_sites_rates_map_and_trend(chromium, dashboard_url, tmp_path):
    result = browse(chromium, tmp_path / "profile", f"{dashboard_url}/", "--dump-dom")
    dom = result.stdout
    assert console_problems(result.stderr) == []
    assert "Harbour gate" in dom and "Old town square" in dom
    assert '<h1 id="page-title">Helmet wearing and mask wearing</h1>' in dom  # titles from /api/v1/categories
    assert "80.0 %" in dom and "60.0 %" in dom  # the rates, summed over the days with data
    assert "75.0 %" in dom and "passengers: 30.0 % [14.5, 51.9] of 20 trips" in dom  # per two-wheeler (unit=vehicle)
    assert "all data of the last 365 days" in dom  # nothing in the last 24 h: the caption says what is shown
    assert dom.count(">low n<") == 1  # the square's 20 decided observations are under min_n = 25
    assert "1 down" in dom and "10 min" in dom  # camera health: the square's camera is down, last frame 10 min ago
    # The map (no tile server configured: a plain background): both sites as pins, far enough apart at
    # the zoom that fits them not to be clustered, each coloured by its status against target.
    assert 'class="leaflet-container' in dom and "plain-map" in dom
    assert re.search(r'class="[^"]*site-pin ok', dom) and re.search(r'class="[^"]*site-pin below', dom)
    assert re.search(r'<svg[^>]*class="chart"', dom) and 'class="band"' in dom  # the trend with its interval band
    assert "/api/v1/compliance/series.csv?site=harbour-gate" in dom.replace("&amp;", "&")
    assert re.search(r'<div id="errors"[^>]*hidden', dom)  # no error shown
    workers = re.search(r'<section[^>]*id="workers-section"(?P<attrs>[^>]*)>.*?</section>', dom, re.S)
    assert workers is not None and "hidden" not in workers["attrs"]
    assert "worker-east (box-1)" in workers.group(0) and "1 / 4" in workers.group(0) and "alive" in workers.group(0)
    assert "worker-west (box-2)" in workers.group(0) and "stopped" in workers.group(0)

    shot = tmp_path / "dashboard.png"
    browse(chromium, tmp_path / "profile", f"{dashboard_url}/", f"--screenshot={shot}")
    assert shot.is_file() and shot.stat().st_size > 20_000
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # A developer who wants to look at the page sets VISION_SCREENSHOTS to a folder; the checkout is never written.
    if folder := os.environ.get("VISION_SCREENSHOTS"):
        Path(folder).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, Path(folder) / "dashboard.png")


def test_the_page_says_so_when_the_api_fails(chromium, tmp_path):
    # The page's files, served by an app without the API: every call answers 404.
    app = FastAPI()
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.get("/")(lambda: FileResponse(STATIC / "index.html"))
    for url in serve(app):
        dom = browse(chromium, tmp_path / "profile", f"{url}/", "--dump-dom").stdout
    errors = re.search(r'<div id="errors"[^>]*>(.*?)</div>', dom, re.S)
    assert errors is not None and "hidden" not in errors.group(0).split(">")[0]
    assert "/api/v1/sites answered 404" in errors.group(1)
    assert "/api/v1/categories answered 404" in errors.group(1)
    assert '<h1 id="page-title">Compliance</h1>' in dom  # the page itself still stands


def test_the_dashboard_speaks_the_browsers_language(chromium, dashboard_url, tmp_path):
    dom = browse(
        chromium, tmp_path / "profile", f"{dashboard_url}/", "--lang=zh-CN", "--accept-lang=zh-CN,zh", "--dump-dom"
    ).stdout
    assert '<html lang="zh-CN">' in dom
    assert '<h1 id="page-title">头盔佩戴和口罩佩戴</h1>' in dom  # category titles through the catalogue
    assert "80.0%" in dom and "最近 365 天的全部数据" in dom and "1 台离线" in dom
    assert "载人：20 车次中占 30.0% [14.5, 51.9]" in dom
    assert re.search(r'<div id="errors"[^>]*hidden', dom)
    # No message of the catalogue is left in English on the page (attributes and script aside).
    body = re.sub(r"<script.*?</script>|<[^>]+>", " ", dom.split("<body", 1)[1], flags=re.S)
    english = [m for m in messages("zh-CN") if len(m) > 3 and re.fullmatch(r"[A-Z][a-z ]+[a-z]", m)]
    assert english and [m for m in english if re.search(rf"(?<![\w-]){re.escape(m)}(?![\w-])", body)] == []
