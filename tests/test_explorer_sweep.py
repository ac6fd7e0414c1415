"""``cowspec sweep``: one model at a range of bounds, a row per bound, refusals included."""

from __future__ import annotations

from pathlib import Path

from explorer_testing import run_cli

ROOT = Path(__file__).resolve().parents[1]
TWOPHASE = str(ROOT / "spec" / "examples" / "twophase.cow")
GUPFAST = str(ROOT / "spec" / "kernel" / "gupfast.cow")


def test_a_row_per_bound_with_its_counts(capsys) -> None:
    code, out, _ = run_cli(capsys, "sweep", TWOPHASE, "-D", "RM=2..3")
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == 4 and lines[0] == "model default, RM = 2..3"
    assert lines[3] == "exit code 0"
    assert out.splitlines()[1].startswith("RM=2: 56 distinct states, 154 generated, depth 8, ")
    assert out.splitlines()[2].startswith("RM=3: 288 distinct states, 1,146 generated, depth 11, ")
    assert out.splitlines()[2].endswith("exit code 0, changed: none")


def test_a_refused_bound_is_a_row_and_the_sweep_goes_on(capsys) -> None:
    code, out, _ = run_cli(capsys, "sweep", GUPFAST, "--model", "linux-5.19",
                           "-D", "MaxRefs=2..3", "--no-scenarios")
    assert code == 151
    lines = out.splitlines()
    assert lines[1].startswith("MaxRefs=2: 836 distinct states")
    assert lines[2] == ("MaxRefs=3: refused: constant MaxRefs = 3 is outside its declared "
                        "range 1..2")


def test_a_verdict_that_changes_with_the_bound_is_named(capsys, tmp_path: Path) -> None:
    spec = tmp_path / "counter.cow"
    spec.write_text("const N: 1..5 = 2\nvar x: 0..5\ninit { x = 0 }\n"
                    "action Inc { requires x < N  x' = x + 1 }\n"
                    "invariant Small = x < 3\ncheck deadlock off\n")
    code, out, _ = run_cli(capsys, "sweep", str(spec), "-D", "N=2..4")
    assert code == 12
    lines = out.splitlines()
    assert lines[1].startswith("N=2: 3 distinct states") and lines[1].endswith("exit code 0")
    assert lines[2].startswith("N=3: 4 distinct states")
    assert lines[2].endswith("exit code 12, changed: Small: holds -> violated")
    assert lines[3].endswith("changed: none")


def test_sweep_wants_one_range(capsys) -> None:
    code, _, err = run_cli(capsys, "sweep", TWOPHASE, "-D", "RM=3")
    assert code == 151
    assert "sweep wants exactly one -D NAME=LO..HI (integers), got 0" in err
    code, _, err = run_cli(capsys, "sweep", TWOPHASE, "-D", "RM=3..2")
    assert code == 151 and "an empty range" in err
