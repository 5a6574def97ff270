"""Many machines: ``vision worker`` processes that share a config's cameras through the store.

See :mod:`vision.workers.worker` for the lease protocol.
"""

from vision.workers.worker import Worker, WorkerSettings

__all__ = ["Worker", "WorkerSettings"]
