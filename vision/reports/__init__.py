"""``vision report``: per-site compliance over a period as one self-contained HTML file, or CSV.

:mod:`vision.reports.build` gathers the numbers from a store (no output), :mod:`vision.reports.render`
turns them into HTML or CSV, and :mod:`vision.reports.cli` is the command. Nothing is imported here,
so that registering the command does not load SQLAlchemy or matplotlib for every ``vision`` call.
"""
