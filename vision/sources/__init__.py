"""Source stage: frames from video files, image folders, USB cameras and network streams.

:func:`open_source` picks the implementation from a camera's ``source``; both implementations
honour the :class:`~vision.sources.base.FrameSource` protocol.
"""

from __future__ import annotations

import threading
from datetime import datetime
from pathlib import Path

from vision.config import Camera, is_stream_url
from vision.sources.base import Frame, FrameAnalyser, FrameSource, SourceHealth, SourceState
from vision.sources.files import FileSource
from vision.sources.live import LiveSource, Reconnect


def open_source(
    camera: Camera,
    frame_ready: threading.Event,
    run_start: datetime,
    reconnect: Reconnect | None = None,
    analyse: FrameAnalyser | None = None,
) -> FrameSource:
    """The source for ``camera``; files start at ``camera.start_time`` or else at ``run_start``.

    A live camera with a ``detect_source`` (its sub-stream) is read from that alone. ``analyse``
    sees each delivered frame on the source's reader thread (the planner's motion).
    """
    if camera.detect_source is not None:
        return LiveSource(
            camera.id, camera.detect_source, camera.detect_fps, frame_ready, reconnect, analyse, camera.decoder
        )
    if isinstance(camera.source, int) or is_stream_url(camera.source):
        return LiveSource(camera.id, camera.source, camera.detect_fps, frame_ready, reconnect, analyse, camera.decoder)
    return FileSource(
        camera.id,
        Path(camera.source),
        camera.detect_fps,
        camera.start_time or run_start,
        frame_ready,
        every_nth=camera.every_nth,
        analyse=analyse,
    )


__all__ = ["Frame", "FrameAnalyser", "FrameSource", "Reconnect", "SourceHealth", "SourceState", "open_source"]
