"""Source stage: frames from video files, image folders, USB cameras and network streams.

:func:`open_source` picks the implementation from a camera's ``source``; both implementations
honour the :class:`~vision.sources.base.FrameSource` protocol.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

from vision.config import Camera, is_stream_url
from vision.sources.base import Frame, FrameAnalyser, FrameSource, SourceHealth, SourceState
from vision.sources.files import FileSource
from vision.sources.live import LiveSource, Reconnect, answers, redact


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


def probe_streams(cameras: list[Camera], timeout_s: float = 10.0) -> list[str]:
    """One problem line per enabled camera whose stream (its ``detect_source`` when it has one) does not answer
    now, with why (a refused password, nothing listening, no answer): ``vision check-config --probe``. The
    streams are asked in parallel, each at most ``timeout_s``; files and USB cameras are not probed."""
    streams = [
        (index, camera, stream)
        for index, camera in enumerate(cameras)
        if camera.enabled
        for stream in [camera.detect_source if camera.detect_source is not None else camera.source]
        if isinstance(stream, str) and is_stream_url(stream)
    ]
    with ThreadPoolExecutor(max_workers=max(1, min(16, len(streams)))) as pool:
        reasons = list(pool.map(lambda item: answers(item[2], timeout_s), streams))
    return [
        f"cameras[{index}] ({camera.id}): {'detect_source' if camera.detect_source is not None else 'source'} "
        f"{redact(stream)} does not answer: {reason}"
        for (index, camera, stream), reason in zip(streams, reasons, strict=True)
        if reason is not None
    ]


__all__ = [
    "Frame",
    "FrameAnalyser",
    "FrameSource",
    "Reconnect",
    "SourceHealth",
    "SourceState",
    "open_source",
    "probe_streams",
]
