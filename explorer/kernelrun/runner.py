"""Run the selected bindings on each memory variant and judge them against the model.

For every (binding, memory family) pair the runner takes each variant of that family
this kernel offers (one per THP or hugetlb size), looks up the model's prediction for
the model scenario that stands for it, runs the binding unless a facility is missing,
and records one :class:`Row`: agree, DISAGREE, flaky (repeated runs differed), skip
(with the reason), no prediction (the model has no scenario for this variant) or error
(the program could not carry the steps out).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from explorer.kernelrun.bindings import BINDINGS, Binding, Observation, ScenarioError
from explorer.kernelrun.children import ChildError
from explorer.kernelrun.facilities import Facilities
from explorer.kernelrun.memory import KindUnavailable
from explorer.kernelrun.variants import FAMILIES, KIND_SUFFIX, Variant

AGREE, DISAGREE, FLAKY, SKIP, NO_MODEL, ERROR = (
    "agree", "DISAGREE", "flaky", "skip", "no prediction", "error")
#: Results that make the run fail (exit code 1).
FAILING = (DISAGREE, ERROR)
KINDS = FAMILIES

Predictions = Mapping[str, frozenset[str]]


class SelectionError(Exception):
    """A scenario or kind named on the command line does not exist."""


@dataclass(frozen=True)
class Row:
    """One binding on one memory variant: prediction, observation, verdict.

    ``kind`` is the memory family, ``variant`` the family at its size; ``model`` the
    kernel model that predicted the row; ``runs`` and ``bad_runs`` count the repetitions
    and how many of them showed the property's violation.
    """

    binding: str
    kind: str
    model_scenario: str
    property: str
    model_verdict: str | None
    observed: str | None
    result: str
    reason: str
    explanation: str
    variant: str = ""
    model: str = ""
    runs: int = 0
    bad_runs: int = 0


def plan(names: list[str], kinds: list[str]) -> list[tuple[type[Binding], str]]:
    """The (binding, memory family) pairs to run, in binding and family order.

    ``names`` may hold binding names (all their families) or model scenario names (one
    model kind, e.g. ``VmspliceAfterForkThp``), in any letter case; empty means all.
    ``kinds`` restricts the families; empty means all.
    """
    for kind in kinds:
        if kind not in KINDS:
            raise SelectionError(f"unknown memory kind {kind!r} (kinds: {', '.join(KINDS)})")
    by_name: dict[str, set[tuple[type[Binding], str]]] = {}
    for b in BINDINGS:
        by_name.setdefault(b.name().lower(), set()).update((b, k) for k in b.kinds)
        for k in b.kinds:
            scenario = b.model_scenario(k)
            if scenario is not None:
                by_name.setdefault(scenario.lower(), set()).add((b, k))
    chosen: set[tuple[type[Binding], str]] = set()
    for name in names:
        pairs = by_name.get(name.lower())
        if pairs is None:
            known = ", ".join(b.name() for b in BINDINGS)
            raise SelectionError(f"unknown scenario {name!r} (bindings: {known}; a model "
                                 "scenario name adds Swap, Thp, PteThp or Hugetlb)")
        chosen |= pairs
    out = [(b, k) for b in BINDINGS for k in KINDS
           if k in b.kinds and (not names or (b, k) in chosen) and (not kinds or k in kinds)]
    if not out:
        raise SelectionError("the selection matches no scenario on the chosen kinds")
    return out


def scenario_names(selection: Iterable[tuple[type[Binding], str]]) -> list[str]:
    """Every model scenario that may predict a row of ``selection`` (for any size)."""
    names = {b.model_scenario(k) for b, _ in selection for k in KIND_SUFFIX}
    return sorted(n for n in names if n is not None)


def judge(binding: type[Binding], variant: Variant, predictions: Predictions,
          observed: str | None, outcome: str, reason: str, model: str = "",
          runs: int = 0, bad_runs: int = 0) -> Row:
    """Build the row: ``outcome`` is SKIP or ERROR when nothing was observed; ``observed``
    is the outcome word, or None; ``runs``/``bad_runs`` the repetitions behind it."""
    scenario = binding.scenario_for(variant)
    predicted = None if scenario is None else predictions.get(scenario)
    verdict = None if predicted is None else binding.outcome(binding.property in predicted)
    if observed is None:
        result = outcome
    elif 0 < bad_runs < runs:
        result = FLAKY
    elif verdict is None:
        result = NO_MODEL
    else:
        result = AGREE if verdict == observed else DISAGREE
    explanation = binding.explain if result in (DISAGREE, FLAKY) else ""
    return Row(binding.name(), variant.family, scenario or "-", binding.property, verdict,
               observed, result, reason, explanation, variant.name, model, runs, bad_runs)


def _observe(binding: type[Binding], variant: Variant,
             facs: Facilities) -> Observation | tuple[str, str]:
    """One run: the observation, or (SKIP | ERROR, reason)."""
    try:
        return binding().observe(variant, facs)
    except KindUnavailable as e:
        return SKIP, str(e)
    except ChildError as e:
        return (SKIP if e.exc_type == KindUnavailable.__name__ else ERROR), str(e)
    except (ScenarioError, OSError) as e:
        return ERROR, f"{type(e).__name__}: {e}"
    except Exception as e:  # a bug in a binding: one error row, not a lost run
        return ERROR, f"unexpected {type(e).__name__}: {e}"


def run_one(binding: type[Binding], variant: Variant, facs: Facilities,
            predictions: Predictions, model: str = "", repeat: int = 1) -> Row:
    """Run ``binding`` on ``variant`` ``repeat`` times and judge the outcomes together."""
    missing = binding.missing(variant, facs)
    if missing:
        return judge(binding, variant, predictions, None, SKIP, missing, model)
    seen: list[Observation] = []
    for _ in range(repeat):
        obs = _observe(binding, variant, facs)
        if not isinstance(obs, Observation):
            outcome, reason = obs
            if seen:
                reason = f"run {len(seen) + 1} of {repeat}: {reason}"
            return judge(binding, variant, predictions, None, outcome, reason, model)
        seen.append(obs)
    bad = sum(o.bad for o in seen)
    if bad in (0, len(seen)):
        observed = binding.outcome(bool(bad))
        detail = seen[-1].detail
    else:
        good_word, bad_word = binding.outcome(False), binding.outcome(True)
        observed = f"{bad_word} {bad}/{len(seen)}"
        first_bad = next(o for o in seen if o.bad)
        detail = (f"{bad} of {len(seen)} runs: {first_bad.detail}; {len(seen) - bad} runs "
                  f"{good_word}")
    if repeat > 1 and bad in (0, len(seen)):
        detail += f" (all {len(seen)} runs)"
    return judge(binding, variant, predictions, observed, "", detail, model, len(seen), bad)


def run(selection: list[tuple[type[Binding], str]], variants: list[Variant],
        facs: Facilities, predictions: Predictions, model: str = "", repeat: int = 1,
        prepare: Callable[[Variant], None] | None = None,
        on_row: Callable[[Row], None] | None = None) -> list[Row]:
    """Run every selected pair on each of its ``variants``, in order; ``prepare`` (e.g.
    enabling one THP size) is called before a variant's rows, ``on_row`` sees each row."""
    rows = []
    prepared: Variant | None = None
    for binding, kind in selection:
        for variant in (v for v in variants if v.family == kind and runs_on(binding, v)):
            if prepare is not None and variant != prepared:
                prepare(variant)
                prepared = variant
            row = run_one(binding, variant, facs, predictions, model, repeat)
            if on_row is not None:
                on_row(row)
            rows.append(row)
    return rows


def runs_on(binding: type[Binding], variant: Variant) -> bool:
    """Whether ``binding`` is meant for ``variant`` (cow.c's cases: every size)."""
    thp = "thp" in variant.family
    return binding.mthp or not thp or variant.size == variant.pmd_size


def exit_code(rows: list[Row]) -> int:
    """0 when nothing disagrees or failed, 1 otherwise."""
    return 1 if any(r.result in FAILING for r in rows) else 0
