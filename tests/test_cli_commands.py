"""The smaller promises of the commands: compare marks what differs, a partial state graph
says so, --summary gives one line per model."""

from __future__ import annotations

import re
from pathlib import Path

from explorer_testing import model_path, run_cli

ROOT = Path(__file__).resolve().parent.parent
KERNEL = str(ROOT / "spec" / "kernel" / "cow.cow")


def test_compare_shows_scenario_verdicts_and_marks_rows_that_differ(capsys) -> None:
    code, out, _ = run_cli(capsys, "compare", KERNEL, "--model", "linux-5.17",
                           "--model", "linux-5.19")
    assert code == 0
    assert re.search(r"^\*  scenario VmspliceAfterForkSwap\s+violates Isolation\s+holds$", out,
                     re.MULTILINE)
    assert re.search(r"^   scenario RoPinZeropage\s+violates PinCoherent\s+violates PinCoherent$",
                     out, re.MULTILINE)
    assert re.search(r"^\*  invariant DmaIsolation\s+violated\s+holds$", out, re.MULTILINE)
    assert re.search(r"^   invariant NoUseAfterFree\s+holds\s+holds$", out, re.MULTILINE)


def test_compare_marks_unexpected_verdicts_too(capsys) -> None:
    code, out, _ = run_cli(capsys, "compare", model_path("diehard"), "--model", "puzzle",
                           "--model", "solve")
    assert code == 12
    assert re.search(r"^   invariant NotSolved\s+violated !\s+violated$", out, re.MULTILINE)
    assert re.search(r"^\*  invariant TypeOK\s+unknown\s+holds$", out, re.MULTILINE)
