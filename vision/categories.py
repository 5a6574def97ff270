"""What each compliance category is: the one place that knows helmets and masks.

The config, detector specs, tracker, API, reports and dashboard read the category's facts from
:data:`CATEGORIES` instead of branching on its name. A new category (say, seat belts) is one more
entry here, not a new ``if`` in six modules.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from vision.outcome import Outcome


def N_(message: str) -> str:  # noqa: N802 - the gettext convention
    """Marks ``message`` for the catalogues (``vision/i18n.py``); translated where it is shown."""
    return message


class Category(StrEnum):
    """What a camera measures (the keys of :data:`CATEGORIES`)."""

    HELMET = "helmet"
    MASK = "mask"
    PHONE = "phone"


class Role(StrEnum):
    """What a class's boxes are to the tracker.

    - ``subject``: a person's head or face, tracked as one person with one verdict (its class's outcome);
    - ``vehicle``: a two-wheeler, tracked on its own; a trip when subjects ride it, never a verdict;
    - ``attribute``: an object that belongs to a subject (a phone in a rider's hand), never a person.
    """

    SUBJECT = "subject"
    VEHICLE = "vehicle"
    ATTRIBUTE = "attribute"


@dataclass(frozen=True)
class CategoryInfo:
    """The facts of one category.

    Attributes:
        category: its key.
        title: what the rate measures, for reports and the dashboard ("Helmet wearing").
        subject: who is counted, plural ("riders").
        class_outcomes: verdict of each class name the category's datasets use; a model spec may
            map more (``outcomes`` in ``models/*.yaml``).
        vehicle_classes: classes that box a vehicle a subject rides, never a verdict (empty when
            the category has none).
        attribute_classes: classes that box an object belonging to a subject (a phone), never a
            person of their own.
        violation_attribute: the attribute whose presence on a subject is the violation (phone:
            ``cell_phone``). Such a category judges the subjects another category on the same camera
            tracks (the riders' heads of ``helmet``), by that attribute, not by the subject's class; it
            is never a camera's first category (``cameras[].categories``).
        riders_only_default: whether a camera counts only heads linked to a moving vehicle track by
            default, when its model boxes vehicles (``cameras[].riders_only``).
        blur_judged_default: whether evidence pixelates the judged person too by default
            (``evidence.blur_judged``): a face is who someone is, a helmet on a head is not.
    """

    category: Category
    title: str
    subject: str
    class_outcomes: Mapping[str, Outcome] = field(default_factory=dict)
    vehicle_classes: tuple[str, ...] = ()
    attribute_classes: tuple[str, ...] = ()
    violation_attribute: str | None = None
    riders_only_default: bool = False
    blur_judged_default: bool = False

    def outcome_of(self, class_name: str) -> Outcome | None:
        """The verdict a class name implies in this category, or None for a vehicle or unknown class."""
        return self.class_outcomes.get(class_name)

    def role_of(self, class_name: str) -> Role:
        """The class's role here: vehicle or attribute when the category names it so, else subject (a model's
        spec may map more subject classes to outcomes than the category's datasets use)."""
        if class_name in self.vehicle_classes:
            return Role.VEHICLE
        if class_name in self.attribute_classes:
            return Role.ATTRIBUTE
        return Role.SUBJECT


def roles_on(categories: Sequence[Category], class_names: Sequence[str]) -> list[Role]:
    """Each class's role on a camera measuring ``categories``: a vehicle or attribute when any of them names it
    so, else a subject (one model boxes the classes of every category on the camera)."""
    infos = [category_info(category) for category in categories]
    roles = []
    for name in class_names:
        named = {info.role_of(name) for info in infos}
        roles.append(next((role for role in (Role.VEHICLE, Role.ATTRIBUTE) if role in named), Role.SUBJECT))
    return roles


CATEGORIES: Mapping[Category, CategoryInfo] = MappingProxyType(
    {
        Category.HELMET: CategoryInfo(
            category=Category.HELMET,
            title=N_("Helmet wearing"),
            subject=N_("riders"),
            class_outcomes=MappingProxyType(
                {"with_helmet": Outcome.COMPLIANT, "without_helmet": Outcome.NON_COMPLIANT}
            ),
            vehicle_classes=("two_wheeler",),
            riders_only_default=True,
        ),
        Category.MASK: CategoryInfo(
            category=Category.MASK,
            title=N_("Mask wearing"),
            subject=N_("people"),
            class_outcomes=MappingProxyType(
                {
                    "with_mask": Outcome.COMPLIANT,
                    "without_mask": Outcome.NON_COMPLIANT,
                    "mask_weared_incorrect": Outcome.NON_COMPLIANT,
                }
            ),
            blur_judged_default=True,
        ),
        Category.PHONE: CategoryInfo(
            category=Category.PHONE,
            title=N_("Phone use while riding"),
            subject=N_("riders"),
            vehicle_classes=("two_wheeler",),
            attribute_classes=("cell_phone",),
            violation_attribute="cell_phone",
            riders_only_default=True,
        ),
    }
)


def category_info(category: Category | str) -> CategoryInfo:
    """The facts of ``category`` (a :class:`Category` or its name); an unknown name is a ``KeyError``."""
    return CATEGORIES[Category(category)]


def vehicle_class_names() -> frozenset[str]:
    """Every category's vehicle classes: class names that never carry a verdict."""
    return frozenset(name for info in CATEGORIES.values() for name in info.vehicle_classes)


def outcome_by_name(class_name: str) -> Outcome | None:
    """The outcome a dataset's class name implies, or None when the name does not say.

    A class some category names has that category's outcome (face-mask's ``mask_weared_incorrect``
    is non-compliant); any other ``with_*`` is compliant and ``without_*`` non-compliant;
    case-insensitive (``With Helmet`` too). Used where no spec maps the classes yet: building
    clips' ground truth and training a new model.
    """
    lowered = class_name.lower()
    for info in CATEGORIES.values():
        for name, outcome in info.class_outcomes.items():
            if name.lower() == lowered:
                return outcome
    if lowered.startswith("without"):
        return Outcome.NON_COMPLIANT
    if lowered.startswith("with"):
        return Outcome.COMPLIANT
    return None
