"""Liveness, readiness and a token-protected alert test."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from vision.api import schemas
from vision.api.context import Context, require_token
from vision.api.resources import list_cameras
from vision.errors import VisionError

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=schemas.Health)
def healthz() -> schemas.Health:
    """Liveness: the process answers."""
    return schemas.Health(status="ok")


@router.get("/readyz", response_model=schemas.Readiness, responses={503: {"model": schemas.Readiness}})
def readyz(ctx: Context) -> JSONResponse:
    """Ready when the store answers; cameras that deliver nothing are listed in ``problems``.

    Cameras do not gate it: serving replicas read the store, so a site whose cameras are all down
    must still be shown (and alerted on), not taken out of the load balancer.
    """
    problems = []
    try:
        ctx.store.ping()
        store_state = "ok"
    except VisionError as error:
        store_state = "unreachable"
        problems.append(str(error))
        cameras = []
    else:
        cameras = list_cameras(ctx)
    working = [c for c in cameras if c.health.state in ("up", "finished")]
    problems += [
        f"camera {c.id}: {c.health.state}" + (f" ({c.health.last_error})" if c.health.last_error else "")
        for c in cameras
        if c.health.state not in ("up", "finished")
    ]
    ready = store_state == "ok"
    body = schemas.Readiness(
        ready=ready, store=store_state, cameras_up=len(working), cameras=len(cameras), problems=problems
    )
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)


@router.post("/api/v1/alerts/test", response_model=schemas.AlertSent, dependencies=[Depends(require_token)])
def send_test_alert(request: Request) -> schemas.AlertSent:
    """Send a test message to the configured webhook (needs the bearer token)."""
    alerts = getattr(request.app.state, "alerts", None)
    if alerts is None:
        return schemas.AlertSent(sent=False, detail="no alerts.webhook_url configured")
    ok, detail = alerts.send({"kind": "test", "message": "vision test alert"})
    return schemas.AlertSent(sent=ok, detail=detail)
