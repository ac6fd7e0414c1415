"""The engine interface: what every engine takes, gives and may call back.

An engine is a module with ``check(model, options) -> Result`` and an :class:`Engine`
entry in :data:`explorer.engine.registry.ENGINES`. It explores every reachable state of
``model`` breadth-first with TLC's counting rules (or stops at a limit), prints nothing,
and reports progress only through ``options.progress``. An engine that meets something it
cannot represent raises :class:`HandOver`: the registry reruns the search on the scalar
engine, which is the reference for every answer, and notes why.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from explorer.result import Result
from pyspec.model import Model, State


@dataclass(frozen=True)
class Progress:
    distinct_states: int
    total_states: int
    depth: int
    queue: int
    elapsed_s: float


class Observer(Protocol):
    """Sees every stored state and every generated transition, for graphs and views.

    ``next_id`` is -1 for a successor that is not stored (outside a constraint or past
    ``max_depth``). Observers run inside the model's error handling, so they may call
    model code (views, invariants).
    """

    def state(self, sid: int, state: State, level: int) -> None: ...

    def edge(
        self, sid: int, state: State, action: int, params: tuple, next_id: int, next_state: State
    ) -> None: ...


class EdgeSink(Protocol):
    """Sees a batch engine's transitions as arrays (the liveness check's graph): each
    transition's source id, action, parameter binding number and successor key, and the
    stored states' keys and packed words, in id order."""

    def transitions(self, src: object, acts: object, bindings: object, keys: object
                    ) -> None: ...

    def stored(self, keys: object, words: list, initial: bool) -> None: ...


@dataclass
class Options:
    #: Collect one trace per violated property instead of stopping at the first.
    #: Forced on when the model expects violations, so that every property is judged.
    keep_going: bool = False
    #: ``None``: the model's own ``check_deadlock``.
    check_deadlock: bool | None = None
    #: False: the temporal properties are left out (a TLC configuration without its
    #: PROPERTY lines), so that engines that keep no transitions check the rest.
    temporal: bool = True
    max_states: int | None = None
    max_depth: int | None = None
    timeout_s: float | None = None
    max_memory_mb: float | None = None
    progress: Callable[[Progress], None] | None = None
    progress_interval_s: float = 2.0
    observer: Observer | None = None
    #: The numpy engine's transitions for the liveness check (:mod:`explorer.liveness`).
    edges: EdgeSink | None = None
    #: An engine of :data:`explorer.engine.registry.ENGINES` by name, or ``auto``.
    backend: str = "auto"
    #: Worker processes, each owning a share of the fingerprint space (array code).
    workers: int = 1
    #: Store 64-bit fingerprints instead of whole states (traces are replayed).
    fingerprint: bool = False
    #: Symmetry reduction over the model's ``symmetric`` sets: None = when it declares
    #: some (TLC's rule: on when configured), False = off.
    symmetry: bool | None = None
    #: A directory to keep a snapshot of the search in (``--checkpoint``), written at
    #: BFS level boundaries at most every ``checkpoint_every_s`` seconds and when a limit
    #: stops the search; only engines with ``Engine.checkpoints`` take it.
    checkpoint: str | None = None
    checkpoint_every_s: float = 300.0
    #: A directory whose snapshot the search resumes from (``--recover``).
    recover: str | None = None
    #: ``--cluster``: search on Ray (:mod:`explorer.engine.cluster`): ``auto`` starts a
    #: local Ray of ``workers`` processes, otherwise the address of a running cluster.
    cluster: str | None = None


class HandOver(Exception):  # noqa: N818 - a request, not an error
    """The engine cannot go on with this model (a value its representation cannot hold,
    a fingerprint collision in exact mode); the message says why."""


@dataclass(frozen=True)
class Engine:
    """One registered engine."""

    #: The ``--backend`` name and ``Stats.backend`` of its results.
    name: str
    #: Runs one search; may raise :class:`HandOver`.
    check: Callable[[Model, Options], Result]
    #: The kind of generated program it runs (``Model.programs``), None for the scalar
    #: interface of every model.
    program: str | None
    #: A few words for ``--help``.
    summary: str
    #: Whether it takes ``Options.checkpoint`` and ``Options.recover``.
    checkpoints: bool = False
