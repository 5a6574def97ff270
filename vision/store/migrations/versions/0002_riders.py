"""Rider linking (store schema_version 2): the two-wheeler a head rode, and how many rode it.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("observations", sa.Column("vehicle_track_id", sa.Integer))
    op.add_column("observations", sa.Column("riders_on_vehicle", sa.Integer))
