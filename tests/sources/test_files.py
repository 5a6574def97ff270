"""File sources on the committed clips: due frames only, in order, and only those converted."""

import threading
from datetime import UTC, datetime

import cv2
import pytest

from vision.errors import VisionError
from vision.sources import SourceState
from vision.sources.files import FileSource, iter_video

START = datetime(2026, 11, 2, 7, 30, tzinfo=UTC)


def drain(source: FileSource) -> list:
    frames, ready = [], threading.Event()
    source.start()
    while not source.finished:
        frame = source.poll()
        if frame is None:
            ready.wait(0.05)
            continue
        frames.append(frame)
    source.stop()
    return frames


def test_a_video_delivers_the_due_frames_and_converts_only_those(data_dir):
    clip = data_dir / "clips" / "helmet5.mp4"
    capture = cv2.VideoCapture(str(clip))
    total, fps = int(capture.get(cv2.CAP_PROP_FRAME_COUNT)), capture.get(cv2.CAP_PROP_FPS)
    capture.release()
    detect_fps = fps / 4
    source = FileSource("cam", clip, detect_fps, START, threading.Event())
    frames = drain(source)
    health = source.health.snapshot()
    assert health.state == SourceState.FINISHED
    assert health.frames_read == total
    assert len(frames) == health.frames_converted == source.total_frames
    assert len(frames) == pytest.approx(total / 4, abs=1)
    # Every 4th frame, and the pixels are the ones read() gives for that frame.
    assert [f.index for f in frames] == list(range(0, total, 4))[: len(frames)]
    reference = {f.index: f.image for f in iter_video(clip) if f.index in (0, frames[-1].index)}
    assert (frames[0].image == reference[0]).all()
    assert (frames[-1].image == reference[frames[-1].index]).all()
    assert (frames[1].time - frames[0].time).total_seconds() == pytest.approx(4 / fps, abs=1e-3)


def test_each_delivered_frame_is_analysed_on_the_reader_thread_before_it_is_handed_on(data_dir):
    seen: list[tuple[int, str, tuple[int, ...]]] = []

    def analyse(index, image):
        seen.append((index, threading.current_thread().name, image.shape))

    source = FileSource("cam", data_dir / "clips" / "helmet5.mp4", 2.0, START, threading.Event(), analyse=analyse)
    frames = drain(source)
    assert [index for index, _, _ in seen] == [frame.index for frame in frames]
    assert {thread for _, thread, _ in seen} == {"source-cam"}
    assert {shape for _, _, shape in seen} == {frames[0].image.shape}


def test_iter_video_refuses_a_file_that_is_not_a_video(tmp_path):
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"not a video at all" * 100)
    with pytest.raises(VisionError, match=r"broken\.mp4"):
        list(iter_video(bad))
