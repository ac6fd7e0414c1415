"""What ``cowspec`` writes, whatever the spec, its file name or the reader of the output:
progress lines in logs, --version, completion, a quiet broken pipe, escaped control
characters, non-UTF-8 file names, output paths checked before the search, JUnit for CI."""

from __future__ import annotations

import importlib.util
import io
import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from explorer_testing import model_path, run_cli

from explorer.engine.interface import Progress
from explorer.progress import LiveLine, LogLines, RichBar, end, reporter

ROOT = Path(__file__).resolve().parent.parent
REFCOUNT = str(ROOT / "spec" / "examples" / "refcount.cow")
TOYS = model_path("toys")
#: A spec whose @kernel annotation holds a terminal escape code and a control character.
HOSTILE = (
    "var x: 0..1\ninit { x = 0 }\n"
    '@kernel("mm/\x1b[31mred\x01.c: f")\n'
    "action Go { requires x == 0  x' = 1 }\n"
    "invariant Small = x == 0\ncheck deadlock off\n"
)


def cowspec(*argv: str, **kwargs: object) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "explorer.cli", *argv],
        capture_output=True, cwd=ROOT, check=False, **kwargs,  # type: ignore[arg-type]
    )


def test_progress_lines_in_a_log_have_a_timestamp_and_every_count() -> None:
    proc = cowspec("check", REFCOUNT, "-D", "N=3", "--backend", "scalar",
                   "--progress-interval", "0.001")
    assert proc.returncode == 0
    lines = proc.stderr.decode().splitlines()
    pattern = re.compile(
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d progress: depth \d+, [\d,]+ distinct, "
        r"[\d,]+ generated, queue [\d,]+, [\d,]+ distinct states/s"
    )
    assert lines and all(pattern.fullmatch(line) for line in lines), lines
    # Counts only grow, and the result is the one without progress.
    distinct = [int(re.search(r"([\d,]+) distinct,", x)[1].replace(",", "")) for x in lines]
    assert distinct == sorted(distinct) and distinct[-1] <= 3634
    assert "3,634 distinct states, 48,664 generated, depth 7" in proc.stdout.decode()
    quiet = cowspec("check", REFCOUNT, "-D", "N=3", "--backend", "scalar", "--no-progress")
    assert quiet.stderr == b""
    assert "3,634 distinct states, 48,664 generated, depth 7" in quiet.stdout.decode()


def test_no_progress_line_in_a_short_run_off_a_terminal(capsys) -> None:
    code, _, err = run_cli(capsys, "check", TOYS, "--model", "grid", "-D", "SIZE=50")
    assert code == 0 and err == ""


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_a_live_line_that_is_erased_at_the_end() -> None:
    screen = _Terminal()
    live = LiveLine(screen)
    live(Progress(distinct_states=10, total_states=30, depth=2, queue=4, elapsed_s=1.0))
    assert "depth 2, 10 distinct, 30 generated, queue 4, 10 distinct states/s" in screen.getvalue()
    end(live)
    assert screen.getvalue().endswith("\r\x1b[K") and "\n" not in screen.getvalue()
    kind = LiveLine if importlib.util.find_spec("rich") is None else RichBar
    assert isinstance(reporter(_Terminal()), kind)
    assert isinstance(reporter(io.StringIO()), LogLines)


def test_version(capsys) -> None:
    code, out, _ = run_cli(capsys, "--version")
    assert code == 0 and re.fullmatch(r"cowspec \d+\.\d+\.\d+\n", out)


def test_completion_script_knows_commands_and_options(capsys) -> None:
    pytest.importorskip("shtab", reason="completion needs shtab (pip install '.[completion]')")
    code, out, _ = run_cli(capsys, "completion", "bash")
    assert code == 0
    assert "complete " in out and "--all-models" in out and "kernel-run" in out


def test_a_reader_that_goes_away_ends_the_run_quietly() -> None:
    read, write = os.pipe()
    os.close(read)  # as `| head -1` after its line: every write now fails with EPIPE
    with os.fdopen(write, "wb") as out:
        proc = subprocess.run(
            [sys.executable, "-m", "explorer.cli", "check", REFCOUNT, "--all-models"],
            stdout=out, stderr=subprocess.PIPE, cwd=ROOT, check=False,
        )
    assert proc.returncode == 141
    assert proc.stderr == b""


def test_terminal_and_junit_escape_control_characters(tmp_path) -> None:
    spec = tmp_path / "hostile.cow"
    spec.write_text(HOSTILE)
    junit = tmp_path / "out.xml"
    proc = cowspec("check", str(spec), "--coverage", "--junit", str(junit))
    assert proc.returncode == 12
    out = proc.stdout.decode()
    assert "\x1b" not in out and "\x01" not in out
    assert "[kernel: mm/\\x1b[31mred\\x01.c: f]" in out
    failure = ET.parse(junit).getroot().find("testsuite/testcase/failure")
    assert "mm/\\x1b[31mred\\x01.c: f" in failure.text


