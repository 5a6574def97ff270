"""The ``vision`` command line.

Expected failures (:class:`~vision.errors.VisionError`) print one ``vision: error: ...`` line and
exit with status 2; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from vision import __version__
from vision.errors import VisionError
from vision.reports.cli import add_report_parser

if TYPE_CHECKING:  # the pipeline (and its detectors) load only for the commands that run one
    from vision.pipeline import CameraSummary

STORE_ENV = "VISION_STORE_URL"  # vision.store.database.STORE_ENV, without importing SQLAlchemy for --help

DEFAULT_MODEL = "models/helmet.yaml"


def _spec_with_overrides(args: argparse.Namespace):  # -> DetectorSpec
    from vision.detectors import load_spec

    spec = load_spec(args.model)
    updates = {
        field: value
        for field, value in (("conf", args.conf), ("input_size", args.input_size), ("threads", args.threads))
        if value is not None
    }
    for field in updates:
        if field not in type(spec).model_fields:
            raise VisionError(f"--{field.replace('_', '-')} does not apply to a {spec.type} detector")
    try:
        return type(spec).model_validate({**spec.model_dump(exclude_unset=True), **updates})
    except ValidationError as error:
        first = error.errors()[0]
        where = f"--{first['loc'][0]}" if first["loc"] else f"--model {args.model}"
        raise VisionError(f"{where}: {first['msg']}") from error


def _cmd_detect(args: argparse.Namespace) -> int:
    import cv2
    from tqdm import tqdm

    from vision.detectors import build_detector
    from vision.detectors.annotate import draw_detections
    from vision.detectors.motion import detect_still
    from vision.sources.files import check_input, is_video, iter_path

    check_input(args.path)
    detection = _detection_settings(args)
    detector = build_detector(_spec_with_overrides(args))
    out_dir: Path = args.out
    out_dir.mkdir(parents=True, exist_ok=True)
    source: Path = args.path
    writer = None
    records = []
    try:
        for frame in tqdm(iter_path(source), desc="detect", unit="frame", disable=args.quiet):
            detections, mode, crops = detect_still(detector, frame.image, detection)
            annotated = draw_detections(frame.image, detections, detector.info)
            if is_video(source):
                if writer is None:
                    fps = cv2.VideoCapture(str(source)).get(cv2.CAP_PROP_FPS) or 25.0
                    video_path = out_dir / f"{source.stem}.annotated.mp4"
                    height, width = annotated.shape[:2]
                    writer = cv2.VideoWriter(str(video_path), cv2.VideoWriter.fourcc(*"mp4v"), fps, (width, height))
                writer.write(annotated)
            else:
                cv2.imwrite(str(out_dir / f"{Path(frame.source).stem}.jpg"), annotated)
            records.append(
                {
                    "source": frame.source,
                    "frame_index": frame.index,
                    "time_s": frame.time_s,
                    "height": int(frame.image.shape[0]),
                    "width": int(frame.image.shape[1]),
                    "detection": mode,
                    "crops": crops,
                    "detections": detections.to_records(),
                }
            )
    finally:
        if writer is not None:
            writer.release()
    result = {
        "model": detector.info.name,
        "category": detector.info.category,
        "class_names": list(detector.info.class_names),
        "input": str(source),
        "frames": records,
    }
    json_path = out_dir / "detections.json"
    json_path.write_text(json.dumps(result, indent=1))
    total = sum(len(r["detections"]) for r in records)
    costs = [r["crops"] for r in records]
    per_frame = f"; detector crops per frame {sum(costs) / len(costs):.2f}, at most {max(costs)}" if costs else ""
    print(
        f"{len(records)} frame(s), {total} detection(s){per_frame}; wrote {json_path} and annotated output in {out_dir}"
    )
    return 0


def _format_report(report, model: str, data: str) -> str:  # report: EvalReport
    lines = [
        f"model {model} on {data}: {report.n_images} images, operating threshold {report.conf:g}"
        + "".join(f", {name} {value:g}" for name, value in (report.class_conf or {}).items())
        + (
            f"; {report.tiled_images} tiled at native resolution, {report.n_images - report.tiled_images} whole"
            if report.tiled_images is not None
            else ""
        ),
        f"{'class':<24} {'AP50':>6} {'AP50-95':>8} {'P':>6} {'R':>6} {'n_gt':>6} {'n_pred':>7}",
    ]
    for name, scores in report.classes.items():
        lines.append(
            f"{name:<24} {scores.AP50:6.3f} {scores.AP50_95:8.3f} {scores.precision:6.3f} "
            f"{scores.recall:6.3f} {scores.n_gt:6d} {scores.n_pred:7d}"
        )
    lines.append(f"{'all (mean)':<24} {report.mean_ap50:6.3f} {report.mean_ap50_95:8.3f}")
    lines.append(f"{'size (sqrt area)':<24} {'AP50':>6} {'R':>15} {'n_gt':>6}")
    labels = {"small": "small < 32 px", "medium": "medium 32-96 px", "large": "large > 96 px"}
    for bucket, scores in report.sizes.items():
        lines.append(f"{labels[bucket]:<24} {scores.AP50:6.3f} {scores.recall:15.3f} {scores.n_gt:6d}")
    if report.outcomes is not None:
        o = report.outcomes

        def share(value: float | None) -> str:
            return "-" if value is None else f"{value:.3f}"

        lines.append(
            f"verdicts of found people (IoU >= 0.5, any class): sensitivity (non-compliant) {share(o.sensitivity)} "
            f"of {o.n_non_compliant}, specificity (compliant) {share(o.specificity)} of {o.n_compliant}; "
            f"found {o.found:.3f} of people with an outcome, {o.decided:.3f} of those decided"
        )
    if report.unmatched_gt_classes:
        lines.append(f"ground-truth classes the model lacks (left out): {report.unmatched_gt_classes}")
    lines.append(f"ms/image (median, operating threshold): {report.ms_per_image:.1f}")
    if report.crops_per_image is not None:
        lines.append(f"detector crops per image (mean): {report.crops_per_image:.2f}")
    return "\n".join(lines)


def _cmd_eval(args: argparse.Namespace) -> int:
    from vision.evaluation.runner import evaluate_spec
    from vision.evaluation.voc import load_voc

    spec = _spec_with_overrides(args)
    if args.class_map:
        aliases = dict(spec.eval_aliases)
        for item in args.class_map:
            gt_name, sep, model_name = item.partition("=")
            if not sep or not gt_name or not model_name:
                raise VisionError(f"--class-map {item!r}: expected GT_CLASS=MODEL_CLASS")
            aliases[gt_name] = model_name
        spec = spec.model_copy(update={"eval_aliases": aliases})
    images = load_voc(args.data, args.split)
    detection = _detection_settings(args)
    riders = None
    if args.riders_only:
        from vision.config import Riders

        riders = Riders()
    report = evaluate_spec(spec, images, progress=not args.quiet and not args.json, detection=detection, riders=riders)
    if args.json:
        print(json.dumps({"model": args.model, "data": str(args.data), **report.to_dict()}, indent=1))
    else:
        print(_format_report(report, str(args.model), f"{args.data}" + (f" ({args.split})" if args.split else "")))
    return 0


def _detection_settings(args: argparse.Namespace):  # -> Detection
    """The ``detection`` settings of ``vision eval`` and ``vision detect`` (``--detection``, default auto, ...)."""
    from pydantic import ValidationError

    from vision.config import Detection, format_validation_error

    values: dict[str, object] = {"mode": args.detection}
    if args.roi is not None:
        values["roi"] = tuple(args.roi)
    if args.tile_overlap is not None:
        values["tile_overlap"] = args.tile_overlap
    if args.region_size is not None:
        values["region_size"] = args.region_size
    if args.max_crops is not None:
        values["max_crops"] = args.max_crops
    if args.rider_magnification is not None:
        values["rider_magnification"] = args.rider_magnification
    if args.vehicle_pass_size is not None:
        values["vehicle_pass_size"] = args.vehicle_pass_size
    if args.whole_view is not None:
        values["whole_view"] = args.whole_view
    try:
        return Detection(**values)
    except ValidationError as error:
        raise VisionError("; ".join(f"--{line}" for line in format_validation_error(error))) from error


def _setup_logging(verbose: bool) -> None:
    import logging

    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )


def _cmd_check_config(args: argparse.Namespace) -> int:
    from vision.config import check_files, load_config
    from vision.detectors.spec import model_problems

    config = load_config(args.config)
    problems = model_problems(config.cameras) + check_files(config)
    if args.probe:
        from vision.sources import probe_streams

        problems += probe_streams(list(config.cameras))
    if problems:
        print(f"{args.config}: {len(problems)} problem(s)", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    cameras = [camera for camera in config.cameras if camera.enabled]
    print(f"{args.config}: OK ({len(config.sites)} site(s), {len(cameras)} enabled camera(s))")
    return 0


def format_cameras_table(summary: dict[str, CameraSummary]) -> str:
    """Per camera: frames, where it detected, detector crops per frame, observations, non-riders, trips, passengers."""
    header = (
        f"{'camera':<20} {'state':<9} {'frames':>7} {'detection':<9} {'crops/frame':>11} {'no-inference':>12} "
        f"{'observations':>12} {'non-rider':>9} {'trips':>6} {'passengers':>10}"
    )
    lines = [header, "-" * len(header)]
    for camera_id, info in summary.items():
        lines.append(
            f"{camera_id:<20} {info.state!s:<9} {info.frames_processed:>7} {info.detection!s:<9} "
            f"{info.regions_per_frame:>11} {info.frames_without_inference:>12} {info.observations:>12} "
            f"{info.non_rider:>9} {info.trips:>6} {info.vehicles_with_passengers:>10}"
        )
    lines.append(
        "trips: two-wheelers that carried riders (each once); passengers: those that carried two or more heads;"
        " no-inference: frames where nothing moved"
    )
    return "\n".join(lines)


def format_rates_table(points, rates) -> str:  # points: list[RatePoint], rates: RateService
    """The per-site table ``vision run`` prints at the end: each point's fields as the API and the CSVs
    have them (:func:`~vision.compliance.rows.rate_fields`), judged against its target by ``rates``."""
    from vision.compliance.rows import rate_fields

    header = (
        f"{'site':<20} {'category':<8} {'rate':>7} {'95% interval':>16} {'n':>5} {'compliant':>9} "
        f"{'non-compl.':>10} {'undeterm.':>9} {'non-rider':>9} {'coverage':>9}  note"
    )
    lines = [header, "-" * len(header)]
    for point in points:
        row = rate_fields(point, rates.confidently_below(point))
        if row["rate"] is None:
            rate, interval = "-", "-"
        else:
            rate = f"{row['rate']:.1%}"
            interval = f"[{row['low']:.1%}, {row['high']:.1%}]"
        notes = []
        if row["low_sample"]:
            notes.append("low sample")
        if row["confidently_below"]:
            notes.append(f"below target {rates.threshold(point.site_id, point.unit):.0%} (confident)")
        if row["adjusted_rate"] is not None:
            notes.append(f"adjusted {row['adjusted_rate']:.1%}")
        if row["passenger_rate"] is not None:  # per vehicle: the share of trips carrying passengers
            carrying = f"{row['passenger_rate']:.1%} [{row['passenger_low']:.1%}, {row['passenger_high']:.1%}]"
            notes.append(f"carrying passengers {carrying} ({row['passengers']} trip(s))")
        elif row["passengers"]:
            notes.append(f"{row['passengers']} passenger(s)")
        minutes, seconds = divmod(round(point.coverage_s), 60)
        lines.append(
            f"{point.site_id:<20} {point.category:<8} {rate:>7} {interval:>16} {row['n']:>5} {row['compliant']:>9} "
            f"{row['non_compliant']:>10} {row['undetermined']:>9} {row['non_rider']:>9} {minutes:>5}m{seconds:02d}s  "
            f"{', '.join(notes)}"
        )
    return "\n".join(lines)


def _build_service(config, store, registry=None):  # -> tuple[FastAPI, AlertNotifier | None]
    from vision.alerts import AlertNotifier
    from vision.api import create_app
    from vision.compliance.rates import RateService

    rates = RateService.from_config(store, config)
    alerts = AlertNotifier(config, store, rates) if config.alerts.webhook_url else None
    return create_app(config, store, registry=registry, rates=rates, alerts=alerts), alerts


def _uvicorn_server(app, host: str, port: int):  # -> uvicorn.Server
    import uvicorn

    return uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False))


def _cmd_serve(args: argparse.Namespace) -> int:
    import logging
    import threading

    from vision.config import load_config
    from vision.store import open_store

    _setup_logging(args.verbose)
    config = load_config(args.config)
    store = open_store(_store_url(args, config))
    app, alerts = _build_service(config, store)
    stop = threading.Event()
    if alerts is not None:
        threading.Thread(target=alerts.run, args=(stop,), name="alerts", daemon=True).start()
    logging.getLogger("vision").info("serving %s on http://%s:%d (dashboard at /)", args.config, args.host, args.port)
    try:
        _uvicorn_server(app, args.host, args.port).run()
    finally:
        stop.set()
        store.close()
    return 0


def _runnable_config(path: Path):  # -> VisionConfig
    """The config at ``path``, refused (VisionError) when a file it names is missing."""
    from vision.config import check_files, load_config
    from vision.detectors.spec import model_problems

    config = load_config(path)
    problems = model_problems(config.cameras) + check_files(config)
    if problems:
        raise VisionError(f"{path}: " + "; ".join(problems))
    return config


def _stop_on_signals(stop, what: str) -> None:  # stop: threading.Event
    """SIGINT and SIGTERM (systemd, Kubernetes) set ``stop``; ``what`` says what happens then."""
    import logging
    import signal

    def request_stop(signum: int, _frame: object) -> None:
        logging.getLogger("vision").info("%s received: %s", signal.Signals(signum).name, what)
        stop.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)


def _cmd_run(args: argparse.Namespace) -> int:
    import logging
    import threading
    from datetime import UTC, datetime

    from prometheus_client import CollectorRegistry

    from vision.compliance.rates import RateService
    from vision.pipeline import Pipeline
    from vision.sources.base import SourceState
    from vision.store import open_store

    _setup_logging(args.verbose)
    config = _runnable_config(args.config)

    store = open_store(_store_url(args, config))
    registry = CollectorRegistry()
    pipeline = Pipeline(
        config, store, args.config, registry=registry, status_interval_s=args.status_every, progress=not args.quiet
    )
    stop = threading.Event()
    server = None
    if args.serve:
        app, alerts = _build_service(config, store, registry)
        if alerts is not None:
            threading.Thread(target=alerts.run, args=(stop,), name="alerts", daemon=True).start()
        server = _uvicorn_server(app, args.host, args.port)
        threading.Thread(target=server.run, name="api", daemon=True).start()
        logging.getLogger("vision").info("API and dashboard on http://%s:%d", args.host, args.port)

    _stop_on_signals(stop, "finishing open tracks and stopping")
    run_id = pipeline.run(stop)
    if server is not None and not args.exit_when_done and not stop.is_set():
        logging.getLogger("vision").info("all sources finished; still serving the API until Ctrl-C")
        stop.wait()
    if server is not None:
        server.should_exit = True
    for camera_id, info in pipeline.summary().items():
        if info.error:
            print(f"camera {camera_id}: {info.state}: {info.error}", file=sys.stderr)
    rates = RateService.from_config(store, config)
    always = (datetime(1970, 1, 1, tzinfo=UTC), datetime(2200, 1, 1, tzinfo=UTC))
    points = rates.rates(*always, run_id=run_id)
    print(f"\nrun {run_id}: cameras")
    print(format_cameras_table(pipeline.summary()))
    print(f"\nrun {run_id}: compliance per site (this run's observations)")
    print(format_rates_table(points, rates) if points else "no observations")
    trips = rates.rates(
        datetime(1970, 1, 1, tzinfo=UTC), datetime(2200, 1, 1, tzinfo=UTC), run_id=run_id, unit="vehicle"
    )
    if trips:
        print(f"\nrun {run_id}: per two-wheeler (this run's trips: compliant when every rider was)")
        print(format_rates_table(trips, rates))
    store.close()
    # A camera whose source could not be read is a fault a script or a service manager must see: the run
    # still measured and wrote every other camera, and its report is printed above, but it did not succeed.
    return 1 if any(info.state == SourceState.FAILED for info in pipeline.summary().values()) else 0


def _cmd_rebuild_rollups(args: argparse.Namespace) -> int:
    import time

    from vision.config import load_config
    from vision.store import open_store

    config = load_config(args.config)
    store = open_store(_store_url(args, config))
    try:
        started = time.perf_counter()
        rows = store.rebuild_rollups()
        print(
            f"rollups rebuilt from {store.count_observations()} observations: {rows} hourly rows"
            f" ({time.perf_counter() - started:.1f} s)"
        )
    finally:
        store.close()
    return 0


def _store_url(args: argparse.Namespace, config) -> str:
    from vision.store.database import resolve_store_url

    return resolve_store_url(args.store, config.store.url)


def _cmd_worker(args: argparse.Namespace) -> int:
    import logging
    import threading

    from prometheus_client import CollectorRegistry

    from vision.store import open_store
    from vision.workers import Worker, WorkerSettings
    from vision.workers.http import create_worker_app

    _setup_logging(args.verbose)
    config = _runnable_config(args.config)
    store = open_store(_store_url(args, config), wait_s=args.wait_for_store)
    settings = WorkerSettings.from_config(config, args.worker_id, args.capacity)
    worker = Worker(config, store, str(args.config), settings, CollectorRegistry())
    stop = threading.Event()
    _stop_on_signals(stop, "writing open tracks, releasing cameras")
    server = _uvicorn_server(create_worker_app(worker), args.host, args.port)
    threading.Thread(target=server.run, name="worker-http", daemon=True).start()
    logging.getLogger("vision").info(
        "worker %s: /healthz, /readyz and /metrics on http://%s:%d", settings.worker_id, args.host, args.port
    )
    try:
        run_id = worker.run(stop)
    finally:
        server.should_exit = True
        store.close()
    writer = worker.writer
    assert writer is not None
    print(
        f"worker {settings.worker_id}: run {run_id}, {writer.observations_journaled} observation(s) finished,"
        f" {writer.backlog} still in the spool"
    )
    return 0


def _add_detection_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--detection",
        choices=("whole", "tiles", "motion", "riders", "auto"),
        default="auto",
        help="detect each image or frame as a camera with this detection mode detects its first frame (whole: "
        "letterbox it; tiles: squares at native resolution; riders: two-wheelers on the whole image, then a crop "
        "per rider; motion tiles a wide one). Default auto, as a camera's default settings detect: riders for a "
        "model that boxes two-wheelers; else an image at least 2 model inputs wide (1280 px for 640) is tiled, "
        "smaller ones letterboxed whole",
    )
    parser.add_argument("--roi", type=int, nargs=4, metavar=("X", "Y", "W", "H"), help="detect in this part only")
    parser.add_argument(
        "--tile-overlap", type=int, help="least overlap of tiles, px (default 128, at most half a tile)"
    )
    parser.add_argument(
        "--max-crops",
        type=int,
        help="most detector crops per image or frame (default 9); an image that needs more is tiled with larger "
        "squares, shrunk to the model input",
    )
    parser.add_argument(
        "--rider-magnification",
        type=float,
        help="riders mode: how much a rider crop is enlarged (default: native_frame_height over the frame height, "
        "between 1 and 3)",
    )
    parser.add_argument(
        "--vehicle-pass-size",
        type=int,
        help="riders mode: the side the frame is letterboxed to for the two-wheeler pass, px (default: 1.25 model "
        "inputs, at most the frame's longer side)",
    )
    parser.add_argument(
        "--region-size",
        type=int,
        help="tile side, px (default: the model's input size, smaller for a frame below its native_frame_height)",
    )
    parser.add_argument(
        "--whole-view",
        action=argparse.BooleanOptionalAction,
        help="with tiles, also detect the image whole for objects tiles cut (boxes at least half the overlap long; "
        "default on)",
    )


def _add_model_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model",
        default=DEFAULT_MODEL,
        help=f"detector spec (.yaml), YOLO .onnx, or ultralytics .pt (default: {DEFAULT_MODEL})",
    )
    parser.add_argument("--conf", type=float, help="operating score threshold (overrides the spec)")
    parser.add_argument("--input-size", type=int, help="network input long side, px (YOLO backends)")
    parser.add_argument("--threads", type=int, help="ONNX Runtime threads (default: all cores)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vision", description="Helmet and mask compliance from cameras.")
    parser.add_argument("--version", action="version", version=f"vision {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    detect = commands.add_parser("detect", help="detect in an image, a folder of images or a video")
    detect.add_argument("path", type=Path, help="image, folder of images, or video file")
    detect.add_argument("--out", type=Path, default=Path("out/detect"), help="output folder (default: out/detect)")
    _add_detection_options(detect)
    _add_model_options(detect)
    detect.set_defaults(handler=_cmd_detect)

    evaluate = commands.add_parser("eval", help="accuracy and speed on a labelled PASCAL VOC folder")
    evaluate.add_argument("--data", type=Path, required=True, help="VOC folder with images/ and annotations/")
    evaluate.add_argument("--split", help="file of base names to use (e.g. val.txt, looked up in --data too)")
    evaluate.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    evaluate.add_argument(
        "--class-map", action="append", metavar="GT=MODEL", help="map a ground-truth class to a model class"
    )
    _add_detection_options(evaluate)
    evaluate.add_argument(
        "--riders-only",
        action="store_true",
        help="score only heads on a detected two-wheeler, as a riders_only camera counts them "
        "(for labels that box riders alone, e.g. gate-camera; frame by frame, no speed test)",
    )
    _add_model_options(evaluate)
    evaluate.set_defaults(handler=_cmd_eval)

    check = commands.add_parser("check-config", help="validate a config file; list every problem")
    check.add_argument("config", type=Path)
    check.add_argument(
        "--probe",
        action="store_true",
        help="also ask every camera's stream, in parallel, whether it answers now, and say why not "
        "(a refused password, nothing listening, no answer within 10 s)",
    )
    check.set_defaults(handler=_cmd_check_config)

    run = commands.add_parser(
        "run",
        help="run the cameras of a config until stopped (Ctrl-C) or files end; exits 1, after its report, when "
        "a camera's file could not be read",
    )
    run.add_argument("config", type=Path)
    run.add_argument("--store", help=f"store URL (overrides ${STORE_ENV} and the config's store.url)")
    run.add_argument("--status-every", type=float, default=5.0, metavar="S", help="status line interval, s")
    run.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    run.add_argument("-v", "--verbose", action="store_true")
    run.add_argument("--serve", action="store_true", help="also serve the API, /metrics and the dashboard")
    run.add_argument(
        "--exit-when-done", action="store_true", help="with --serve: stop serving when every file source has ended"
    )
    _add_server_options(run)
    run.set_defaults(handler=_cmd_run)

    serve = commands.add_parser("serve", help="serve the API, /metrics and the dashboard on a config's store")
    serve.add_argument("config", type=Path)
    serve.add_argument("--store", help=f"store URL (overrides ${STORE_ENV} and the config's store.url)")
    serve.add_argument("-v", "--verbose", action="store_true")
    _add_server_options(serve)
    serve.set_defaults(handler=_cmd_serve)

    rebuild = commands.add_parser(
        "rebuild-rollups",
        help="recount the store's hourly rollups from its observations (after a bulk load or a restore)",
    )
    rebuild.add_argument("config", type=Path)
    rebuild.add_argument("--store", help=f"store URL (overrides ${STORE_ENV} and the config's store.url)")
    rebuild.set_defaults(handler=_cmd_rebuild_rollups)

    worker = commands.add_parser(
        "worker", help="claim cameras of a config through the store (PostgreSQL) and run them; many may share one"
    )
    worker.add_argument("config", type=Path)
    worker.add_argument("--store", help=f"store URL (overrides ${STORE_ENV} and the config's store.url)")
    worker.add_argument("--worker-id", help="stable id of this worker (default: the host name); names its spool")
    worker.add_argument("--capacity", type=int, help="cameras this worker takes at most (default: workers.capacity)")
    worker.add_argument(
        "--wait-for-store", type=float, default=60.0, metavar="S", help="wait this long for the store at start"
    )
    worker.add_argument("-v", "--verbose", action="store_true")
    worker.add_argument("--host", default="127.0.0.1", help="address of /healthz, /readyz, /metrics")
    worker.add_argument("--port", type=int, default=8001, help="port of /healthz, /readyz, /metrics (default 8001)")
    worker.set_defaults(handler=_cmd_worker)

    add_report_parser(commands)
    return parser


def _add_server_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except VisionError as error:
        print(f"vision: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("vision: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
