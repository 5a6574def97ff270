"""Live sources against a real MJPEG HTTP server on loopback."""

import re
import socket
import threading
import time

import cv2
import pytest

from vision.sources import Reconnect, SourceState
from vision.sources.live import LiveSource, answers, redact
from vision.testing.cameras import MjpegCamera, free_port

FAST = Reconnect(initial_s=0.2, max_s=1.0, open_timeout_s=2.0, stall_timeout_s=1.5)


@pytest.fixture
def image(data_dir):
    return cv2.imread(str(data_dir / "voc" / "helmet" / "images" / "BikesHelmets16.jpg"))


def wait_for(condition, timeout: float = 15.0, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return False


def poll_frame(source: LiveSource, timeout: float = 15.0):
    frames = []
    wait_for(lambda: frames.append(source.poll()) or frames[-1] is not None, timeout)
    return frames[-1]


def test_unreachable_at_start_then_recovers_without_restart(image):
    camera = MjpegCamera(image, port=free_port())
    source = LiveSource("cam", camera.url, detect_fps=10, frame_ready=threading.Event(), reconnect=FAST)
    source.start()
    try:
        assert wait_for(lambda: source.health.snapshot().reconnects >= 2)
        assert source.health.snapshot().state == SourceState.DOWN
        assert "cannot connect" in source.health.snapshot().last_error
        assert source.poll() is None  # nothing invented while down
        camera.start()
        frame = poll_frame(source)
        assert frame is not None and frame.image.shape == image.shape and frame.image.mean() > 20
        assert source.health.snapshot().state == SourceState.UP
    finally:
        source.stop()
        camera.stop()


@pytest.mark.parametrize("decoder", ["opencv", "pyav"])
def test_server_that_stops_and_comes_back_is_reconnected(image, decoder):
    camera = MjpegCamera(image).start()
    source = LiveSource(
        "cam", camera.url, detect_fps=10, frame_ready=threading.Event(), reconnect=FAST, decoder=decoder
    )
    source.start()
    try:
        assert poll_frame(source) is not None
        camera.stop()
        assert wait_for(lambda: source.health.snapshot().state == SourceState.DOWN)
        assert source.health.snapshot().reconnects >= 1
        # The break, or (with FAST's short backoff) the retry after it that the stopped server refuses.
        assert re.search("ended or failed|cannot connect", source.health.snapshot().last_error or "")
        while source.poll() is not None:  # whatever arrived before the break
            pass
        camera.start()
        assert wait_for(lambda: source.health.snapshot().state == SourceState.UP)
        read_before = source.health.snapshot().frames_read
        assert wait_for(lambda: source.health.snapshot().frames_read > read_before + 5)
        frame = poll_frame(source)
        assert frame is not None and frame.image.shape == image.shape  # the same source, frames again
    finally:
        source.stop()
        camera.stop()


@pytest.mark.parametrize("decoder", ["opencv", "pyav"])
def test_a_stalled_stream_is_detected_and_reconnected(image, decoder):
    camera = MjpegCamera(image).start()
    # The read timeout (open_timeout_s) is longer than the stall limit: only the watchdog can notice.
    watchdog_first = Reconnect(initial_s=0.2, max_s=1.0, open_timeout_s=6.0, stall_timeout_s=1.5)
    source = LiveSource(
        "cam", camera.url, detect_fps=10, frame_ready=threading.Event(), reconnect=watchdog_first, decoder=decoder
    )
    source.start()
    try:
        assert poll_frame(source) is not None
        camera.stall()
        assert wait_for(lambda: source.health.snapshot().state == SourceState.STALLED, timeout=5.0)
        assert "stalled" in source.health.snapshot().last_error
        assert source.health.snapshot().reconnects >= 1
        camera.stop()
        camera.start()  # serving again (not stalled)
        read_before = source.health.snapshot().frames_read
        assert wait_for(lambda: source.health.snapshot().frames_read > read_before + 3)
    finally:
        source.stop()
        camera.stop()


@pytest.mark.parametrize("decoder", ["opencv", "pyav"])
def test_only_the_newest_frame_is_kept_and_drops_are_counted(image, decoder):
    camera = MjpegCamera(image, fps=30).start()
    source = LiveSource("cam", camera.url, detect_fps=2, frame_ready=threading.Event(), reconnect=FAST, decoder=decoder)
    source.start()
    try:
        first = poll_frame(source)
        time.sleep(1.0)
        second = poll_frame(source)
        health = source.health.snapshot()
        assert second.index > first.index + 5  # the frames in between were replaced, not queued
        assert health.frames_dropped >= second.index - first.index - 1
        assert second.time > first.time
    finally:
        source.stop()
        camera.stop()


def test_detect_fps_throttles_what_reaches_the_detector(image):
    camera = MjpegCamera(image, fps=30).start()
    analysed: list[tuple[int, str]] = []
    source = LiveSource(
        "cam",
        camera.url,
        detect_fps=4,
        frame_ready=threading.Event(),
        reconnect=FAST,
        analyse=lambda index, _: analysed.append((index, threading.current_thread().name)),
    )
    source.start()
    try:
        assert poll_frame(source) is not None
        taken, deadline = 0, time.monotonic() + 2.0
        while time.monotonic() < deadline:
            frame = source.poll()
            taken += frame is not None
            # Analysed on the reader thread before it could be taken.
            assert frame is None or (frame.index, "source-cam") in analysed
            time.sleep(0.01)
        assert 5 <= taken <= 10  # about 4 per second
        health = source.health.snapshot()
        # Every frame is taken from the stream, only those due are converted to pixels.
        assert health.frames_converted <= taken + 3
        assert health.frames_read >= 3 * health.frames_converted
        assert abs(len(analysed) - health.frames_converted) <= 1, "every converted frame analysed, no other"
    finally:
        source.stop()
        camera.stop()


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("rtsp://admin:s3cret@10.0.0.1:554/stream", "rtsp://admin:***@10.0.0.1:554/stream"),
        ("http://127.0.0.1:8080/x.mjpg", "http://127.0.0.1:8080/x.mjpg"),
    ],
)
def test_passwords_never_reach_logs(url, shown):
    assert redact(url) == shown


