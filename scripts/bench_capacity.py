#!/usr/bin/env python3
"""How many cameras one box serves, and what decoding costs: two benchmarks, each side by side in one run.

``decode``: ``read()`` every frame (the old live path) against OpenCV's ``grab()`` every frame and
``retrieve()`` only the frames due at ``detect_fps`` (the file and live sources' default), and PyAV
skipping the frames no other frame needs while none is due and converting only due ones (a camera's
``decoder: pyav``)::

    .venv/bin/python scripts/bench_capacity.py decode [--live 20]

1. **File** (one thread, CPU time of this process): every frame through ``read()``, against
   ``grab()`` every frame plus ``retrieve()`` of those due at ``--detect-fps``, and against the live
   sources' PyAV reader (``PyAVCapture``) due by the same clock. ``read()`` and ``grab()`` deliver the
   same frames, compared pixel for pixel; PyAV's are compared by frame number (its colour conversion is
   not OpenCV's), and on a stream with B-frames may be a frame or two off (a skipped B-frame cannot be
   delivered; the next decoded frame is).
2. **Live** (``--live SECONDS``): the clip is served over loopback HTTP as MPEG-TS by a child process
   paced at its bitrate, and a real :class:`~vision.sources.live.LiveSource` reads it for that long,
   polled at ``--detect-fps``: with PyAV, with OpenCV's grab/retrieve (the default), and with the old
   ``read()`` loop, one after the other. CPU time of this process (the server is another) per second
   of stream.

``capacity``: N live cameras of a quiet or a busy school-gate scene (1080p or 720p) run through
the real pipeline (``vision run``'s ``Pipeline``, default helmet model, ``detect_fps: 2``) for
``--seconds``; a camera count *holds* when every camera is detected at 90 % of its detect_fps or
more (no detector backlog) and every reader takes 90 % of its stream's 25 frames a second or more
(it keeps up: a reader that falls behind serves ever older frames). CPU time is split by thread:
the source readers, the detector thread (pre- and post-processing, planning, tracking), the
writers, and the native pools that have no Python name (ONNX Runtime's inference threads, FFmpeg's
decoder threads); decode alone per camera is what ``decode`` measures::

    .venv/bin/python scripts/bench_capacity.py capacity --scene busy --height 1080 --cameras 1 2 3 4
    .venv/bin/python scripts/bench_capacity.py capacity --scene quiet --height 720 --cameras 8 12 16
    .venv/bin/python scripts/bench_capacity.py capacity ... --variants new spin old

``--variants`` runs each camera count once per variant, one after the other: ``new`` is the
default path; ``pyav`` the same with every camera read by PyAV (``decoder: pyav``); ``pass640`` the same
with riders' first pass letterboxed to 640 as before December 2026 (``vehicle_pass_size: 640``); ``lanes1`` the
same with one detector thread per model (``inference: {lanes: 1}``, as before December 2026); ``spin`` the
same with ONNX Runtime's threads left spinning between calls (its default, ``spin_wait: true`` in
the spec; ours is off); ``old`` is ``read()`` of every frame with the previous default detection,
``motion``, and spinning threads.

The streams are H.264 in MPEG-TS over HTTP on loopback (no RTSP server is installable from the
package registries here; OpenCV decodes both through the same FFmpeg H.264 decoder), made from
``../shared/datasets/gate-camera`` frames. Clips are 25 fps at about 3-4 Mbit/s with an I-frame every
2 s and no B-frames, as CCTV cameras send (``--b-frames``: libx264's own B-frames), cached in
``build/bench/``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import av
import cv2
import numpy as np

from vision.sources import SourceState
from vision.sources.live import LiveSource, PyAVCapture

ROOT = Path(__file__).resolve().parents[1]
GATE = ROOT.parent / "shared" / "datasets" / "gate-camera" / "images"
FPS = 25
VARIANTS = {
    "new": "new: OpenCV grab/retrieve reader, detection auto",
    "pyav": "new with the PyAV reader (decoder: pyav)",
    "pass640": "new with riders' vehicle pass at 640 (detection.vehicle_pass_size: 640, the default until 2026-12)",
    "lanes1": "new with one detector thread per model (inference.lanes: 1, the default until 2026-12)",
    "spin": "new, ONNX Runtime threads spinning between calls",
    "old": "old: read() every frame, detection motion, threads spinning",
}
BITRATE = 4_000_000


def make_clip(path: Path, width: int, height: int, seconds: float, scene: str = "pan", b_frames: bool = False) -> Path:
    """An H.264 clip of ``seconds`` at 25 fps, an I-frame every 2 s (cached: made once per scene, size,
    length and kind).

    Like a CCTV camera's stream, it has no B-frames (every frame after an I-frame is a P-frame that
    the next one refers to, so a decoder can skip none); ``b_frames`` keeps libx264's own B-frames
    (most of them referred to by no other frame).

    ``pan``: gate-camera frames slowly panned (every frame differs); ``quiet``: one gate frame with
    sensor noise and a small object crossing for a quarter of the clip; ``busy``: consecutive
    gate-camera val frames, each held 0.2 s (riders everywhere).
    """
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    names = (GATE.parent / "val.txt").read_text().split() if GATE.is_dir() else []
    frames = [GATE / f"{name}.jpg" for name in names] if scene == "busy" else sorted(GATE.glob("*.jpg"))[:8]
    pad = 64 if scene == "pan" else 0
    sources = [cv2.resize(cv2.imread(str(f)), (width + pad, height), interpolation=cv2.INTER_AREA) for f in frames]
    rng = np.random.default_rng(0)
    total = int(seconds * FPS)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.bit_rate = BITRATE
        stream.options = {"preset": "veryfast", "g": str(2 * FPS), **({} if b_frames else {"bf": "0"})}
        for index in range(total):
            if not sources:  # a moving synthetic scene
                image = np.full((height, width, 3), 90, np.uint8)
                x = (index * 8) % (width - 200)
                image[height // 3 : height // 3 + 200, x : x + 200] = rng.integers(0, 255, 3)
            elif scene == "busy":
                image = sources[(index // 5) % len(sources)]
            elif scene == "quiet":
                noise = rng.normal(0, 2, sources[0].shape)
                image = np.clip(sources[0].astype(np.int16) + noise, 0, 255).astype(np.uint8)
                if total // 2 <= index < total // 2 + total // 4:
                    x = width // 5 + 6 * (index - total // 2)
                    image[height // 5 : height // 5 + height // 14, x : x + width // 32] = (40, 40, 160)
            else:
                shift = index % 64
                image = sources[(index // (2 * FPS)) % len(sources)][:, shift : shift + width]
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image[..., ::-1]), format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def stream_kind(args: argparse.Namespace) -> str:
    """The kind of stream in the names of clips and results: ``b`` with B-frames, ``ip`` without."""
    return "b" if args.b_frames else "ip"


def _digest(image: np.ndarray) -> str:
    return hashlib.sha1(image.tobytes()).hexdigest()


def file_paths(clip: Path, detect_fps: float) -> dict[str, object]:
    """CPU ms per stream frame for read() of every frame, and grab() of every frame + retrieve() of due ones."""
    period = 1.0 / detect_fps

    def run(convert_all: bool) -> tuple[float, int, list[tuple[int, str]]]:
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
                delivered.append((index, _digest(image)))
            index += 1
        spent = time.process_time() - start
        capture.release()
        return spent, index, delivered

    def run_pyav() -> tuple[float, list[int]]:
        capture = PyAVCapture(str(clip), 10.0, 10.0)
        next_due, index, delivered = 0.0, 0, []

        def due() -> bool:
            return index / FPS + 1e-6 >= next_due

        start = time.process_time()
        while True:
            alive, image = capture.read(due)
            if not alive:
                break
            if image is not None:
                while next_due <= index / FPS + 1e-6:
                    next_due += period
                delivered.append(round((capture.last_time_s or 0.0) * FPS))
            index += 1
        spent = time.process_time() - start
        capture.release()
        return spent, delivered

    run(False)  # warm the page cache and the codec
    read_s, frames, read_frames = run(True)
    grab_s, _, grab_frames = run(False)
    pyav_s, pyav_frames = run_pyav()
    offsets = [abs(a - b) for a, (b, _) in zip(pyav_frames, read_frames, strict=False)]
    return {
        "frames": frames,
        "delivered": len(grab_frames),
        "same_frames_delivered": read_frames == grab_frames,
        "pyav_delivered": len(pyav_frames),
        "pyav_most_frames_off": max(offsets, default=0),
        "read_every_frame_ms": round(1000 * read_s / frames, 2),
        "grab_and_retrieve_due_ms": round(1000 * grab_s / frames, 2),
        "pyav_skip_and_convert_due_ms": round(1000 * pyav_s / frames, 2),
        "speed_up": round(read_s / grab_s, 2),
        "speed_up_pyav": round(read_s / pyav_s, 2),
        "cores_per_camera_read": round(read_s / frames * FPS, 3),
        "cores_per_camera_grab": round(grab_s / frames * FPS, 3),
        "cores_per_camera_pyav": round(pyav_s / frames * FPS, 3),
    }


class ReadEveryFrameSource(LiveSource):
    """The old reader: ``read()`` converts every frame of the stream, then most are dropped (OpenCV, the default)."""

    def _wanted(self) -> bool:
        return True


class PyAVSource(LiveSource):
    """A camera with ``decoder: pyav``: non-reference frames skipped undecoded while none is due."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **{**kwargs, "decoder": "pyav"})  # type: ignore[arg-type]


