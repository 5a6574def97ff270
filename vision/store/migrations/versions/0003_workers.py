"""Many workers (store schema_version 3): leases, worker health, shared alert state, idempotent writes.

- ``observations.obs_key``: a key per observation, unique, so a write replayed from a worker's
  spool after an unknown outcome (the connection dropped around the COMMIT) is stored once. Rows
  written before this revision keep a NULL key (NULLs do not collide in a unique index).
- ``observations.worker_id``: which worker finished it (NULL for ``vision run``).
- ``camera_uptime.interval_key``: the writer opens, extends and closes an up-interval by a key
  it chose itself, so the detector thread never waits for an id from the database.
- ``camera_status.worker_id``: who reported it last.
- ``cameras.enabled``: as the config says, so the API lists cameras from the store, not its own config.
- ``workers``, ``camera_leases``, ``alert_state``: new tables (see ``vision/workers`` and
  ``vision/alerts.py``).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("observations", sa.Column("obs_key", sa.String(64)))
    op.add_column("observations", sa.Column("worker_id", sa.String(128)))
    op.create_index("uq_observations_key", "observations", ["obs_key"], unique=True)
    op.add_column("camera_uptime", sa.Column("interval_key", sa.String(64)))
    op.create_index("uq_uptime_key", "camera_uptime", ["interval_key"], unique=True)
    op.add_column("camera_status", sa.Column("worker_id", sa.String(128)))
    op.add_column("cameras", sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.true()))
    op.create_table(
        "workers",
        sa.Column("id", sa.String(128), primary_key=True),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("version", sa.String(32), nullable=False),
        sa.Column("capacity", sa.Integer, nullable=False),
        sa.Column("started_at", sa.Float, nullable=False),
        sa.Column("heartbeat_at", sa.Float, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("cameras_held", sa.Integer, nullable=False),
        sa.Column("spool_records", sa.Integer, nullable=False),
        sa.Column("observations", sa.Integer, nullable=False),
    )
    op.create_table(
        "camera_leases",
        sa.Column("camera_id", sa.String(64), primary_key=True),
        sa.Column("worker_id", sa.String(128)),
        sa.Column("acquired_at", sa.Float),
        sa.Column("expires_at", sa.Float, nullable=False),
    )
    op.create_table(
        "alert_state",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("last_sent_at", sa.Float, nullable=False),
        sa.Column("sent", sa.Integer, nullable=False),
    )
