"""The HTTP API, Prometheus endpoint and dashboard: :func:`create_app`."""

from vision.api.app import create_app

__all__ = ["create_app"]
