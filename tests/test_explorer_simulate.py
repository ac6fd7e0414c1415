"""``cowspec simulate`` and replay strings: seeded walks that repeat exactly, violations
found with their traces in every report format, exit codes as ``check``'s, and traces
named by a string that replays to the very same states."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from explorer_testing import run_cli

from explorer.replay import decode, encode, follow, match
from explorer.report_json import load_schema
from explorer.simulate import SimOptions, simulate
from pyspec.loader import load_spec

ROOT = Path(__file__).resolve().parent.parent
DIEHARD = str(ROOT / "spec/examples/diehard.cow")
PAGES = ROOT / "tests/explorer_specs/pages.cow"
COW = str(ROOT / "spec/kernel/cow.cow")

STOPPER = """module Stopper
var x: 0..3
init { x = 0 }
action Inc { requires x < 2
  x' = x + 1 }
action Dec(k: 1..2) { requires x >= k and x != 2
  x' = x - k }
invariant Small = x <= 3
"""


def unexpected_pages(tmp_path: Path) -> str:
    """pages.cow without its expectation: NotBothShared becomes a bug."""
    spec = tmp_path / "pages.cow"
    spec.write_text(PAGES.read_text().replace("  expect violated NotBothShared\n", ""))
    return str(spec)


def drop_times(doc: dict) -> dict:
    for key in ("elapsed_s", "states_per_s", "steps_per_s"):
        doc.pop(key, None)
    if "simulation" in doc:
        drop_times(doc["simulation"])
    return doc


def test_same_seed_same_walks_other_seed_other_walks(capsys, tmp_path) -> None:
    docs = []
    for seed in ("7", "7", "8"):
        out = tmp_path / f"s{len(docs)}.json"
        code, _, err = run_cli(capsys, "simulate", COW, "--model", "linux-5.19", "--traces",
                               "20", "--depth", "30", "--seed", seed, "--json", str(out))
        assert code == 0, err
        doc = json.loads(out.read_text())
        jsonschema.validate(doc, load_schema())
        docs.append(drop_times(doc))
    assert docs[0] == docs[1]
    assert docs[0]["simulation"]["steps"] > 0
    assert docs[0]["coverage"] != docs[2]["coverage"]
    assert docs[0]["engine"]["backend"] == "simulation"
    # Nothing is proven by walks: a property no walk violated is unknown, not "holds".
    verdicts = {p["name"]: p["verdict"] for p in docs[0]["properties"]}
    assert "holds" not in verdicts.values() and verdicts["Isolation"] == "unknown"


def test_statistics_count_walks_steps_and_coverage() -> None:
    spec = load_spec(DIEHARD)
    sim = simulate(spec.instantiate(), SimOptions(traces=10, depth=25, seed=1,
                                                  keep_going=True))
    s = sim.stats
    assert (s.traces, s.steps, s.longest) == (10, 250, 25)  # DieHard never deadlocks
    assert 1 < s.distinct_states <= 16  # DieHard has 16 reachable states
    cov = sim.result.coverage.actions
    assert sum(a.fired for a in cov) == 250
    assert all(a.enabled == 250 for a in cov)  # every jug action is always enabled
    assert sum(a.new for a in cov) == s.distinct_states - 1  # all but the initial state


def test_unexpected_violation_exits_12_with_trace_in_every_format(capsys, tmp_path) -> None:
    spec = unexpected_pages(tmp_path)
    itf, junit, js = tmp_path / "t.itf.json", tmp_path / "t.xml", tmp_path / "t.json"
    code, out, _ = run_cli(capsys, "simulate", spec, "--traces", "50", "--itf", str(itf),
                           "--junit", str(junit), "--json", str(js))
    assert code == 12
    assert "FAIL  invariant NotBothShared  violated (expected: holds)" in out
    assert "Counterexample: invariant NotBothShared violated" in out
    doc = json.loads(js.read_text())
    (prop,) = [p for p in doc["properties"] if p["name"] == "NotBothShared"]
    last = prop["trace"][-1]["state"]
    assert [v for _, v in last["use"]] == ["Shared", "Shared"]
    assert prop["replay"].startswith("v1:")
    states = json.loads(itf.read_text())["states"]
    assert len(states) == len(prop["trace"])
    assert "NotBothShared" in junit.read_text() and "<failure" in junit.read_text()


def test_deadlock_exits_11(capsys, tmp_path) -> None:
    spec = tmp_path / "stopper.cow"
    spec.write_text(STOPPER)
    code, out, _ = run_cli(capsys, "simulate", str(spec), "--traces", "5")
    assert code == 11
    assert "Counterexample: deadlock violated" in out
    code, out, _ = run_cli(capsys, "simulate", str(spec), "--traces", "5", "--no-deadlock")
    assert code == 0
    assert "deadlocks met" in out


def test_check_prints_a_replay_string_that_simulate_replays_exactly(capsys, tmp_path) -> None:
    a, b = tmp_path / "check.itf.json", tmp_path / "replay.itf.json"
    code, out, _ = run_cli(capsys, "check", COW, "--model", "linux-5.7", "--trace",
                           "Isolation", "--itf", str(a))
    assert code == 0
    replay = next(line.split()[1] for line in out.splitlines() if line.startswith("replay:"))
    code, out, _ = run_cli(capsys, "simulate", COW, "--model", "linux-5.7", "--replay",
                           replay, "--itf", str(b))
    assert code == 0
    assert f"Trace {replay} (6 states)" in out
    checked = json.loads(Path(str(a).replace(".itf", ".Isolation.itf")).read_text())
    replayed = json.loads(Path(str(b).replace(".itf", ".Isolation.itf")).read_text())
    assert checked["states"] == replayed["states"]


def test_replay_strings_round_trip_and_refuse_other_models() -> None:
    spec = load_spec(COW)
    m57, m519 = spec.instantiate("linux-5.7"), spec.instantiate("linux-5.19")
    text = encode(m57, [0, 0, 3, 6, 4, 5])
    assert decode(m57, text) == [0, 0, 3, 6, 4, 5]
    raw = follow(m57, decode(m57, text))
    assert len(raw) == 6 and raw[0][0] is None
    from explorer.traces import describe_trace

    found = match(m57, describe_trace(m57, raw))
    assert found is not None and found[0] == [0, 0, 3, 6, 4, 5]
    from pyspec.errors import ModelConfigError

    with pytest.raises(ModelConfigError, match="another model"):
        decode(m519, text)
    with pytest.raises(ModelConfigError, match="not a trace string"):
        decode(m57, "0.1.2")
    with pytest.raises(ModelConfigError, match="successors"):
        follow(m57, [0, 999])


@pytest.mark.parametrize("replay", ["garbage", "v1:00000000:0.1"])
def test_bad_replay_is_a_bad_option(capsys, replay) -> None:
    code, _, err = run_cli(capsys, "simulate", DIEHARD, "--replay", replay)
    assert code == 151
    assert "--replay" in err


#: Every kind of check, a constraint, a parameterised action: what a walk evaluates.
WALKS = """module Walks
var x: 0..6
var y: 0..3
init { x = 0  y = 0 }
action Up(k: 1..2) { requires x + k <= 6
  x' = x + k }
action Side { y' = (y + 1) % 4 }
action Reset { requires x == 6
  x' = 0 }
invariant NotFiveThree = x != 5 or y != 3
property SmallSteps = x' <= x + 1 or y != 2
reachable Top = x == 6 and y == 1
constraint Low = y <= 2 or x >= 1
check deadlock off
"""

ENGINES = ["scalar", "numpy", "compiled"]


def walks_on(capsys, tmp_path: Path, engine: str, *argv: str) -> tuple[int, str, dict]:
    spec = tmp_path / "walks.cow"
    spec.write_text(WALKS)
    out = tmp_path / f"{engine}.json"
    code, text, err = run_cli(capsys, "simulate", str(spec), "--engine", engine,
                              "--json", str(out), *argv)
    assert code in (0, 12), err
    doc = json.loads(out.read_text())
    jsonschema.validate(doc, load_schema())
    doc = drop_times(doc)
    assert doc["simulation"].pop("engine") == engine
    return code, without_times(text), doc


def without_times(text: str) -> str:
    """The text report before its timed lines (the states line, the statistics)."""
    head = text.split("\nsimulation:")[0]
    return "\n".join(line for line in head.splitlines() if not line.startswith("states:"))


@pytest.mark.parametrize("argv", [["--seed", "5"], ["--seed", "11", "--continue"]],
                         ids=["first", "continue"])
def test_the_same_seed_walks_alike_on_every_engine(capsys, tmp_path, argv) -> None:
    """Every engine lists successors in one order, so a seed names the same walks on each:
    the same verdicts, statistics, coverage and byte-identical traces."""
    pytest.importorskip("llvmlite")
    runs = [walks_on(capsys, tmp_path, e, "--traces", "30", "--depth", "25", *argv)
            for e in ENGINES]
    assert runs[0][0] == 12
    assert runs[0] == runs[1] == runs[2]
    found = {p["name"]: p["verdict"] for p in runs[0][2]["properties"]}
    assert found["SmallSteps"] == "violated" and found["Top"] == "reachable"
    assert found["NotFiveThree"] == ("violated" if "--continue" in argv else "unknown")
    assert "\nreplay:  v1:" in runs[0][1]  # the violation's trace, printed


def test_the_kernel_model_walks_alike_on_every_engine(capsys) -> None:
    pytest.importorskip("llvmlite")
    outs = []
    for engine in ENGINES:
        code, out, _ = run_cli(capsys, "simulate", COW, "--model", "linux-5.19", "--engine",
                               engine, "--traces", "3", "--depth", "20", "--seed", "4")
        assert code == 0
        outs.append(without_times(out))
        assert f"on the {engine} engine's code" in out
    assert outs[0] == outs[1] == outs[2]


def test_an_evaluation_error_in_an_engines_code_is_reported_by_the_scalar_code(
        tmp_path) -> None:
    spec = load_spec(str(write_spec(tmp_path, """module Err
var x: 0..3
init { x = 0 }
action Up { x' = x + 1 }
""")))
    scalar = simulate(spec.instantiate(), SimOptions(traces=2, depth=10))
    arrays = simulate(spec.instantiate(), SimOptions(traces=2, depth=10, engine="numpy"))
    assert scalar.result.error is not None
    assert "outside its declared range" in scalar.result.error.message
    assert arrays.result.error == scalar.result.error
    assert arrays.stats.engine == "scalar"
    assert any("numpy engine's code" in n for n in arrays.result.notes)


def test_an_engine_that_cannot_run_the_model_is_a_bad_option(capsys, tmp_path) -> None:
    spec = write_spec(tmp_path, """module Sets
var xs: set[set[0..2]]
init { xs = {} }
action Add(i: 0..2) { xs' = xs | {{i}} }
""")
    code, _, err = run_cli(capsys, "simulate", str(spec), "--engine", "numpy")
    assert code == 151 and "--engine numpy cannot simulate model" in err


def write_spec(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "spec.cow"
    path.write_text(text)
    return path