SERVER = """
import sys, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
data, rate = open(sys.argv[1], 'rb').read(), float(sys.argv[2]) / 8
class Handler(BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_GET(self):  # every path serves the clip, looped and paced at its bitrate
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
server.daemon_threads = True
print(server.server_address[1], flush=True)
server.serve_forever()
"""


def serve(clip: Path) -> tuple[subprocess.Popen, str]:
    """A child process serving ``clip`` as MPEG-TS at its bitrate on loopback; its base URL."""
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
    with av.open(str(clip)) as source:
        bitrate = ts.stat().st_size * 8 / (source.duration / 1_000_000)
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(ts), str(bitrate)], stdout=subprocess.PIPE, text=True)
    port = int(server.stdout.readline())  # type: ignore[union-attr]
    return server, f"http://127.0.0.1:{port}"


def live_paths(clip: Path, detect_fps: float, seconds: float) -> dict[str, object]:
    """CPU seconds per stream second of a LiveSource (new) and the old read() reader, one after the other."""
    server, base = serve(clip)
    try:
        url = f"{base}/stream.ts"
        results = {}
        variants = (
            ("pyav_skip_and_convert_due", PyAVSource),
            ("grab_and_retrieve_due", LiveSource),
            ("read_every_frame", ReadEveryFrameSource),
        )
        for name, kind in variants:
            ready = threading.Event()
            source = kind("bench", url, detect_fps, ready)
            source.start()
            while source.poll() is None:  # connected and a first frame decoded
                time.sleep(0.01)
            start_cpu, start, taken = time.process_time(), time.monotonic(), 0
            while time.monotonic() - start < seconds:  # woken by a converted frame, as the pipeline's loop is
                ready.wait(0.5)
                ready.clear()
                taken += source.poll() is not None
            cpu, wall = time.process_time() - start_cpu, time.monotonic() - start
            health = source.health.snapshot()
            source.stop()
            results[name] = {
                "cpu_cores": round(cpu / wall, 3),
                "frames_read_per_s": round(int(health.frames_read) / wall, 1),
                "frames_converted": health.frames_converted,
                "frames_taken_per_s": round(taken / wall, 2),
            }
        read = results["read_every_frame"]["cpu_cores"]
        results["speed_up"] = round(read / results["grab_and_retrieve_due"]["cpu_cores"], 2)
        results["speed_up_pyav"] = round(read / results["pyav_skip_and_convert_due"]["cpu_cores"], 2)
        return results
    finally:
        server.kill()


