"""The ``vision report`` command; :func:`add_report_parser` registers it on the ``vision`` subcommands."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from vision.categories import Category
from vision.errors import VisionError

if TYPE_CHECKING:  # imported where used: `vision --help` stays quick
    from vision.compliance.rates import RateSettings
    from vision.config import VisionConfig

FORMATS = ("html", "csv")


def add_report_parser(commands) -> argparse.ArgumentParser:  # commands: argparse._SubParsersAction
    """Add ``report`` to ``commands`` (the object ``add_subparsers`` returned); its handler is :func:`cmd_report`."""
    report = commands.add_parser(
        "report",
        help="per-site compliance over a period: HTML (tables, trend charts, before/after) or CSV",
        description=(
            "Per-site compliance rates over a period from the store: table, trend per bucket, ranking, "
            "and a before/after comparison. Times are ISO 8601 with a zone, e.g. 2026-11-02T08:00:00+01:00 or "
            "2026-11-02T07:00:00Z."
        ),
    )
    report.add_argument("config", type=Path, help="the config file (sites, cameras, compliance settings, store)")
    report.add_argument("--from", dest="start", required=True, metavar="ISO", help="start of the period (included)")
    report.add_argument("--to", dest="end", required=True, metavar="ISO", help="end of the period (excluded)")
    report.add_argument(
        "--site", action="extend", nargs="+", default=[], metavar="ID", help="only these site ids (repeatable)"
    )
    report.add_argument("--category", choices=[c.value for c in Category], help="only this category")
    report.add_argument(
        "--bucket",
        choices=("hour", "day"),
        default="day",
        help="trend bucket, in each site's local time (default: day)",
    )
    report.add_argument("--format", choices=FORMATS, default="html", help="output format (default: html)")
    report.add_argument(
        "--language", choices=("en", "zh-CN"), help="language of the HTML report (default: the config's `language`)"
    )
    report.add_argument("--out", type=Path, help="output file (default: out/report-<from>-<to>.html or .csv)")
    report.add_argument(
        "--compare-from", metavar="ISO", help="start of the period to compare with (default: first half vs second)"
    )
    report.add_argument("--compare-to", metavar="ISO", help="end of the period to compare with (excluded)")
    report.add_argument("--store", help="store URL (overrides the config's store.url)")
    report.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    report.set_defaults(handler=cmd_report)
    return report


def _stamp(text_time) -> str:  # text_time: datetime
    from datetime import UTC

    return f"{text_time.astimezone(UTC):%Y%m%dT%H%M%SZ}"


def _open_existing_store(url: str):  # -> Store
    """Open a store for reading: a SQLite file that does not exist is an error, not a new empty store."""
    import sqlalchemy as sa
    from sqlalchemy.exc import ArgumentError

    from vision.store import open_store

    try:
        parsed = sa.engine.make_url(url)
    except ArgumentError:
        parsed = None  # open_store names the problem
    if (
        parsed is not None
        and parsed.get_backend_name() == "sqlite"
        and parsed.database
        and parsed.database != ":memory:"
        and not Path(parsed.database).is_file()
    ):
        raise VisionError(f"store {url}: no such database file (run `vision run` first, or pass --store)")
    return open_store(url, create=False)


def _rate_settings(config: VisionConfig) -> tuple[RateSettings, list[str]]:
    """The config's rate settings with each category's measured detector error; a note when a spec can't be read."""
    from vision.compliance.rates import RateSettings, detector_errors

    try:
        return RateSettings.from_config(config, detector_errors(config)), []
    except VisionError as error:
        return RateSettings.from_config(config, errors={}), [f"Adjusted rates are left out: {error}"]


def cmd_report(args: argparse.Namespace) -> int:
    """Build the report, write it, print where; 0 also when the period holds no observations (with a warning)."""
    from vision.config import load_config
    from vision.reports.build import Period, build_report, parse_time
    from vision.reports.render import render_csv, render_html

    start, end = parse_time(args.start, "--from"), parse_time(args.end, "--to")
    if start >= end:
        raise VisionError(f"--from {args.start} is not before --to {args.end}")
    compare = None
    if (args.compare_from is None) != (args.compare_to is None):
        raise VisionError("--compare-from and --compare-to go together: give both, or neither")
    if args.compare_from is not None:
        compare_start = parse_time(args.compare_from, "--compare-from")
        compare_end = parse_time(args.compare_to, "--compare-to")
        if compare_start >= compare_end:
            raise VisionError(f"--compare-from {args.compare_from} is not before --compare-to {args.compare_to}")
        compare = Period(compare_start, compare_end)
    config = load_config(args.config)
    from vision.compliance.rates import RateService

    settings, notes = _rate_settings(config)
    from vision.store.database import resolve_store_url

    store = _open_existing_store(resolve_store_url(args.store, config.store.url))
    try:
        report = build_report(
            store,
            config,
            Period(start, end),
            bucket=args.bucket,
            sites=args.site,
            category=args.category,
            compare=compare,
            rates=RateService(store, settings),
            notes=notes,
            progress=not args.quiet,
            language=args.language,
        )
    finally:
        store.close()
    out: Path = args.out or Path("out") / f"report-{_stamp(start)}-{_stamp(end)}.{args.format}"
    text = render_csv(report) if args.format == "csv" else render_html(report, progress=not args.quiet)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    if not report.has_observations:
        print(
            f"vision: warning: no observations in {report.period.label_in(report.zone)}; the report says so",
            file=sys.stderr,
        )
    for note in notes:
        print(f"vision: warning: {note}", file=sys.stderr)
    decided = sum(site.total.n for site in report.sites if site.total)
    print(f"wrote {out} ({len(report.sites)} site/category row(s), {decided} decided observation(s))")
    return 0
