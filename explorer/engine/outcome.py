"""The :class:`~explorer.result.Result` of a search, assembled the same way for every engine."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from explorer.engine.findings import CoverageCounts, Findings
from explorer.engine.fingerprint import collision_probability
from explorer.result import EvalFailure, PropertyVerdict, Result, Stats, StopReason, Trace
from pyspec.model import Model
from pyspec.symmetry import Symmetry


@dataclass(frozen=True)
class Counts:
    """Where a search got to."""

    distinct: int
    generated: int
    depth: int
    queue: int


@dataclass(frozen=True)
class Setup:
    """How a search ran: its engine, its store, its reduction."""

    backend: str
    fingerprints: bool
    symmetry: Symmetry | None
    store_bytes: int | None = None
    #: Bytes of a queue of states kept apart from the seen set (its peak), if any.
    queue_bytes: int | None = None




def assemble(
    model: Model,
    setup: Setup,
    counts: Counts,
    elapsed: float,
    stopped: StopReason | None,
    findings: Findings[Any],
    coverage: CoverageCounts,
    trace_of: Callable[[Any], Trace | None],
    error: tuple[BaseException, Any] | None,
    notes: list[str],
) -> Result:
    """The result of a search; ``error`` is an exception the model raised and the anchor
    of the state it concerns (its trace is rebuilt with ``trace_of``)."""
    stats = Stats(
        distinct_states=counts.distinct,
        total_states=counts.generated,
        depth=counts.depth,
        elapsed_s=elapsed,
        queue=counts.queue,
        backend=setup.backend,
        store_bytes=setup.store_bytes,
        queue_bytes=setup.queue_bytes,
        seen_by="fingerprint" if setup.fingerprints else "state",
        symmetry=setup.symmetry.sets if setup.symmetry is not None else (),
        collision_probability=collision_probability(counts.distinct, counts.generated)
        if setup.fingerprints else None,
    )
    failure: EvalFailure | None = None
    properties: list[PropertyVerdict] = []
    if error is not None:
        stopped = "error"
        failure = _failure(model, error[0], error[1], trace_of)
    try:
        properties = findings.verdicts(stopped is None, trace_of)
    except Exception as exc:
        stopped = "error"
        failure = failure or _failure(model, exc, None, trace_of)
    return Result(
        spec=model.spec_file,
        model=model.name,
        constants=dict(model.constants),
        stats=stats,
        stopped=stopped,
        properties=properties,
        coverage=coverage.coverage(),
        error=failure,
        notes=list(notes),
    )


def _failure(model: Model, exc: BaseException, anchor: Any,
             trace_of: Callable[[Any], Trace | None]) -> EvalFailure:
    info = model.explain_error(exc)
    try:
        trace = trace_of(anchor) if anchor is not None else None
    except Exception:
        trace = None
    return EvalFailure(info.message, info.pos, trace)