def thread_cpu_s() -> dict[str, float]:
    """CPU seconds (user + system) of each live thread of this process, by thread name."""
    tick = os.sysconf("SC_CLK_TCK")
    times: dict[str, float] = {}
    for thread in threading.enumerate():
        try:
            fields = Path(f"/proc/self/task/{thread.native_id}/stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, TypeError):
            continue
        times[thread.name] = (int(fields[11]) + int(fields[12])) / tick
    return times


def capacity_run(config_path: Path, seconds: float, warm_up_s: float) -> dict[str, object]:
    """One pipeline over the config's live cameras (in this process): per-camera detect rate and CPU split."""
    from prometheus_client import CollectorRegistry

    from vision.config import load_config
    from vision.pipeline import Pipeline
    from vision.store import open_store

    config = load_config(config_path)
    registry = CollectorRegistry()
    pipeline = Pipeline(config, open_store(config.store.url), config_path, registry=registry, progress=False)
    stop = threading.Event()
    runner = threading.Thread(target=pipeline.run, args=(stop,), name="pipeline-main")
    runner.start()
    # Every camera connected and reading before the clock starts: OpenCV opens one stream at a time (about 0.9 s
    # each here), so a count of cameras measured from a fixed moment would count late opens as slow readers.
    connected_by = time.monotonic() + 120
    while time.monotonic() < connected_by and not all(
        info.state == SourceState.UP and info.frames_read > 0 for info in pipeline.summary().values()
    ):
        time.sleep(0.2)
    connect_s = round(time.monotonic() - (connected_by - 120), 1)
    time.sleep(warm_up_s)  # first frames detected, model warm

    def processed() -> dict[str, float]:
        return {
            camera.id: registry.get_sample_value(
                "vision_camera_frames_processed_total", {"camera": camera.id, "site": camera.site}
            )
            or 0.0
            for camera in config.cameras
        }

    def inference_s() -> float:
        return sum(
            sample.value
            for metric in registry.collect()
            if metric.name == "vision_inference_latency_seconds"
            for sample in metric.samples
            if sample.name.endswith("_sum")
        )

    def read() -> dict[str, float]:  # frames taken from each stream (converted or not): a reader keeping up reads FPS
        return {camera: float(info.frames_read) for camera, info in pipeline.summary().items()}

    before, cpu_before, infer_before, started = processed(), thread_cpu_s(), inference_s(), time.monotonic()
    read_before = read()
    process_before = time.process_time()
    time.sleep(seconds)
    after, cpu_after, infer_after, read_after = processed(), thread_cpu_s(), inference_s(), read()
    wall, process_cpu = time.monotonic() - started, time.process_time() - process_before
    stop.set()
    runner.join()
    spent = {name: cpu_after[name] - cpu_before.get(name, 0.0) for name in cpu_after}

    def share(prefix: str) -> float:
        return sum(value for name, value in spent.items() if name.startswith(prefix)) / wall

    detector = share("detect-")
    inference = (infer_after - infer_before) / wall
    rates = {camera: (after[camera] - before[camera]) / wall for camera in after}
    read_rates = [(read_after[camera] - read_before.get(camera, 0.0)) / wall for camera in read_after]
    return {
        "cameras": len(rates),
        "connect_s": connect_s,  # until every camera read its first frame
        "detect_fps_min": round(min(rates.values()), 2),
        "detect_fps_mean": round(sum(rates.values()) / len(rates), 2),
        "read_fps_min": round(min(read_rates), 1),
        "crops_per_frame": round(
            sum(float(info.regions_per_frame) for info in pipeline.summary().values()) / len(rates), 2
        ),
        "cpu_cores": {
            "total": round(process_cpu / wall, 2),
            "source_threads": round(share("source-"), 2),
            "detector_thread": round(detector, 2),
            "writer_threads": round(share("store-writer") + share("evidence"), 2),
            # ONNX Runtime's pool and FFmpeg's decoder threads are native and unnamed: the rest.
            "native_pools": round(process_cpu / wall - sum(spent.values()) / wall, 2),
        },
        "inference_wall_s_per_s": round(inference, 2),
        "thread_cpu_s": {name: round(value, 2) for name, value in sorted(spent.items()) if value >= 0.05},
    }


def capacity(args: argparse.Namespace) -> int:
    """N live cameras of one scene through the pipeline, for each N asked; the largest N that holds."""
    import yaml

    clip = make_clip(
        args.out / f"capacity-{args.scene}-{args.height}p-{stream_kind(args)}.mp4",
        args.height * 16 // 9,
        args.height,
        20,
        args.scene,
        args.b_frames,
    )
    server, base = serve(clip)
    results = []
    try:
        for cameras, variant in ((cameras, variant) for cameras in args.cameras for variant in args.variants):
            folder = Path(tempfile.mkdtemp(prefix="capacity-", dir=args.out))
            detection = {
                "old": {"detection": {"mode": "motion"}},
                "pass640": {"detection": {"vehicle_pass_size": 640}},
            }.get(variant, {})
            decoder = {"decoder": "pyav"} if variant == "pyav" else {}
            model = ROOT / "models" / "helmet.yaml"
            if variant in ("spin", "old"):  # the old path spun too: ONNX Runtime's default until then
                spec = yaml.safe_load(model.read_text())
                spec.update(spin_wait=True, path=str(model.parent / spec["path"]))
                spec["evaluation"] = str(model.parent / spec["evaluation"])
                model = folder / "helmet-spin.yaml"
                model.write_text(yaml.safe_dump(spec))
            config = {
                "sites": [{"id": "gate", "name": "Gate"}],
                "cameras": [
                    {
                        "id": f"cam{index}",
                        "site": "gate",
                        "source": f"{base}/cam{index}.ts",
                        "category": "helmet",
                        "model": str(model),
                        "detect_fps": args.detect_fps,
                        **detection,
                        **decoder,
                    }
                    for index in range(cameras)
                ],
                "store": {"url": f"sqlite:///{folder / 'store.db'}"},
                "evidence": {"folder": str(folder / "evidence")},
                "inference": {"lanes": 1 if variant in ("lanes1", "old") else 2},
            }
            config_path = folder / "config.yaml"
            config_path.write_text(yaml.safe_dump(config))
            command = [sys.executable, __file__, "_run", str(config_path), str(args.seconds)]
            if variant == "old":
                command.append("--old")
            output = subprocess.run(command, capture_output=True, text=True, check=False)
            if output.returncode:
                raise SystemExit(f"capacity run failed:\n{output.stderr[-3000:]}")
            run = json.loads(output.stdout.strip().splitlines()[-1])
            # Held: every camera detected at 90 % of detect_fps, and every reader keeping up with its stream (a
            # reader that falls behind serves ever older frames, and a camera's buffer overflows).
            run["holds"] = run["detect_fps_min"] >= 0.9 * args.detect_fps and run["read_fps_min"] >= 0.9 * FPS
            run = {"variant": variant, **run}
            results.append(run)
            print(json.dumps(run), flush=True)
    finally:
        server.kill()
    summary = {
        "scene": args.scene,
        "height": args.height,
        "b_frames": args.b_frames,
        "detect_fps": args.detect_fps,
        "largest_n_that_holds": {
            VARIANTS[variant]: max(
                (run["cameras"] for run in results if run["variant"] == variant and run["holds"]), default=0
            )
            for variant in args.variants
        },
        "runs": results,
    }
    print(json.dumps({k: v for k, v in summary.items() if k != "runs"}))
    name = f"capacity-{args.scene}-{args.height}p-{stream_kind(args)}-{'-'.join(args.variants)}.json"
    (args.out / name).write_text(json.dumps(summary, indent=1) + "\n")
    return 0


def decode(args: argparse.Namespace) -> int:
    report: dict[str, object] = {
        "detect_fps": args.detect_fps,
        "stream_fps": FPS,
        "bitrate": BITRATE,
        "b_frames": args.b_frames,
    }
    for width, height in ((1920, 1080), (1280, 720), (640, 360)):  # 640×360: a camera's detect sub-stream
        clip = make_clip(
            args.out / f"decode-{height}p-{args.seconds:g}s-{stream_kind(args)}.mp4",
            width,
            height,
            args.seconds,
            b_frames=args.b_frames,
        )
        entry: dict[str, object] = {"file": file_paths(clip, args.detect_fps)}
        if args.live:
            entry["live"] = live_paths(clip, args.detect_fps, args.live)
        report[f"{height}p"] = entry
        print(json.dumps({f"{height}p": entry}), flush=True)
    main_read = report["1080p"]["file"]["read_every_frame_ms"]  # type: ignore[index]
    sub_grab = report["360p"]["file"]["grab_and_retrieve_due_ms"]  # type: ignore[index]
    report["1080p_read_vs_360p_substream_grab"] = round(main_read / sub_grab, 2)
    print(json.dumps({"1080p_read_vs_360p_substream_grab": report["1080p_read_vs_360p_substream_grab"]}))
    (args.out / f"decode-{stream_kind(args)}.json").write_text(json.dumps(report, indent=1) + "\n")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "bench")
    parser.add_argument(
        "--b-frames", action="store_true", help="streams with libx264's B-frames (default: none, as cameras send)"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    decode_parser = commands.add_parser("decode", help="decode CPU per camera: read() against grab/retrieve")
    decode_parser.add_argument("--detect-fps", type=float, default=2.0)
    decode_parser.add_argument("--seconds", type=float, default=12.0, help="length of the clips made")
    decode_parser.add_argument("--live", type=float, default=0.0, metavar="SECONDS", help="also a live stream")
    capacity_parser = commands.add_parser("capacity", help="the largest number of live cameras that holds")
    capacity_parser.add_argument("--scene", choices=("quiet", "busy"), default="busy")
    capacity_parser.add_argument("--height", type=int, choices=(720, 1080), default=1080)
    capacity_parser.add_argument("--cameras", type=int, nargs="+", default=[1, 2, 3, 4])
    capacity_parser.add_argument("--detect-fps", type=float, default=2.0)
    capacity_parser.add_argument("--seconds", type=float, default=30.0, help="measured time per camera count")
    capacity_parser.add_argument(
        "--variants", nargs="+", choices=tuple(VARIANTS), default=["new"], help="paths to run at each count"
    )
    run_parser = commands.add_parser("_run", help=argparse.SUPPRESS)  # one capacity run, in a fresh process
    run_parser.add_argument("config", type=Path)
    run_parser.add_argument("seconds", type=float)
    run_parser.add_argument("--old", action="store_true")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.command == "_run":
        if args.old:  # the reader before grab/retrieve: every frame converted
            LiveSource._wanted = ReadEveryFrameSource._wanted  # type: ignore[method-assign]
        print(json.dumps(capacity_run(args.config, args.seconds, warm_up_s=8.0)))
        return 0
    return decode(args) if args.command == "decode" else capacity(args)


if __name__ == "__main__":
    sys.exit(main())
