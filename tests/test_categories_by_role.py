"""No code outside vision/categories.py branches on a category's or a class's name (issue #29's rule): the
facts of a category live in its registry entry, so a new category is one entry, not an ``if`` in six modules."""

import re
from pathlib import Path

from vision.categories import CATEGORIES

PACKAGE = Path(__file__).resolve().parents[1] / "vision"


def test_no_module_names_a_category_or_a_class_outside_the_registry():
    names = {category.value for category in CATEGORIES} | {
        name for info in CATEGORIES.values() for name in (*info.class_outcomes, *info.vehicle_classes)
    }
    literal = "|".join(re.escape(name) for name in sorted(names))
    pattern = re.compile(
        rf"""(==|!=|\bin\b|\bis\b)\s*\(?\s*["']({literal})["']|["']({literal})["']\s*(==|!=)|Category\.[A-Z]+"""
    )
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "categories.py":
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if pattern.search(line.split("#")[0]):
                found.append(f"{path.relative_to(PACKAGE.parent)}:{number}: {line.strip()}")
    assert found == [], "branch on the registry's facts (vision/categories.py), not on names:\n" + "\n".join(found)


def test_every_class_has_a_role():
    from vision.categories import Category, CategoryInfo, Role, category_info

    helmet = category_info("helmet")
    assert helmet.role_of("two_wheeler") is Role.VEHICLE
    assert helmet.role_of("with_helmet") is helmet.role_of("without_helmet") is Role.SUBJECT
    phones = CategoryInfo(
        Category.HELMET, "t", "riders", vehicle_classes=("two_wheeler",), attribute_classes=("phone",)
    )
    assert phones.role_of("phone") is Role.ATTRIBUTE and phones.outcome_of("phone") is None
