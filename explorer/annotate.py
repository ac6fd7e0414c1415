"""After a check or a simulation: each trace's replay string and why its property failed.

The engines keep traces as described values; this pass replays them on the model to get
the raw states back (:func:`explorer.replay.match`), names each trace by its successor
positions, and explains the failure at its last state (:mod:`explorer.explain`).
"""

from __future__ import annotations

from collections.abc import Callable

from explorer.explain import explain, explainer
from explorer.replay import encode, match
from explorer.result import PropertyVerdict, Result
from pyspec.model import Model


def annotate(model: Model, result: Result,
             wanted: Callable[[PropertyVerdict], bool] = lambda p: True) -> None:
    """Fill ``replay`` and ``why`` of every ``wanted`` property of ``result`` that has a
    trace."""
    ex = None
    for p in result.properties:
        if p.trace is None or not wanted(p):
            continue
        found = match(model, p.trace)
        if found is None:
            continue
        positions, raw = found
        p.replay = encode(model, positions)
        if p.verdict != "violated" or p.kind == "temporal":  # a lasso has no failing state
            continue
        if ex is None:
            ex = explainer(model)
            if ex is None:
                return
        p.why = explain(ex, p.kind, p.name, raw)
