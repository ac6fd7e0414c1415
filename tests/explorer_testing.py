"""Helpers for the explorer tests: loading the hand-written models, running the CLI.

A plain module rather than a conftest, so that it cannot collide with other packages'
test setup; pytest puts this directory on ``sys.path``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from explorer.cli import main
from explorer.pymodel import PythonSpec
from pyspec.model import Model

PYMODELS = Path(__file__).parent / "pymodels"


def model_path(file: str) -> str:
    return str(PYMODELS / f"{file}.py")


def load(file: str, name: str | None = None, **defines: object) -> Model:
    """``load("twophase", RM=3)`` or ``load("toys", "chain")``."""
    spec = PythonSpec(model_path(file))
    return spec.instantiate(name, {k: str(v) for k, v in defines.items()})


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run ``cowspec`` in-process: ``code, out, err = run_cli(capsys, "check", path)``."""
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err
