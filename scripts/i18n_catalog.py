#!/usr/bin/env python3
"""Bring every language's catalogue in step with the messages marked in the code.

::

    .venv/bin/python scripts/i18n_catalog.py          # add new messages (untranslated), drop gone ones
    .venv/bin/python scripts/i18n_catalog.py --check  # exit 1 listing what is untranslated or stale

Messages are found by :func:`vision.i18n.extract_messages` (Python ``_()``/``N_()``, the
dashboard's ``t()``/``N_()`` and its page's ``data-i18n``). Translations are kept; a message no
longer in the code is removed so the catalogue never grows stale.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

from vision.i18n import DOMAIN, LANGUAGES, babel_locale, catalogue_path, extract_messages

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="change nothing; fail when a catalogue is not complete")
    args = parser.parse_args()
    found: dict[str, list[str]] = {}
    for message, where in extract_messages():
        found.setdefault(message, []).append(where)
    problems = 0
    for language in LANGUAGES[1:]:
        path = catalogue_path(language)
        old = read_po(path.open("rb"), locale=babel_locale(language), domain=DOMAIN) if path.is_file() else None
        catalogue = Catalog(
            locale=babel_locale(language),
            domain=DOMAIN,
            project="vision",
            version=" ",
            header_comment=f"# {language} messages of vision (the HTML report and the dashboard); see vision/i18n.py.",
            copyright_holder="the vision authors",
            creation_date=old.creation_date if old is not None else None,
            revision_date=old.revision_date if old is not None else None,
            fuzzy=False,
        )
        for message in sorted(found):
            previous = old.get(message) if old is not None else None
            locations = sorted({(where, 0) for where in found[message]})
            catalogue.add(message, previous.string if previous else "", locations=locations)
        missing = [m for m in sorted(found) if not (catalogue.get(m) and catalogue.get(m).string)]
        stale = sorted({str(m.id) for m in old if m.id} - set(found)) if old is not None else []
        print(f"{language}: {len(found)} messages, {len(missing)} untranslated, {len(stale)} no longer used")
        for message in missing:
            print(f"  untranslated: {message!r}")
        if args.check:
            problems += len(missing) + len(stale)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as handle:
            write_po(handle, catalogue, width=0, omit_header=False, include_lineno=False, sort_output=True)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
