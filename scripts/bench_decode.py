#!/usr/bin/env python3
"""Decode cost per camera: ``read()`` every frame (the old live path) against ``grab()`` every frame
and ``retrieve()`` only the frames due at ``detect_fps`` (the live and file sources now), side by side.

Clips are H.264 at 25 fps and about 3-4 Mbit/s, 1080p, 720p and 360p (a camera's sub-stream, which
``detect_source`` reads instead of the main stream), made here with PyAV from
gate-camera frames (``../shared/datasets/gate-camera``, slowly panned so that every frame differs) or,
without it, from a moving synthetic scene; cached in ``build/bench/``::

    .venv/bin/python scripts/bench_decode.py                     # file paths, both sizes
    .venv/bin/python scripts/bench_decode.py --live 20           # and a live HTTP MPEG-TS stream, 20 s a path

Two measurements:

1. **File** (one thread, CPU time of this process): every frame through ``read()``, against
   ``grab()`` every frame plus ``retrieve()`` of those due at ``--detect-fps``. The frames delivered
   by both are compared pixel for pixel (same frames, same pixels).
2. **Live** (``--live SECONDS``): the clip is served over loopback HTTP as MPEG-TS by a child process
   paced at its bitrate, and a real :class:`~vision.sources.live.LiveSource` reads it for that long,
   polled at ``--detect-fps``; then the same with its reader replaced by the old ``read()`` loop.
   CPU time of this process (the server is another) per second of stream.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import av
import cv2
import numpy as np

from vision.sources.live import LiveSource

ROOT = Path(__file__).resolve().parents[1]
GATE = ROOT.parent / "shared" / "datasets" / "gate-camera" / "images"
FPS = 25
BITRATE = 4_000_000


def make_clip(path: Path, width: int, height: int, seconds: float) -> Path:
    """An H.264 clip of ``seconds`` at 25 fps (cached: made once per size and length)."""
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    frames = sorted(GATE.glob("*.jpg"))[:8] if GATE.is_dir() else []
    sources = [cv2.resize(cv2.imread(str(f)), (width + 64, height)) for f in frames]
    rng = np.random.default_rng(0)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.bit_rate = BITRATE
        stream.options = {"preset": "veryfast", "g": str(2 * FPS)}
        for index in range(int(seconds * FPS)):
            if sources:
                source = sources[(index // (2 * FPS)) % len(sources)]
                shift = index % 64
                image = source[:, shift : shift + width]
            else:  # a moving synthetic scene
                image = np.full((height, width, 3), 90, np.uint8)
                x = (index * 8) % (width - 200)
                image[height // 3 : height // 3 + 200, x : x + 200] = rng.integers(0, 255, 3)
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image[..., ::-1]), format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def _digest(image: np.ndarray) -> str:
    return hashlib.sha1(image.tobytes()).hexdigest()


def file_paths(clip: Path, detect_fps: float) -> dict[str, object]:
    """CPU ms per stream frame for read() of every frame, and grab() of every frame + retrieve() of due ones."""
    period = 1.0 / detect_fps

    def run(convert_all: bool) -> tuple[float, int, list[str]]:
        capture = cv2.VideoCapture(str(clip))
        next_due, index, delivered = 0.0, 0, []
        start = time.process_time()
        while True:
            if convert_all:
                ok, image = capture.read()
                if not ok:
                    break
            elif not capture.grab():
                break
            offset = index / FPS
            if offset + 1e-6 >= next_due:
                while next_due <= offset + 1e-6:
                    next_due += period
                if not convert_all:
                    ok, image = capture.retrieve()
                delivered.append(_digest(image))
            index += 1
        spent = time.process_time() - start
        capture.release()
        return spent, index, delivered

    run(False)  # warm the page cache and the codec
    read_s, frames, read_frames = run(True)
    grab_s, _, grab_frames = run(False)
    return {
        "frames": frames,
        "delivered": len(grab_frames),
        "same_frames_delivered": read_frames == grab_frames,
        "read_every_frame_ms": round(1000 * read_s / frames, 2),
        "grab_and_retrieve_due_ms": round(1000 * grab_s / frames, 2),
        "speed_up": round(read_s / grab_s, 2),
        "cores_per_camera_read": round(read_s / frames * FPS, 3),
        "cores_per_camera_grab": round(grab_s / frames * FPS, 3),
    }


class ReadEveryFrameSource(LiveSource):
    """The old reader: ``read()`` converts every frame of the stream, then most are dropped."""

    def _wanted(self) -> bool:
        return True


SERVER = """
import sys, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
data, rate = open(sys.argv[1], 'rb').read(), float(sys.argv[2]) / 8
class Handler(BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_GET(self):
        self.send_response(200); self.send_header('Content-Type', 'video/mp2t'); self.end_headers()
        start, sent, chunk = time.monotonic(), 0, 188 * 64
        try:
            while True:
                for i in range(0, len(data), chunk):
                    self.wfile.write(data[i:i + chunk]); sent += chunk
                    ahead = sent / rate - (time.monotonic() - start)
                    if ahead > 0: time.sleep(ahead)
        except (BrokenPipeError, ConnectionResetError):
            return
server = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
"""


def live_paths(clip: Path, detect_fps: float, seconds: float) -> dict[str, object]:
    """CPU seconds per stream second of a LiveSource (new) and the old read() reader, one after the other."""
    ts = clip.with_suffix(".ts")
    if not ts.exists():
        with av.open(str(clip)) as source, av.open(str(ts), "w", format="mpegts") as target:
            video = source.streams.video[0]
            out = target.add_stream_from_template(video)
            for packet in source.demux(video):
                if packet.dts is None:
                    continue
                packet.stream = out
                target.mux(packet)
    bitrate = ts.stat().st_size * 8 / (av.open(str(clip)).duration / 1_000_000)
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(ts), str(bitrate)], stdout=subprocess.PIPE, text=True)
    try:
        port = int(server.stdout.readline())  # type: ignore[union-attr]
        url = f"http://127.0.0.1:{port}/stream.ts"
        results = {}
        for name, kind in (("grab_and_retrieve_due", LiveSource), ("read_every_frame", ReadEveryFrameSource)):
            source = kind("bench", url, detect_fps, threading.Event())
            source.start()
            while source.poll() is None:  # connected and a first frame decoded
                time.sleep(0.01)
            start_cpu, start, taken = time.process_time(), time.monotonic(), 0
            while time.monotonic() - start < seconds:
                taken += source.poll() is not None
                time.sleep(0.01)
            cpu, wall = time.process_time() - start_cpu, time.monotonic() - start
            health = source.health.snapshot()
            source.stop()
            results[name] = {
                "cpu_cores": round(cpu / wall, 3),
                "frames_read_per_s": round(int(health["frames_read"]) / wall, 1),
                "frames_converted": health["frames_converted"],
                "frames_taken_per_s": round(taken / wall, 2),
            }
        results["speed_up"] = round(
            results["read_every_frame"]["cpu_cores"] / results["grab_and_retrieve_due"]["cpu_cores"], 2
        )
        return results
    finally:
        server.kill()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--detect-fps", type=float, default=2.0)
    parser.add_argument("--seconds", type=float, default=12.0, help="length of the clips made")
    parser.add_argument("--live", type=float, default=0.0, metavar="SECONDS", help="also measure a live stream")
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "bench")
    args = parser.parse_args()
    report = {"detect_fps": args.detect_fps, "stream_fps": FPS, "bitrate": BITRATE}
    for width, height in ((1920, 1080), (1280, 720), (640, 360)):  # 640×360: a camera's detect sub-stream
        clip = make_clip(args.out / f"decode-{height}p-{args.seconds:g}s.mp4", width, height, args.seconds)
        entry: dict[str, object] = {"file": file_paths(clip, args.detect_fps)}
        if args.live:
            entry["live"] = live_paths(clip, args.detect_fps, args.live)
        report[f"{height}p"] = entry
        print(json.dumps({f"{height}p": entry}), flush=True)
    main_read = report["1080p"]["file"]["read_every_frame_ms"]  # type: ignore[index]
    sub_grab = report["360p"]["file"]["grab_and_retrieve_due_ms"]  # type: ignore[index]
    report["1080p_read_vs_360p_substream_grab"] = round(main_read / sub_grab, 2)
    print(json.dumps({"1080p_read_vs_360p_substream_grab": report["1080p_read_vs_360p_substream_grab"]}))
    (args.out / "decode.json").write_text(json.dumps(report, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
