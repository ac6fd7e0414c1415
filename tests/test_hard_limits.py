"""--timeout and --max-memory are hard limits: they stop a search inside one long step (an
expensive invariant on one state), not only between the engines' periodic looks, and
--max-memory counts the whole process tree."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from explorer.engine.interface import Options
from explorer.engine.limits import rss_mb, tree_mb
from explorer.engine.registry import check
from pyspec.loader import load_spec
from pyspec.model import Model
from tests.pyspec_testing import write

ROOT = Path(__file__).resolve().parents[1]

#: Three states, each with an invariant of sixteen million evaluations: seconds per state, and
#: far fewer states than the engines' periodic looks at the clock and the memory need.
SLOW = """
    var x: 0..2
    init { x = 0 }
    action Up { requires x < 2  x' = x + 1 }
    invariant Slow = forall a in 0..4000, b in 0..4000: a * b + x >= 0
    check deadlock off
"""


def slow_model(tmp_path: Path) -> Model:
    return load_spec(str(write(tmp_path, SLOW))).instantiate()


@pytest.mark.parametrize("backend", ["scalar", "numpy"])
def test_timeout_stops_inside_one_expensive_state(tmp_path: Path, backend: str) -> None:
    result = check(slow_model(tmp_path), Options(backend=backend, timeout_s=1.0))
    assert result.stopped == "timeout"
    assert result.stats.distinct_states < 3


def test_memory_limit_stops_inside_one_expensive_state(tmp_path: Path) -> None:
    """A limit below what the process already takes: reached at once, inside the first
    state's invariant, and reported as such."""
    model = slow_model(tmp_path)
    result = check(model, Options(backend="scalar", max_memory_mb=tree_mb() / 2))
    assert result.stopped == "max_memory"
    assert result.stats.distinct_states < 3


def test_process_tree_memory_counts_children() -> None:
    """Worker processes count against --max-memory: the tree is this process and every
    process below it."""
    alone = tree_mb()
    child = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; b = bytearray(200 * 2**20); "
         "b[::4096] = b'x' * len(b[::4096]); print('ready', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline() == "ready\n"
        time.sleep(0.1)
        assert tree_mb() - alone > 150
        assert rss_mb() < tree_mb()
    finally:
        child.kill()
        child.wait()


#: A constant of thirty-six million additions: evaluated while the spec is compiled.
SLOW_CONSTANT = """
    const Big = sum a in 0..6000: sum b in 0..6000: a * b
    var x: 0..1
    init { x = 0 }
    action Up { requires x < 1 and Big > 0  x' = 1 }
    check deadlock off
"""


def test_timeout_applies_while_the_spec_is_compiled(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "explorer.cli", "check", str(write(tmp_path, SLOW_CONSTANT)),
         "--timeout", "0.5", "--no-progress"], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 152
    assert "--timeout reached while the spec was compiled" in proc.stderr
