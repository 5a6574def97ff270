"""Alembic migrations of the store's schema (run by :meth:`vision.store.Store.migrate`, not by hand)."""
