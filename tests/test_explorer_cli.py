"""The ``cowspec`` command: every exit code, and what the user reads."""

from __future__ import annotations

import subprocess
import sys

import pytest
from explorer_testing import model_path, run_cli

import explorer.cmd_check

TOYS = model_path("toys")


@pytest.mark.parametrize(
    ("argv", "code"),
    [
        (["check", model_path("twophase")], 0),
        (["check", TOYS, "--model", "chain"], 11),
        (["check", model_path("diehard")], 12),
        (["check", model_path("diehard"), "--model", "impossible"], 12),
        (["check", TOYS, "--model", "coverage", "--strict-coverage"], 12),
        (["check", TOYS, "--model", "crash"], 150),
        (["check", TOYS, "--model", "nope"], 151),
        (["check", TOYS], 151),
        (["check", model_path("twophase"), "-D", "RM"], 151),
        (["check", model_path("twophase"), "--max-states", "0"], 151),
        (["check", model_path("twophase"), "--frobnicate"], 151),
        (["check", TOYS, "--model", "scenarios", "--scenario", "nope"], 151),
        (["check", "/no/such/file.py"], 151),
        (["check", TOYS, "--model", "grid", "--max-states", "100"], 152),
        (["check", TOYS, "--model", "interrupt"], 152),
    ],
)
def test_exit_codes(capsys, argv, code) -> None:
    got, out, err = run_cli(capsys, *argv)
    assert got == code, out + err
    assert "Traceback" not in out + err


def test_deadlock_flag(capsys) -> None:
    assert run_cli(capsys, "check", TOYS, "--model", "chain", "--no-deadlock")[0] == 0


def test_scenario_flags(capsys) -> None:
    assert run_cli(capsys, "check", TOYS, "--model", "scenarios")[0] == 12
    assert run_cli(capsys, "check", TOYS, "--model", "scenarios", "--no-scenarios")[0] == 0
    code, out, _ = run_cli(capsys, "check", TOYS, "--model", "scenarios", "--scenario", "ok")
    assert code == 0
    assert "PASS  ok" in out and "stuck" not in out


def test_spec_error_in_a_python_model_file(capsys, tmp_path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("def model(defines, name):\n    return 1 +\n")
    code, _, err = run_cli(capsys, "check", str(bad))
    assert code == 150
    assert f"{bad}:2:" in err and "error[E901]" in err
    wrong = tmp_path / "wrong.py"
    wrong.write_text("def model(defines, name):\n    return 42\n")
    code, _, err = run_cli(capsys, "check", str(wrong))
    assert code == 150 and "not a pyspec.model.Model" in err
    raising = tmp_path / "raising.py"
    raising.write_text("def model(defines, name):\n    raise ValueError('no')\n")
    code, _, err = run_cli(capsys, "check", str(raising))
    assert code == 150 and f"{raising}:2:" in err and "ValueError: no" in err


def test_internal_error_is_255_without_a_traceback(capsys, monkeypatch) -> None:
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(explorer.cmd_check, "render_result", broken)
    monkeypatch.delenv("COWSPEC_DEBUG", raising=False)
    code, _, err = run_cli(capsys, "check", model_path("hourclock"))
    assert code == 255
    assert "internal error" in err and "RuntimeError: boom" in err
    assert "Traceback" not in err


def test_evaluation_error_is_reported_at_its_source_position(capsys) -> None:
    code, out, _ = run_cli(capsys, "check", TOYS, "--model", "crash")
    assert code == 150
    assert "toys.cow:7:12: error[E900]: division by zero" in out
    assert "3. Inc" in out


def test_summary_names_spec_model_constants_counts_and_verdicts(capsys) -> None:
    code, out, _ = run_cli(capsys, "check", model_path("twophase"), "-D", "RM=2")
    assert code == 0
    assert "model:       TwoPhase" in out
    assert "constants:   RM = {r1, r2}" in out
    assert "distinct states/s" in out
    assert "PASS  invariant TPTypeOK" in out
    assert "search:      complete" in out


def test_counterexample_shows_changed_fields_and_full_states(capsys) -> None:
    _, out, _ = run_cli(capsys, "check", model_path("diehard"))
    trace = out[out.index("Counterexample") :]
    step2 = trace[trace.index("2. FillBigJug") : trace.index("3. BigToSmall")]
    assert "big = 5" in step2 and "small" not in step2
    _, full, _ = run_cli(capsys, "check", model_path("diehard"), "--full")
    trace = full[full.index("Counterexample") :]
    step2 = trace[trace.index("2. FillBigJug") : trace.index("3. BigToSmall")]
    assert "* big = 5" in step2 and "  small = 0" in step2


def test_trace_steps_show_kernel_and_patch_tags(capsys) -> None:
    code, out, _ = run_cli(capsys, "check", TOYS, "--model", "tagged")
    assert code == 12
    assert "3. Inc    [kernel: mm/memory.c: do_wp_page; patch: 12]" in out


def test_coverage_table_on_request(capsys) -> None:
    _, out, _ = run_cli(capsys, "check", TOYS, "--model", "coverage", "--coverage")
    assert "warning: never fired: Never" in out
    assert "kernel mm/memory.c: do_wp_page: enabled 3, fired 3, new 2 (Inc, Reset)" in out


def test_all_models_judges_each_and_combines(capsys) -> None:
    code, out, _ = run_cli(capsys, "check", model_path("diehard"), "--all-models")
    assert code == 12
    for name in ("puzzle", "solve", "witness", "impossible"):
        assert f"model:       {name}" in out
    assert "4 models checked: exit code 12" in out


def test_limit_message_and_partial_statistics(capsys) -> None:
    code, out, _ = run_cli(capsys, "check", TOYS, "--model", "grid", "--max-states", "100")
    assert code == 152
    assert "100 distinct states" in out
    assert "--max-states reached" in out


def test_real_process_exit_code_and_entry_point() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "explorer.cli", "check", TOYS, "--model", "chain"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 11
    assert "Counterexample: deadlock violated (4 states)" in proc.stdout
