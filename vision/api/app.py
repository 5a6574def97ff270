"""The FastAPI application factory. Everything it serves is read from the store."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, Response
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from vision import __version__
from vision.alerts import AlertNotifier
from vision.api import audit, compliance, ops, resources
from vision.api.context import ApiContext
from vision.compliance.clock import Clock, wall_clock
from vision.compliance.rates import RateService, RateSettings
from vision.config import VisionConfig
from vision.metrics import ComplianceCollector, WorkersCollector
from vision.store import Store

STATIC = Path(__file__).resolve().parent / "static"


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
    app.state.context = ApiContext(store=store, config=config, rates=rates, clock=clock)
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

        @app.get("/", include_in_schema=False)
        def dashboard() -> FileResponse:
            return FileResponse(STATIC / "index.html")

        @app.get("/review", include_in_schema=False)
        def review_page() -> FileResponse:
            return FileResponse(STATIC / "review.html")

    return app
