"""Config validation: each bad input gives one line naming its path; good configs load with resolved paths."""

from pathlib import Path

import pytest

from vision.config import ConfigError, load_config

GOOD = """
sites:
  - {id: gate-1, name: School gate, tags: [north], lat: 52.1, lon: 4.3}
cameras:
  - id: cam-1
    site: gate-1
    source: clip.mp4
    category: helmet
    model: ../models/helmet.yaml
    zones: [{name: lane, polygon: [[0, 0], [100, 0], [100, 100]]}]
    start_time: 2026-11-01T08:00:00+01:00
  - {id: cam-2, site: gate-1, source: "rtsp://127.0.0.1:8554/cam", category: mask, model: /abs/mask.yaml}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "configs" / "site.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text)
    return path


def test_good_config_loads_and_resolves_relative_paths(tmp_path):
    config = load_config(write(tmp_path, GOOD))
    first, second = config.cameras
    assert first.model == tmp_path / "configs" / "../models/helmet.yaml"
    assert first.source == str(tmp_path / "configs" / "clip.mp4")
    assert second.source == "rtsp://127.0.0.1:8554/cam" and second.model == Path("/abs/mask.yaml")
    assert config.compliance.window == "hour" and config.tracking.min_frames == 3


@pytest.mark.parametrize(
    ("replace", "by", "expected"),
    [
        ("[0, 0], [100, 0], [100, 100]", "[0, 0], [100, 0]", "cameras[0].zones[0].polygon: needs at least 3 points"),
        ("category: helmet", "category: hats", "category: 'hats' is not one of helmet, mask, phone"),
        ("site: gate-1\n", "site: gate-9\n", "cameras[0].site: unknown site 'gate-9'"),
        ("id: cam-2", "id: cam-1", "cameras: ids repeat: ['cam-1']"),
        ("lat: 52.1, ", "", "sites[0]: give both lat and lon, or neither"),
        ("start_time: 2026-11-01T08:00:00+01:00", "start_time: 2026-11-01T08:00:00", "needs a time zone"),
        ("source: clip.mp4", "source: clip.mp4\n    detect_fsp: 3", "cameras[0].detect_fsp: unknown key"),
        ("source: clip.mp4", "source: -1", "cameras[0].source: a USB camera index is 0 or more"),
        (
            "source: clip.mp4",
            "source: clip.mp4\n    detection: {mode: regions}",
            "cameras[0].detection.mode: Input should be 'auto', 'whole', 'tiles', 'motion' or 'riders'",
        ),
        (
            "source: clip.mp4",
            "source: clip.mp4\n    detection: {roi: [0, 0, 10, 400]}",
            "cameras[0].detection.roi: expected [x, y, width, height]",
        ),
        (
            "source: clip.mp4",
            "source: clip.mp4\n    detection: {region_size: 320, tile_overlap: 320}",
            "cameras[0].detection: tile_overlap 320 must be smaller than region_size 320",
        ),
        (
            "source: clip.mp4",
            "source: clip.mp4\n    detection: {motion: {treshold: 9}}",
            "cameras[0].detection.motion.treshold: unknown key",
        ),
        ("source: clip.mp4", "source: clip.mp4\n    riders: {min_share: 0}", "cameras[0].riders.min_share"),
        (
            "source: clip.mp4",
            "source: clip.mp4\n    detect_source: rtsp://cam/sub",
            "cameras[0]: detect_source is for live cameras",
        ),
        (
            "source: clip.mp4",
            "source: rtsp://cam/main\n    detect_source: sub.mp4",
            "cameras[0]: detect_source must be a stream URL or a USB index",
        ),
        ("source: clip.mp4", "source: clip.mp4\n    detection: {max_crops: 0}", "cameras[0].detection.max_crops"),
        ("sites:\n", "map: {tiles: {url: 'http://tiles.lan/a.png', attribution: me}}\nsites:\n", "map.tiles.url"),
        ("sites:\n", "map: {tiles: {url: 'http://tiles.lan/{z}/{x}/{y}.png'}}\nsites:\n", "map.tiles.attribution"),
        ("sites:\n", "map: {tile: {}}\nsites:\n", "map.tile: unknown key"),
    ],
)
def test_each_problem_is_reported_with_its_path(tmp_path, replace, by, expected):
    assert replace in GOOD
    with pytest.raises(ConfigError) as error:
        load_config(write(tmp_path, GOOD.replace(replace, by)))
    assert any(expected in problem for problem in error.value.problems), error.value.problems


def test_the_map_overlay_resolves_against_the_config_and_is_checked(tmp_path):
    from vision.config import check_files

    config = load_config(write(tmp_path, "map: {overlay: district.geojson}\n" + GOOD))
    assert config.map.overlay == tmp_path / "configs" / "district.geojson"
    assert any(p.startswith("map.overlay: GeoJSON file not found") for p in check_files(config))
    (tmp_path / "configs" / "district.geojson").write_text('{"type": "Feature", "geometry": null, "properties": {}}')
    assert not any(p.startswith("map.overlay") for p in check_files(config))


def test_all_problems_are_reported_at_once(tmp_path):
    bad = GOOD.replace("category: helmet", "category: hats").replace("site: gate-1\n", "site: gate-9\n")
    with pytest.raises(ConfigError) as error:
        load_config(write(tmp_path, bad))
    assert len(error.value.problems) == 2


@pytest.mark.parametrize(
    ("text", "expected"),
    [("sites: [\n", "not valid YAML"), ("- just a list\n", "expected a mapping"), ("{}\n", "sites: Field required")],
)
def test_unreadable_configs(tmp_path, text, expected):
    with pytest.raises(ConfigError, match=expected):
        load_config(write(tmp_path, text))


@pytest.mark.parametrize(
    ("categories", "model", "refused"),
    [
        ("[helmet, phone]", "helmet.yaml", True),
        ("[helmet, phone]", "helmet-phone.yaml", False),
        ("[helmet]", "helmet.yaml", False),
    ],
)
def test_phone_use_needs_a_model_that_boxes_phones(tmp_path, categories, model, refused):
    """Read from the spec's files alone (no detector is built): the served YOLO's class names, a with_attributes
    spec's base and attribute classes."""
    from vision.detectors.spec import model_problems

    spec = Path(__file__).resolve().parents[1] / "models" / model
    text = f"""
sites: [{{id: gate-1, name: School gate}}]
cameras:
  - {{id: cam-1, site: gate-1, source: "rtsp://127.0.0.1:8554/cam", categories: {categories}, model: {spec}}}
"""
    problems = [p for p in model_problems(load_config(write(tmp_path, text)).cameras) if "boxes no" in p]
    expected = f"cameras[0].model: {spec} boxes no cell_phone, which phone needs (e.g. models/helmet-phone.yaml)"
    assert problems == ([expected] if refused else [])


def test_a_corrupt_model_file_is_named_by_check_config(tmp_path):
    from vision.config import check_files
    from vision.detectors.spec import model_problems

    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "broken.onnx").write_bytes(b"not a model")
    (tmp_path / "configs" / "broken.yaml").write_text("type: yolo_onnx\npath: broken.onnx\n")
    text = """
sites: [{id: gate-1, name: School gate}]
cameras:
  - {id: cam-1, site: gate-1, source: missing.mp4, categories: [helmet, phone], model: broken.yaml}
"""
    config = load_config(write(tmp_path, text))
    problems = model_problems(config.cameras) + check_files(config)
    assert any(p.startswith("cameras[0].model: cannot load ONNX model") for p in problems), problems
    assert any(p.startswith("cameras[0].source: file or folder not found") for p in problems), problems
