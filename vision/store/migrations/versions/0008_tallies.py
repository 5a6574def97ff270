"""Site-hour tallies (store schema_version 8): a column per outcome, not a row.

- ``site_tallies`` replaces ``site_rollups``: per UTC hour, site and category, ``n_<outcome>`` and
  ``shared_<outcome>`` for every outcome (a third of the rows a city's 90-day daily series summed,
  and the shape its rate points are built from);
- ``trip_tallies`` replaces ``trip_rollups`` the same way.

Both are filled here from what the store already counted (``observation_rollups`` and
``trip_rollups``), and the old tables dropped.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# The outcomes at this revision (vision.outcome.Outcome): a new outcome is a new revision with its columns.
OUTCOMES = ("compliant", "non_compliant", "undetermined", "non_rider")
COLUMNS = [f"{kind}_{outcome}" for kind in ("n", "shared") for outcome in OUTCOMES]
KEYS = ["hour", "site_id", "category"]


def _create(name: str) -> None:
    op.create_table(
        name,
        sa.Column("hour", sa.Float, nullable=False),
        sa.Column("site_id", sa.String(64), nullable=False),
        sa.Column("category", sa.String(16), nullable=False),
        *(sa.Column(column, sa.Integer, nullable=False, server_default="0") for column in COLUMNS),
        sa.PrimaryKeyConstraint("hour", "site_id", "category"),
    )


def _fill(target: str, source: str) -> None:
    """``target`` (a tally per hour, site and category) from ``source`` (a row per outcome, ``n`` and ``shared``)."""
    rows = sa.table(source, *map(sa.column, ("hour", "site_id", "category", "outcome", "n", "shared"))).c
    values = [
        sa.func.coalesce(sa.func.sum(sa.case((rows.outcome == outcome, rows[kind]), else_=0)), 0)
        for kind in ("n", "shared")
        for outcome in OUTCOMES
    ]
    keys = (rows.hour, rows.site_id, rows.category)
    _insert(target, KEYS + COLUMNS, sa.select(*keys, *values).group_by(*keys))


def _insert(table: str, columns: list[str], rows: sa.Select) -> None:
    op.get_bind().execute(sa.insert(sa.table(table, *map(sa.column, columns))).from_select(columns, rows))


def upgrade() -> None:
    _create("site_tallies")
    _fill("site_tallies", "observation_rollups")  # per camera: summed over the site's cameras here
    op.drop_table("site_rollups")
    _create("trip_tallies")
    _fill("trip_tallies", "trip_rollups")
    op.drop_table("trip_rollups")


def downgrade() -> None:
    for tallies, rollups in (("site_tallies", "site_rollups"), ("trip_tallies", "trip_rollups")):
        op.create_table(
            rollups,
            sa.Column("hour", sa.Float, nullable=False),
            sa.Column("site_id", sa.String(64), nullable=False),
            sa.Column("category", sa.String(16), nullable=False),
            sa.Column("outcome", sa.String(16), nullable=False),
            sa.Column("n", sa.Integer, nullable=False),
            sa.Column("shared", sa.Integer, nullable=False),
            sa.PrimaryKeyConstraint("hour", "site_id", "category", "outcome"),
        )
        t = sa.table(tallies, *map(sa.column, KEYS + COLUMNS)).c
        for outcome in OUTCOMES:
            n, shared = t[f"n_{outcome}"], t[f"shared_{outcome}"]
            rows = sa.select(t.hour, t.site_id, t.category, sa.literal(outcome), n, shared).where(n > 0)
            _insert(rollups, ["hour", "site_id", "category", "outcome", "n", "shared"], rows)
        op.drop_table(tallies)
