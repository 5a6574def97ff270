import numpy as np
import pytest

from vision.detectors.detections import Detections


def make(n: int = 3) -> Detections:
    return Detections(
        xyxy=np.arange(n * 4, dtype=np.float32).reshape(n, 4),
        scores=np.linspace(0.2, 0.9, n, dtype=np.float32),
        class_ids=np.arange(n) % 2,
        class_names=("with", "without"),
    )


def test_boolean_indexing_returns_new_detections():
    detections = make()
    confident = detections[detections.scores > 0.5]
    assert len(confident) == 2 and confident.labels == ["without", "with"]
    assert confident.class_names == detections.class_names


def test_arrays_are_read_only_and_typed():
    detections = make()
    assert detections.xyxy.dtype == np.float32 and detections.class_ids.dtype == np.int32
    with pytest.raises(ValueError, match="read-only"):
        detections.scores[0] = 1.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"xyxy": np.zeros((2, 4)), "scores": np.zeros(3), "class_ids": np.zeros(3)}, "disagree in length"),
        ({"xyxy": np.zeros((1, 4)), "scores": np.zeros(1), "class_ids": [5], "class_names": ("a",)}, "out of range"),
    ],
)
def test_invalid_detections_are_rejected(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Detections(**kwargs)


def test_records_and_areas():
    detections = Detections(xyxy=[[0, 0, 2, 3]], scores=[0.5], class_ids=[1], class_names=("a", "b"))
    assert detections.areas.tolist() == [6.0]
    assert detections.to_records() == [{"xyxy": [0, 0, 2, 3], "score": 0.5, "class_id": 1, "class_name": "b"}]
    assert len(Detections.empty(("a",))) == 0
