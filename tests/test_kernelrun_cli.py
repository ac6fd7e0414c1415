"""Selection, judging, exit codes and the output formats of ``cowspec kernel-run``.

Predictions are injected (a saved mapping through --predictions, or a monkeypatched
``model_predictions``), so these tests fix what the runner does with each verdict; the
scenarios themselves still run for real on base pages.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from explorer.kernelrun import (
    children,
    cli,
    conformance,
    facilities,
    memory,
    predict,
    report,
    runner,
)
from explorer.kernelrun.bindings import BINDINGS, Observation, VmspliceAfterFork
from explorer.kernelrun.bindings.ro_pins import RoPinForkWrite
from explorer.kernelrun.facilities import Facility
from explorer.kernelrun.machine_setup import MachineSetup, SetupError
from explorer.kernelrun.variants import Variant

ROOT = Path(__file__).resolve().parent.parent
JSON_ROW_KEYS = {"binding", "kind", "variant", "model", "model_scenario", "property",
                 "model_verdict", "observed", "agree", "reason", "explanation", "runs",
                 "bad_runs", "kernel_release"}
PMD = 2 << 20
BASE = Variant("base", 4096, PMD)
RUNNING_MODEL = predict.model_for_release(os.uname().release)


@pytest.fixture(autouse=True)
def no_child_left():
    """In-process runs fork too: every child must be reaped when a test ends."""
    yield
    assert children.live_children() == []
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)


def kernel_run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "explorer.kernelrun", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


def write_predictions(tmp_path: Path, mapping: dict[str, list[str]]) -> str:
    path = tmp_path / "predictions.json"
    path.write_text(json.dumps(mapping))
    return str(path)


# --- selection ---------------------------------------------------------------------------

def test_plan_all_is_every_binding_on_every_declared_kind_in_order():
    pairs = runner.plan([], [])
    assert pairs == [(b, k) for b in BINDINGS for k in runner.KINDS if k in b.kinds]
    assert len(pairs) == sum(len(b.kinds) for b in BINDINGS)


def test_plan_accepts_binding_and_model_scenario_names_in_any_case():
    assert runner.plan(["VmspliceAfterForkThp"], []) == [(VmspliceAfterFork, "thp")]
    assert runner.plan(["vmspliceafterfork"], ["base", "hugetlb"]) == [
        (VmspliceAfterFork, "base"), (VmspliceAfterFork, "hugetlb")]
    assert runner.plan(["VmspliceAfterForkPteThp"], []) == [(VmspliceAfterFork, "pte-thp")]


@pytest.mark.parametrize(("names", "kinds", "message"), [
    (["NoSuchScenario"], [], "unknown scenario 'NoSuchScenario'"),
    ([], ["huge"], "unknown memory kind 'huge'"),
    (["RwPinSwapoutWrite"], ["hugetlb"], "matches no scenario"),
])
def test_plan_rejects_bad_selections(names, kinds, message):
    with pytest.raises(runner.SelectionError, match=message):
        runner.plan(names, kinds)


# --- judging -----------------------------------------------------------------------------

@pytest.mark.parametrize(("predicted", "observed", "result"), [
    (frozenset(), "no leak", runner.AGREE),
    (frozenset({"Isolation"}), "leak", runner.AGREE),
    (frozenset({"Isolation"}), "no leak", runner.DISAGREE),
    (frozenset({"PinCoherent"}), "no leak", runner.AGREE),  # another property's violation
    (frozenset(), "leak", runner.DISAGREE),
    (None, "leak", runner.NO_MODEL),
])
def test_judge_compares_the_bad_property_with_the_observation(predicted, observed, result):
    preds = {} if predicted is None else {"VmspliceAfterForkThp": predicted}
    row = runner.judge(VmspliceAfterFork, Variant("thp", PMD, PMD), preds, observed, "",
                       "detail")
    assert row.result == result
    assert row.model_scenario == "VmspliceAfterForkThp"
    assert row.explanation == (VmspliceAfterFork.explain if result == runner.DISAGREE else "")


def test_judge_never_turns_a_skip_or_error_into_a_verdict():
    preds = {"RoPinForkWrite": frozenset({"PinCoherent"})}
    skip = runner.judge(RoPinForkWrite, BASE, preds, None, runner.SKIP, "no gup_test")
    assert (skip.result, skip.model_verdict, skip.observed) == ("skip", "incoherent", None)
    err = runner.judge(RoPinForkWrite, BASE, preds, None, runner.ERROR, "EIO")
    assert err.result == runner.ERROR


def test_exit_code_fails_on_disagree_or_error_only():
    def row(result: str) -> runner.Row:
        return runner.Row("B", "base", "B", "Isolation", None, None, result, "", "")

    assert runner.exit_code([row(r) for r in (runner.AGREE, runner.SKIP, runner.NO_MODEL,
                                              runner.FLAKY)]) == 0
    assert runner.exit_code([row("agree"), row("DISAGREE")]) == 1
    assert runner.exit_code([row("error")]) == 1


# --- the command -------------------------------------------------------------------------

def test_cli_agree_exits_0_and_writes_json_rows(tmp_path):
    preds = write_predictions(tmp_path, {"VmspliceAfterFork": [], "RwPinFork": []})
    out = tmp_path / "rows.json"
    p = kernel_run("VmspliceAfterFork", "RwPinFork", "--kind", "base", "--predictions", preds,
                   "--json", str(out))
    assert p.returncode == 0, p.stdout + p.stderr
    doc = json.loads(out.read_text())
    assert doc["kernel_release"] == os.uname().release
    assert doc["model"] == RUNNING_MODEL
    assert [r["model_scenario"] for r in doc["rows"]] == ["VmspliceAfterFork", "RwPinFork"]
    for r in doc["rows"]:
        assert set(r) == JSON_ROW_KEYS
        assert r["kernel_release"] == os.uname().release
    first = doc["rows"][0]
    assert (first["model_verdict"], first["observed"], first["agree"]) == (
        "no leak", "no leak", "agree")
    assert {r["model"] for r in doc["rows"]} == {RUNNING_MODEL}
    assert f"kernel ({os.uname().release})" in p.stdout


def test_cli_disagree_exits_1_and_is_marked(tmp_path):
    preds = write_predictions(tmp_path, {"VmspliceAfterFork": ["Isolation"]})
    p = kernel_run("VmspliceAfterFork", "--kind", "base", "--predictions", preds)
    assert p.returncode == 1
    line = next(x for x in p.stdout.splitlines() if x.startswith("VmspliceAfterFork "))
    assert "leak" in line and "DISAGREE" in line


@pytest.mark.parametrize(("args", "message"), [
    (["NoSuchScenario"], "unknown scenario"),
    (["--predictions", "/nonexistent/p.json"], "cannot read /nonexistent/p.json"),
])
def test_cli_usage_errors_exit_2_with_a_message_not_a_traceback(args, message):
    p = kernel_run(*args)
    assert p.returncode == 2
    assert message in p.stderr
    assert "Traceback" not in p.stderr


def test_cli_rejects_a_malformed_predictions_file(tmp_path):
    preds = tmp_path / "bad.json"
    preds.write_text(json.dumps({"VmspliceAfterFork": "Isolation"}))
    p = kernel_run("--predictions", str(preds))
    assert p.returncode == 2
    assert "expected an object mapping" in p.stderr


def test_cli_tap_is_kselftest_shaped(tmp_path):
    preds = write_predictions(tmp_path, {"VmspliceAfterFork": []})
    p = kernel_run("VmspliceAfterFork", "RoPinZeropage", "--kind", "base", "--tap",
                   "--predictions", preds)
    lines = p.stdout.splitlines()
    assert lines[0] == "TAP version 13"
    assert lines[1] == "1..2"
    results = [x for x in lines if x.startswith(("ok ", "not ok "))]
    assert [x.split()[1] if x.startswith("ok") else x.split()[2] for x in results] == ["1", "2"]
    assert results[0].startswith(f"ok 1 VmspliceAfterFork on base ({RUNNING_MODEL} "
                                 "VmspliceAfterFork)")
    # RoPinZeropage has no prediction, or no gup_test: a SKIP either way, never a plain ok.
    assert "# SKIP" in results[1]
    assert lines[-1].startswith("# Totals: pass:1 fail:0")
    assert p.returncode == 0


def test_cli_run_calls_model_predictions_with_the_selected_scenarios(monkeypatch, capsys):
    seen: list[tuple[list[str], str]] = []

    def fake(names: list[str], model: str) -> dict[str, frozenset[str]]:
        seen.append((names, model))
        return {"VmspliceAfterFork": frozenset({"Isolation"})}

    monkeypatch.setattr(predict, "model_predictions", fake)
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    code = cli.run(parser.parse_args(["VmspliceAfterFork", "--kind", "base", "--kind", "swap",
                                      "--model", "linux-5.19"]))
    assert seen == [(sorted(f"VmspliceAfterFork{s}" for s in ("", "Swap", "Thp", "PteThp",
                                                               "Hugetlb")), "linux-5.19")]
    out = capsys.readouterr().out
    assert "DISAGREE" in out and code == 1


def test_cli_without_predictions_refuses_to_compare_nothing(monkeypatch, capsys):
    def unavailable(names: list[str], model: str) -> dict[str, frozenset[str]]:
        raise predict.PredictionsUnavailable("no kernel model yet")

    monkeypatch.setattr(predict, "model_predictions", unavailable)
    code = cli.main(["VmspliceAfterFork", "--kind", "base"])
    captured = capsys.readouterr()
    assert code == cli.EXIT_USAGE != 0
    assert captured.out == ""
    assert captured.err == ("cowspec kernel-run: no predictions to compare with: no kernel "
                            "model yet (give --predictions FILE)\n")


def test_cli_without_a_kernel_spec_directory_exits_non_zero(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(predict, "KERNEL_SPEC_DIR", tmp_path)
    code = cli.main(["VmspliceAfterFork", "--kind", "base"])
    assert code == cli.EXIT_USAGE
    assert "no predictions to compare with: no spec file in" in capsys.readouterr().err


def test_setup_refuses_without_root(monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(SetupError, match="needs root"), MachineSetup():
        pass


# --- conformance document ----------------------------------------------------------------

def test_conformance_doc_has_results_facilities_and_side_by_side_steps(tmp_path):
    doc = tmp_path / "conformance.md"
    preds = write_predictions(tmp_path, {"VmspliceAfterFork": ["Isolation"]})
    p = kernel_run("VmspliceAfterFork", "--kind", "base", "--predictions", preds,
                   "--conformance-doc", str(doc))
    assert p.returncode == 1
    text = doc.read_text()
    assert f"Kernel: Linux `{os.uname().release}`" in text
    assert "| facility | available | detail |" in text
    row = next(x for x in text.splitlines() if x.startswith("| VmspliceAfterFork | base"))
    assert "DISAGREE" in row
    for b in BINDINGS:
        assert f"### {b.name()}" in text
        for model_step, calls in b.steps():
            assert model_step.replace("|", "\\|") in text
            assert calls.replace("|", "\\|") in text


def test_every_binding_documents_steps_observation_and_property():
    for b in BINDINGS:
        steps = b.steps()
        assert len(steps) >= 4, b.name()
        assert all(model and calls for model, calls in steps), b.name()
        assert b.observation(), b.name()
        assert b.property in ("Isolation", "PinCoherent")
        assert b.kinds and set(b.kinds) <= set(runner.KINDS)


def test_table_and_json_order_is_the_row_order():
    info = report.RunInfo("6.0", "x86_64", "today", "linux-5.19", False, "saved",
                          (Facility("thp", True, "ok"),), ())
    rows = [runner.Row(n, "base", n, "Isolation", "leak", "leak", "agree", "", "")
            for n in ("B", "A")]
    table = report.table(rows, info)
    assert table.index("\nB ") < table.index("\nA ")
    assert [r["binding"] for r in json.loads(report.to_json(rows, info))["rows"]] == ["B", "A"]
    assert "| B | base" in conformance.render(rows, info, "cmd")


def test_the_record_says_how_long_the_run_took_and_counts_the_rows():
    info = report.RunInfo("6.0", "x86_64", "today", "linux-6.x", True, "saved",
                          (Facility("thp", True, "ok"),), (), elapsed_s=417.4)
    rows = [runner.Row("B", "base", "B", "Isolation", "no leak", "no leak", "agree", "", "")]
    doc = conformance.render(rows, info, "cmd")
    assert ("- Rows: 1 (agree: 1, DISAGREE: 0, flaky: 0, no prediction: 0, skip: 0, "
            "error: 0); run time 6 min 57 s") in doc
    assert json.loads(report.to_json(rows, info))["elapsed_s"] == 417.4
    assert report.duration(59.6) == "1 min 0 s" and report.duration(12) == "12 s"


class _ChildRaises(VmspliceAfterFork):
    """A binding whose child raises the exception class given in ``exc``."""

    exc: type[BaseException] = OSError

    def observe(self, variant, facs):
        from explorer.kernelrun.children import Child

        def child(chan):
            raise self.exc("raised in the child")

        with Child(child) as c:
            c.recv()


@pytest.mark.parametrize(("exc", "result"), [
    (memory.KindUnavailable, runner.SKIP),
    (OSError, runner.ERROR),
])
def test_run_one_classifies_a_childs_failure(monkeypatch, exc, result):
    monkeypatch.setattr(_ChildRaises, "exc", exc)
    facs = facilities.Facilities("6.0", "x86_64", True)
    row = runner.run_one(_ChildRaises, BASE, facs, {})
    assert row.result == result
    assert "raised in the child" in row.reason
    assert children.live_children() == []


# --- the model of the running release, repeated runs, variants ---------------------------

@pytest.mark.parametrize(("release", "model"), [
    ("6.18.44-fc-v669", "linux-6.x"), ("6.0.0", "linux-6.x"), ("5.19.0-rc1", "linux-5.19"),
    ("5.18.19", "linux-5.18"), ("5.15.0-91-generic", "linux-5.17"), ("5.9.1", "linux-5.17"),
    ("5.8.18", "linux-5.8"), ("4.19.0", "linux-5.7"), ("weird", "linux-6.x")])
def test_the_model_is_the_running_releases(release, model):
    assert predict.model_for_release(release) == model


def test_cli_model_flag_forces_the_model(tmp_path):
    preds = write_predictions(tmp_path, {"VmspliceAfterFork": []})
    out = tmp_path / "rows.json"
    p = kernel_run("VmspliceAfterFork", "--kind", "base", "--model", "linux-5.19",
                   "--predictions", preds, "--json", str(out))
    assert p.returncode == 0, p.stderr
    doc = json.loads(out.read_text())
    assert doc["model"] == "linux-5.19"
    assert [r["model"] for r in doc["rows"]] == ["linux-5.19"]
    assert "model linux-5.19 vs Linux" in p.stdout


class _Alternates(VmspliceAfterFork):
    """Leaks on every other run: what a flaky kernel case looks like to the runner."""

    calls = 0

    def observe(self, variant, facs):
        type(self).calls += 1
        return Observation(bad=self.calls % 2 == 0, detail=f"run {self.calls}")


def test_repeat_counts_the_runs_and_marks_differing_ones_flaky():
    facs = facilities.Facilities("6.0", "x86_64", True)
    _Alternates.calls = 0
    row = runner.run_one(_Alternates, BASE, facs, {"_Alternates": frozenset()},
                         "linux-6.x", repeat=4)
    assert (row.result, row.runs, row.bad_runs, row.observed) == (
        runner.FLAKY, 4, 2, "leak 2/4")
    assert row.reason.startswith("2 of 4 runs: run 2")
    assert row.explanation == VmspliceAfterFork.explain
    _Alternates.calls = 1  # the next run leaks, and so does every other one: 1 of 1
    row = runner.run_one(_Alternates, BASE, facs, {"_Alternates": frozenset()},
                         "linux-6.x", repeat=1)
    assert (row.result, row.runs, row.bad_runs) == (runner.DISAGREE, 1, 1)


def test_cli_rejects_a_repeat_below_one():
    p = kernel_run("--repeat", "0")
    assert p.returncode == 2
    assert "--repeat must be at least 1" in p.stderr


@pytest.mark.parametrize(("family", "size", "scenario"), [
    ("base", 4096, "VmspliceAfterFork"), ("swap", 4096, "VmspliceAfterForkSwap"),
    ("thp", PMD, "VmspliceAfterForkThp"), ("thp", 64 << 10, "VmspliceAfterForkPteThp"),
    ("pte-thp", PMD, "VmspliceAfterForkPteThp"), ("hugetlb", 1 << 30, "VmspliceAfterForkHugetlb"),
    ("thp-swap", PMD, None), ("single-pte-thp", PMD, None), ("mremap-thp", 64 << 10, None),
    ("shared-thp", PMD, None)])
def test_each_variant_is_predicted_by_its_model_scenario_or_by_none(family, size, scenario):
    variant = Variant(family, size, PMD)
    assert VmspliceAfterFork.scenario_for(variant) == scenario
    row = runner.judge(VmspliceAfterFork, variant, {"VmspliceAfterFork": frozenset()},
                       "no leak", "", "d")
    assert row.result == (runner.NO_MODEL if scenario is None or scenario != "VmspliceAfterFork"
                          else runner.AGREE)
    assert row.model_scenario == (scenario or "-")
