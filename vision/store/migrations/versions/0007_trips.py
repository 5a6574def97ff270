"""Trips: per-vehicle counts (store schema_version 7).

- ``trips``: one row per two-wheeler track that carried riders, with its riders' verdicts and the
  per-vehicle outcome (non-compliant when any rider was, compliant when all were), written by the
  writer like observations (exactly once, by ``trip_key``);
- ``trip_rollups``: trips per UTC hour, site, category and outcome, and how many carried two or
  more riders, kept in the same transaction (what per-vehicle rates read).

A store from before has no trips: per-vehicle rates start with the first run on this version.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "trips",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.Integer, nullable=False),
        sa.Column("camera_id", sa.String(64), nullable=False),
        sa.Column("site_id", sa.String(64), nullable=False),
        sa.Column("category", sa.String(16), nullable=False),
        sa.Column("vehicle_track_id", sa.Integer, nullable=False),
        sa.Column("started_at", sa.Float, nullable=False),
        sa.Column("ended_at", sa.Float, nullable=False),
        sa.Column("riders", sa.Integer, nullable=False),
        sa.Column("compliant", sa.Integer, nullable=False),
        sa.Column("non_compliant", sa.Integer, nullable=False),
        sa.Column("undetermined", sa.Integer, nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("trip_key", sa.String(64), nullable=False),
        sa.Column("worker_id", sa.String(128)),
        sa.Column("lease_generation", sa.Integer),
    )
    op.create_index("ix_trips_site_time", "trips", ["site_id", "category", "ended_at"])
    op.create_index("ix_trips_time", "trips", ["ended_at"])
    op.create_index("uq_trips_key", "trips", ["trip_key"], unique=True)
    op.create_table(
        "trip_rollups",
        sa.Column("hour", sa.Float, nullable=False),
        sa.Column("site_id", sa.String(64), nullable=False),
        sa.Column("category", sa.String(16), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("n", sa.Integer, nullable=False),
        sa.Column("shared", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("hour", "site_id", "category", "outcome"),
    )


def downgrade() -> None:
    op.drop_table("trip_rollups")
    op.drop_index("uq_trips_key", "trips")
    op.drop_index("ix_trips_time", "trips")
    op.drop_index("ix_trips_site_time", "trips")
    op.drop_table("trips")
