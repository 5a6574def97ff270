#!/usr/bin/env python3
"""One YOLO ONNX model on every CPU runtime setting we considered, side by side in one run.

Rows: ONNX Runtime at each graph-optimisation level and at 1 and ``--threads`` threads; OpenVINO f32
and bf16 (when the ``[openvino]`` extra is installed); and any ``--extra`` ONNX files (e.g. the int8
export of ``scripts/quantize.py``) on ONNX Runtime and OpenVINO. Every row gets the same letterboxed frames
(``tests/data/voc/helmet/images`` by default, at the spec's input size); runs alternate between the
rows frame by frame, so machine noise hits all of them alike. Times are the network call only
(pre-processing and NMS are the same code for every row; ``scripts/bench_detector.py`` times them).
The last columns compare each row's raw output with the reference row (ONNX Runtime, all
optimisations): the largest box-coordinate and score differences over anchors that either side
scores at or above the spec's ``conf``. The winner is written up in ``models/README.md``.

    .venv/bin/python scripts/bench_runtimes.py --spec models/helmet.yaml \\
        --extra int8=build/int8/helmet-all.int8.onnx
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
from pathlib import Path

import numpy as np
import numpy.typing as npt

from vision.detectors.runtimes import OpenVinoModel
from vision.detectors.spec import YoloOnnxSpec, load_spec
from vision.evaluation.timing import Runner, letterboxed_frames, ort_runner, time_alternating

ROOT = Path(__file__).resolve().parents[1]


def output_difference(
    reference: npt.NDArray[np.float32], other: npt.NDArray[np.float32], conf: float
) -> tuple[float, float]:
    """Largest box (px) and score difference over anchors either output scores at or above ``conf``."""
    keep = np.maximum(reference[:, 4:].max(axis=1), other[:, 4:].max(axis=1)) >= conf  # (B, N)
    keep = np.broadcast_to(keep[:, None, :], reference.shape)
    box_keep, score_keep = keep[:, :4], keep[:, 4:]
    box = np.abs(reference[:, :4] - other[:, :4])[box_keep]
    score = np.abs(reference[:, 4:] - other[:, 4:])[score_keep]
    return (float(box.max()) if box.size else 0.0, float(score.max()) if score.size else 0.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--spec", type=Path, default=ROOT / "models" / "helmet.yaml")
    parser.add_argument("--images", type=Path, default=ROOT / "tests" / "data" / "voc" / "helmet" / "images")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--extra", action="append", default=[], metavar="LABEL=PATH", help="another ONNX file")
    args = parser.parse_args()

    spec = load_spec(args.spec)
    assert isinstance(spec, YoloOnnxSpec), "bench_runtimes compares YOLO ONNX specs"
    batches = letterboxed_frames(spec, args.images, args.threads)

    reference = f"ONNX Runtime, optimisation all, {args.threads} threads"
    runners: dict[str, Runner] = {reference: ort_runner(spec.path, "all", args.threads)}
    for level in ("extended", "basic", "disabled"):
        runners[f"ONNX Runtime, optimisation {level}, {args.threads} threads"] = ort_runner(
            spec.path, level, args.threads
        )
    if args.threads != 1:
        runners["ONNX Runtime, optimisation all, 1 thread"] = ort_runner(spec.path, "all", 1)
    if importlib.util.find_spec("openvino") is not None:
        for precision in ("f32", "bf16"):
            model = OpenVinoModel(spec.path, args.threads, precision)  # type: ignore[arg-type]
            runners[f"OpenVINO {precision}, {args.threads} threads"] = model.run
    else:
        print("openvino is not installed (pip install 'vision-compliance[openvino]'): its rows are left out")
    for item in args.extra:
        label, _, path = item.partition("=")
        runners[f"{label} ({Path(path).name}), ONNX Runtime all, {args.threads} threads"] = ort_runner(
            Path(path), "all", args.threads
        )
        if importlib.util.find_spec("openvino") is not None:
            # OpenVINO runs an int8 QDQ file's quantized layers in int8 (AMX/VNNI) whatever the hint;
            # the hint sets the precision of the rest.
            for precision in ("f32", "bf16"):
                model = OpenVinoModel(Path(path), args.threads, precision)  # type: ignore[arg-type]
                runners[f"{label} ({Path(path).name}), OpenVINO {precision}, {args.threads} threads"] = model.run

    outputs = {name: [run(batch) for batch in batches] for name, run in runners.items()}
    samples = time_alternating(runners, batches, args.repeats)

    shapes = sorted({batch.shape[2:] for batch in batches})
    print(
        f"{spec.path.name}: {len(batches)} frames from {args.images} letterboxed to {shapes}, "
        f"median of {args.repeats} alternating passes\n"
    )
    print("| runtime | ms/frame (network) | speed-up | max box diff px | max score diff |")
    print("|---|---|---|---|---|")
    reference_ms = statistics.median(samples[reference]) * 1000
    for name in runners:
        ms = statistics.median(samples[name]) * 1000
        box, score = (
            max(d)
            for d in zip(
                *(
                    output_difference(ref, out, spec.conf)
                    for ref, out in zip(outputs[reference], outputs[name], strict=True)
                ),
                strict=True,
            )
        )
        print(f"| {name} | {ms:.1f} | {reference_ms / ms:.2f}× | {box:.3g} | {score:.3g} |")


if __name__ == "__main__":
    main()
