"""Turning raw transitions into described trace steps, for the few states a report shows."""

from __future__ import annotations

from collections.abc import Iterable

from explorer.result import Trace, TraceStep
from pyspec.model import Model, State
from pyspec.values import Value, flatten

#: A raw trace step: (action index or ``None`` for an initial state, params, state).
RawStep = tuple[int | None, tuple, State]


def describe_trace(model: Model, raw: Iterable[RawStep]) -> Trace:
    return Trace(tuple(describe_step(model, a, params, s) for a, params, s in raw))


def describe_step(model: Model, action: int | None, params: tuple, state: State) -> TraceStep:
    described = model.describe_state(state)
    if action is None:
        return TraceStep(state=described, label="initial state")
    info = model.actions[action]
    values = model.describe_params(action, params)
    return TraceStep(
        state=described,
        action=info.name,
        action_index=action,
        params=tuple(zip(info.params, values, strict=False)),
        label=model.action_label(action, params),
        tags=info.tags,
    )


def leaves(state: dict[str, Value]) -> dict[str, str]:
    """Every leaf field of a described state (``pte[P0][A0]``, ``page[F1].ae``) as text."""
    return {path: text for name, v in state.items() for path, text in flatten(name, v)}


def changes(trace: Trace) -> list[dict[str, str | None]]:
    """Per step, the leaf fields that differ from the previous state (all for the first);
    ``None`` marks a field that disappeared (a map key removed)."""
    out: list[dict[str, str | None]] = []
    prev: dict[str, str] = {}
    for i, step in enumerate(trace.steps):
        cur = leaves(step.state)
        diff: dict[str, str | None] = {k: v for k, v in cur.items() if i == 0 or prev.get(k) != v}
        diff.update({k: None for k in prev if k not in cur})
        out.append(diff)
        prev = cur
    return out
