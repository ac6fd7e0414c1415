"""Run the selected bindings on each memory kind and judge them against the model.

For every (binding, kind) pair the runner looks up the model's prediction for the model
scenario of that name, runs the binding unless a facility is missing, and records one
:class:`Row`: agree, DISAGREE, skip (with the reason), no-model (the kernel model has no
such scenario yet) or error (the program could not carry the steps out).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from explorer.kernelrun.bindings import BINDINGS, Binding, ScenarioError
from explorer.kernelrun.children import ChildError
from explorer.kernelrun.facilities import Facilities
from explorer.kernelrun.memory import KINDS, KindUnavailable

AGREE, DISAGREE, SKIP, NO_MODEL, ERROR = "agree", "DISAGREE", "skip", "no-model", "error"
#: Results that make the run fail (exit code 1).
FAILING = (DISAGREE, ERROR)

Predictions = Mapping[str, frozenset[str]]


class SelectionError(Exception):
    """A scenario or kind named on the command line does not exist."""


@dataclass(frozen=True)
class Row:
    """One scenario on one memory kind: prediction, observation, verdict."""

    binding: str
    kind: str
    model_scenario: str
    property: str
    model_verdict: str | None
    observed: str | None
    result: str
    reason: str
    explanation: str


def plan(names: list[str], kinds: list[str]) -> list[tuple[type[Binding], str]]:
    """The (binding, kind) pairs to run, in the fixed binding and kind order.

    ``names`` may hold binding names (all their kinds) or model scenario names (one
    kind, e.g. ``VmspliceAfterForkThp``), in any letter case; empty means all.
    ``kinds`` restricts the memory kinds; empty means all.
    """
    for kind in kinds:
        if kind not in KINDS:
            raise SelectionError(f"unknown memory kind {kind!r} (kinds: {', '.join(KINDS)})")
    by_name: dict[str, set[tuple[type[Binding], str]]] = {}
    for b in BINDINGS:
        by_name.setdefault(b.name().lower(), set()).update((b, k) for k in b.kinds)
        for k in b.kinds:
            by_name.setdefault(b.model_scenario(k).lower(), set()).add((b, k))
    chosen: set[tuple[type[Binding], str]] = set()
    for name in names:
        pairs = by_name.get(name.lower())
        if pairs is None:
            known = ", ".join(b.name() for b in BINDINGS)
            raise SelectionError(f"unknown scenario {name!r} (bindings: {known}; a model "
                                 "scenario name adds Swap, Thp or Hugetlb)")
        chosen |= pairs
    out = [(b, k) for b in BINDINGS for k in KINDS
           if k in b.kinds and (not names or (b, k) in chosen) and (not kinds or k in kinds)]
    if not out:
        raise SelectionError("the selection matches no scenario on the chosen kinds")
    return out


def judge(binding: type[Binding], kind: str, predictions: Predictions,
          observed: str | None, outcome: str, reason: str) -> Row:
    """Build the row: ``outcome`` is SKIP or ERROR when nothing was observed."""
    scenario = binding.model_scenario(kind)
    predicted = predictions.get(scenario)
    verdict = None if predicted is None else binding.outcome(binding.property in predicted)
    if observed is None:
        result = outcome
    elif verdict is None:
        result = NO_MODEL
    else:
        result = AGREE if verdict == observed else DISAGREE
    explanation = binding.explain if result == DISAGREE else ""
    return Row(binding.name(), kind, scenario, binding.property, verdict, observed, result,
               reason, explanation)


def run_one(binding: type[Binding], kind: str, facs: Facilities,
            predictions: Predictions) -> Row:
    missing = binding.missing(kind, facs)
    if missing:
        return judge(binding, kind, predictions, None, SKIP, missing)
    try:
        obs = binding().observe(kind, facs)
    except KindUnavailable as e:
        return judge(binding, kind, predictions, None, SKIP, str(e))
    except ChildError as e:
        outcome = SKIP if e.exc_type == KindUnavailable.__name__ else ERROR
        return judge(binding, kind, predictions, None, outcome, str(e))
    except (ScenarioError, OSError) as e:
        return judge(binding, kind, predictions, None, ERROR, f"{type(e).__name__}: {e}")
    except Exception as e:  # a bug in a binding: one error row, not a lost run
        where = f"{type(e).__name__}: {e}"
        return judge(binding, kind, predictions, None, ERROR, f"unexpected {where}")
    return judge(binding, kind, predictions, binding.outcome(obs.bad), "", obs.detail)


def run(selection: list[tuple[type[Binding], str]], facs: Facilities,
        predictions: Predictions, on_row: Callable[[Row], None] | None = None) -> list[Row]:
    """Run every selected pair in order; ``on_row`` sees each row as it is made."""
    rows = []
    for binding, kind in selection:
        row = run_one(binding, kind, facs, predictions)
        if on_row is not None:
            on_row(row)
        rows.append(row)
    return rows


def exit_code(rows: list[Row]) -> int:
    """0 when nothing disagrees or failed, 1 otherwise."""
    return 1 if any(r.result in FAILING for r in rows) else 0
