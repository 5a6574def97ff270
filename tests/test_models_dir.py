"""The committed models: ``models/SHA256SUMS`` checks on a clone, and every spec names a committed file."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

from vision.detectors import load_spec


def test_every_listed_checksum_matches_a_committed_file(models_dir):
    listed = {}
    for line in (models_dir / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split("  ", 1)
        listed[name] = digest
    committed = set(
        subprocess.run(
            ["git", "ls-files", "--", "*.onnx"], cwd=models_dir, capture_output=True, text=True, check=True
        ).stdout.split()
    )
    assert set(listed) == committed, "SHA256SUMS lists the committed ONNX models, no more and no fewer"
    for name, digest in listed.items():
        assert hashlib.sha256((models_dir / name).read_bytes()).hexdigest() == digest, name


def git_ignores(path: Path) -> bool:
    return subprocess.run(["git", "check-ignore", "-q", str(path)], cwd=path.parent).returncode == 0


def test_every_spec_loads_and_names_committed_files_or_files_it_builds(models_dir):
    for spec_path in sorted(models_dir.glob("*.yaml")):
        spec = load_spec(spec_path)
        weights = spec.weight_files()
        assert weights, spec_path.name
        for path in [*weights, *([spec.evaluation] if spec.evaluation else [])]:
            assert path.resolve().parent == models_dir.resolve(), f"{spec_path.name}: {path} outside models/"
            if spec.build and path in weights:
                # Built on demand (scripts/build_models.py's BUILT_ON_DEMAND): git must ignore it.
                assert git_ignores(path), f"{spec_path.name}: {path.name} is built on demand but not git-ignored"
            else:
                assert path.is_file(), f"{spec_path.name}: {path.name} not in models/"


def test_built_on_demand_models_are_the_ones_build_models_knows(models_dir):
    from script_support import load_script

    build_models = load_script("build_models")
    built = {p.name for s in models_dir.glob("*.yaml") if (spec := load_spec(s)).build for p in spec.weight_files()}
    assert built == set(build_models.BUILT_ON_DEMAND)
