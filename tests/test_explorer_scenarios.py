"""Scenarios run as restricted models and judged against their own expectations."""

from __future__ import annotations

import pytest
from explorer_testing import load

from explorer.engine.interface import Options
from explorer.run import run_model
from explorer.scenario import END, run_scenario
from pyspec.errors import ModelConfigError
from pyspec.model import Scenario, ScenarioStep


def by_name(names=None):
    result = run_model(load("toys", "scenarios"), Options(), names)
    return result, {s.name: s for s in result.scenarios}


def test_every_scenario_is_judged() -> None:
    result, scenarios = by_name()
    assert {n: s.judgement for n, s in scenarios.items()} == {
        "ok": "pass",
        "bump-bad": "pass",
        "bump-unexpected": "fail",
        "missing": "fail",
        "stuck": "fail",
        "any": "pass",
    }
    assert result.exit_code == 12


def test_passing_scenario_reports_a_run_through_every_step() -> None:
    _, scenarios = by_name(["ok"])
    ok = scenarios["ok"]
    assert ok.reached == len(ok.steps) == 2
    assert [s.label for s in ok.traces[END].steps] == ["initial state", "Add(d=1)", "Add(d=2)"]


def test_choice_inside_a_step_is_explored() -> None:
    _, scenarios = by_name(["bump-bad"])
    bad = scenarios["bump-bad"]
    assert bad.violated == ("Small",)
    assert bad.traces["Small"].steps[-1].state["x"] == 5
    assert "as expected" in bad.reason


def test_expected_violation_missing_fails() -> None:
    _, scenarios = by_name(["missing"])
    assert scenarios["missing"].judgement == "fail"
    assert "Small not found" in scenarios["missing"].reason


def test_unexpected_violation_fails() -> None:
    _, scenarios = by_name(["bump-unexpected"])
    assert "unexpected violation of Small" in scenarios["bump-unexpected"].reason


def test_stuck_scenario_names_the_step() -> None:
    _, scenarios = by_name(["stuck"])
    stuck = scenarios["stuck"]
    assert stuck.reached == 2
    assert stuck.reason.startswith("stuck at step 3 (Add(d=1))")


def test_selected_scenarios_only() -> None:
    result, scenarios = by_name(["ok", "any"])
    assert list(scenarios) == ["ok", "any"]
    assert result.exit_code == 0
    none, _ = by_name([])
    assert none.scenarios == [] and none.exit_code == 0


def test_unknown_scenario_is_a_model_error() -> None:
    with pytest.raises(ModelConfigError, match="no scenario nope"):
        by_name(["nope"])


def test_bad_steps_are_model_errors() -> None:
    model = load("toys", "scenarios")
    with pytest.raises(ModelConfigError, match="no action number 9"):
        run_scenario(model, Scenario("bad", (ScenarioStep(9, ()),)), Options())
    with pytest.raises(ModelConfigError, match="too many parameters"):
        run_scenario(model, Scenario("bad", (ScenarioStep(0, (1, 2)),)), Options())
    with pytest.raises(ModelConfigError, match="unknown properties"):
        run_scenario(model, Scenario("bad", (), frozenset({"Nope"})), Options())


def test_scenario_cut_by_a_limit_is_unknown() -> None:
    model = load("toys", "scenarios")
    sr = run_scenario(model, model.scenarios[0], Options(max_states=1))
    assert sr.judgement == "unknown"
    assert sr.stopped == "max_states"
