"""vision: helmet and mask compliance rates from camera streams.

Data flows one way, one package per stage::

    sources -> detectors -> tracking -> compliance -> store / metrics / api

``vision.detectors`` turns frames into :class:`~vision.detectors.detections.Detections`;
``vision.evaluation`` measures a detector on labelled PASCAL VOC folders.
"""

__version__ = "0.1.0"
