"""The generated kernel docs: verdict, scenario and ablation tables, diagrams, and the
same bytes every time."""

from __future__ import annotations

from pathlib import Path

from pyspec_testing import ROOT

from explorer.docgen import main

LOCKS = ROOT / "tests" / "docgen_specs" / "locks.cow"


def _files(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file()}


def test_docs_tables_and_diagrams(tmp_path: Path) -> None:
    assert main([str(LOCKS), "--out", str(tmp_path)]) == 0
    text = (tmp_path / "model.md").read_text()
    assert ("| PinnedExclusive | invariant | [**violated**](diagrams/locks/linux-5.17--"
            "PinnedExclusive.svg) (expected) | holds | [**violated**](diagrams/locks/"
            "linux-5.19-without-patch-2--PinnedExclusive.svg) (expected) |") in text
    assert "| PinThenFork | violates PinnedExclusive | holds | violates PinnedExclusive |" in text
    assert ("| 2 | linux-5.19-without-patch-2 | PinnedExclusive | [PinnedExclusive]"
            "(diagrams/locks/linux-5.19-without-patch-2--PinnedExclusive.svg) |") in text
    assert "Kernel: `kernel/fork.c: dup_mmap` · patch: 2" in text
    assert "  use' = if Patch2 and pinned then Exclusive else Shared\n" in text
    diagrams = tmp_path / "diagrams" / "locks"
    for name in ("linux-5.19--view-Life", "linux-5.17--view-Life",
                 "linux-5.17-vs-linux-5.19--view-Life",
                 "linux-5.19-without-patch-2--PinnedExclusive"):
        assert (diagrams / f"{name}.svg").read_text().lstrip().startswith("<?xml")
        assert (diagrams / f"{name}.dot").exists()
    # Views are drawn per kernel version, not per patch ablation.
    assert not (diagrams / "linux-5.19-without-patch-2--view-Life.svg").exists()
    assert "- linux-5.17: [lifecycle](diagrams/locks/linux-5.17--view-Life.svg), [against " \
        "linux-5.19](diagrams/locks/linux-5.17-vs-linux-5.19--view-Life.svg)" in text


def test_docs_are_deterministic_and_parallel_runs_agree(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    assert main([str(LOCKS), "--out", str(first), "-j", "1"]) == 0
    assert main([str(LOCKS), "--out", str(second), "-j", "2"]) == 0
    assert _files(first) == _files(second)


def test_stale_diagrams_are_removed(tmp_path: Path) -> None:
    stale = tmp_path / "diagrams" / "locks" / "linux-5.19--Gone.svg"
    stale.parent.mkdir(parents=True)
    stale.write_text("old")
    assert main([str(LOCKS), "--out", str(tmp_path)]) == 0
    assert not stale.exists()


def test_a_verdict_against_expectation_fails_the_run(tmp_path: Path) -> None:
    spec = tmp_path / "broken.cow"
    spec.write_text(LOCKS.read_text().replace("expect violated PinnedExclusive\n", ""))
    assert main([str(spec), "--out", str(tmp_path / "docs")]) == 12
    text = (tmp_path / "docs" / "model.md").read_text()
    assert "✗ (expected holds)" in text


def test_each_models_line_reaches_a_pipe_when_the_model_is_done(tmp_path: Path) -> None:
    """``make check | tee log``: a model's line is in the log while later models still
    run, not block-buffered until the end."""
    import subprocess
    import sys

    spec = tmp_path / "two.cow"
    spec.write_text((ROOT / "spec" / "examples" / "refcount.cow").read_text()
                    + "\nmodel quick { const N = 1 }\nmodel slow { const N = 5 }\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "explorer.docgen", str(spec), "--out", str(tmp_path / "d"),
         "-j", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    first = proc.stdout.readline()
    still_running = proc.poll() is None
    rest, _ = proc.communicate(timeout=300)
    assert first.startswith("two.cow quick: 16 distinct")
    assert still_running
    assert rest.startswith("two.cow slow: 398,476 distinct")


def test_the_bounds_a_model_sets_are_shown_under_its_verdicts(tmp_path: Path) -> None:
    spec = tmp_path / "locks.cow"
    spec.write_text(LOCKS.read_text().replace("const Patch2 = true\n",
                                              "const Patch2 = true\nconst Tries: 1..3 = 1\n")
                    + "\nmodel linux-5.19-wide extends linux-5.19 { const Tries = 2 }\n")
    assert main([str(spec), "--out", str(tmp_path / "docs")]) == 0
    text = (tmp_path / "docs" / "model.md").read_text()
    # Only numbers: Patch2 (a bool the ablations set) is the model's name's business.
    assert "| *bounds the model sets* | |  |  |  | Tries=2 |" in text
