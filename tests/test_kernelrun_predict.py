"""model_predictions: the kernel model's scenarios run through the explorer.

A small hand-written model stands in for the kernel spec: two properties named like the
kernel model's (Isolation, PinCoherent) and scenarios that violate one, none, or fail to
evaluate. The spec directory is pointed at a temporary one holding that model as a
Python model file, so the whole path (find the spec, instantiate linux-5.19, run each
scenario, collect violated properties) is exercised.
"""

from __future__ import annotations

import textwrap

import pytest

from explorer.kernelrun import predict

MODEL_FILE = textwrap.dedent('''
    from pyspec.model import ActionInfo, Check, Model, Scenario, ScenarioStep

    MODEL_NAMES = ["linux-5.17", "linux-5.19"]

    class Counter(Model):
        """Counts writes; a second write "leaks", a third cannot be evaluated."""

        variables = ("writes",)
        actions = (ActionInfo("write"),)
        check_deadlock = False

        def __init__(self, name):
            self.name = name
            self.invariants = (
                Check("Isolation", "invariant", fn=lambda s: s < 2),
                Check("PinCoherent", "invariant", fn=lambda s: 10 // (3 - s) >= 0),
            )
            step = ScenarioStep(0, ())
            self.scenarios = (
                Scenario("VmspliceAfterFork", (step,)),
                Scenario("VmspliceAfterForkHugetlb", (step, step), frozenset({"Isolation"})),
                Scenario("Broken", (step, step, step)),
            )

        def initial_states(self):
            return [0]

        def successors(self, state):
            return [(0, (), state + 1)] if state < 3 else []

        def describe_state(self, state):
            return {"writes": state}

    def model(defines, name):
        return Counter(name)
''')


@pytest.fixture
def spec_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(predict, "KERNEL_SPEC_DIR", tmp_path)
    monkeypatch.setattr(predict, "SPEC_PATTERNS", ("*.py",))
    return tmp_path


def test_predictions_are_the_violated_properties_of_each_named_scenario(spec_dir):
    (spec_dir / "kernel.py").write_text(MODEL_FILE)
    got = predict.model_predictions(["VmspliceAfterFork", "VmspliceAfterForkHugetlb",
                                     "RwPinFork"])
    assert got == {"VmspliceAfterFork": frozenset(),
                   "VmspliceAfterForkHugetlb": frozenset({"Isolation"})}
    assert [m.name for m in predict.kernel_models()] == [predict.MODEL]


def test_a_scenario_that_cannot_be_evaluated_is_no_prediction(spec_dir):
    (spec_dir / "kernel.py").write_text(MODEL_FILE)
    with pytest.raises(predict.PredictionsUnavailable, match="model scenario Broken"):
        predict.model_predictions(["Broken"])


def test_no_kernel_spec_is_reported_not_guessed(spec_dir):
    with pytest.raises(predict.PredictionsUnavailable, match="no spec file .* defines model"):
        predict.model_predictions(["VmspliceAfterFork"])


def test_scenarios_are_found_in_whichever_spec_defines_them(spec_dir):
    (spec_dir / "a.py").write_text(MODEL_FILE)
    (spec_dir / "b.py").write_text(MODEL_FILE.replace('"VmspliceAfterFork"', '"RwPinFork"')
                                   .replace('"VmspliceAfterForkHugetlb"', '"RwPinForkThp"')
                                   .replace('"Broken"', '"BrokenToo"'))
    got = predict.model_predictions(["VmspliceAfterFork", "RwPinFork", "RwPinForkThp"])
    assert got == {"VmspliceAfterFork": frozenset(), "RwPinFork": frozenset(),
                   "RwPinForkThp": frozenset({"Isolation"})}


def test_a_scenario_in_two_specs_is_ambiguous(spec_dir):
    (spec_dir / "a.py").write_text(MODEL_FILE)
    (spec_dir / "b.py").write_text(MODEL_FILE)
    with pytest.raises(predict.PredictionsUnavailable, match="defined by several kernel specs"):
        predict.model_predictions(["VmspliceAfterFork"])


def test_a_spec_that_does_not_load_is_reported(spec_dir):
    (spec_dir / "kernel.py").write_text("def model(:\n")
    with pytest.raises(predict.PredictionsUnavailable, match="cannot load kernel.py"):
        predict.model_predictions(["VmspliceAfterFork"])
