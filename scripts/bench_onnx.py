#!/usr/bin/env python3
"""Two ONNX models side by side on the same input: median ms of alternating runs, and the ratio.

.venv/bin/python scripts/bench_onnx.py models/helmet-yolov12m.onnx build/int8/helmet.int8.onnx
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import onnxruntime as ort


def session(path: str, threads: int) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("baseline")
    parser.add_argument("candidate")
    parser.add_argument("--shape", type=int, nargs=4, default=[1, 3, 448, 640], help="input N C H W")
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    blob = np.random.default_rng(0).random(args.shape, dtype=np.float32)
    sessions = [session(path, args.threads) for path in (args.baseline, args.candidate)]
    feeds = [{s.get_inputs()[0].name: blob} for s in sessions]
    for s, feed in zip(sessions, feeds, strict=True):
        s.run(None, feed)
    timings: list[list[float]] = [[], []]
    for _ in range(args.runs):
        for index, (s, feed) in enumerate(zip(sessions, feeds, strict=True)):
            start = time.perf_counter()
            s.run(None, feed)
            timings[index].append(time.perf_counter() - start)
    base, cand = (statistics.median(t) * 1000 for t in timings)
    print(f"{args.baseline}: {base:.0f} ms  {args.candidate}: {cand:.0f} ms  speed-up {base / cand:.2f}x")


if __name__ == "__main__":
    main()
