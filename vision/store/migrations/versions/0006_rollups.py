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
    from vision.store.counts import rebuild_observation_rollups

    rebuild_observation_rollups(op.get_bind())


def downgrade() -> None:
    op.drop_table("outcome_totals")
    op.drop_table("site_rollups")
    op.drop_table("observation_rollups")
