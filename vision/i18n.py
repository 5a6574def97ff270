"""Languages of what people read: the HTML report and the dashboard, in English and Simplified Chinese.

Messages are English source strings (the msgids) marked ``_("...")`` or ``tr("...")`` in Python, ``t("...")`` in
the dashboard's script and ``data-i18n`` in its page; each other language has one gettext
catalogue, ``vision/locale/<locale>/LC_MESSAGES/vision.po`` (Babel reads it as it is, no compiled
``.mo`` to keep in step). Numbers and dates are formatted for the locale by Babel (CLDR data).
``scripts/i18n_catalog.py`` adds new messages to every catalogue; a test fails while any message
lacks a translation.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from functools import cache
from pathlib import Path
from types import MappingProxyType

from babel import Locale
from babel.dates import format_datetime
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent

LANGUAGES = ("en", "zh-CN")
"""Languages we ship, as config and ``Accept-Language`` name them; ``en`` is the source language."""
PACKAGE = Path(__file__).resolve().parent
LOCALE_DIR = PACKAGE / "locale"
STATIC = PACKAGE / "api" / "static"
DOMAIN = "vision"
PYTHON_MARKERS = ("_", "tr", "N_")


def babel_locale(language: str) -> str:
    """``zh-CN`` -> ``zh_CN`` (Babel's and gettext's spelling)."""
    return language.replace("-", "_")


def catalogue_path(language: str) -> Path:
    return LOCALE_DIR / babel_locale(language) / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def _translations(language: str) -> Mapping[str, str]:
    """The catalogue, read once per process (a lookup per message must not re-read or rebuild it)."""
    if language == LANGUAGES[0]:
        return MappingProxyType({})
    with catalogue_path(language).open("rb") as handle:
        catalogue = read_po(handle, locale=babel_locale(language), domain=DOMAIN)
    return MappingProxyType({str(m.id): str(m.string) for m in catalogue if m.id and m.string and not m.fuzzy})


def messages(language: str) -> dict[str, str]:
    """msgid -> translation of every translated message (empty for English, the source language)."""
    return dict(_translations(language))


def negotiate(accept_language: str | None, default: str) -> str:
    """The best of :data:`LANGUAGES` for an ``Accept-Language`` header (``zh-CN,zh;q=0.9``), else ``default``."""
    if not accept_language:
        return default
    wanted = []
    for part in accept_language.split(","):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if match := re.search(r"q=([0-9.]+)", params):
            quality = float(match.group(1))
        if tag and tag != "*" and quality > 0:
            wanted.append((quality, tag.strip()))
    for _quality, tag in sorted(wanted, key=lambda item: -item[0]):  # stable: header order breaks ties
        lower = tag.lower()
        if lower.startswith("zh") and not any(part in lower for part in ("-tw", "-hk", "-mo", "hant")):
            return "zh-CN"  # zh, zh-CN, zh-Hans, zh-SG: Simplified Chinese (no Traditional catalogue yet)
        if lower == "en" or lower.startswith("en-"):
            return "en"
    return default


@dataclass(frozen=True)
class Translator:
    """Messages and number/date formats of one language."""

    language: str

    def __post_init__(self) -> None:
        if self.language not in LANGUAGES:
            raise ValueError(f"language {self.language!r}: expected one of {', '.join(LANGUAGES)}")

    @property
    def locale(self) -> Locale:
        return Locale.parse(babel_locale(self.language))

    def gettext(self, message: str) -> str:
        return _translations(self.language).get(message, message)

    __call__ = gettext

    def percent(self, share: float | None, decimals: int = 1) -> str:
        """``0.954`` -> ``95.4%``; a dash for None."""
        if share is None:
            return "–"
        return format_percent(
            share, format="#,##0." + "0" * decimals + "%" if decimals else "#,##0%", locale=self.locale
        )

    def number(self, value: float, decimals: int = 0) -> str:
        return format_decimal(value, format="#,##0." + "0" * decimals if decimals else "#,##0", locale=self.locale)

    def datetime_text(self, moment: datetime, zone: tzinfo | None = None) -> str:
        """Date and minute in the locale's order (``2026-11-02 07:00`` / ``2026年11月2日 07:00``), in ``zone``."""
        skeleton = "yyyy-MM-dd HH:mm" if self.language == "en" else "yyyy年M月d日 HH:mm"
        return format_datetime(moment, skeleton, tzinfo=zone or moment.tzinfo, locale=self.locale)


# --- extraction: what the catalogues must translate ----------------------------------------------------------
_DATA_I18N = re.compile(r'data-i18n(?:-attr-[a-z-]+)?="([^"]+)"')


def _python_messages(path: Path) -> Iterator[str]:
    """``_("...")``, ``tr("...")`` and ``N_("...")`` calls with a literal first argument, f-strings included.

    (Babel's tokenizer does not look inside f-strings before Python 3.12; the syntax tree does.)
    """
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in PYTHON_MARKERS
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            yield node.args[0].value


def extract_messages() -> Iterator[tuple[str, str]]:
    """``(msgid, where)`` of every message marked in the package: Python, the dashboard's script and its page."""
    for path in sorted(PACKAGE.rglob("*.py")):
        for message in _python_messages(path):
            yield message, str(path.relative_to(PACKAGE))
    # Our own scripts only: the vendored libraries (static/vendor/) are minified, where ``t("...")`` is anything.
    for filename, _lineno, found, _comments, _context in extract_from_dir(
        str(STATIC), method_map=[("vendor/**", "ignore"), ("**.js", "javascript")], keywords={"t": None, "N_": None}
    ):
        if isinstance(found, str) and found:
            yield found, f"api/static/{filename}"
    for page in sorted(STATIC.glob("*.html")):
        for message in _DATA_I18N.findall(page.read_text(encoding="utf-8")):
            yield message, f"api/static/{page.name}"


def untranslated(language: str, wanted: Iterable[str]) -> list[str]:
    """The messages of ``wanted`` that ``language``'s catalogue does not translate."""
    have = messages(language)
    return sorted({m for m in wanted if m not in have})
