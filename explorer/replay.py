"""Traces named by a short string, so that a counterexample can be pasted into a bug
report and replayed exactly.

A trace is the position of its first state among the initial states, then at each step
the position of the next state among the successors of the current one. Successor order
is fixed by the compiled model, so these positions are a complete and exact description
of a behaviour *for one model*; the string carries a hash of the model's shape (name,
constants, variables and their types, actions and their parameters) to refuse a string
made for another model:

    v1:3fa2b9c1:0.4.12.3

A changed guard that keeps the shape is caught when a position is out of range or, at
the latest, by the reader comparing the replayed trace with the one reported.
"""

from __future__ import annotations

import hashlib
import re

from explorer.result import Trace
from explorer.traces import RawStep
from pyspec.errors import ModelConfigError
from pyspec.model import Model

VERSION = "v1"
_FORMAT = re.compile(r"v1:([0-9a-f]{8}):(\d+(?:\.\d+)*)\Z")


def model_hash(model: Model) -> str:
    """Eight hex digits of a hash of what successor positions depend on."""
    shape = repr((
        model.name,
        sorted((k, repr(v)) for k, v in model.constants.items()),
        tuple(model.variables),
        getattr(model, "var_types", None),
        tuple((a.name, a.params) for a in model.actions),
        getattr(model, "param_types", None),
    ))
    return hashlib.sha256(shape.encode("utf-8")).hexdigest()[:8]


def encode(model: Model, positions: list[int]) -> str:
    """The string naming the trace that takes these positions (initial state first)."""
    return f"{VERSION}:{model_hash(model)}:{'.'.join(map(str, positions))}"


def decode(model: Model, text: str) -> list[int]:
    """The positions a trace string names; a string of another model or version is a bad
    option (exit 151)."""
    m = _FORMAT.match(text.strip())
    if m is None:
        raise ModelConfigError(
            f"--replay {text!r}: not a trace string (expected v1:HASH:N.N.N, as `cowspec "
            "check` and `cowspec simulate` print them)"
        )
    if m.group(1) != model_hash(model):
        raise ModelConfigError(
            f"--replay: the trace was made for another model (hash {m.group(1)}; model "
            f"{model.name} with these constants has {model_hash(model)})"
        )
    return [int(x) for x in m.group(2).split(".")]


def follow(model: Model, positions: list[int]) -> list[RawStep]:
    """The raw steps a list of positions names; a position out of range is a bad option."""
    if not positions:
        raise ModelConfigError("--replay: the trace is empty")
    inits = list(model.initial_states())
    first = positions[0]
    if first >= len(inits):
        raise ModelConfigError(
            f"--replay: initial state {first} does not exist (the model has {len(inits)})"
        )
    state = inits[first]
    raw: list[RawStep] = [(None, (), state)]
    for k, pos in enumerate(positions[1:], 1):
        succs = model.successors(state)
        if pos >= len(succs):
            raise ModelConfigError(
                f"--replay: step {k} takes successor {pos}, but the state has "
                f"{len(succs)} successors (a trace of another version of the spec?)"
            )
        a, params, state = succs[pos]
        raw.append((a, params, state))
    return raw


def match(model: Model, trace: Trace) -> tuple[list[int], list[RawStep]] | None:
    """The positions and raw steps of a described trace (one a check found): at each step
    the first successor that is the same action with the same parameters to the same
    state. None when the trace is not a behaviour of ``model``."""
    if not trace.steps:
        return None
    inits = list(model.initial_states())
    first = next((i for i, s in enumerate(inits)
                  if model.describe_state(s) == trace.steps[0].state), None)
    if first is None:
        return None
    positions = [first]
    raw: list[RawStep] = [(None, (), inits[first])]
    for step in trace.steps[1:]:
        found = None
        for i, (a, params, t) in enumerate(model.successors(raw[-1][2])):
            if a != step.action_index or model.describe_state(t) != step.state:
                continue
            named = tuple(zip(model.actions[a].params, model.describe_params(a, params),
                              strict=False))
            if named == step.params:
                found = i, (a, params, t)
                break
        if found is None:
            return None
        positions.append(found[0])
        raw.append(found[1])
    return positions, raw
