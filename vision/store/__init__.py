"""Store stage: observations (the source of truth), camera up-time and runs, in SQL.

SQLite by default (one file, WAL), PostgreSQL by URL, through the same SQLAlchemy Core code.
"""

from vision.store.database import SCHEMA_VERSION, CameraReport, Store, open_store

__all__ = ["SCHEMA_VERSION", "CameraReport", "Store", "open_store"]
