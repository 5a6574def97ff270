"""OpenVINO as the YOLO backend's runtime: the same committed model and images as the ONNX Runtime
tests, held to ultralytics' golden detections (f32 to 0.05 px like ONNX Runtime; bf16 to the looser
tolerance its rounding allows), and the spec's rules for choosing a runtime."""

import importlib.util

import numpy as np
import pytest
from golden_support import assert_batch_equals_single_frames, assert_matches_helmet_golden

from spec_support import require_built_model
from vision.detectors import load_detector
from vision.errors import VisionError

needs_openvino = pytest.mark.skipif(
    importlib.util.find_spec("openvino") is None,
    reason="openvino is not installed (the [openvino] extra; `make test` installs it with [dev])",
)


def cpu_has_bf16() -> bool:
    import openvino

    return "BF16" in openvino.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")


def helmet_spec(tmp_path, models_dir, **fields) -> str:
    """The YOLOv12m the golden outputs were recorded from (built on demand: the test skips without it)."""
    import yaml

    spec = yaml.safe_load(require_built_model("helmet-yolov12m.yaml").read_text())
    spec.update(path=str(models_dir / spec["path"]), evaluation=None, threads=2, **fields)
    path = tmp_path / "helmet-runtime.yaml"
    path.write_text(yaml.safe_dump(spec))
    return str(path)


@needs_openvino
def test_openvino_f32_matches_ultralytics_like_onnx_runtime(tmp_path, models_dir):
    detector = load_detector(helmet_spec(tmp_path, models_dir, runtime="openvino", precision="f32"))
    assert detector.info.class_names == ("With Helmet", "Without Helmet")  # names read from the ONNX metadata
    assert_matches_helmet_golden(detector, box_px=0.05, score=1e-4)


@needs_openvino
def test_openvino_bf16_keeps_every_detection_within_two_pixels(tmp_path, models_dir):
    if not cpu_has_bf16():
        pytest.skip("this CPU has no bf16 support (OpenVINO's CPU capabilities lack BF16)")
    detector = load_detector(helmet_spec(tmp_path, models_dir, runtime="openvino", precision="bf16"))
    assert_matches_helmet_golden(detector, box_px=2.0, score=0.03)


@needs_openvino
def test_openvino_batches_like_single_frames(tmp_path, models_dir):
    assert_batch_equals_single_frames(
        load_detector(helmet_spec(tmp_path, models_dir, runtime="openvino", precision="f32"))
    )


def test_bf16_needs_openvino(tmp_path, models_dir):
    with pytest.raises(VisionError, match="precision bf16 needs runtime: openvino"):
        load_detector(helmet_spec(tmp_path, models_dir, precision="bf16"))


def test_unknown_runtime_is_named(tmp_path, models_dir):
    with pytest.raises(VisionError, match="runtime"):
        load_detector(helmet_spec(tmp_path, models_dir, runtime="tensorrt"))


@needs_openvino
def test_openvino_names_a_corrupt_model_file(tmp_path):
    from vision.detectors.runtimes import open_model

    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not an onnx protobuf at all")
    with pytest.raises(VisionError, match=r"cannot load ONNX model .*broken\.onnx"):
        open_model(broken, threads=1, runtime="openvino")


def test_class_conf_must_name_model_classes(tmp_path, models_dir):
    with pytest.raises(VisionError, match=r"class_conf name classes the model lacks: \['no_helmet'\]"):
        load_detector(helmet_spec(tmp_path, models_dir, class_conf={"no_helmet": 0.1}))


def served_helmet_spec(tmp_path, models_dir, **fields) -> str:
    """The served helmet model (YOLO11n, committed) with ``fields`` changed."""
    import yaml

    spec = yaml.safe_load((models_dir / "helmet.yaml").read_text())
    spec.update(path=str(models_dir / spec["path"]), evaluation=None, threads=2, **fields)
    path = tmp_path / "helmet-served.yaml"
    path.write_text(yaml.safe_dump(spec))
    return str(path)


def test_inference_threads_sleep_between_calls_unless_asked_to_spin(models_dir):
    from vision.detectors.onnx_session import open_session

    model = models_dir / "helmet-yolo11n.onnx"
    options = open_session(model, threads=2).get_session_options()
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    spinning = open_session(model, threads=2, spin_wait=True).get_session_options()
    with pytest.raises(RuntimeError):  # not set: ONNX Runtime's own default, which spins
        spinning.get_session_config_entry("session.intra_op.allow_spinning")


def test_spinning_or_not_detects_the_same(tmp_path, models_dir):
    import cv2
    from golden_support import DATA

    frame = cv2.imread(str(DATA / "voc" / "helmet" / "images" / "BikesHelmets16.jpg"))
    (asleep,) = load_detector(served_helmet_spec(tmp_path, models_dir)).detect([frame])
    (spinning,) = load_detector(served_helmet_spec(tmp_path, models_dir, spin_wait=True)).detect([frame])
    assert len(asleep) > 0
    np.testing.assert_array_equal(asleep.xyxy, spinning.xyxy)
    assert asleep.labels == spinning.labels
