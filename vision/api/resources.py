"""Sites and cameras with their health, and raw observations."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Header, HTTPException, Query

from vision.api import schemas
from vision.api.context import UNPROCESSABLE, ApiContext, Context, zoned
from vision.categories import CATEGORIES
from vision.i18n import LANGUAGES, messages, negotiate
from vision.outcome import Outcome
from vision.store.database import CameraStatus
from vision.store.schema import from_epoch

router = APIRouter(prefix="/api/v1", tags=["sites"])


def camera_health(status_row: CameraStatus | None, now_s: float) -> schemas.CameraHealth:
    """A camera's health as its last report says, with ages up to ``now_s`` (epoch seconds)."""
    if status_row is None:
        return schemas.CameraHealth(
            state="unknown",
            up=False,
            last_frame_age_s=None,
            fps=0.0,
            frames_read=0,
            frames_processed=0,
            frames_dropped=0,
            reconnects=0,
            last_error=None,
            reported_at=None,
        )
    last_frame = status_row.last_frame_wall_at
    return schemas.CameraHealth(
        state=status_row.state,
        up=status_row.state == "up",
        last_frame_age_s=None if last_frame is None else max(0.0, now_s - last_frame),
        fps=status_row.fps,
        frames_read=status_row.frames_read,
        frames_processed=status_row.frames_processed,
        frames_dropped=status_row.frames_dropped,
        reconnects=status_row.reconnects,
        last_error=status_row.last_error,
        reported_at=from_epoch(status_row.updated_at),
    )


def list_cameras(ctx: ApiContext) -> list[schemas.Camera]:
    """The enabled cameras as the store knows them (synced by the workers), with health and lease holder.

    Read from the store, not this process's config: every ``vision serve`` replica shows the same.
    """
    statuses = ctx.store.camera_statuses()
    now_s = ctx.clock().timestamp()
    holders = {lease.camera_id: lease.worker_id for lease in ctx.store.leases() if lease.expires_in_s > 0}
    return [
        schemas.Camera(
            id=c.id,
            site_id=c.site_id,
            category=c.category,
            categories=list(c.categories),
            health=camera_health(statuses.get(c.id), now_s),
            worker_id=holders.get(c.id),
        )
        for c in ctx.store.cameras()
        if c.enabled
    ]


@router.get("/categories", response_model=list[schemas.CategoryInfo])
def categories() -> list[schemas.CategoryInfo]:
    """The compliance categories this vision knows, with what each measures."""
    return [
        schemas.CategoryInfo(
            id=info.category.value,
            title=info.title,
            subject=info.subject,
            compliant_classes=[c for c, o in info.class_outcomes.items() if o is Outcome.COMPLIANT],
            non_compliant_classes=[c for c, o in info.class_outcomes.items() if o is Outcome.NON_COMPLIANT],
            vehicle_classes=list(info.vehicle_classes),
            attribute_classes=list(info.attribute_classes),
            violation_attribute=info.violation_attribute,
            riders_only_default=info.riders_only_default,
        )
        for info in CATEGORIES.values()
    ]


@router.get("/sites", response_model=list[schemas.Site])
def sites(ctx: Context) -> list[schemas.Site]:
    """Every site the store knows (the configs synced to it), with its cameras and their latest health."""
    cameras = list_cameras(ctx)
    known = ctx.store.sites() or ctx.config.sites  # a store no config was synced to yet: the config's
    return [
        schemas.Site(
            id=site.id,
            name=site.name,
            tags=list(site.tags),
            lat=site.lat,
            lon=site.lon,
            threshold=ctx.rates.threshold(site.id),
            timezone=str(ctx.rates.zone(site.id)),
            cameras=[camera for camera in cameras if camera.site_id == site.id],
        )
        for site in known
    ]


@router.get("/map", response_model=schemas.MapView)
def map_view(ctx: Context) -> schemas.MapView:
    """What the dashboard's map draws under the sites: the tile server (none: a plain background) and
    the overlay GeoJSON of the config's ``map`` section."""
    tiles = ctx.config.map.tiles
    return schemas.MapView(
        tiles=schemas.MapTiles(**tiles.model_dump()) if tiles is not None else None,
        overlay=ctx.map_overlay,
    )


@router.get("/cameras", response_model=list[schemas.Camera])
def cameras(ctx: Context) -> list[schemas.Camera]:
    return list_cameras(ctx)


@router.get("/workers", response_model=list[schemas.Worker])
def workers(ctx: Context) -> list[schemas.Worker]:
    """Every ``vision worker`` that ever announced itself to this store, with its last heartbeat."""
    ttl = ctx.config.workers.lease_ttl_s
    return [
        schemas.Worker(
            id=w.id,
            host=w.host,
            pid=w.pid,
            version=w.version,
            alive=w.state == "up" and w.heartbeat_age_s < ttl,
            state=w.state,
            capacity=w.capacity,
            cameras_held=w.cameras_held,
            spool_records=w.spool_records,
            observations=w.observations,
            started_at=from_epoch(w.started_at),
            heartbeat_age_s=round(w.heartbeat_age_s, 3),
        )
        for w in ctx.store.workers()
    ]


@router.get("/observations", response_model=schemas.ObservationPage)
def observations(
    ctx: Context,
    site: Annotated[str | None, Query(max_length=64)] = None,
    start: Annotated[datetime | None, Query(alias="from")] = None,
    end: Annotated[datetime | None, Query(alias="to")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    after_id: Annotated[int, Query(ge=0, le=2**62, description="Last id of the previous page.")] = 0,
) -> schemas.ObservationPage:
    """Finished tracks in id order, a page at a time (keyset pagination: stable while new ones arrive)."""
    zoned("from", start)
    zoned("to", end)
    if start and end and end <= start:
        raise HTTPException(UNPROCESSABLE, "to must be after from")
    rows = ctx.store.observations(start=start, end=end, site_id=site, limit=limit + 1, after_id=after_id)
    items = [
        schemas.Observation(
            **{
                **dataclasses.asdict(row),
                "started_at": from_epoch(row.started_at),
                "ended_at": from_epoch(row.ended_at),
            }
        )
        for row in rows[:limit]
    ]
    return schemas.ObservationPage(items=items, next_after_id=items[-1].id if len(rows) > limit else None)


@router.get("/i18n", response_model=schemas.Language)
def language(
    ctx: Context,
    accept_language: Annotated[str | None, Header(description="The browser's languages, e.g. zh-CN,zh;q=0.9.")] = None,
    lang: Annotated[
        Literal["en", "zh-CN"] | None, Query(description="A language instead of the browser's choice.")
    ] = None,
) -> schemas.Language:
    """The dashboard's language (``lang``, else the best match for ``Accept-Language``, else the config's).

    ``messages`` maps each English source message to its translation (empty for English).
    """
    chosen = lang or negotiate(accept_language, ctx.config.language)
    return schemas.Language(
        language=chosen,
        languages=list(LANGUAGES),
        timezone=ctx.config.timezone,
        messages=messages(chosen),
    )
