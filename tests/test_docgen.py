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
    assert ("| PinnedExclusive | invariant | holds | [**violated**](diagrams/locks/"
            "linux-5.19-without-patch-2--PinnedExclusive.svg) (expected) |") in text
    assert "| PinThenFork | holds | violates PinnedExclusive |" in text
    assert ("| 2 | linux-5.19-without-patch-2 | PinnedExclusive | [PinnedExclusive]"
            "(diagrams/locks/linux-5.19-without-patch-2--PinnedExclusive.svg) |") in text
    assert "Kernel: `kernel/fork.c: dup_mmap` · patch: 2" in text
    assert "  use' = if Patch2 and pinned then Exclusive else Shared\n" in text
    diagrams = tmp_path / "diagrams" / "locks"
    for name in ("linux-5.19--view-Life", "linux-5.19-without-patch-2--view-Life",
                 "linux-5.19-without-patch-2-vs-linux-5.19--view-Life",
                 "linux-5.19-without-patch-2--PinnedExclusive"):
        assert (diagrams / f"{name}.svg").read_text().lstrip().startswith("<?xml")
        assert (diagrams / f"{name}.dot").exists()


def test_docs_are_deterministic(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    assert main([str(LOCKS), "--out", str(first)]) == 0
    assert main([str(LOCKS), "--out", str(second)]) == 0
    assert _files(first) == _files(second)


def test_a_verdict_against_expectation_fails_the_run(tmp_path: Path) -> None:
    spec = tmp_path / "broken.cow"
    spec.write_text(LOCKS.read_text().replace("expect violated PinnedExclusive\n", ""))
    assert main([str(spec), "--out", str(tmp_path / "docs")]) == 12
    text = (tmp_path / "docs" / "model.md").read_text()
    assert "✗ (expected holds)" in text