@pytest.mark.parametrize("decoder", ["opencv", "pyav"])
def test_a_camera_that_never_answers_does_not_hold_up_the_others(image, decoder):
    # A hung camera: it takes the connection and sends nothing. OpenCV opens one stream at a time in a process,
    # so without the PyAV check before it the good camera would wait out the hung one's whole open timeout.
    hung = socket.create_server(("127.0.0.1", 0))
    slow_to_fail = Reconnect(initial_s=0.2, max_s=1.0, open_timeout_s=6.0, stall_timeout_s=20.0)
    camera = MjpegCamera(image).start()
    stuck = LiveSource(
        "hung",
        f"http://127.0.0.1:{hung.getsockname()[1]}/stream.mjpg",
        detect_fps=10,
        frame_ready=threading.Event(),
        reconnect=slow_to_fail,
        decoder=decoder,
    )
    good = LiveSource("good", camera.url, detect_fps=10, frame_ready=threading.Event(), reconnect=FAST, decoder=decoder)
    stuck.start()
    try:
        time.sleep(0.5)  # the hung camera's open is under way
        started = time.monotonic()
        good.start()
        assert poll_frame(good, timeout=4.0) is not None, "the good camera waited for the hung one"
        assert time.monotonic() - started < 4.0
        assert stuck.health.snapshot().state == SourceState.STARTING, "the hung camera is still opening"
    finally:
        good.stop()
        stuck.stop()
        camera.stop()
        hung.close()


@pytest.mark.parametrize("decoder", ["opencv", "pyav"])
def test_a_wrong_password_and_a_closed_port_are_named(image, decoder):
    camera = MjpegCamera(image, credentials=("admin", "right")).start()

    def source(name: str, url: str) -> LiveSource:
        return LiveSource(name, url, detect_fps=10, frame_ready=threading.Event(), reconnect=FAST, decoder=decoder)

    wrong = source("wrong", camera.url_as("admin", "wrong"))
    closed = source("closed", f"http://127.0.0.1:{free_port()}/stream.mjpg")
    right = source("right", camera.url_as("admin", "right"))
    for source in (wrong, closed, right):
        source.start()
    try:
        assert wait_for(lambda: wrong.health.snapshot().reconnects >= 1 and closed.health.snapshot().reconnects >= 1)
        assert "refused the user name or password (HTTP 401)" in wrong.health.snapshot().last_error
        assert "wrong" not in wrong.health.snapshot().last_error, "the password is never shown"
        assert "connection refused" in closed.health.snapshot().last_error
        assert (
            answers("http://camera-7.invalid/stream.mjpg", 2.0) == "the host name 'camera-7.invalid' does not resolve"
        )
        assert poll_frame(right) is not None, "the right password is let in"
    finally:
        for source in (wrong, closed, right):
            source.stop()
        camera.stop()


def test_a_host_name_that_does_not_resolve_is_named():
    reason = answers("rtsp://admin:secret@camera-7.invalid/stream", 2.0)  # .invalid never resolves (RFC 2606)
    assert reason == "the host name 'camera-7.invalid' does not resolve"
