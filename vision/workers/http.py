"""The worker's own small HTTP surface: liveness, readiness and its Prometheus metrics.

The API and dashboard are ``vision serve``'s job (stateless, reading the store); a worker only
answers whether it lives (``/healthz``), whether its leases are its own (``/readyz``: 503 while
the store is unreachable or its last renewal is older than a lease), and ``/metrics``.
"""

from __future__ import annotations

from fastapi import FastAPI, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from vision.workers.worker import Worker


def create_worker_app(worker: Worker) -> FastAPI:
    app = FastAPI(title="vision worker", docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    def readyz() -> JSONResponse:
        writer = worker.writer
        body = {
            "ready": worker.ready,
            "worker": worker.settings.worker_id,
            "store": "ok" if worker.state.store_ok else "unreachable",
            "cameras_held": sorted(worker.held),
            "spool_records": writer.backlog if writer is not None else 0,
        }
        return JSONResponse(body, status_code=200 if worker.ready else 503)

    @app.get("/metrics")
    def metrics() -> Response:
        return Response(generate_latest(worker.registry), media_type=CONTENT_TYPE_LATEST)

    return app