def test_an_error_message_does_not_print_the_specs_escape_codes(tmp_path) -> None:
    spec = tmp_path / "bad.cow"
    spec.write_text('var x: 0..1 // \x1b]0;title\x07\ninit { x = y }\n')
    proc = cowspec("check", str(spec))
    assert proc.returncode == 150
    assert b"\x1b" not in proc.stderr and b"\x07" not in proc.stderr


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot missing")
def test_a_file_name_that_is_not_utf8_works_with_every_output(tmp_path) -> None:
    name = os.fsdecode(b"h\xff.cow")
    spec = tmp_path / name
    spec.write_text("var x: 0..2\ninit { x = 0 }\naction Up { requires x < 2  x' = x + 1 }\n"
                    "invariant Low = x < 2\ncheck deadlock off\n")
    out = {k: tmp_path / f"out.{k}" for k in ("json", "xml", "itf.json")}
    proc = cowspec("check", str(spec), "--json", str(out["json"]), "--junit", str(out["xml"]),
                   "--itf", str(out["itf.json"]), "--diagrams", str(tmp_path / "d"))
    assert proc.returncode == 12, proc.stderr
    shown = str(tmp_path / "h\\xff.cow")
    assert json.loads(out["json"].read_text())["spec"] == shown
    assert ET.parse(out["xml"]).getroot().find("testsuite").get("name") == f"{shown}:default"
    assert json.loads(out["itf.json"].read_text())["#meta"]["source"] == shown
    assert "h\\xff.cow" in (tmp_path / "d" / "states.dot").read_text()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["check", REFCOUNT, "--json", "/nonexistent/dir/x.json"],
         "--json /nonexistent/dir/x.json: directory /nonexistent/dir does not exist"),
        (["check", REFCOUNT, "--junit", "/nonexistent/x.xml"], "--junit /nonexistent/x.xml"),
        (["check", REFCOUNT, "--itf", "/nonexistent/x.itf.json"], "--itf /nonexistent/x"),
        (["check", REFCOUNT, "--diagrams", "/dev/null/d"], "/dev/null is not a directory"),
        (["check", REFCOUNT, "--json", "."], "--json .: is a directory"),
        (["graph", REFCOUNT, "-o", "/nonexistent/g.svg"], "-o /nonexistent/g.svg"),
        (["compare", REFCOUNT, "--model", "a", "--model", "b", "--view", "V",
          "-o", "/nonexistent/c.svg"], "-o /nonexistent/c.svg"),
    ],
)
def test_output_paths_are_refused_before_the_search(capsys, argv, message) -> None:
    # N=9 would take minutes to search: the refusal must come first.
    code, out, err = run_cli(capsys, *argv, "-D", "N=9")
    assert code == 151
    assert message in err and out == ""


def test_junit_cases_carry_file_and_line_and_suites_stay_apart(tmp_path) -> None:
    junit = tmp_path / "out.xml"
    proc = cowspec("check", str(ROOT / "spec/kernel/hugetlb.cow"), "--model", "linux-5.19",
                   "--no-scenarios", "--junit", str(junit))
    assert proc.returncode == 0
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite.get("name").endswith("spec/kernel/hugetlb.cow:linux-5.19")
    case = next(c for c in suite.findall("testcase") if c.get("name") == "invariant Isolation")
    assert case.get("classname") == "hugetlb_linux-5_19"
    assert case.get("file").endswith("spec/kernel/lib/properties.cow")
    line = Path(case.get("file")).read_text().splitlines()[int(case.get("line")) - 1]
    assert line.startswith("invariant Isolation ")
    # Two specs' default models: two suites, two class names.
    for spec in ("hourclock", "diehard"):
        cowspec("check", str(ROOT / f"spec/examples/{spec}.cow"), "--junit", str(tmp_path / spec))
    names = set()
    for spec in ("hourclock", "diehard"):
        s = ET.parse(tmp_path / spec).getroot().find("testsuite")
        names.add((s.get("name"), s.find("testcase").get("classname")))
    assert len(names) == 2 and all("." not in cls for _, cls in names)


@pytest.mark.parametrize(
    ("argv", "blocked", "hint"),
    [
        (["lsp"], "explorer.lsp_server", "pip install 'cowspec[lsp]'"),
        (["completion", "bash"], "shtab", "pip install 'cowspec[completion]'"),
    ],
)
def test_a_missing_optional_extra_is_named(capsys, monkeypatch, argv, blocked, hint) -> None:
    monkeypatch.setitem(sys.modules, blocked, None)  # as if it were not installed
    code, out, err = run_cli(capsys, *argv)
    assert code == 151 and out == ""
    assert hint in err
