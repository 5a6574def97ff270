"""The README stays a user's guide: short, and every file it points to exists."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_readme_is_a_short_guide_whose_links_resolve():
    readme = (ROOT / "README.md").read_text()
    assert len(readme.encode()) <= 15_000, "history and details belong in docs/ or models/README.md"
    links = re.findall(r"\]\(([^)#]+)\)", readme)
    assert links, "the README points to docs/ and models/README.md"
    for link in links:
        assert (ROOT / link).is_file(), link
