"""Rollups for the read side at city scale (store schema_version 6).

- ``observation_rollups``: observations per UTC hour, site, category, camera and outcome (and how
  many rode a shared two-wheeler), kept by the writer in the transaction of the rows it inserts;
- ``site_rollups``: the same per UTC hour, site, category and outcome (what the counts read);
- ``outcome_totals``: all-time observations per site, category and outcome (the ``/metrics`` counters).

Both are filled here from the observations already stored (the same recount as ``vision store
rebuild-rollups``), so an upgraded store answers from rollups at once.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from vision.store.schema import FloorDiv, _number

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "observation_rollups",
        sa.Column("hour", sa.Float, nullable=False),
        sa.Column("site_id", sa.String(64), nullable=False),
        sa.Column("category", sa.String(16), nullable=False),
        sa.Column("camera_id", sa.String(64), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("n", sa.Integer, nullable=False),
        sa.Column("shared", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("hour", "site_id", "category", "camera_id", "outcome"),
    )
    op.create_table(
        "site_rollups",
        sa.Column("hour", sa.Float, nullable=False),
        sa.Column("site_id", sa.String(64), nullable=False),
        sa.Column("category", sa.String(16), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("n", sa.Integer, nullable=False),
        sa.Column("shared", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("hour", "site_id", "category", "outcome"),
    )
    op.create_table(
        "outcome_totals",
        sa.Column("site_id", sa.String(64), primary_key=True),
        sa.Column("category", sa.String(16), primary_key=True),
        sa.Column("outcome", sa.String(16), primary_key=True),
        sa.Column("n", sa.BigInteger, nullable=False),
    )
    # Filled here by this revision's own SQL: the functions of vision.store.counts write the tables of the
    # newest schema (schema 8 sums sites into site_tallies, made from observation_rollups by revision 0008).
    observations = sa.table(
        "observations",
        *(sa.column(name) for name in ("ended_at", "site_id", "category", "camera_id", "outcome")),
        sa.column("riders_on_vehicle"),
    )
    o = observations.c
    hour = FloorDiv(o.ended_at, _number(3600)) * _number(3600)
    shared = sa.func.sum(sa.case((o.riders_on_vehicle >= 2, 1), else_=0))
    hourly = sa.select(hour, o.site_id, o.category, o.camera_id, o.outcome, sa.func.count(), shared).group_by(
        hour, o.site_id, o.category, o.camera_id, o.outcome
    )
    columns = ["hour", "site_id", "category", "camera_id", "outcome", "n", "shared"]
    _insert("observation_rollups", columns, hourly)
    r = sa.table("observation_rollups", *map(sa.column, columns)).c
    by_site = sa.select(r.hour, r.site_id, r.category, r.outcome, sa.func.sum(r.n), sa.func.sum(r.shared)).group_by(
        r.hour, r.site_id, r.category, r.outcome
    )
    site_columns = ["hour", "site_id", "category", "outcome", "n", "shared"]
    _insert("site_rollups", site_columns, by_site)
    totals = sa.select(o.site_id, o.category, o.outcome, sa.func.count()).group_by(o.site_id, o.category, o.outcome)
    total_columns = ["site_id", "category", "outcome", "n"]
    _insert("outcome_totals", total_columns, totals)


def _insert(table: str, columns: list[str], rows: sa.Select) -> None:
    op.get_bind().execute(sa.insert(sa.table(table, *map(sa.column, columns))).from_select(columns, rows))


def downgrade() -> None:
    op.drop_table("outcome_totals")
    op.drop_table("site_rollups")
    op.drop_table("observation_rollups")
