"""Why a property failed (the sub-expressions of a violated invariant at the violating
state, every action's blocking guard at a deadlock), ``check --show-traces`` / ``--trace``
for expected violations, and ``graph -o`` with PNG, PDF or a refused extension."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import pytest
from explorer_testing import model_path, run_cli
from test_explorer_simulate import COW, DIEHARD, STOPPER

from explorer.report_json import load_schema

ROOT = Path(__file__).resolve().parent.parent


def test_why_names_the_false_comparison_and_its_values(capsys, tmp_path) -> None:
    out_json = tmp_path / "r.json"
    code, out, _ = run_cli(capsys, "check", DIEHARD, "--show-traces", "--json", str(out_json))
    assert code == 0
    assert "why:\n  (big != 4) = false\n    big = 4\n" in out
    doc = json.loads(out_json.read_text())
    jsonschema.validate(doc, load_schema())
    (p,) = [p for p in doc["properties"] if p["name"] == "NotSolved"]
    (top,) = p["why"]
    assert (top["text"], top["value"], top["note"]) == ("(big != 4)", "false", "")
    assert top["pos"]["file"].endswith("spec/examples/diehard.cow")
    assert top["pos"]["line"] == 40  # invariant NotSolved = big != 4
    assert [(w["text"], w["value"]) for w in top["parts"]] == [("big", "4")]


def test_why_opens_quantifiers_defs_and_match_arms_of_the_kernel_model(capsys) -> None:
    code, out, _ = run_cli(capsys, "check", COW, "--model", "linux-5.7", "--trace", "Isolation")
    assert code == 0
    # The README's "the CVE, step by step": the expected violation's trace, on request.
    assert "Counterexample: invariant Isolation violated as expected (6 states)" in out
    assert "  3. Fork" in out and "  6. Store(p=C, a=A0)" in out
    assert "Counterexample: invariant DmaIsolation" not in out
    why = out[out.index("why:"):]
    # The CVE: the child reads data the parent's CPU wrote after the fork.
    assert "(alive[p] implies unaffected(p, CPU, false)) = false    [for p = P]" in why
    assert "[def unaffected(p = P, v = CPU, pins_only = false)]" in why
    assert "[for c = Written(C, CPU)]" in why
    assert "[arm Written(q, w) with q = C, w = CPU]" in why
    assert "(w != v) = false" in why


COUNTER = """module Counter
var x: 0..3
init { x = 0 }
action Inc { requires x < 3
  x' = x + 1 }
action Reset { requires x == 3
  x' = 0 }
property Grows = x' >= x
"""


@pytest.mark.parametrize("command", ["check", "simulate"])
def test_why_an_action_property_reads_both_states_of_the_step(capsys, tmp_path, command) -> None:
    spec = tmp_path / "counter.cow"
    spec.write_text(COUNTER)
    code, out, _ = run_cli(capsys, command, str(spec))
    assert code == 12
    assert "  5. Reset\n         x = 0\nwhy:\n  (x' >= x) = false\n    x' = 0\n    x = 3\n" in out
    assert "replay:  v1:" in out


def test_why_a_deadlock_lists_each_action_and_its_blocking_guard(capsys, tmp_path) -> None:
    spec = tmp_path / "stopper.cow"
    spec.write_text(STOPPER)
    js = tmp_path / "r.json"
    code, out, _ = run_cli(capsys, "check", str(spec), "--json", str(js))
    assert code == 11
    assert "action Inc = disabled\n    (x < 2) = false" in out
    assert "action Dec = disabled\n    (x != 2) = false    [for 2 bindings, the first k = 1]" in out
    jsonschema.validate(json.loads(js.read_text()), load_schema())


def test_expected_traces_only_on_request(capsys) -> None:
    code, out, _ = run_cli(capsys, "check", DIEHARD)
    assert code == 0
    assert "PASS  invariant NotSolved" in out and "Counterexample" not in out
    for flag in (["--show-traces"], ["--trace", "NotSolved"]):
        code, out, _ = run_cli(capsys, "check", DIEHARD, *flag)
        assert code == 0
        assert "Counterexample: invariant NotSolved violated as expected (7 states)" in out
        assert "  7. BigToSmall\n         big = 4" in out


def test_trace_of_an_unknown_property_is_a_bad_option(capsys) -> None:
    code, out, err = run_cli(capsys, "check", DIEHARD, "--trace", "Solved")
    assert code == 151 and out == ""
    assert "--trace Solved: model 'default' has no such property (it has: NotSolved)" in err


def test_python_models_get_replay_strings_but_no_explanation(capsys) -> None:
    code, out, _ = run_cli(capsys, "check", model_path("diehard"), "--show-traces")
    assert "replay:  v1:" in out and "why:" not in out


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot missing")
@pytest.mark.parametrize("ext,magic", [("png", b"\x89PNG"), ("pdf", b"%PDF")])
def test_graph_renders_the_format_its_extension_asks_for(capsys, tmp_path, ext, magic) -> None:
    out = tmp_path / f"g.{ext}"
    code, stdout, _ = run_cli(capsys, "graph", DIEHARD, "--trace", "NotSolved", "-o", str(out))
    assert code == 0
    assert out.read_bytes().startswith(magic) and out.with_suffix(".dot").exists()
    assert not out.with_suffix(".svg").exists()


def test_graph_refuses_an_unknown_extension_before_searching(capsys, tmp_path) -> None:
    out = tmp_path / "g.jpg"
    code, _, err = run_cli(capsys, "graph", DIEHARD, "-o", str(out))
    assert code == 151
    assert "use .svg, .png or .pdf" in err
    assert list(tmp_path.iterdir()) == []
