from pathlib import Path

import pytest

from vision.errors import VisionError
from vision.evaluation.voc import load_voc


def test_loads_the_committed_helmet_folder(data_dir):
    images = load_voc(data_dir / "voc" / "helmet")
    assert [image.name for image in images][:2] == ["BikesHelmets128", "BikesHelmets16"]
    first = images[0]
    assert first.image_path.is_file() and first.xyxy.shape == (len(first.labels), 4)
    assert set(first.labels) <= {"with_helmet", "without_helmet"}


def test_split_file_narrows_the_set(tmp_path, data_dir):
    split = tmp_path / "some.txt"
    split.write_text("BikesHelmets9\n\nBikesHelmets16\n")
    assert [i.name for i in load_voc(data_dir / "voc" / "helmet", split)] == ["BikesHelmets9", "BikesHelmets16"]


def make_voc(root: Path, xml: str) -> Path:
    (root / "images").mkdir(parents=True)
    (root / "annotations").mkdir()
    (root / "annotations" / "a.xml").write_text(xml)
    return root


@pytest.mark.parametrize(
    ("xml", "message"),
    [
        ("<annotation><size>", "not valid XML"),
        ("<annotation></annotation>", "missing <size>"),
        ("<annotation><size><width>10</width><height>x</height></size></annotation>", "not numeric"),
        ("<annotation><size><width>10</width><height>10</height></size></annotation>", "image not found"),
    ],
)
def test_bad_annotations_name_the_file_and_problem(tmp_path, xml, message):
    root = make_voc(tmp_path / "voc", xml)
    with pytest.raises(VisionError, match=message) as error:
        load_voc(root)
    assert "a.xml" in str(error.value)


def test_missing_folders_and_split_entries(tmp_path, data_dir):
    with pytest.raises(VisionError, match="not a VOC folder"):
        load_voc(tmp_path)
    split = tmp_path / "split.txt"
    split.write_text("nope\n")
    with pytest.raises(VisionError, match="have no annotation"):
        load_voc(data_dir / "voc" / "helmet", split)
    with pytest.raises(VisionError, match="split list not found"):
        load_voc(data_dir / "voc" / "helmet", "absent.txt")
