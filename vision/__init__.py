"""vision: helmet and mask compliance rates from camera streams.

Data flows one way, one package per stage::

    sources -> detectors -> tracking -> compliance -> store / metrics / api

``vision.detectors`` turns frames into :class:`~vision.detectors.detections.Detections`;
``vision.pipeline`` is the only module with threads, batching and the stop event.

Beside the flow, never imported by it: ``vision.evaluation`` measures a detector on labelled PASCAL VOC
folders (``vision eval``); ``vision.training`` makes models and their training sets (``scripts/train.py``,
the ``[train]`` extra); ``vision.testing`` holds the real parts that tests and benchmarks run against (a
PostgreSQL cluster, MJPEG cameras, a fleet of workers).
"""

__version__ = "0.1.0"
