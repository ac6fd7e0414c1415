"""``make bench`` runs from a clone alone: the benchmark's files are in the repository,
their counts are the ones it checks, a run leaves the work tree as it was, and `--repeat`
gives each engine its run of median search time."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from explorer import bench

ROOT = Path(__file__).resolve().parent.parent


def test_the_benchmark_files_are_in_the_repository() -> None:
    assert bench.REFCOUNT_DIR.is_relative_to(ROOT)
    assert (bench.REFCOUNT_DIR / "refcount_minicheck.py").is_file()
    tla = bench.REFCOUNT_DIR / "RefCount.tla"
    assert "MODULE RefCount" in tla.read_text()
    # The spec names its original by a path that exists.
    doc = (ROOT / "spec" / "examples" / "refcount.cow").read_text().splitlines()[0]
    (named,) = re.findall(r"\S+\.tla", doc)
    assert (ROOT / named).resolve() == tla.resolve()


def test_the_counts_bench_checks_are_the_readmes() -> None:
    table = (bench.REFCOUNT_DIR / "README.md").read_text()
    rows = re.findall(r"^\| (\d) \| ([\d,]+) \|", table, re.MULTILINE)
    assert {int(n): int(d.replace(",", "")) for n, d in rows} == {
        n: counts[0] for n, counts in bench.REFCOUNT_EXPECTED.items()
    }


def test_a_bench_run_leaves_no_file_behind(tmp_path) -> None:
    before = sorted((ROOT / "bench").rglob("*"))
    proc = subprocess.run(
        [sys.executable, "-m", "explorer.bench", "--only", "RefCount N=2$", "--no-minicheck"],
        capture_output=True, text=True, cwd=ROOT, check=False, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"RefCount\s+N=2\s+\S+\s+253\s", proc.stdout)
    assert sorted((ROOT / "bench").rglob("*")) == before


def test_repeated_runs_take_turns_and_give_the_median_run(monkeypatch) -> None:
    """``--repeat``: the engines take turns, each engine's row is its run of median search
    time with every run's time in order, minicheck runs once and its figures stay on the
    row, and a failure in any run is not hidden by the median."""
    times = {"numpy": iter([3.0, 1.0, 2.0]), "compiled": iter([0.5, 0.7, 0.6])}
    calls = []

    def fake(case, backend, workers, minicheck):
        calls.append((backend, minicheck))
        row = bench.Row(case.group, case.size, backend, distinct=10,
                        search_s=next(times[backend]))
        if minicheck:
            row.minicheck_s, row.minicheck_distinct = 9.0, 10
        if backend == "compiled" and row.search_s == 0.5:
            row.counts_ok = False
        return row

    monkeypatch.setattr(bench, "measure", fake)
    case = bench.Case("RefCount", "N=2", "spec.cow")
    numpy_row, compiled_row = bench.measure_repeated(case, ["numpy", "compiled"], 1, True, 3)
    assert calls == [("numpy", True), ("compiled", False)] + [("numpy", False),
                                                               ("compiled", False)] * 2
    assert (numpy_row.search_s, numpy_row.search_runs) == (2.0, [3.0, 1.0, 2.0])
    assert (numpy_row.minicheck_s, numpy_row.minicheck_distinct) == (9.0, 10)
    assert (compiled_row.search_s, compiled_row.search_runs) == (0.6, [0.5, 0.7, 0.6])
    assert compiled_row.counts_ok is False
