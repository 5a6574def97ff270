"""Evidence and audits: the crops kept of judged people, and the hand review that calibrates a site's rate.

Evidence rows (and, where the store holds the pixels, blobs) come from the writer's journal
(:meth:`Audits.evidence_ops`); an audit sample is a stratified draw of a site's observations
(:func:`stratified_sample`), marked by a reviewer (:meth:`Audits.set_mark`), and its counts
(:class:`AuditCounts`) give the rate service a site's own sensitivity and specificity. Part of
:class:`vision.store.database.Store`, which mixes it in: every method takes its own connection.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Collection, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from vision.outcome import Outcome, ValidationCounts
from vision.store.schema import (
    _insert_new,
    _upsert,
    audit_items_table,
    audit_marks_table,
    audit_samples_table,
    epoch,
    evidence_blobs_table,
    evidence_table,
    observations_table,
)


@dataclass(frozen=True)
class EvidenceRow:
    """An observation's kept pixels: paths relative to ``evidence.folder``; ``deleted_at`` once swept."""

    obs_key: str
    crop_path: str
    snapshot_path: str
    bytes: int
    created_at: float
    deleted_at: float | None
    deleted_reason: str | None


@dataclass(frozen=True)
class AuditCounts:
    """A site's audit marks: ``marked`` correct or wrong (``unclear`` apart) as a 2×2 validation table."""

    marked: int
    unclear: int
    validation: ValidationCounts


def stratified_sample(strata: dict[Any, list[int]], size: int, rng: random.Random) -> list[int]:
    """``size`` ids drawn without replacement, each stratum's share proportional to its size (largest remainders)."""
    total = sum(len(ids) for ids in strata.values())
    if total <= size:
        return sorted(i for ids in strata.values() for i in ids)
    keys = sorted(strata)
    quotas = {key: size * len(strata[key]) / total for key in keys}
    counts = {key: math.floor(quotas[key]) for key in keys}
    by_remainder = sorted(keys, key=lambda key: (quotas[key] - counts[key], rng.random()), reverse=True)
    for key in by_remainder[: size - sum(counts.values())]:
        counts[key] += 1
    return sorted(i for key in keys for i in rng.sample(strata[key], counts[key]))


def _audit_counts(table: dict[tuple[str, str], int]) -> AuditCounts:
    """The 2×2 table from ``(outcome, mark) -> count`` of one site and category."""
    compliant, non_compliant = Outcome.COMPLIANT.value, Outcome.NON_COMPLIANT.value
    # correct: the truth is the verdict; wrong: the other outcome (two outcomes only are marked).
    judged_nc = table.get((non_compliant, "correct"), 0)
    judged_c = table.get((compliant, "correct"), 0)
    missed_nc = table.get((compliant, "wrong"), 0)  # judged compliant, truly not
    false_nc = table.get((non_compliant, "wrong"), 0)  # judged non-compliant, truly compliant
    unclear = sum(count for (_, mark), count in table.items() if mark == "unclear")
    return AuditCounts(
        marked=judged_nc + judged_c + missed_nc + false_nc,
        unclear=unclear,
        validation=ValidationCounts(
            judged_non_compliant=judged_nc,
            truly_non_compliant=judged_nc + missed_nc,
            judged_compliant=judged_c,
            truly_compliant=judged_c + false_nc,
        ),
    )


