"""Temporal properties and fairness: the language's checks, every verdict (holds,
violated with a lasso, unknown on a limit), TLC's answers on EWD840, and the lasso in
every output (text, JSON, ITF, JUnit, diagram)."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

import jsonschema
import pytest
from explorer_testing import run_cli
from pyspec_testing import EXAMPLES, errors_of, explore, model_of, write

from explorer.judge import judge
from explorer.report_json import load_schema
from pyspec.exit_codes import EXIT_LIMIT, EXIT_LIVENESS, EXIT_OK

COUNTER = """
var x: 0..3
init { x = 0 }
action Inc { requires x < 3  x' = x + 1 }
action Reset(k: 0..1) { requires x == 3  x' = k }
property ReachesThree = eventually x == 3
property ZeroAgain = always eventually x == 0
property SettlesPositive = eventually always x > 0
property OneToTwo = x == 1 leads_to x == 2
property EachK = forall k in 0..1: x == k ~> x == 3
fair weak Inc
fair strong each Reset
check deadlock off
"""


def verdicts(result) -> dict[str, str]:
    return {p.name: p.verdict for p in result.properties if p.kind == "temporal"}


def test_verdicts_under_fairness(tmp_path) -> None:
    result = explore(model_of(tmp_path, COUNTER))
    assert (result.stats.distinct_states, result.stats.total_states) == (4, 6)
    assert verdicts(result) == {"ReachesThree": "holds", "ZeroAgain": "holds",
                                "SettlesPositive": "violated", "OneToTwo": "holds",
                                "EachK": "holds"}


def test_lasso_takes_every_strongly_fair_instance(tmp_path) -> None:
    result = explore(model_of(tmp_path, COUNTER))
    trace = next(p.trace for p in result.properties if p.name == "SettlesPositive")
    assert trace is not None and trace.loop == 0 and trace.back is not None
    labels = [s.label for s in trace.steps[1:]] + [trace.back.label]
    # The shortest cycle through x = 0 (P fails there) taking both strongly fair
    # instances: x = 0 .. 3, Reset(1), up to 3 again, back to x = 0 by Reset(0): 7 steps
    # (the first cut of the checker walked 11: Reset(0), the three Incs, Reset(1), ...).
    assert labels == ["Inc", "Inc", "Inc", "Reset(k=1)", "Inc", "Inc", "Reset(k=0)"]
    assert trace.back.state == trace.steps[trace.loop].state


def test_without_fairness_the_behaviour_stutters(tmp_path) -> None:
    result = explore(model_of(tmp_path, COUNTER.replace("fair weak Inc\n", "")))
    assert verdicts(result)["ReachesThree"] == "violated"
    trace = next(p.trace for p in result.properties if p.name == "ReachesThree")
    assert len(trace.steps) == 1 and trace.loop == 0
    assert trace.back.action is None and trace.back.label == "stuttering"


WEAK_VS_STRONG = """
var x: 0..1
var done: bool
init { x = 0  done = false }
action Toggle { requires not done  x' = 1 - x }
action Finish { requires x == 1 and not done  done' = true }
property Done = eventually done
fair weak Toggle
fair {kind} Finish
check deadlock off
"""


def test_weak_fairness_misses_an_intermittently_enabled_action(tmp_path) -> None:
    weak = explore(model_of(tmp_path, WEAK_VS_STRONG.replace("{kind}", "weak")))
    assert verdicts(weak) == {"Done": "violated"}
    trace = weak.properties[-1].trace
    assert [s.label for s in trace.steps] == ["initial state", "Toggle"]
    assert trace.loop == 0 and trace.back.label == "Toggle"
    strong = explore(model_of(tmp_path, WEAK_VS_STRONG.replace("{kind}", "strong")))
    assert verdicts(strong) == {"Done": "holds"}


TURNS = """
var turn: 0..2
init { turn = 0 }
action Step(i: 0..2) { turn' = i }
property EveryTurn = forall i in 0..2: always eventually turn == i
{fair}
"""


def test_fairness_per_instance_and_over_the_disjunction(tmp_path) -> None:
    whole = explore(model_of(tmp_path, TURNS.replace("{fair}", "fair weak Step")))
    assert verdicts(whole) == {"EveryTurn": "violated"}
    violated = whole.properties[-1]
    assert violated.why[0].note == "for i = 0"
    cycle = violated.trace.steps[violated.trace.loop:]
    assert cycle and all(s.state["turn"] != 0 for s in cycle)
    each = explore(model_of(tmp_path, TURNS.replace("{fair}", "fair weak each Step")))
    assert verdicts(each) == {"EveryTurn": "holds"}


def test_unknown_when_a_limit_stops_the_search(tmp_path, capsys) -> None:
    path = write(tmp_path, COUNTER)
    code, out, _ = run_cli(capsys, "check", str(path), "--max-states", "2")
    assert code == EXIT_LIMIT
    assert re.search(r"----  temporal ReachesThree +unknown", out)


def test_expected_violation_passes(tmp_path) -> None:
    text = COUNTER + "model broken {\n  expect violated SettlesPositive\n}\n"
    result = judge(explore(model_of(tmp_path, text, "broken")))
    assert result.exit_code == EXIT_OK
    assert {p.name: p.judgement for p in result.properties}["SettlesPositive"] == "pass"


# ---- TLC's answers: EWD840 (tlaplus/Examples, EWD840.cfg: PROPERTIES Liveness) --------


def test_ewd840_liveness_holds_under_wf_system(capsys) -> None:
    for n, distinct in ((3, 302), (4, 1566)):
        code, out, _ = run_cli(capsys, "check", str(EXAMPLES / "ewd840.cow"), "-D", f"N={n}")
        assert code == EXIT_OK, out
        assert f"{distinct:,} distinct states" in out
        assert "PASS  temporal Liveness               holds" in out


def test_ewd840_without_fairness_stutters_in_its_first_state(tmp_path, capsys) -> None:
    text = (EXAMPLES / "ewd840.cow").read_text()
    broken = write(tmp_path, text.replace("fair weak InitiateProbe, PassToken\n", ""))
    code, out, _ = run_cli(capsys, "check", str(broken))
    assert code == EXIT_LIVENESS
    # TLC: state 1 (every node passive, token black), then "Stuttering".
    assert "Counterexample: temporal Liveness violated (1 state, a lasso: cycle from " \
           "state 1)" in out
    assert "  2. stuttering: state 1 repeats forever" in out


def test_live_hour_clock_as_tlc(capsys, tmp_path) -> None:
    """LiveHourClock.cfg: AllTimes and TypeInvariance hold under WF_hr(HCnxt), 12/24/1."""
    path = EXAMPLES / "livehourclock.cow"
    code, out, _ = run_cli(capsys, "check", str(path))
    assert code == EXIT_OK, out
    assert "12 distinct states, 24 generated, depth 1" in out
    assert re.search(r"PASS  temporal AlwaysTick +holds", out)
    assert re.search(r"PASS  temporal AllTimes +holds", out)
    assert re.search(r"PASS  temporal TypeInvariance +holds", out)
    broken = write(tmp_path, path.read_text().replace("fair weak HCnxt\n", ""))
    code, out, _ = run_cli(capsys, "check", str(broken))
    assert code == EXIT_LIVENESS
    assert re.search(r"FAIL  temporal AlwaysTick +violated", out)
    assert re.search(r"FAIL  temporal AllTimes +violated", out)
    assert re.search(r"PASS  temporal TypeInvariance +holds", out)
    # Without WF_hr(HCnxt) the clock may stop at once: TLC's one state, "Stuttering".
    assert "Counterexample: temporal AlwaysTick violated (1 state, a lasso: cycle from " \
           "state 1)" in out
    assert "Counterexample: temporal AllTimes violated (1 state, a lasso: cycle from " \
           "state 1)" in out
    assert "[for n = 1]" in out


# ---- errors -----------------------------------------------------------------------------


def test_temporal_operator_outside_a_property(tmp_path) -> None:
    errors = errors_of(tmp_path, """
        var x: 0..1
        init { x = 0 }
        invariant I = eventually x == 1
    """)
    assert [(e.code, e.pos.line, e.pos.col) for e in errors] == [("E430", 3, 15)]


def test_unsupported_temporal_form(tmp_path) -> None:
    errors = errors_of(tmp_path, """
        var x: 0..1
        init { x = 0 }
        property P = eventually always eventually x == 1
    """)
    assert [(e.code, e.pos.line, e.pos.col) for e in errors] == [("E431", 3, 14)]


def test_fairness_names_an_action(tmp_path) -> None:
    errors = errors_of(tmp_path, """
        var x: 0..1
        init { x = 0 }
        action A { x' = 1 }
        fair weak A, Nope
        fair strong each A, A
    """)
    assert [(e.code, e.pos.line, e.pos.col) for e in errors] == [
        ("E432", 4, 14), ("E432", 5, 21), ("E432", 5, 21)]


def test_predicate_must_be_boolean(tmp_path) -> None:
    errors = errors_of(tmp_path, """
        var x: 0..1
        init { x = 0 }
        property P = eventually x
    """)
    assert [(e.code, e.pos.line) for e in errors] == [("E104", 3)]


# ---- outputs ----------------------------------------------------------------------------


def test_lasso_in_json_itf_junit_and_diagram(tmp_path, capsys) -> None:
    path = write(tmp_path, COUNTER)
    js, itf, junit, diagrams = (tmp_path / "r.json", tmp_path / "t.itf.json",
                                tmp_path / "j.xml", tmp_path / "d")
    code, out, _ = run_cli(capsys, "check", str(path), "--json", str(js), "--itf", str(itf),
                           "--junit", str(junit), "--diagrams", str(diagrams))
    assert code == EXIT_LIVENESS
    assert "  1. initial state    <- the cycle starts here" in out
    assert "  8. Reset(k=0), back to state 1: the cycle repeats forever" in out
    doc = json.loads(js.read_text())
    jsonschema.Draft202012Validator(load_schema()).validate(doc)
    prop = next(p for p in doc["properties"] if p["name"] == "SettlesPositive")
    assert prop["lasso"]["loop"] == 0 and prop["lasso"]["back"]["label"] == "Reset(k=0)"
    assert len(prop["trace"]) == 7
    assert all("lasso" not in p for p in doc["properties"] if p["name"] != "SettlesPositive")
    trace = json.loads(itf.read_text())
    assert trace["loop"] == 0 and trace["#meta"]["loop-action"] == "Reset(k=0)"
    assert len(trace["states"]) == 7
    suite = ET.parse(junit).getroot()
    failures = [f.text for f in suite.iter("failure")]
    assert len(failures) == 1 and "back to state 1" in failures[0]
    dot = (diagrams / "trace-SettlesPositive.dot").read_text()
    assert 't7 -> t1 [label="7. Reset(k=0) (back: repeats forever)"' in dot


# ---- the numpy engine records the same graph --------------------------------------------


def test_numpy_engine_gives_the_scalar_engine_s_verdicts_and_lassos(tmp_path) -> None:
    specs = [WEAK_VS_STRONG.replace("{kind}", "weak"), WEAK_VS_STRONG.replace("{kind}", "strong"),
             TURNS.replace("{fair}", "fair weak Step"),
             (EXAMPLES / "ewd840.cow").read_text().replace("fair weak InitiateProbe, "
                                                          "PassToken\n", "")]
    for text in specs:
        model = model_of(tmp_path, text)
        scalar, numpy = explore(model, backend="scalar"), explore(model, backend="numpy")
        assert numpy.stats.backend == "numpy"
        assert (numpy.stats.distinct_states, numpy.stats.total_states) == \
            (scalar.stats.distinct_states, scalar.stats.total_states)
        assert [(p.name, p.verdict, p.trace) for p in numpy.properties] == \
            [(p.name, p.verdict, p.trace) for p in scalar.properties]


def test_fairness_per_instance_runs_on_the_numpy_engine(tmp_path) -> None:
    result = explore(model_of(tmp_path, TURNS.replace("{fair}", "fair weak each Step")),
                     backend="numpy")
    assert result.stats.backend == "numpy"
    assert verdicts(result) == {"EveryTurn": "holds"}
    result = explore(model_of(tmp_path, COUNTER), backend="numpy")
    assert result.stats.backend == "numpy"
    trace = next(p.trace for p in result.properties if p.name == "SettlesPositive")
    assert [s.label for s in trace.steps[1:]] + [trace.back.label] == \
        ["Inc", "Inc", "Inc", "Reset(k=1)", "Inc", "Inc", "Reset(k=0)"]


# ---- the other forms, deadlocks, pitfalls ------------------------------------------------


def test_always_is_checked_on_behaviours(tmp_path) -> None:
    result = explore(model_of(tmp_path, """
        var x: 0..2
        init { x = 0 }
        action Inc { requires x < 2  x' = x + 1 }
        property Small = always x < 2
        property Bounded = always x <= 2
        check deadlock off
    """))
    assert verdicts(result) == {"Small": "violated", "Bounded": "holds"}
    trace = result.properties[-2].trace
    assert [s.state["x"] for s in trace.steps] == [0, 1, 2] and trace.loop == 2
    assert trace.back.label == "stuttering"


def test_a_deadlock_state_stutters_whatever_the_fairness(tmp_path) -> None:
    result = explore(model_of(tmp_path, """
        var x: 0..2
        init { x = 0 }
        action Inc { requires x < 2  x' = x + 1 }
        property Returns = always eventually x == 0
        fair strong Inc
        check deadlock off
    """))
    assert verdicts(result) == {"Returns": "violated"}
    trace = result.properties[-1].trace
    assert [s.label for s in trace.steps] == ["initial state", "Inc", "Inc"]
    assert trace.loop == 2 and trace.back.action is None


def test_unknown_when_a_safety_violation_stops_the_search(tmp_path) -> None:
    text = """
        var x: 0..3
        init { x = 0 }
        action Inc { requires x < 3  x' = x + 1 }
        invariant Low = x < 2
        property Top = eventually x == 3
        fair weak Inc
        check deadlock off
    """
    assert verdicts(explore(model_of(tmp_path, text))) == {"Top": "unknown"}
    assert verdicts(explore(model_of(tmp_path, text), keep_going=True)) == {"Top": "holds"}


def test_pitfalls_are_noted(tmp_path) -> None:
    result = explore(model_of(tmp_path, """
        const Procs = symmetric {P0, P1}
        var owner: Procs
        var n: 0..3
        init { owner = P0  n = 0 }
        action Take(p: Procs) { requires n < 3  owner' = p  n' = n + 1 }
        constraint Few = n < 3
        property Grows = eventually n == 3
        fair weak Take
        check deadlock off
    """))
    assert any("state constraint" in note for note in result.notes)
    assert any("symmetry reduction is off for the liveness check" in n for n in result.notes)
    assert verdicts(result) == {"Grows": "holds"}


def test_temporal_operators_do_not_nest_in_parentheses(tmp_path) -> None:
    errors = errors_of(tmp_path, """
        var x: 0..1
        init { x = 0 }
        property P = always (x == 0 leads_to x == 1)
    """)
    assert [(e.code, e.pos.line, e.pos.col) for e in errors] == [("E001", 3, 29)]


# ---- the kernel model's progress properties (spec/liveness/kernel-progress.cow) ----------

KERNEL_DIR = EXAMPLES.parent / "kernel"
PROGRESS = EXAMPLES.parent / "liveness" / "kernel-progress.cow"


def test_kernel_progress_holds_in_linux_5_19(capsys) -> None:
    code, out, _ = run_cli(capsys, "check", str(PROGRESS), "--include", str(KERNEL_DIR),
                           "--model", "linux-5.19", "--no-scenarios")
    assert code == EXIT_OK, out
    assert "38,121 distinct states" in out  # cow.cow's linux-5.19: the same state space
    assert re.search(r"PASS  temporal RoPinCompletes +holds", out)
    assert re.search(r"PASS  temporal WriteFaultMapsWritable +holds", out)
    # The retry path itself: GUP's unshare fault marks the page exclusive or copies it.
    assert re.search(r"PASS  reachable UnshareMarkedExclusive +reachable", out)
    assert re.search(r"PASS  reachable UnshareCopied +reachable", out)


def test_kernel_progress_needs_its_fairness(tmp_path, capsys) -> None:
    text = PROGRESS.read_text().replace("fair strong each Gup\n", "")
    spec = write(tmp_path, text, "progress.cow")
    code, out, _ = run_cli(capsys, "check", str(spec), "--include", str(KERNEL_DIR),
                           "--model", "linux-5.19", "--no-scenarios")
    assert code == EXIT_LIVENESS
    assert re.search(r"FAIL  temporal RoPinCompletes +violated", out)
    # P maps its page and then never pins it: a lasso whose cycle starts at the fault.
    assert re.search(r"Counterexample: temporal RoPinCompletes violated \(\d+ states, a "
                     r"lasso: cycle from state 2\)", out)
    assert "  2. Fault(p=P, a=A0, acc=WRITE)" in out and "[for p = P, a = A0]" in out


def test_trace_option_knows_temporal_properties(tmp_path, capsys) -> None:
    path = write(tmp_path, COUNTER)
    code, out, _ = run_cli(capsys, "check", str(path), "--trace", "SettlesPositive")
    assert code == EXIT_LIVENESS
    assert "Counterexample: temporal SettlesPositive violated (7 states, a lasso" in out


def test_engines_that_keep_no_transitions_are_refused_with_their_reason(tmp_path,
                                                                       capsys) -> None:
    """--workers N and --backend compiled keep no transitions: exit 151, saying so."""
    path = write(tmp_path, COUNTER)
    code, _, err = run_cli(capsys, "check", str(path), "--workers", "2")
    assert code == 151
    assert "--workers: the worker processes keep no transitions" in err
    code, _, err = run_cli(capsys, "check", str(path), "--backend", "compiled")
    assert code == 151
    assert "--backend compiled: the compiled search keeps no transitions" in err


def test_temporal_properties_refuse_a_cluster(tmp_path, capsys) -> None:
    """The liveness check keeps the whole graph in one process: --cluster is refused
    before anything starts (exit 151), never ignored."""
    path = write(tmp_path, COUNTER)
    code, _, err = run_cli(capsys, "check", str(path), "--cluster", "auto")
    assert code == 151
    assert "run without --cluster" in err


@pytest.mark.parametrize("engine", [["--workers", "2"], ["--backend", "compiled"]],
                         ids=["workers", "compiled"])
def test_no_temporal_checks_the_rest_on_any_engine(tmp_path, capsys, engine) -> None:
    """--no-temporal leaves the temporal properties out, as a TLC configuration without
    PROPERTY lines, so that the engines that keep no transitions check the rest; the
    report says which were left out."""
    if engine[1] == "compiled":
        pytest.importorskip("llvmlite")
    path = write(tmp_path, COUNTER + "invariant Small = x <= 3\n")
    code, out, _ = run_cli(capsys, "check", str(path), "--no-temporal", *engine)
    assert code == 0
    assert "4 distinct states, 6 generated" in out
    assert ("note:        temporal properties not checked (--no-temporal): ReachesThree, "
            "ZeroAgain, SettlesPositive, OneToTwo, EachK") in out
    assert "invariant Small" in out and "temporal" not in out.split("properties:")[1]
