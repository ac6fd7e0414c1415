"""The TLA+ Examples specs, translated into the language, give TLC's exact numbers.

Counts are the ones TLC records in tlaplus/Examples' manifests (see
../shared/domain/model-checking-notes.md) and the RefCount table of bench/refcount.
The hand-written Python models of the same specs (tests/pymodels) must agree with the
compiled specs: the explorer cannot tell them apart.
"""

from __future__ import annotations

import pytest
from explorer_testing import load as load_pymodel
from pyspec_testing import EXAMPLES, explore

from pyspec.loader import load_spec

REFERENCE = [
    # spec, constants, distinct, total, depth
    ("hourclock.cow", {}, 12, 24, 1),
    ("tcommit.cow", {}, 34, 94, 7),
    ("twophase.cow", {}, 288, 1146, 11),
    ("ewd840.cow", {}, 302, 2001, 9),
    ("refcount.cow", {"N": "2"}, 253, 2443, 5),
    ("refcount.cow", {"N": "3"}, 3634, 48664, 7),
    # tlaplus/Examples with sequences, choose and let: the manifests' numbers.
    ("majority.cow", {}, 2733, 3459, 6),
    ("changroberts.cow", {}, 137, 227, 10),
    ("readerswriters.cow", {}, 21527, 59674, 13),
    ("innerfifo.cow", {}, 3864, 9660, 11),
    ("alternatingbit.cow", {}, 240, 1392, 10),
    ("internalmemory.cow", {}, 4408, 21400, 10),
    ("writethroughcache.cow", {}, 5196, 28170, 18),
    ("innersequential.cow", {}, 3528, 24368, 9),
    ("singlelanebridge.cow", {}, 3605, 20181, 29),
    ("diningphilosophers.cow", {}, 67, 336, 29),
    # A map over a constant key set (Prisoner \ {Counter}): Prisoners' manifest.json.
    ("prisoners.cow", {}, 214, 860, 14),
]


@pytest.mark.parametrize(("file", "defines", "distinct", "total", "depth"), REFERENCE)
def test_tlc_counts(file: str, defines: dict[str, str], distinct: int, total: int,
                    depth: int) -> None:
    model = load_spec(str(EXAMPLES / file)).instantiate(None, defines)
    result = explore(model)
    assert result.complete
    assert (result.stats.distinct_states, result.stats.total_states, result.stats.depth) == (
        distinct, total, depth)
    assert all(p.verdict == "holds" for p in result.properties if p.kind == "invariant")


def test_diehard_shortest_solution_has_seven_states() -> None:
    model = load_spec(str(EXAMPLES / "diehard.cow")).instantiate()
    result = explore(model, keep_going=True)
    verdict = next(p for p in result.properties if p.name == "NotSolved")
    assert verdict.verdict == "violated"
    assert verdict.expected == "violated"  # the spec says so: it is the solution
    assert verdict.trace is not None and len(verdict.trace.steps) == 7
    assert verdict.trace.steps[-1].state["big"] == 4
    assert verdict.trace.steps[0].state == {"big": 0, "small": 0}


@pytest.mark.parametrize(("spec_file", "pymodel", "defines"), [
    ("hourclock.cow", "hourclock", {}),
    ("tcommit.cow", "tcommit", {}),
    ("twophase.cow", "twophase", {}),
    ("ewd840.cow", "ewd840", {}),
    ("diehard.cow", "diehard", {}),
])
def test_compiled_spec_and_python_model_agree(spec_file: str, pymodel: str,
                                              defines: dict[str, str]) -> None:
    compiled = explore(load_spec(str(EXAMPLES / spec_file)).instantiate(None, defines),
                       keep_going=True)
    hand = explore(load_pymodel(pymodel), keep_going=True)
    for r in (compiled, hand):
        assert r.complete
    assert (compiled.stats.distinct_states, compiled.stats.total_states,
            compiled.stats.depth) == (hand.stats.distinct_states, hand.stats.total_states,
                                      hand.stats.depth)


def test_twophase_scales_with_resource_managers() -> None:
    """Stateright's figure for 5 resource managers: 8,832 states."""
    spec = load_spec(str(EXAMPLES / "twophase.cow"))
    model = spec.instantiate(None, {"RM": "{r1, r2, r3, r4, r5}"})
    assert explore(model).stats.distinct_states == 8832


def test_prisoners_properties_hold_and_liveness_needs_fairness(tmp_path) -> None:
    """Prisoners.cfg checks Safety and Liveness, which TLC finds to hold; without the
    fairness conditions the counter may never be done."""
    spec = EXAMPLES / "prisoners.cow"
    result = explore(load_spec(str(spec)).instantiate())
    assert {p.name: p.verdict for p in result.properties} == {
        "CountInvariant": "holds", "deadlock": "holds", "Safety": "holds",
        "Liveness": "holds"}
    unfair = tmp_path / "unfair.cow"
    unfair.write_text("".join(line for line in spec.read_text().splitlines(keepends=True)
                              if not line.startswith("fair ")))
    result = explore(load_spec(str(unfair)).instantiate())
    assert {p.name: p.verdict for p in result.properties}["Liveness"] == "violated"
