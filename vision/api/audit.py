"""Review and audit: observations with their evidence, audit samples, marks, and the error they measure.

Pixels (crops, snapshots) and everything that changes state need the bearer token; listings and
the measured error are counts, open like every other read.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, status
from fastapi.responses import Response

from vision.api import schemas
from vision.api.context import UNPROCESSABLE, Context, known_site, require_token, zoned
from vision.errors import VisionError
from vision.evidence.writer import open_sink
from vision.store.schema import from_epoch

router = APIRouter(prefix="/api/v1", tags=["review"])


@router.get("/review", response_model=schemas.ReviewPage)
def review(
    ctx: Context,
    site: Annotated[str, Query(max_length=64)],
    outcome: Annotated[Literal["compliant", "non_compliant", "undetermined", "non_rider"] | None, Query()] = None,
    camera: Annotated[str | None, Query(max_length=64)] = None,
    start: Annotated[datetime | None, Query(alias="from")] = None,
    end: Annotated[datetime | None, Query(alias="to")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    after_id: Annotated[int, Query(ge=0, le=2**62)] = 0,
) -> schemas.ReviewPage:
    """A site's observations, a page at a time, with whether their evidence is kept and their mark."""
    known_site(ctx, site)
    zoned("from", start)
    zoned("to", end)
    rows = ctx.store.observations(
        start=start, end=end, site_id=site, limit=limit + 1, after_id=after_id, outcome=outcome, camera_id=camera
    )
    evidence = ctx.store.evidence_of([row.obs_key for row in rows[:limit] if row.obs_key])
    marks = ctx.store.marks_of([row.id for row in rows[:limit]])
    items = []
    for row in rows[:limit]:
        found = evidence.get(row.obs_key) if row.obs_key else None
        kept = found is not None and found.deleted_at is None
        items.append(
            schemas.ReviewItem(
                id=row.id,
                camera_id=row.camera_id,
                site_id=row.site_id,
                category=row.category,
                outcome=row.outcome,
                started_at=from_epoch(row.started_at),
                ended_at=from_epoch(row.ended_at),
                frames=row.frames,
                mean_confidence=row.mean_confidence,
                evidence="kept" if kept else ("deleted" if found is not None else "none"),
                mark=marks.get(row.id),
            )
        )
    return schemas.ReviewPage(items=items, next_after_id=items[-1].id if len(rows) > limit else None)


def _evidence_jpeg(ctx, observation_id: int, which: Literal["crop", "snapshot"]) -> Response:
    row = ctx.store.observation(observation_id)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no observation {observation_id}")
    found = ctx.store.evidence_of([row.obs_key]).get(row.obs_key) if row.obs_key else None
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"observation {observation_id} kept no evidence")
    if found.deleted_at is not None:
        raise HTTPException(
            status.HTTP_410_GONE,
            f"evidence of observation {observation_id} was removed ({found.deleted_reason}) on "
            f"{from_epoch(found.deleted_at).isoformat()}; its counts are kept",
        )
    sink = open_sink(ctx.config.evidence, ctx.config.store.url, ctx.store)
    data = sink.read(found.crop_path if which == "crop" else found.snapshot_path)
    if data is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"evidence file of observation {observation_id} is missing")
    return Response(data, media_type="image/jpeg")


@router.get(
    "/observations/{observation_id}/crop.jpg",
    dependencies=[Depends(require_token)],
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}}}, 404: {}, 410: {}},
)
def crop(ctx: Context, observation_id: int) -> Response:
    """The best crop of the observation's track (needs the token)."""
    return _evidence_jpeg(ctx, observation_id, "crop")


@router.get(
    "/observations/{observation_id}/snapshot.jpg",
    dependencies=[Depends(require_token)],
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}}}, 404: {}, 410: {}},
)
def snapshot(ctx: Context, observation_id: int) -> Response:
    """Its frame, downscaled, with everyone but the judged person obscured (needs the token)."""
    return _evidence_jpeg(ctx, observation_id, "snapshot")


@router.post(
    "/audit/samples",
    response_model=schemas.AuditSample,
    status_code=status.HTTP_201_CREATED,
    dependencies=[Depends(require_token)],
)
def create_sample(ctx: Context, request: schemas.AuditSampleRequest) -> schemas.AuditSample:
    """Draw a random sample of a site's decided observations with evidence, stratified by camera and local day."""
    known_site(ctx, request.site)
    zoned("from", request.start)
    zoned("to", request.end)
    if request.end <= request.start:
        raise HTTPException(UNPROCESSABLE, "to must be after from")
    try:
        windows = ctx.rates.period_windows(request.site, request.start, request.end, request.period)
    except VisionError as error:
        raise HTTPException(UNPROCESSABLE, str(error)) from error
    sample_id, observation_ids = ctx.store.create_audit_sample(
        request.site,
        request.category.value,
        windows,
        request.size,
        request.seed,
        request.period,
        day_offset_s=ctx.rates.utc_offset_s(request.site, request.start),
    )
    return schemas.AuditSample(
        id=sample_id, site=request.site, category=request.category.value, observation_ids=observation_ids
    )


@router.get("/audit/samples/{sample_id}", response_model=schemas.AuditSample, dependencies=[Depends(require_token)])
def get_sample(ctx: Context, sample_id: int) -> schemas.AuditSample:
    found = ctx.store.audit_sample(sample_id)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no audit sample {sample_id}")
    site, category, observation_ids = found
    return schemas.AuditSample(id=sample_id, site=site, category=category, observation_ids=observation_ids)


@router.put("/audit/marks/{observation_id}", response_model=schemas.AuditMark, dependencies=[Depends(require_token)])
def mark(ctx: Context, observation_id: int, body: schemas.AuditMarkRequest) -> schemas.AuditMark:
    """Say whether the observation's verdict is right (correct), wrong, or cannot be told (unclear)."""
    row = ctx.store.observation(observation_id)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no observation {observation_id}")
    if row.outcome not in ("compliant", "non_compliant"):
        raise HTTPException(
            UNPROCESSABLE, f"observation {observation_id} is {row.outcome}: only decided ones are audited"
        )
    ctx.store.set_mark(observation_id, body.mark)
    return schemas.AuditMark(observation_id=observation_id, mark=body.mark)


@router.get("/audit/summary", response_model=schemas.AuditSummary)
def summary(
    ctx: Context, site: Annotated[str, Query(max_length=64)], category: Annotated[str, Query(max_length=16)]
) -> schemas.AuditSummary:
    """The verdicts' sensitivity and specificity measured by the site's marks, and whether rates use them."""
    known_site(ctx, site)
    counts = ctx.store.audit_counts(site, category)
    used = ctx.rates.audit_error(site, category) is not None
    v = counts.validation
    return schemas.AuditSummary(
        site=site,
        category=category,
        marked=counts.marked,
        unclear=counts.unclear,
        truly_non_compliant=v.truly_non_compliant,
        truly_compliant=v.truly_compliant,
        sensitivity=v.judged_non_compliant / v.truly_non_compliant if v.truly_non_compliant else None,
        specificity=v.judged_compliant / v.truly_compliant if v.truly_compliant else None,
        min_marks=ctx.rates.settings.min_audit_marks,
        used_for_rates=used,
    )
