"""A real MJPEG-over-HTTP camera for tests: ``multipart/x-mixed-replace`` JPEG frames on loopback.

It serves the same way IP cameras do, so the live source's connect, reconnect and stall handling
is tested against a real socket and a real decoder, not a stand-in.
"""

from __future__ import annotations

import base64
import socket
import threading
import time
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import cv2
import numpy as np

BOUNDARY = "vision-test-frame"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class MjpegCamera:
    """Serves ``image`` (drifting sideways) at ``fps`` on ``http://127.0.0.1:port/stream.mjpg``.

    ``stop()`` closes the listening socket and every open stream; ``start()`` serves again on the
    same port. ``stall()`` keeps connections open but stops sending frames. With ``credentials``
    ``(user, password)`` it asks for HTTP basic authentication, as IP cameras do, and answers 401 to
    any other.
    """

    def __init__(
        self,
        image: np.ndarray | None = None,
        port: int | None = None,
        fps: float = 15.0,
        clip: Sequence[bytes] = (),
        credentials: tuple[str, str] | None = None,
    ) -> None:
        self.image = image
        self.credentials = credentials
        self.clip = list(clip)  # JPEG frames played in a loop instead of the drifting image
        self.port = port or free_port()
        self.fps = fps
        self.frames_sent = 0
        self._server: ThreadingHTTPServer | None = None
        self._serving = threading.Event()
        self._stalled = threading.Event()

    @classmethod
    def from_clip(cls, path: str, fps: float = 10.0, offset: int = 0) -> MjpegCamera:
        """Loop the frames of a video file (from frame ``offset``), JPEG-encoded once."""
        capture = cv2.VideoCapture(path)
        frames = []
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            frames.append(cv2.imencode(".jpg", frame)[1].tobytes())
        capture.release()
        if not frames:
            raise ValueError(f"{path}: no frames")
        offset %= len(frames)
        return cls(fps=fps, clip=frames[offset:] + frames[:offset])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/stream.mjpg"

    def url_as(self, user: str, password: str) -> str:
        return f"http://{user}:{password}@127.0.0.1:{self.port}/stream.mjpg"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        camera = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # keep test output quiet
                pass

            def do_GET(self) -> None:
                if camera.credentials is not None:
                    expected = base64.b64encode(":".join(camera.credentials).encode()).decode()
                    if self.headers.get("Authorization") != f"Basic {expected}":
                        self.send_response(401)
                        self.send_header("WWW-Authenticate", 'Basic realm="camera"')
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                self.send_response(200)
                self.send_header("Content-Type", f"multipart/x-mixed-replace; boundary={BOUNDARY}")
                self.send_header("Cache-Control", "no-cache")
                self.end_headers()
                index = 0
                while camera._serving.is_set():
                    if camera._stalled.is_set():
                        time.sleep(0.05)
                        continue
                    if camera.clip:
                        jpeg = np.frombuffer(camera.clip[index % len(camera.clip)], np.uint8)
                    else:
                        assert camera.image is not None, "an MjpegCamera needs an image or a clip"
                        ok, jpeg = cv2.imencode(".jpg", np.roll(camera.image, 3 * index, axis=1))
                        assert ok
                    try:
                        self.wfile.write(
                            f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n\r\n".encode()
                        )
                        self.wfile.write(jpeg.tobytes())
                        self.wfile.write(b"\r\n")
                        self.wfile.flush()
                    except (BrokenPipeError, ConnectionResetError):
                        return
                    camera.frames_sent += 1
                    index += 1
                    time.sleep(1.0 / camera.fps)

        return Handler

    def start(self) -> MjpegCamera:
        self._serving.set()
        self._stalled.clear()
        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stall(self) -> None:
        self._stalled.set()

    def stop(self) -> None:
        self._serving.clear()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
