"""Detector specifications: which backend, which files, which thresholds.

A spec is a small YAML file (``models/helmet.yaml``, ``models/mask-two-stage.yaml``) or a bare
model path. Relative paths in a YAML spec are resolved against the YAML file's folder, so a spec
travels with its weights. The backend is chosen by the ``type`` field.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator

from vision.categories import Category, category_info
from vision.detectors.runtimes import Precision, RuntimeName
from vision.errors import VisionError
from vision.outcome import Outcome

if TYPE_CHECKING:
    from vision.config import Camera

# Path fields that are not model weights: a spec's measured figures, and a with_attributes spec's base spec.
NOT_WEIGHTS = frozenset({"evaluation", "base"})


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    category: Category | None = Field(None, description="What the model measures: helmet or mask.")
    outcomes: dict[str, Outcome] = Field(
        default_factory=dict,
        description="Class name -> compliant / non_compliant / undetermined. Unnamed classes are undetermined.",
    )
    conf: float = Field(0.25, ge=0.0, le=1.0, description="Operating score threshold.")
    threads: int | None = Field(None, ge=1, le=256, description="ONNX Runtime intra-op threads; all cores if unset.")
    spin_wait: bool = Field(
        False,
        description="Let ONNX Runtime's inference threads spin between calls: a little less latency for one model "
        "alone on a box, but a spinning thread holds a core that decoding and the other cameras need "
        "(scripts/bench_capacity.py --variants new spin: 16-28 % more CPU a frame with it).",
    )
    eval_aliases: dict[str, str] = Field(
        default_factory=dict,
        description="Ground-truth class -> model class, for labelled sets that name classes differently.",
    )
    evaluation: Path | None = Field(
        None,
        description="`vision eval --json` output of this spec on labelled data (written by scripts/model_cards.py); "
        "its verdict sensitivity/specificity feed the Rogan-Gladen adjusted rate.",
    )
    build: str | None = Field(
        None,
        description="The command that builds this spec's weights when the repository does not carry them (large "
        "alternatives, e.g. `python scripts/build_models.py --only helmet`); named when the file is missing.",
    )

    @classmethod
    def path_fields(cls) -> tuple[str, ...]:
        """The fields that name a file (relative ones are resolved against the spec's folder): read from the
        field types, so a new backend's files need no list kept by hand."""
        return tuple(name for name, info in cls.model_fields.items() if info.annotation in (Path, Path | None))

    def weight_files(self) -> list[Path]:
        """The model files this spec names (not its evaluation, nor a base spec)."""
        names = [name for name in self.path_fields() if name not in NOT_WEIGHTS]
        return [value for name in names if isinstance(value := getattr(self, name), Path)]

    def missing_weights(self) -> list[Path]:
        """The weight files this spec names that are not on disk."""
        return [file for file in self.weight_files() if not file.is_file()]


class YoloOnnxSpec(_Spec):
    """Any ultralytics YOLO detection export (``(B, 4 + nc, N)`` output)."""

    type: Literal["yolo_onnx"] = "yolo_onnx"
    path: Path = Field(description="The .onnx file.")
    input_size: int = Field(640, ge=32, le=4096, multiple_of=32, description="Long side of the network input, px.")
    rect: bool = Field(
        True, description="Pad the short side only to a stride multiple (dynamic models), as ultralytics does."
    )
    iou: float = Field(0.7, gt=0.0, le=1.0, description="NMS IoU threshold.")
    max_detections: int = Field(300, ge=1, le=10000)
    multi_label: bool = Field(
        False,
        description="Keep every class above the threshold at an anchor, not only its best (ultralytics' validator "
        "does): a head the model hesitates over yields a box for each outcome, and the tracker keeps the better.",
    )
    class_conf: dict[str, Annotated[float, Field(ge=0.0, le=1.0)]] = Field(
        default_factory=dict,
        description="Class name -> operating threshold for that class, overriding `conf` (e.g. a lower one for a "
        "class the model under-detects, so that each outcome is found about equally often).",
    )
    runtime: RuntimeName = Field(
        "onnxruntime", description="onnxruntime (default, always installed) or openvino (the [openvino] extra)."
    )
    precision: Precision = Field(
        "f32", description="f32, or bf16 with runtime openvino on a CPU with AMX (faster, not bit-identical)."
    )
    native_frame_height: int | None = Field(
        None,
        ge=64,
        le=8192,
        description="Height of the camera frames whose tiles at native resolution the model was trained on (the "
        "helmet YOLO11n: 1080). A camera's lower-resolution frames are then tiled with smaller squares, magnified "
        "to the input, so heads reach the size the model learnt (unless the camera sets detection.region_size).",
    )

    @model_validator(mode="after")
    def _precision_needs_openvino(self) -> YoloOnnxSpec:
        if self.precision != "f32" and self.runtime != "openvino":
            raise ValueError(f"precision {self.precision} needs runtime: openvino (ONNX Runtime runs f32)")
        return self


class UltralyticsSpec(_Spec):
    """A ``.pt`` checkpoint run by ultralytics itself (needs the ``[train]`` extra)."""

    type: Literal["ultralytics"] = "ultralytics"
    path: Path
    input_size: int = Field(640, ge=32, le=4096, multiple_of=32)
    iou: float = Field(0.7, gt=0.0, le=1.0)
    max_detections: int = Field(300, ge=1, le=10000)


class TwoStageSpec(_Spec):
    """Face detector, then a mask classifier on each face crop."""

    type: Literal["two_stage"] = "two_stage"
    face_model: Path = Field(description="Ultra-Light face detector .onnx (scores + boxes outputs).")
    classifier_model: Path = Field(description="Face-crop classifier .onnx, batch x H x W x 3 input.")
    face_iou: float = Field(0.5, gt=0.0, le=1.0, description="NMS IoU threshold between faces.")
    crop_margin: float = Field(0.25, ge=0.0, le=1.0, description="Margin added on each side, fraction of box size.")
    min_face_px: int = Field(
        32, ge=0, le=1024, description="Faces with a shorter side below this are 'undetermined', not classified."
    )
    max_detections: int = Field(200, ge=1, le=10000)


class WithAttributesSpec(_Spec):
    """A detector spec's classes plus attributes (a phone) that a second YOLO model finds in the rider crops of
    ``detection.mode: riders``: the base boxes heads and two-wheelers on the frame and in each rider's square,
    and the attribute model looks for its classes in the same squares (what ``categories: [helmet, phone]``
    judges). Attributes are found only in rider crops: a phone is too small to find on a whole wide frame."""

    type: Literal["with_attributes"] = "with_attributes"
    base: Path = Field(description="The detector spec (.yaml) of the subjects and vehicles, e.g. helmet.yaml.")
    attribute_model: Path = Field(description="A YOLO .onnx export that boxes the attributes (e.g. COCO's).")
    attribute_classes: dict[str, str] = Field(
        min_length=1,
        description="Attribute model class -> the class name the categories use, e.g. {'cell phone': cell_phone}; "
        "its other classes are ignored.",
    )
    attribute_conf: float = Field(0.2, ge=0.0, le=1.0, description="Score an attribute box needs.")
    attribute_scale: float = Field(
        2.0, ge=1.0, le=4.0, description="A rider square is magnified this much for the attribute model."
    )
    attribute_input_size: int = Field(
        640, ge=64, le=2048, multiple_of=32, description="The largest input the attribute model is run at, px."
    )

    @model_validator(mode="after")
    def _thresholds_are_the_base_s(self) -> WithAttributesSpec:
        if misplaced := sorted(self.model_fields_set & {"conf", "outcomes", "eval_aliases", "evaluation"}):
            raise ValueError(
                f"{', '.join(misplaced)}: the base spec's ({self.base.name}) apply to its classes; set them there "
                "(attribute_conf is the attribute model's threshold)"
            )
        return self


DetectorSpec = Annotated[
    YoloOnnxSpec | UltralyticsSpec | TwoStageSpec | WithAttributesSpec, Field(discriminator="type")
]
_SPEC_ADAPTER: TypeAdapter[DetectorSpec] = TypeAdapter(DetectorSpec)  # type: ignore[arg-type, unused-ignore]  # mypy sees the Annotated union as a value here, depending on import order


def parse_spec(data: dict[str, object], base_dir: Path) -> DetectorSpec:
    """Validate ``data`` as a spec and resolve its relative paths against ``base_dir``."""
    spec = _SPEC_ADAPTER.validate_python(data)
    updates = {
        name: base_dir / value
        for name in spec.path_fields()
        if isinstance(value := getattr(spec, name), Path) and not value.is_absolute()
    }
    return spec.model_copy(update=updates) if updates else spec


def load_spec(model: str | Path) -> DetectorSpec:
    """A spec from a YAML file, or a default spec for a bare ``.onnx`` / ``.pt`` path."""
    path = Path(model)
    suffix = path.suffix.lower()
    if suffix == ".onnx":
        return YoloOnnxSpec(path=path)
    if suffix == ".pt":
        return UltralyticsSpec(path=path)
    if suffix not in {".yaml", ".yml"}:
        raise VisionError(f"--model {model}: expected a .yaml detector spec, an .onnx or a .pt file")
    if not path.is_file():
        raise VisionError(f"detector spec not found: {path}")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        raise VisionError(f"{path}: not valid YAML: {error}") from error
    if not isinstance(data, dict):
        raise VisionError(f"{path}: a detector spec is a mapping with a 'type' field")
    try:
        return parse_spec(data, path.parent)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in item['loc']) or '(top)'}: {item['msg']}" for item in error.errors()
        )
        raise VisionError(f"{path}: {problems}") from error


