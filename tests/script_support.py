"""Import a file of ``scripts/`` (command lines, not a package) as a module, for the tests of that script."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ROOT / "scripts"


def load_script(name: str, module_name: str | None = None) -> ModuleType:
    """``scripts/<name>.py`` loaded as ``module_name`` (default ``name``). Scripts import only the package,
    never each other, so nothing is put on ``sys.path``."""
    spec = importlib.util.spec_from_file_location(module_name or name, SCRIPTS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name or name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module
