"""Fencing tokens and shared evidence (store schema_version 5).

- ``camera_leases.generation``: incremented on every claim of the camera (a new owner, or the same
  worker after its lease expired), in the lease round's transaction.
- ``lease_grants``: one row per claim, ``(camera_id, generation, worker_id, granted_at)`` on the
  database clock; the store refuses an observation or an up-interval whose generation has been
  followed by a later grant at or before its time (a worker frozen past its lease that writes
  afterwards, now or later from its spool).
- ``observations.lease_generation``, ``camera_uptime.lease_generation``: the token a worker wrote
  them under (NULL for ``vision run`` and for rows from before this revision).
- ``evidence_blobs``: evidence JPEGs kept in the store (``evidence.storage: database``, the default
  on PostgreSQL), by the same relative path a folder would use, so every worker and every
  ``vision serve`` replica shares them without a shared file system.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("camera_leases") as batch:
        batch.add_column(sa.Column("generation", sa.Integer, nullable=False, server_default="0"))
    op.create_table(
        "lease_grants",
        sa.Column("camera_id", sa.String(64), primary_key=True),
        sa.Column("generation", sa.Integer, primary_key=True),
        sa.Column("worker_id", sa.String(128), nullable=False),
        sa.Column("granted_at", sa.Float, nullable=False),
    )
    op.add_column("observations", sa.Column("lease_generation", sa.Integer))
    op.add_column("camera_uptime", sa.Column("lease_generation", sa.Integer))
    op.create_table(
        "evidence_blobs",
        sa.Column("path", sa.String(255), primary_key=True),
        sa.Column("obs_key", sa.String(64), nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_index("ix_evidence_blobs_created", "evidence_blobs", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_evidence_blobs_created", "evidence_blobs")
    op.drop_table("evidence_blobs")
    op.drop_column("camera_uptime", "lease_generation")
    op.drop_column("observations", "lease_generation")
    op.drop_table("lease_grants")
    with op.batch_alter_table("camera_leases") as batch:
        batch.drop_column("generation")
