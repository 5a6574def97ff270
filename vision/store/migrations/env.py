"""Alembic environment: migrations run on the connection :meth:`Store.migrate` hands over.

There is no ``alembic.ini``: the store migrates itself when a ``vision`` command opens it, inside
that command's transaction, so the code and the schema it reads always agree.
"""

from __future__ import annotations

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=None, transaction_per_migration=False)
with context.begin_transaction():
    context.run_migrations()
