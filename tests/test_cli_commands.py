"""The smaller promises of the commands: compare marks what differs, a partial state graph
says so, --summary gives one line per model."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
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


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot missing")
def test_a_state_graph_of_a_search_stopped_early_is_marked_partial(capsys, tmp_path) -> None:
    code, _, _ = run_cli(capsys, "check", model_path("toys"), "--model", "grid",
                         "--max-states", "20", "--diagrams", str(tmp_path / "cut"))
    assert code == 152
    dot = (tmp_path / "cut" / "states.dot").read_text()
    assert "partial: search stopped (max_states); dashed states were not explored" in dot
    # The 5 states still queued when the search stopped (BFS ids 15..19), and only they.
    unexplored = re.findall(r"^\s*s(\d+) \[.*successors not explored", dot, re.MULTILINE)
    assert sorted(map(int, unexplored)) == [15, 16, 17, 18, 19]
    assert 'style="rounded,dashed"' in dot
    code, _, _ = run_cli(capsys, "graph", model_path("toys"), "--model", "grid",
                         "--max-depth", "3", "-o", str(tmp_path / "depth.svg"))
    assert code == 152
    dot = (tmp_path / "depth.dot").read_text()
    assert len(re.findall(r"successors not explored", dot)) == 3
    code, _, _ = run_cli(capsys, "check", model_path("toys"), "--model", "grid", "-D", "SIZE=3",
                         "--diagrams", str(tmp_path / "whole"))
    assert code == 0
    dot = (tmp_path / "whole" / "states.dot").read_text()
    assert "partial" not in dot and "not explored" not in dot


def test_summary_gives_one_line_per_model(capsys) -> None:
    code, out, _ = run_cli(capsys, "check", model_path("diehard"), "--all-models", "--summary")
    assert code == 12
    lines = out.splitlines()
    assert len(lines) == 5 and lines[-1] == "4 models checked: exit code 12"
    assert re.fullmatch(
        r"FAIL  puzzle      exit 12   14 distinct states, depth 7, [\d.]+ s  1 fail, 2 unknown; "
        r"failed: invariant NotSolved", lines[0])
    assert re.fullmatch(r"PASS  solve       exit 0    16 distinct states, depth 8, [\d.]+ s  "
                        r"3 pass", lines[1])
    assert lines[3].endswith("2 pass, 1 fail; failed: reachable SixGallons")


@pytest.mark.skipif(shutil.which("make") is None, reason="make missing")
def test_make_says_how_to_install_dot_instead_of_installing_it(tmp_path) -> None:
    # A PATH without dot (nor apt-get).
    proc = subprocess.run([shutil.which("make"), "-s", "graphviz"], cwd=ROOT,
                          env={"PATH": str(tmp_path)}, capture_output=True, text=True, check=False)
    assert proc.returncode == 0
    assert "sudo apt-get install graphviz" in proc.stdout
    assert "installing" not in proc.stdout
