"""The FastAPI application factory. Everything it serves is read from the store."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, Response
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from vision import __version__
from vision.alerts import AlertNotifier
from vision.api import audit, compliance, ops, resources
from vision.api.context import ApiContext
from vision.clock import Clock, wall_clock
from vision.compliance.rates import RateService, RateSettings
from vision.config import MapTiles, VisionConfig, load_overlay
from vision.metrics import ComplianceCollector, WorkersCollector
from vision.store import Store

STATIC = Path(__file__).resolve().parent / "static"


def tile_hosts(tiles: MapTiles) -> list[str]:
    """The hosts a browser fetches the tiles of ``tiles`` from (``{s}`` expanded), as CSP sources."""
    parts = urlsplit(tiles.url.replace("{s}", "\0"))
    scheme = f"{parts.scheme}://" if parts.scheme else ""
    hosts = (
        [parts.netloc.replace("\0", letter) for letter in tiles.subdomains] if "\0" in parts.netloc else [parts.netloc]
    )
    return [f"{scheme}{host}" for host in dict.fromkeys(hosts)]


def content_security_policy(tiles: MapTiles | None) -> str:
    """The dashboard's policy: everything from the app itself, and images also from the tile server."""
    images = " ".join(["'self'", "data:", *(tile_hosts(tiles) if tiles is not None else [])])
    return f"default-src 'self'; script-src 'self'; style-src 'self'; img-src {images}; connect-src 'self'"


def create_app(
    config: VisionConfig,
    store: Store,
    registry: CollectorRegistry | None = None,
    rates: RateService | None = None,
    alerts: AlertNotifier | None = None,
    clock: Clock = wall_clock,
) -> FastAPI:
    """The API on ``store``; ``registry`` is what ``/metrics`` exposes (compliance figures are added to it).

    ``rates`` answers every rate question (default: the config's settings, no adjusted rates).
    """
    registry = registry if registry is not None else CollectorRegistry()
    rates = rates or RateService(store, RateSettings.from_config(config, errors={}))
    registry.register(ComplianceCollector(rates, config.api.rolling_window_minutes, clock))
    registry.register(WorkersCollector(store, config.workers.lease_ttl_s))
    app = FastAPI(
        title="vision",
        version=__version__,
        description="Helmet and mask compliance rates per site, with intervals, sample sizes and camera health.",
    )
    # A broken overlay file fails here, at start, naming the file (not on each page load).
    overlay = load_overlay(config.map.overlay) if config.map.overlay is not None else None
    app.state.context = ApiContext(store=store, config=config, rates=rates, clock=clock, map_overlay=overlay)
    app.state.alerts = alerts
    if config.api.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(config.api.cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type"],
        )
    app.include_router(resources.router)
    app.include_router(compliance.router)
    app.include_router(ops.router)
    app.include_router(audit.router)

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    if (STATIC / "index.html").is_file():
        app.mount("/static", StaticFiles(directory=STATIC), name="static")

        policy = content_security_policy(config.map.tiles)

        @app.get("/", include_in_schema=False)
        def dashboard() -> FileResponse:
            return FileResponse(STATIC / "index.html", headers={"Content-Security-Policy": policy})

        @app.get("/review", include_in_schema=False)
        def review_page() -> FileResponse:
            return FileResponse(STATIC / "review.html")

    return app
