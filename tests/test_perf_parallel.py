"""``--workers N``: the counts, depth and verdicts of one worker; shortest traces that are
behaviours of the model."""

from __future__ import annotations

import multiprocessing
import os
import signal
from pathlib import Path

import pytest

from explorer.engine.interface import Options
from explorer.engine.registry import check
from explorer.judge import judge
from explorer.result import Result
from pyspec.loader import load_spec
from tests.pyspec_testing import write
from tests.test_perf_backends import CONSTRUCTS, ROOT, SAFETY_EXAMPLES
from tests.test_perf_fingerprint import WIDE
from tests.test_perf_symmetry import LOCK, genuine


def facts(r: Result) -> dict:
    """What several workers must share with one (not which shortest trace they show)."""
    return {
        "counts": (r.stats.distinct_states, r.stats.total_states, r.stats.depth, r.stopped),
        "verdicts": [(p.name, p.verdict, len(p.trace.steps) if p.trace else None)
                     for p in r.properties],
        "coverage": [(a.name, a.enabled, a.fired) for a in r.coverage.actions],
        "new": sum(a.new for a in r.coverage.actions),
    }


def compare(spec: object, workers: int, **options: object) -> tuple[Result, Result]:
    one = check(spec.instantiate(), Options(backend="numpy", **options))
    many = check(spec.instantiate(), Options(backend="numpy", workers=workers, **options))
    assert facts(many) == facts(one)
    assert many.stats.backend == "numpy" and not many.notes or "symmetry" in many.notes[0]
    return one, many


@pytest.mark.parametrize("path", SAFETY_EXAMPLES, ids=lambda p: p.stem)
def test_examples_with_two_workers(path: Path) -> None:
    _, many = compare(load_spec(str(path)), 2, keep_going=True)
    genuine(load_spec(str(path)).instantiate(), many)


@pytest.mark.parametrize("text", [LOCK, WIDE, "module M\n" + CONSTRUCTS["sets_and_comprehensions"]],
                         ids=["symmetry", "two-words", "sets"])
def test_three_workers(tmp_path: Path, text: str) -> None:
    spec = load_spec(str(write(tmp_path, text)))
    _, many = compare(spec, 3, keep_going=True)
    genuine(spec.instantiate(), many)


def test_refcount_counts_and_first_violation(tmp_path: Path) -> None:
    spec = load_spec(str(ROOT_REFCOUNT))
    one, many = compare(spec, 2)
    assert (many.stats.distinct_states, many.stats.total_states) == (3634, 48664)
    diehard = load_spec(str(ROOT_REFCOUNT.parent / "diehard.cow"))
    # Stopping at the first violation: the same shortest trace length.
    one = check(diehard.instantiate(), Options(backend="numpy", keep_going=False))
    many = check(diehard.instantiate(), Options(backend="numpy", workers=2, keep_going=False))
    lengths = [[len(p.trace.steps) for p in r.properties if p.trace] for r in (one, many)]
    assert lengths[0] == lengths[1] == [7]


ROOT_REFCOUNT = Path(__file__).resolve().parent.parent / "spec" / "examples" / "refcount.cow"


def test_a_dead_worker_ends_the_search_as_interrupted_with_its_partial_counts() -> None:
    """A worker killed as the OOM killer would (SIGKILL) is reported, not an internal error:
    the search stops with the levels done, exit 152, and nothing is left running."""
    killed: list[int] = []

    def kill_a_worker(progress: object) -> None:
        workers = multiprocessing.active_children()
        if workers and not killed:
            killed.append(workers[0].pid or 0)
            os.kill(workers[0].pid or 0, signal.SIGKILL)

    spec = load_spec(str(ROOT / "spec" / "examples" / "refcount.cow"))
    model = spec.instantiate(None, {"N": "4"})
    r = judge(check(model, Options(backend="numpy", workers=2, keep_going=True,
                                   progress=kill_a_worker, progress_interval_s=0.0)))
    assert killed and r.stopped == "interrupted" and r.exit_code == 152
    assert 0 < r.stats.distinct_states < 1_000
    assert any(f"(pid {killed[0]}) died, killed by SIGKILL" in n for n in r.notes)
    assert multiprocessing.active_children() == []


@pytest.mark.parametrize("workers", [2, 3])
def test_the_state_limit_stores_exactly_the_limit(workers: int) -> None:
    """Issue 18: ``--max-states 100000 --workers 2`` once stored 550,138 states. Now the
    workers store exactly the limit, as one worker does; generated counts every transition
    of the level the limit was met in (docs/explorer.md)."""
    spec = load_spec(str(ROOT_REFCOUNT))
    n4 = {"N": "4"}
    one = judge(check(spec.instantiate(None, n4), Options(backend="numpy", max_states=10_000)))
    many = judge(check(spec.instantiate(None, n4),
                       Options(backend="numpy", workers=workers, max_states=10_000)))
    assert one.stopped == many.stopped == "max_states"
    assert one.exit_code == many.exit_code == 152
    assert one.stats.distinct_states == many.stats.distinct_states == 10_000
    assert one.stats.depth == many.stats.depth == 6
    assert sum(a.new for a in many.coverage.actions) == 10_000 - 1
    level = check(spec.instantiate(None, n4), Options(backend="numpy", max_depth=5))
    assert one.stats.total_states <= many.stats.total_states == level.stats.total_states
    # A limit equal to the number of reachable states does not stop the search.
    whole = check(spec.instantiate(), Options(backend="numpy", workers=workers,
                                              max_states=3634))
    assert (whole.stopped, whole.stats.distinct_states, whole.stats.total_states) == (
        None, 3634, 48664)
