"""PASCAL VOC folders: ``images/`` + ``annotations/*.xml``, optionally narrowed by a list of base names.

Read for ``vision eval``; written (``write_voc``) by the scripts that make training and check sets.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

import cv2
import numpy as np
import numpy.typing as npt

from vision.errors import VisionError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")


@dataclass(frozen=True, eq=False)
class LabelledImage:
    """One annotated image.

    ``xyxy`` is ``(M, 4) float32`` pixels, ``labels`` the ``M`` class names, ``size`` ``(h, w)``.
    """

    name: str
    image_path: Path
    size: tuple[int, int]
    xyxy: npt.NDArray[np.float32]
    labels: tuple[str, ...]


def _text(node: ET.Element, tag: str, where: Path) -> str:
    child = node.find(tag)
    if child is None or child.text is None:
        raise VisionError(f"{where}: missing <{tag}>")
    return child.text.strip()


def parse_annotation(xml_path: Path, images_dir: Path) -> LabelledImage:
    """Read one VOC annotation; boxes keep the file's pixel edges as they are."""
    try:
        root = ET.parse(xml_path).getroot()  # noqa: S314 - local label files, not network input
    except ET.ParseError as error:
        raise VisionError(f"{xml_path}: not valid XML ({error})") from error
    size = root.find("size")
    if size is None:
        raise VisionError(f"{xml_path}: missing <size>")
    try:
        height, width = int(_text(size, "height", xml_path)), int(_text(size, "width", xml_path))
        boxes, labels = [], []
        for obj in root.iter("object"):
            bndbox = obj.find("bndbox")
            if bndbox is None:
                raise VisionError(f"{xml_path}: <object> without <bndbox>")
            boxes.append([float(_text(bndbox, tag, xml_path)) for tag in ("xmin", "ymin", "xmax", "ymax")])
            labels.append(_text(obj, "name", xml_path))
    except ValueError as error:
        raise VisionError(f"{xml_path}: a number in <size> or <bndbox> is not numeric ({error})") from error
    filename = root.findtext("filename", default="").strip()
    image_path = images_dir / filename if filename else images_dir / xml_path.stem
    if not image_path.is_file():
        candidates = [images_dir / f"{xml_path.stem}{suffix}" for suffix in IMAGE_SUFFIXES]
        found = next((path for path in candidates if path.is_file()), None)
        if found is None:
            raise VisionError(f"{xml_path}: image not found ({image_path.name} or {xml_path.stem}.* in {images_dir})")
        image_path = found
    return LabelledImage(
        name=xml_path.stem,
        image_path=image_path,
        size=(height, width),
        xyxy=np.asarray(boxes, dtype=np.float32).reshape(-1, 4),
        labels=tuple(labels),
    )


def load_voc(root: Path, split: Path | str | None = None) -> list[LabelledImage]:
    """Every annotated image under ``root``, or only the base names listed in ``split``.

    ``split`` may be a path, or a file name inside ``root`` (``val.txt``). Without it every
    annotation in ``annotations/`` counts.
    """
    images_dir, annotations_dir = root / "images", root / "annotations"
    for folder in (images_dir, annotations_dir):
        if not folder.is_dir():
            raise VisionError(f"{root}: not a VOC folder (missing {folder.name}/)")
    if split is None:
        xml_paths = sorted(annotations_dir.glob("*.xml"))
    else:
        split_path = Path(split)
        if not split_path.is_file() and (root / split_path).is_file():
            split_path = root / split_path
        if not split_path.is_file():
            raise VisionError(f"split list not found: {split} (looked as given and in {root})")
        names = [line.strip() for line in split_path.read_text().splitlines() if line.strip()]
        xml_paths = [annotations_dir / f"{name}.xml" for name in names]
        missing = [path.name for path in xml_paths if not path.is_file()]
        if missing:
            raise VisionError(f"{split_path}: {len(missing)} listed names have no annotation, e.g. {missing[:3]}")
    if not xml_paths:
        raise VisionError(f"{root}: no annotations to evaluate")
    return [parse_annotation(path, images_dir) for path in xml_paths]


def write_voc(
    annotations: Path, name: str, filename: str, size: tuple[int, int], boxes: npt.ArrayLike, labels: Sequence[str]
) -> None:
    """Write ``annotations/<name>.xml``: one PASCAL VOC annotation (``size`` is ``(height, width)``, ``boxes``
    ``(M, 4)`` xyxy pixels, ``M`` labels), read back by ``parse_annotation``."""
    height, width = size
    objects = "".join(
        f"<object><name>{escape(label)}</name><difficult>0</difficult><bndbox>"
        f"<xmin>{x0:.1f}</xmin><ymin>{y0:.1f}</ymin><xmax>{x1:.1f}</xmax><ymax>{y1:.1f}</ymax></bndbox></object>"
        for (x0, y0, x1, y1), label in zip(np.asarray(boxes, dtype=np.float64).reshape(-1, 4), labels, strict=True)
    )
    annotations.mkdir(parents=True, exist_ok=True)
    (annotations / f"{name}.xml").write_text(
        f"<annotation><filename>{escape(filename)}</filename><size><width>{width}</width><height>{height}</height>"
        f"<depth>3</depth></size>{objects}</annotation>\n"
    )


def write_voc_image(
    root: Path, name: str, image: npt.NDArray[np.uint8], boxes: npt.ArrayLike, labels: Sequence[str]
) -> None:
    """Write one labelled image of a VOC folder: ``root/images/<name>.jpg`` (BGR ``(H, W, 3)``, JPEG quality 92)
    and ``root/annotations/<name>.xml`` (``boxes`` ``(M, 4)`` xyxy pixels, ``M`` labels)."""
    (root / "images").mkdir(parents=True, exist_ok=True)
    path = root / "images" / f"{name}.jpg"
    if not cv2.imwrite(str(path), image, [cv2.IMWRITE_JPEG_QUALITY, 92]):
        raise VisionError(f"cannot write {path}")
    write_voc(root / "annotations", name, path.name, image.shape[:2], boxes, labels)


def write_split(root: Path, split: str, names: Sequence[str]) -> None:
    """Write ``root/<split>``: the base names of a VOC folder's split, one a line."""
    (root / split).write_text("".join(f"{name}\n" for name in names))
