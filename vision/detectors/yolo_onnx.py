"""YOLO detection models exported by ultralytics (v8, v11, v12), served by ONNX Runtime (or OpenVINO).

The export's single output is ``(B, 4 + nc, N)``: for each of N anchor points a centre-size box in
input pixels and one score per class (no objectness). Decoding takes the best class per anchor,
drops anchors at or below ``conf``, and runs class-aware NMS, as ultralytics' own
``non_max_suppression`` does with ``multi_label=False``; with ``multi_label`` every class above
``conf`` at an anchor is a candidate (ultralytics' validator does this), so a head whose second
guess is the other outcome keeps that guess as a lower-scored box.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from vision.detectors.base import Frame, ModelInfo
from vision.detectors.boxes import LetterboxTransform, letterbox, letterbox_shape, nms, xywh_to_xyxy
from vision.detectors.detections import Detections
from vision.detectors.onnx_session import parse_class_names
from vision.detectors.runtimes import open_model
from vision.detectors.spec import YoloOnnxSpec
from vision.errors import VisionError

MAX_NMS_CANDIDATES = 30000  # ultralytics' max_nms: a cap on what reaches NMS in a degenerate frame


def decode_yolo_output(
    prediction: npt.NDArray[np.float32],
    conf: float | npt.NDArray[np.float64],
    iou: float,
    max_detections: int,
    multi_label: bool = False,
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32], npt.NDArray[np.int32]]:
    """Decode one image's raw output ``(4 + nc, N)`` into boxes, scores and class ids after NMS.

    ``conf`` is one threshold, or one per class ``(nc,)``. With ``multi_label`` an anchor yields a
    box for every class above its threshold, else only for its best class. Returns ``xyxy (K, 4)``
    in input pixels, ``scores (K,)`` and ``class_ids (K,)``, best first.
    """
    class_scores = prediction[4:]
    if multi_label:
        thresholds_by_class = conf[:, None] if isinstance(conf, np.ndarray) else conf
        classes, anchors = np.nonzero(class_scores > thresholds_by_class)
        class_ids: npt.NDArray[np.int32] = classes.astype(np.int32)
        scores = class_scores[class_ids, anchors]
    else:
        class_ids = class_scores.argmax(axis=0).astype(np.int32)
        scores = class_scores[class_ids, np.arange(class_scores.shape[1])]
        thresholds = conf[class_ids] if isinstance(conf, np.ndarray) else conf
        anchors = np.flatnonzero(scores > thresholds)
        scores, class_ids = scores[anchors], class_ids[anchors]
    if anchors.size > MAX_NMS_CANDIDATES:
        best = np.argsort(-scores, kind="stable")[:MAX_NMS_CANDIDATES]
        anchors, scores, class_ids = anchors[best], scores[best], class_ids[best]
    xyxy = xywh_to_xyxy(np.ascontiguousarray(prediction[:4, anchors].T))
    keep = nms(xyxy, scores, class_ids, iou_threshold=iou, max_detections=max_detections)
    return xyxy[keep], scores[keep], class_ids[keep]


class YoloOnnxDetector:
    """Batched YOLO inference: letterbox -> ONNX Runtime -> decode -> class-aware NMS.

    A model exported with dynamic shapes takes several frames in one call and any ``input_size``
    that is a multiple of its stride; a static export is fed one frame at a time at its own size.
    """

    def __init__(self, spec: YoloOnnxSpec) -> None:
        self.spec = spec
        self._model = open_model(spec.path, spec.threads, spec.runtime, spec.precision, spec.spin_wait)
        metadata = self._model.metadata
        if len(self._model.input_shape) != 4:
            raise VisionError(f"{spec.path}: expected an NCHW image input, got shape {self._model.input_shape}")
        batch, channels, height, width = self._model.input_shape
        if channels is not None and channels != 3:
            raise VisionError(f"{spec.path}: expected a 3-channel image input, got shape {self._model.input_shape}")
        self._dynamic_size = height is None or width is None
        self._dynamic_batch = batch is None
        self._stride = int(metadata.get("stride", 32))
        output_shape = self._model.output_shape
        if "names" in metadata:
            class_names = parse_class_names(metadata["names"], spec.path)
        elif output_shape[1] is not None:
            class_names = tuple(f"class{i}" for i in range(output_shape[1] - 4))
        else:
            raise VisionError(f"{spec.path}: no 'names' metadata and no fixed class count in the output")
        if output_shape[1] is not None and output_shape[1] != 4 + len(class_names):
            raise VisionError(
                f"{spec.path}: output {output_shape} does not match {len(class_names)} class names; "
                "only ultralytics detection exports (B, 4 + nc, N) are supported"
            )
        for field in ("outcomes", "class_conf"):
            unknown = set(getattr(spec, field)) - set(class_names)
            if unknown:
                raise VisionError(f"{spec.path}: {field} name classes the model lacks: {sorted(unknown)}")
        self._thresholds: float | npt.NDArray[np.float64] = (
            np.array([spec.class_conf.get(name, spec.conf) for name in class_names], dtype=np.float64)
            if spec.class_conf
            else spec.conf
        )
        if self._dynamic_size:
            self._fixed_shape: tuple[int, int] | None = None
            input_size = spec.input_size
        else:
            self._fixed_shape = (int(height), int(width))  # type: ignore[arg-type]
            input_size = max(self._fixed_shape)
        self._info = ModelInfo(
            name=spec.path.stem,
            class_names=class_names,
            category=spec.category,
            outcomes=dict(spec.outcomes),
            input_size=input_size,
            conf=spec.conf,
            class_conf=dict(spec.class_conf),
            native_frame_height=spec.native_frame_height,
        )

    @property
    def info(self) -> ModelInfo:
        return self._info

    def _input_shape(self, frames: Sequence[Frame], input_size: int | None = None) -> tuple[int, int]:
        if self._fixed_shape is not None:
            return self._fixed_shape
        size = input_size or self.spec.input_size
        shapes = [letterbox_shape(frame.shape[:2], size, self._stride, self.spec.rect) for frame in frames]
        return max(h for h, _ in shapes), max(w for _, w in shapes)

    def preprocess(
        self, frames: Sequence[Frame], input_size: int | None = None
    ) -> tuple[npt.NDArray[np.float32], list[LetterboxTransform]]:
        """Frames -> ``(B, 3, H, W) float32`` RGB in ``[0, 1]`` plus each frame's letterbox transform.

        ``input_size``: the long side of the input for this call (default the spec's ``input_size``).
        """
        input_shape = self._input_shape(frames, input_size)
        batch = np.empty((len(frames), 3, *input_shape), dtype=np.float32)
        transforms = []
        for index, frame in enumerate(frames):
            if frame.ndim != 3 or frame.shape[2] != 3:
                raise VisionError(f"expected an (H, W, 3) BGR frame, got shape {frame.shape}")
            padded, transform = letterbox(frame, input_shape)
            # BGR -> RGB and HWC -> CHW in one strided copy, then scale in place.
            np.copyto(batch[index], padded[..., ::-1].transpose(2, 0, 1))
            transforms.append(transform)
        batch *= 1.0 / 255.0
        return batch, transforms

    def infer(self, batch: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """Raw network output ``(B, 4 + nc, N)`` for a preprocessed batch."""
        if self._dynamic_batch or len(batch) == 1:
            return self._model.run(batch)
        return np.concatenate([self._model.run(item[None]) for item in batch])

    def postprocess(
        self, output: npt.NDArray[np.float32], transforms: Sequence[LetterboxTransform], frames: Sequence[Frame]
    ) -> list[Detections]:
        results = []
        for prediction, transform, frame in zip(output, transforms, frames, strict=True):
            xyxy, scores, class_ids = decode_yolo_output(
                prediction, self._thresholds, self.spec.iou, self.spec.max_detections, self.spec.multi_label
            )
            results.append(
                Detections(
                    xyxy=transform.to_frame(xyxy, frame.shape[:2]),
                    scores=scores,
                    class_ids=class_ids,
                    class_names=self._info.class_names,
                )
            )
        return results

    def detect(self, frames: Sequence[Frame], input_size: int | None = None) -> list[Detections]:
        if not frames:
            return []
        batch, transforms = self.preprocess(frames, input_size)
        return self.postprocess(self.infer(batch), transforms, frames)
