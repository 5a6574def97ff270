"""The dashboard's map of every site in headless Chromium: over a tile server this test starts on loopback
(tiles drawn here), 300 sites clustered, a linked site's popup, a plain background with a GeoJSON overlay,
both languages, and a console with nothing to say."""

from __future__ import annotations

import json
import re
import threading
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import cv2
import numpy as np
import pytest
from browser_support import CHROMIUM, browse, console_problems, serve

from vision.api import create_app
from vision.api.app import content_security_policy
from vision.config import MapTiles, VisionConfig
from vision.errors import VisionError
from vision.outcome import Outcome
from vision.store import CameraReport, open_store
from vision.tracking import Observation

SITES = 300
CENTRE = (31.2304, 121.4737)  # a city of a few hundred posts


class TileServer:
    """Slippy-map tiles on loopback, each a 256 px PNG drawn on request; counts what it served."""

    def __init__(self) -> None:
        served: list[str] = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                match = re.fullmatch(r"/(\d+)/(\d+)/(\d+)\.png", self.path)
                if match is None:
                    self.send_error(404)
                    return
                tile = np.full((256, 256, 3), (214, 226, 232), np.uint8)
                cv2.rectangle(tile, (0, 0), (255, 255), (150, 160, 170), 1)
                cv2.putText(tile, "/".join(match.groups()), (20, 130), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (60, 60, 60), 1)
                body = cv2.imencode(".png", tile)[1].tobytes()
                served.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.served = served
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> TileServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def city_config(tiles_url: str | None, overlay: Path | None = None) -> VisionConfig:
    """SITES posts scattered over ~20 km around CENTRE, one helmet camera each."""
    rng = np.random.default_rng(7)
    offsets = rng.uniform(-0.1, 0.1, size=(SITES, 2))
    sites = [
        {"id": f"post-{i:03d}", "name": f"Post {i:03d}", "lat": CENTRE[0] + dy, "lon": CENTRE[1] + dx}
        for i, (dy, dx) in enumerate(offsets)
    ]
    cameras = [
        {"id": f"cam-{i:03d}", "site": f"post-{i:03d}", "source": "a.mp4", "category": "helmet", "model": "m.yaml"}
        for i in range(SITES)
    ]
    tiles = {"url": f"{tiles_url}/{{z}}/{{x}}/{{y}}.png", "attribution": "Test tiles (drawn by the test)"}
    map_settings = {"tiles": tiles if tiles_url else None, "overlay": str(overlay) if overlay else None}
    return VisionConfig.model_validate({"sites": sites, "cameras": cameras, "map": map_settings})


@pytest.fixture(scope="module")
def chromium() -> Path:
    if not CHROMIUM.is_file():
        pytest.skip(f"needs headless Chromium at {CHROMIUM} (Debian: apt-get install chromium)")
    return CHROMIUM


def city_store(path: Path, config: VisionConfig):
    """A store with the config synced and observations at the first posts: 3 below target, 2 on it."""
    store = open_store(f"sqlite:///{path}")
    store.sync_config(config)
    run = store.start_run("map-test.yaml", "test")
    start = datetime.now(UTC) - timedelta(minutes=30)
    observations = []
    for index in range(5):
        compliant = 50 if index < 2 else 20  # posts 0-1: 50 of 50; posts 2-4: 20 of 50 (below 90 %)
        outcomes = [Outcome.COMPLIANT] * compliant + [Outcome.NON_COMPLIANT] * (50 - compliant)
        for track, outcome in enumerate(outcomes):
            ended = start + timedelta(seconds=10 * track)
            site, camera = f"post-{index:03d}", f"cam-{index:03d}"
            observations.append(
                Observation(camera, site, "helmet", track, ended - timedelta(seconds=3), ended, outcome, 9, 0.8, 1, 40)
            )
    store.add_observations(run, observations)
    store.set_camera_status("cam-002", CameraReport(state="down", reconnects=3, last_error="EOF", fps=0.0))
    return store


@pytest.fixture
def city(tmp_path) -> Iterator[tuple[str, TileServer]]:
    with TileServer() as tiles:
        config = city_config(tiles.url)
        store = city_store(tmp_path / "city.db", config)
        try:
            for url in serve(create_app(config, store)):
                yield url, tiles
        finally:
            store.close()


def markers_shown(dom: str) -> tuple[int, list[int]]:
    """(single pins, the counts of the clusters) on the page."""
    pins = len(re.findall(r'<div[^>]*class="[^"]*site-pin[^"]*leaflet-marker-icon', dom))
    pins += len(re.findall(r'<div[^>]*class="[^"]*leaflet-marker-icon[^"]*site-pin', dom))
    clusters = [int(n) for n in re.findall(r'class="[^"]*site-cluster[^"]*"[^>]*><span>(\d+)</span>', dom)]
    return pins, clusters