def boxed_classes(spec: DetectorSpec) -> frozenset[str] | None:
    """The class names a spec's detector boxes, read from its files without building it (a YOLO export's
    metadata; a with_attributes spec's base and attribute classes), or None when that needs the backend."""
    if isinstance(spec, WithAttributesSpec):
        base = boxed_classes(load_spec(spec.base))
        return None if base is None else base | frozenset(spec.attribute_classes.values())
    if isinstance(spec, YoloOnnxSpec) and spec.path.is_file():
        from vision.detectors.onnx_session import model_metadata, open_session, parse_class_names

        names = model_metadata(open_session(spec.path, threads=1)).get("names")  # a bad file: VisionError
        return None if names is None else frozenset(parse_class_names(names, spec.path))
    return None


def measured_error(spec: DetectorSpec) -> tuple[float, float] | None:
    """``(sensitivity, specificity)`` of the verdicts from the spec's evaluation file, if it has both."""
    import json

    if spec.evaluation is None or not spec.evaluation.is_file():
        return None
    outcomes = json.loads(spec.evaluation.read_text()).get("outcomes") or {}
    sensitivity, specificity = outcomes.get("sensitivity"), outcomes.get("specificity")
    if sensitivity is None or specificity is None or sensitivity + specificity <= 1:
        return None
    return float(sensitivity), float(specificity)


