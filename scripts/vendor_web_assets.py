#!/usr/bin/env python3
"""Vendor the dashboard's browser libraries from npm, at pinned versions, into ``vision/api/static/vendor/``.

The dashboard must work on a closed police network: no CDN, nothing fetched by the page from
anywhere but the app itself. So the few libraries it uses are copied into the package from the npm
registry's tarballs, checked against the registry's published integrity (SHA-512), and listed with
their SHA-256 in ``vendor/MANIFEST.json`` (the tests check the files against it on every run)::

    .venv/bin/python scripts/vendor_web_assets.py           # fetch, check, copy, write the manifest
    .venv/bin/python scripts/vendor_web_assets.py --check   # only compare the vendored files with the manifest

Needs ``npm`` (Debian's) and the registry; the files it writes are committed, so neither is needed
to run or test the app.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENDOR = ROOT / "vision" / "api" / "static" / "vendor"
MANIFEST = VENDOR / "MANIFEST.json"


@dataclass(frozen=True)
class Package:
    """One npm package: the files of its tarball the page loads (paths under ``package/``), and its licence."""

    name: str
    version: str
    integrity: str  # the registry's dist.integrity
    files: tuple[str, ...]

    @property
    def folder(self) -> str:
        return f"{self.name}-{self.version}"


PACKAGES = (
    Package(
        "leaflet",
        "1.9.4",
        "sha512-nxS1ynzJOmOlHp+iL3FyWqK89GtNL8U8rvlMOsQdTTssxZwCXh8N2NB3GDQOL+YR3XnWyZAxwQixURb+FA74PA==",
        (
            "LICENSE",
            "dist/leaflet.js",
            "dist/leaflet.css",
            "dist/images/layers.png",
            "dist/images/layers-2x.png",
            "dist/images/marker-icon.png",
            "dist/images/marker-icon-2x.png",
            "dist/images/marker-shadow.png",
        ),
    ),
    Package(
        "leaflet.markercluster",
        "1.5.3",
        "sha512-vPTw/Bndq7eQHjLBVlWpnGeLa3t+3zGiuM7fJwCkiMFq+nmRuG3RI3f7f4N4TDX7T4NpbAXpR2+NTRSEGfCSeA==",
        (
            "MIT-LICENCE.txt",
            "dist/leaflet.markercluster.js",
            "dist/MarkerCluster.css",
        ),
    ),
)


def fetch(package: Package, workdir: Path) -> Path:
    """``npm pack`` the tarball and check it against the registry's integrity; returns its path."""
    output = subprocess.run(
        ["npm", "pack", f"{package.name}@{package.version}", "--silent"],
        cwd=workdir,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()[-1]
    tarball = workdir / output
    algorithm, expected = package.integrity.split("-", 1)
    digest = base64.b64encode(hashlib.new(algorithm, tarball.read_bytes()).digest()).decode()
    if digest != expected:
        raise SystemExit(f"{tarball.name}: {algorithm} {digest}, the registry says {expected}")
    return tarball


def target_of(package: Package, member: str) -> str:
    """Where a tarball file lands, relative to ``vendor/``: ``dist/`` is dropped."""
    return f"{package.folder}/{member.removeprefix('dist/')}"


def vendor() -> dict[str, str]:
    if VENDOR.exists():
        shutil.rmtree(VENDOR)
    manifest: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as workdir:
        for package in PACKAGES:
            with tarfile.open(fetch(package, Path(workdir))) as archive:
                for member in package.files:
                    extracted = archive.extractfile(f"package/{member}")
                    assert extracted is not None, member
                    data = extracted.read()
                    target = VENDOR / target_of(package, member)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(data)
                    manifest[target_of(package, member)] = hashlib.sha256(data).hexdigest()
    packages = {p.name: {"version": p.version, "integrity": p.integrity} for p in PACKAGES}
    MANIFEST.write_text(json.dumps({"packages": packages, "files": manifest}, indent=1, sort_keys=True) + "\n")
    return manifest


def check() -> list[str]:
    """Problems with the vendored files: changed, missing or unlisted (empty: all as fetched)."""
    listed = json.loads(MANIFEST.read_text())["files"]
    problems = []
    for name, digest in listed.items():
        path = VENDOR / name
        if not path.is_file():
            problems.append(f"{name}: missing")
        elif hashlib.sha256(path.read_bytes()).hexdigest() != digest:
            problems.append(f"{name}: changed since it was vendored")
    on_disk = {str(p.relative_to(VENDOR)) for p in VENDOR.rglob("*") if p.is_file() and p != MANIFEST}
    problems += [f"{name}: not in MANIFEST.json" for name in sorted(on_disk - set(listed))]
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="compare the vendored files with the manifest only")
    args = parser.parse_args(argv)
    if not args.check:
        files = vendor()
        print(f"vendored {len(files)} files into {VENDOR.relative_to(ROOT)}")
    problems = check()
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
