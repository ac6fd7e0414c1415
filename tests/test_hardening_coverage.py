"""Coverage with workers, as docs/explorer.md documents it (issue 18): enabled and fired
equal for any number of workers, the sum of new equal (every non-initial distinct state is
discovered once), and one numpy worker equal to the scalar engine in every count."""

from __future__ import annotations

import pytest
from pyspec_testing import EXAMPLES

from explorer.engine.interface import Options
from explorer.engine.registry import check
from pyspec.loader import load_spec


def _coverage(backend: str, workers: int) -> tuple[dict[str, tuple[int, int, int]], int, int]:
    model = load_spec(str(EXAMPLES / "refcount.cow")).instantiate()
    result = check(model, Options(backend=backend, workers=workers))
    assert result.stopped is None
    rows = {a.name: (a.enabled, a.fired, a.new) for a in result.coverage.actions}
    return rows, result.stats.distinct_states, len(list(model.initial_states()))


@pytest.fixture(scope="module")
def runs() -> dict[str, tuple[dict[str, tuple[int, int, int]], int, int]]:
    return {"scalar": _coverage("scalar", 1), "numpy1": _coverage("numpy", 1),
            "numpy2": _coverage("numpy", 2)}


def test_one_worker_matches_the_scalar_engine_exactly(runs: dict) -> None:
    assert runs["numpy1"] == runs["scalar"]


def test_enabled_fired_and_the_total_of_new_do_not_depend_on_workers(runs: dict) -> None:
    one, distinct, initial = runs["numpy1"]
    two, distinct2, _ = runs["numpy2"]
    assert distinct2 == distinct
    assert {a: r[:2] for a, r in two.items()} == {a: r[:2] for a, r in one.items()}
    assert sum(r[2] for r in one.values()) == distinct - initial
    assert sum(r[2] for r in two.values()) == distinct - initial