def model_problems(cameras: Sequence[Camera]) -> list[str]:
    """Each camera's detector spec checked on disk: it loads, measures the camera's first category, and boxes
    the attributes its other categories need (``vision check-config``; the lines name ``cameras[i].model``)."""
    problems = []
    for index, camera in enumerate(cameras):
        try:
            spec = load_spec(camera.model)
        except VisionError as error:
            problems.append(f"cameras[{index}].model: {error}")
            continue
        if spec.category is not None and spec.category != camera.category:
            problems.append(
                f"cameras[{index}].model: {camera.model} measures {spec.category.value},"
                f" camera is {camera.category.value}"
            )
        wanted = {info.violation_attribute for c in camera.categories if (info := category_info(c)).violation_attribute}
        try:
            boxed = boxed_classes(spec) if wanted else None
        except VisionError as error:  # a corrupt model file: named, and the camera's other checks still run
            problems.append(f"cameras[{index}].model: {error}")
            boxed = None
        if boxed is not None and (missing := sorted(wanted - boxed)):
            problems.append(
                f"cameras[{index}].model: {camera.model} boxes no {', '.join(missing)}, which "
                f"{', '.join(c.value for c in camera.categories[1:])} needs (e.g. models/helmet-phone.yaml)"
            )
    return problems
