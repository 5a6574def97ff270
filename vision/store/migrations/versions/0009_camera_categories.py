"""Several categories per camera (store schema_version 9): ``cameras.categories``.

A camera may measure more than one category on one decode and one detector pass (``categories: [helmet,
phone]``). ``cameras.category`` stays its first (its model's); ``categories`` is the JSON list of all of
them, which the rate service needs to credit the camera's uptime to each category's coverage. Existing
rows get the list of their one category.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("cameras", sa.Column("categories", sa.Text))
    cameras = sa.table("cameras", sa.column("category", sa.String), sa.column("categories", sa.Text))
    # '["' || category || '"]': the JSON list of its one category (categories are plain identifiers)
    listed = sa.literal('["') + cameras.c.category + sa.literal('"]')
    op.get_bind().execute(sa.update(cameras).values(categories=listed))
    with op.batch_alter_table("cameras") as batch:  # SQLite cannot ALTER a column in place
        batch.alter_column("categories", existing_type=sa.Text, nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("cameras") as batch:
        batch.drop_column("categories")
