"""Evidence and audits (store schema_version 4): kept pixels per observation, audit samples and marks.

- ``evidence``: one row per observation whose crop and snapshot were written (paths relative to
  ``evidence.folder``); ``deleted_at``/``deleted_reason`` once the retention sweep removed the
  pixels (the observation and its counts stay).
- ``audit_samples`` and ``audit_items``: a random sample of one site's decided observations,
  stratified by camera and local day, drawn for a period.
- ``audit_marks``: an analyst's mark per observation: correct, wrong or unclear.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "evidence",
        sa.Column("obs_key", sa.String(64), primary_key=True),
        sa.Column("crop_path", sa.Text, nullable=False),
        sa.Column("snapshot_path", sa.Text, nullable=False),
        sa.Column("bytes", sa.Integer, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("deleted_at", sa.Float),
        sa.Column("deleted_reason", sa.String(16)),
    )
    op.create_table(
        "audit_samples",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("site_id", sa.String(64), nullable=False),
        sa.Column("category", sa.String(16), nullable=False),
        sa.Column("period", sa.String(64)),
        sa.Column("start", sa.Float, nullable=False),
        sa.Column("end", sa.Float, nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("seed", sa.Integer, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_table(
        "audit_items",
        sa.Column("sample_id", sa.Integer, primary_key=True),
        sa.Column("observation_id", sa.Integer, primary_key=True),
    )
    op.create_table(
        "audit_marks",
        sa.Column("observation_id", sa.Integer, primary_key=True),
        sa.Column("mark", sa.String(16), nullable=False),
        sa.Column("marked_at", sa.Float, nullable=False),
    )
