"""What every route needs, built once by the app factory and read through ``request.app.state``."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from vision.compliance.rates import DetectorError, RatePoint, compute_rates
from vision.config import VisionConfig
from vision.store import Store

UNPROCESSABLE = 422  # starlette renamed the constant; the number is stable
TOKEN_ENV = "VISION_API_TOKEN"  # noqa: S105 - the variable name, not a secret


@dataclass(frozen=True)
class ApiContext:
    store: Store
    config: VisionConfig
    detector_errors: dict[str, DetectorError] = field(default_factory=dict)

    @property
    def token(self) -> str | None:
        return os.environ.get(TOKEN_ENV) or self.config.api.token

    def rates(
        self,
        start: datetime,
        end: datetime,
        bucket: str | None,
        site_id: str | None = None,
        category: str | None = None,
    ) -> list[RatePoint]:
        """:func:`compute_rates` with the config's confidence, minimum n and the models' measured error."""
        return compute_rates(
            self.store,
            start,
            end,
            bucket,
            confidence=self.config.compliance.confidence,
            min_n=self.config.compliance.min_n,
            site_id=site_id,
            category=category,
            detector_errors=self.detector_errors,
        )

    def threshold(self, site_id: str) -> float:
        site = next((s for s in self.config.sites if s.id == site_id), None)
        return site.threshold if site and site.threshold else self.config.alerts.default_threshold


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
