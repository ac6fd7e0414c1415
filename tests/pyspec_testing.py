"""Helpers for the language tests: specs from text, their models, their diagnostics.

A plain module rather than a conftest, like explorer_testing; pytest puts this
directory on ``sys.path``.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from explorer.engine.interface import Options
from explorer.engine.registry import check
from explorer.result import Result
from pyspec.errors import Diagnostic, SpecError
from pyspec.loader import Spec, load_spec
from pyspec.model import Model

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "spec" / "examples"
#: Two counters over 0..399: large enough (160,000 states by type) for ``auto`` to weigh
#: the compiled engine, small to search.
TWO_COUNTERS = """
        module M
        type I = 0..399
        var x: I
        var y: I
        init {
          x = 0
          y = 0
        }
        action X(i: I) { requires x + 1 == i
                         x' = i }
        action Y(i: I) { requires y + 1 == i or i == 0
                         y' = i }
    """


def write(tmp_path: Path, text: str, name: str = "spec.cow") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def spec_of(tmp_path: Path, text: str) -> Spec:
    return load_spec(str(write(tmp_path, text)))


def model_of(tmp_path: Path, text: str, model: str | None = None, **defines: object) -> Model:
    return spec_of(tmp_path, text).instantiate(model, {k: str(v) for k, v in defines.items()})


def errors_of(tmp_path: Path, text: str) -> list[Diagnostic]:
    """The errors a spec is rejected with (fails the test if it is accepted)."""
    with pytest.raises(SpecError) as info:
        spec_of(tmp_path, text)
    return [d for d in info.value.diagnostics if d.severity == "error"]


def explore(model: Model, **options: object) -> Result:
    return check(model, Options(**options))  # type: ignore[arg-type]


def reachable_states(model: Model) -> list[dict]:
    """Every reachable state in words, in BFS order."""
    seen = {}
    frontier = list(model.initial_states())
    for s in frontier:
        seen.setdefault(s, None)
    i = 0
    order = list(seen)
    while i < len(order):
        for _, _, t in model.successors(order[i]):
            if t not in seen:
                seen[t] = None
                order.append(t)
        i += 1
    return [model.describe_state(s) for s in order]


def successors_in_words(model: Model, state) -> list[tuple[str, dict]]:
    return [(model.action_label(a, p), model.describe_state(t))
            for a, p, t in model.successors(state)]
