"""What every route needs, built once by the app factory and read through ``request.app.state``."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from vision.clock import Clock, wall_clock
from vision.compliance.rates import RateService
from vision.config import VisionConfig
from vision.store import Store

UNPROCESSABLE = 422  # starlette renamed the constant; the number is stable
TOKEN_ENV = "VISION_API_TOKEN"  # noqa: S105 - the variable name, not a secret


@dataclass(frozen=True)
class ApiContext:
    store: Store
    config: VisionConfig
    rates: RateService
    clock: Clock = wall_clock  # "now" of rolling windows and health ages (a fixed one in tests)
    map_overlay: dict[str, object] | None = None  # the config's map.overlay GeoJSON, read once at start

    @property
    def token(self) -> str | None:
        return os.environ.get(TOKEN_ENV) or self.config.api.token


def context(request: Request) -> ApiContext:
    return request.app.state.context


Context = Annotated[ApiContext, Depends(context)]
_bearer = HTTPBearer(auto_error=False)


def require_token(ctx: Context, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> None:
    """Endpoints that change state or show evidence need ``Authorization: Bearer <token>``."""
    expected = ctx.token
    if expected is None:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, f"no API token is configured (set api.token or {TOKEN_ENV}); endpoint disabled"
        )
    if credentials is None or not secrets.compare_digest(credentials.credentials.encode(), expected.encode()):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "missing or wrong bearer token", headers={"WWW-Authenticate": "Bearer"}
        )


def zoned(name: str, value: datetime | None) -> datetime | None:
    """Refuse times without a zone: '08:00' means nothing to a store that keeps UTC."""
    if value is not None and value.tzinfo is None:
        raise HTTPException(
            UNPROCESSABLE,
            f"{name}: {value.isoformat()} has no time zone; use e.g. {value.isoformat()}Z or +01:00",
        )
    return value


def known_site(ctx: ApiContext, site: str) -> str:
    """``site`` if the store knows it (every config synced to it: several workers' configs, and sites
    that left a config but keep their observations), else a 404 naming the known ones."""
    known = [s.id for s in ctx.store.sites()] or [s.id for s in ctx.config.sites]
    if site not in known:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"unknown site {site!r} (known: {', '.join(known)})")
    return site
