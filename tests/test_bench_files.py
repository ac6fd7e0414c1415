"""``make bench`` runs from a clone alone: the benchmark's files are in the repository,
their counts are the ones it checks, and a run leaves the work tree as it was."""

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
