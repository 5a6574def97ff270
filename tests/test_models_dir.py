"""The committed models: ``models/SHA256SUMS`` checks on a clone, and every spec names a committed file."""

from __future__ import annotations

import hashlib
import subprocess

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


def test_every_spec_loads_and_names_committed_files(models_dir):
    for spec_path in sorted(models_dir.glob("*.yaml")):
        spec = load_spec(spec_path)
        names = [getattr(spec, key) for key in ("path", "face_model", "classifier_model") if hasattr(spec, key)]
        names += [spec.evaluation] if spec.evaluation else []
        assert names, spec_path.name
        for name in names:
            path = name if name.is_absolute() else models_dir / name
            assert path.is_file(), f"{spec_path.name}: {name} not in models/"
            assert path.resolve().parent == models_dir.resolve(), f"{spec_path.name}: {name} outside models/"