@pytest.mark.parametrize(
    ("language", "args", "named"),
    [("en", [], "Map of 300 sites"), ("zh-CN", ["--lang=zh-CN", "--accept-lang=zh-CN,zh"], "300 个站点的地图")],
)
def test_the_map_shows_every_site_over_the_tile_server_clustered(chromium, city, tmp_path, language, args, named):
    url, tiles = city
    result = browse(chromium, tmp_path / "profile", f"{url}/", *args, "--dump-dom")
    dom = result.stdout
    assert f'<html lang="{language}">' in dom
    tile_images = re.findall(r'<img[^>]*class="leaflet-tile[^"]*"[^>]*src="([^"]+)"', dom)
    tile_images += re.findall(r'<img[^>]*src="([^"]+)"[^>]*class="leaflet-tile', dom)
    assert tile_images and all(src.startswith(tiles.url) for src in tile_images)
    assert tiles.served, "the browser fetched tiles from the tile server"
    assert "Test tiles (drawn by the test)" in dom  # the attribution the config gives
    pins, clusters = markers_shown(dom)
    assert clusters, "300 sites over 20 km at the zoom that fits them are grouped"
    assert pins + sum(clusters) == SITES, (pins, clusters)
    # Clusters take the colour of their worst site: three posts are below target.
    assert re.search(r'class="[^"]*site-cluster below', dom) or re.search(r'class="[^"]*site-pin below', dom)
    assert f'aria-label="{named}"' in dom
    assert re.search(r'<div id="errors"[^>]*hidden', dom)
    assert console_problems(result.stderr) == []


def test_a_linked_site_opens_its_popup_with_rate_cameras_trend_and_review(chromium, city, tmp_path):
    url, _ = city
    result = browse(chromium, tmp_path / "profile", f"{url}/?site=post-002", "--dump-dom")
    popup = re.search(r'<div class="site-popup" data-site="post-002">(.*?)</div>', result.stdout, re.S)
    assert popup is not None, "the linked site's popup is open"
    text = re.sub(r"<[^>]+>", " ", popup.group(1))
    assert "Post 002" in text and "40.0 %" in text and "n = 50" in text and "target 90 %" in text
    assert "Cameras: 0 up, 1 down" in text and "cam-002: down (EOF)" in text
    assert "Show trend" in text and 'href="/review?site=post-002"' in popup.group(1)
    assert console_problems(result.stderr) == []


def test_without_tiles_the_map_is_a_plain_background_with_the_overlay(chromium, tmp_path):
    district = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"name": "district"},
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [
                        [[121.36, 31.12], [121.58, 31.12], [121.58, 31.34], [121.36, 31.34], [121.36, 31.12]]
                    ],
                },
            }
        ],
    }
    overlay = tmp_path / "district.geojson"
    overlay.write_text(json.dumps(district))
    config = city_config(None, overlay)
    store = city_store(tmp_path / "plain.db", config)
    try:
        for url in serve(create_app(config, store)):
            with urllib.request.urlopen(f"{url}/api/v1/map", timeout=5) as response:
                assert json.loads(response.read()) == {"tiles": None, "overlay": district}
            result = browse(chromium, tmp_path / "profile", f"{url}/", "--dump-dom")
    finally:
        store.close()
    assert "plain-map" in result.stdout and not re.search(r"<img[^>]*leaflet-tile", result.stdout), "no tiles"
    assert re.search(r'<path[^>]*class="[^"]*map-overlay', result.stdout), "the district drawn over the background"
    pins, clusters = markers_shown(result.stdout)
    assert pins + sum(clusters) == SITES
    assert console_problems(result.stderr) == []


def test_the_page_may_load_images_from_the_tile_server_only():
    policy = content_security_policy(MapTiles(url="https://{s}.tiles.lan/{z}/{x}/{y}.png", attribution="Bureau"))
    images = re.search(r"img-src ([^;]+)", policy)
    assert images is not None
    assert images.group(1).split() == [
        "'self'",
        "data:",
        "https://a.tiles.lan",
        "https://b.tiles.lan",
        "https://c.tiles.lan",
    ]
    assert "connect-src 'self'" in policy and "script-src 'self'" in policy
    assert "tiles" not in content_security_policy(None)


def test_a_broken_overlay_stops_the_app_at_start_naming_the_file(tmp_path):
    broken = tmp_path / "roads.geojson"
    broken.write_text("{not json")
    store = open_store(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        with pytest.raises(VisionError, match=r"roads\.geojson: not a GeoJSON file"):
            create_app(city_config(None, broken), store)
        with pytest.raises(VisionError, match="GeoJSON file not found"):
            create_app(city_config(None, tmp_path / "nope.geojson"), store)
    finally:
        store.close()