class Audits:
    """The store's evidence and audit rows (mixed into :class:`~vision.store.database.Store`)."""

    def _begin(self) -> AbstractContextManager[Connection]:  # the Store's: one transaction per call
        raise NotImplementedError

    @staticmethod
    def evidence_ops(connection: Connection, ops: Sequence[dict[str, Any]]) -> None:
        """Apply journal records ``{"t": "evidence", ...}`` (pixels kept) and ``{"t": "evidence_gone", ...}``."""
        kept = [
            {k: op[k] for k in ("obs_key", "crop_path", "snapshot_path", "bytes", "created_at")}
            for op in ops
            if op["t"] == "evidence"
        ]
        _insert_new(connection, evidence_table, kept, "obs_key")
        for op in ops:
            if op["t"] == "evidence_gone":
                connection.execute(
                    sa.update(evidence_table)
                    .where(evidence_table.c.obs_key == op["obs_key"], evidence_table.c.deleted_at.is_(None))
                    .values(deleted_at=op["at"], deleted_reason=op["reason"])
                )

    def put_evidence_blobs(self, files: dict[str, bytes], created_at: float) -> None:
        """Keep evidence JPEGs (path -> bytes; the path names the observation) in one transaction."""
        rows = [
            {"path": path, "obs_key": Path(path).name.split(".")[0], "data": data, "created_at": created_at}
            for path, data in files.items()
        ]
        with self._begin() as connection:
            _insert_new(connection, evidence_blobs_table, rows, "path")

    def evidence_blob(self, path: str) -> bytes | None:
        with self._begin() as connection:
            data = connection.execute(
                sa.select(evidence_blobs_table.c.data).where(evidence_blobs_table.c.path == path)
            ).scalar_one_or_none()
        return bytes(data) if data is not None else None

    def sweep_evidence_blobs(
        self, max_age_s: float | None, max_bytes: int | None, now: float
    ) -> tuple[list[str], list[str], int]:
        """Delete kept JPEGs older than ``max_age_s``, then the oldest observations' until at most
        ``max_bytes`` remain: ``(keys deleted for age, keys deleted for size, bytes left)``."""
        b = evidence_blobs_table.c
        with self._begin() as connection:
            query = (
                sa.select(
                    b.obs_key,
                    sa.func.min(b.created_at).label("created"),
                    sa.func.sum(sa.func.length(b.data)).label("size"),
                )
                .group_by(b.obs_key)
                .order_by(sa.func.min(b.created_at), b.obs_key)
            )
            rows = [(str(row.obs_key), float(row.created), int(row.size)) for row in connection.execute(query)]
            total = sum(size for _, _, size in rows)
            by_age: list[str] = []
            by_size: list[str] = []
            for key, created, size in rows:
                if max_age_s is not None and now - created > max_age_s:
                    by_age.append(key)
                elif max_bytes is not None and total > max_bytes:
                    by_size.append(key)
                else:
                    continue
                total -= size
            gone = by_age + by_size
            for start in range(0, len(gone), 500):
                connection.execute(sa.delete(evidence_blobs_table).where(b.obs_key.in_(gone[start : start + 500])))
        return by_age, by_size, total

    def evidence_of(self, keys: Collection[str]) -> dict[str, EvidenceRow]:
        if not keys:
            return {}
        with self._begin() as connection:
            rows = connection.execute(sa.select(evidence_table).where(evidence_table.c.obs_key.in_(sorted(keys))))
            return {row.obs_key: EvidenceRow(**row._mapping) for row in rows}

    def evidence_totals(self) -> tuple[int, int, int]:
        """``(observations with evidence kept, with evidence deleted, bytes kept)``."""
        e = evidence_table.c
        with self._begin() as connection:
            kept = connection.execute(
                sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(e.bytes), 0)).where(e.deleted_at.is_(None))
            ).one()
            deleted = connection.execute(sa.select(sa.func.count()).where(e.deleted_at.is_not(None))).scalar_one()
        return int(kept[0]), int(deleted), int(kept[1] or 0)

    def evidence_examples(
        self, site_id: str, category: str, outcome: str, start: datetime, end: datetime, limit: int
    ) -> list[EvidenceRow]:
        """The latest ``limit`` observations of that outcome in ``[start, end)`` whose pixels are still kept."""
        o, e = observations_table.c, evidence_table.c
        query = (
            sa.select(evidence_table)
            .join(observations_table, o.obs_key == e.obs_key)
            .where(
                o.site_id == site_id,
                o.category == category,
                o.outcome == outcome,
                o.ended_at >= epoch(start),
                o.ended_at < epoch(end),
                e.deleted_at.is_(None),
            )
            .order_by(o.ended_at.desc())
            .limit(limit)
        )
        with self._begin() as connection:
            return [EvidenceRow(**row._mapping) for row in connection.execute(query)]

    def create_audit_sample(
        self,
        site_id: str,
        category: str,
        windows: Sequence[tuple[float, float]],
        size: int,
        seed: int | None = None,
        period: str | None = None,
        *,
        day_offset_s: int = 0,
    ) -> tuple[int, list[int]]:
        """Draw ``size`` decided observations with kept evidence from ``windows`` (epoch s), at random.

        Stratified by camera and local day (``day_offset_s``: the site's UTC offset), each stratum
        getting its share of the sample in proportion to its size (largest remainders), so a busy
        camera or day does not crowd out the others. ``seed`` makes the draw repeatable (the
        sample records it). Returns the sample's id and its observation ids.
        """
        o, e = observations_table.c, evidence_table.c
        in_window = sa.or_(*[sa.and_(o.ended_at >= a, o.ended_at < b) for a, b in windows]) if windows else sa.false()
        query = (
            sa.select(o.id, o.camera_id, o.ended_at)
            .join(evidence_table, e.obs_key == o.obs_key)
            .where(
                o.site_id == site_id,
                o.category == category,
                o.outcome.in_([Outcome.COMPLIANT.value, Outcome.NON_COMPLIANT.value]),
                e.deleted_at.is_(None),
                in_window,
            )
            .order_by(o.id)
        )
        seed = seed if seed is not None else random.SystemRandom().randrange(2**31)
        with self._begin() as connection:
            strata: dict[tuple[str, int], list[int]] = {}
            for row in connection.execute(query):
                strata.setdefault((row.camera_id, math.floor((row.ended_at + day_offset_s) / 86400)), []).append(row.id)
            chosen = stratified_sample(strata, size, random.Random(seed))  # noqa: S311 - a repeatable draw, not a secret
            result = connection.execute(
                sa.insert(audit_samples_table).values(
                    site_id=site_id,
                    category=category,
                    period=period,
                    start=min((a for a, _ in windows), default=0.0),
                    end=max((b for _, b in windows), default=0.0),
                    size=len(chosen),
                    seed=seed,
                    created_at=time.time(),
                )
            )
            key = result.inserted_primary_key
            assert key is not None
            sample_id = int(key[0])
            if chosen:
                connection.execute(
                    sa.insert(audit_items_table), [{"sample_id": sample_id, "observation_id": i} for i in chosen]
                )
        return sample_id, chosen

    def audit_sample(self, sample_id: int) -> tuple[str, str, list[int]] | None:
        """``(site, category, observation ids)`` of a sample, or None."""
        with self._begin() as connection:
            sample = connection.execute(
                sa.select(audit_samples_table).where(audit_samples_table.c.id == sample_id)
            ).first()
            if sample is None:
                return None
            ids = connection.execute(
                sa.select(audit_items_table.c.observation_id)
                .where(audit_items_table.c.sample_id == sample_id)
                .order_by(audit_items_table.c.observation_id)
            ).all()
            return sample.site_id, sample.category, [int(row[0]) for row in ids]

    def set_mark(self, observation_id: int, mark: str) -> None:
        """An analyst's verdict on an observation's verdict: ``correct``, ``wrong`` or ``unclear`` (replaces any)."""
        row = {"observation_id": observation_id, "mark": mark, "marked_at": time.time()}
        with self._begin() as connection:
            _upsert(connection, audit_marks_table, row, key="observation_id")

    def marks_of(self, observation_ids: Collection[int]) -> dict[int, str]:
        if not observation_ids:
            return {}
        table = audit_marks_table
        with self._begin() as connection:
            rows = connection.execute(
                sa.select(table.c.observation_id, table.c.mark).where(
                    table.c.observation_id.in_(sorted(observation_ids))
                )
            )
            return {int(row.observation_id): row.mark for row in rows}

    def audit_counts(self, site_id: str, category: str) -> AuditCounts:
        """The 2×2 table of a site's marked decided observations: verdict against the truth the mark implies."""
        return self.all_audit_counts(site_id, category).get((site_id, category), _audit_counts({}))

    def all_audit_counts(
        self, site_id: str | None = None, category: str | None = None
    ) -> dict[tuple[str, str], AuditCounts]:
        """:meth:`audit_counts` of every site and category with marks (or of one), in one query: a rate
        series of every site asks once, not once a site."""
        o, m = observations_table.c, audit_marks_table.c
        query = (
            sa.select(o.site_id, o.category, o.outcome, m.mark, sa.func.count())
            .join(audit_marks_table, m.observation_id == o.id)
            .group_by(o.site_id, o.category, o.outcome, m.mark)
        )
        if site_id is not None:
            query = query.where(o.site_id == site_id)
        if category is not None:
            query = query.where(o.category == category)
        tables: dict[tuple[str, str], dict[tuple[str, str], int]] = {}
        with self._begin() as connection:
            for row in connection.execute(query):
                tables.setdefault((row[0], row[1]), {})[(str(row[2]), str(row[3]))] = int(row[4])
        return {key: _audit_counts(table) for key, table in tables.items()}
