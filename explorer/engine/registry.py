"""The engines, and which one runs a search: ``--backend NAME`` or ``auto``.

To add an engine, write one module like :mod:`explorer.engine.arrays` (a ``check(model,
options) -> Result`` and an ``ENGINE`` entry) and add its ``ENGINE`` to
:data:`REGISTERED`; an engine that runs generated code names the kind of program it
needs (``Model.programs``). This module imports the engines; no engine imports it.

``auto`` runs the compiled engine on large searches of specs its generator supports when
llvmlite is installed (a cold compile takes a few seconds, once per spec and machine: the
machine code is cached), else an array engine on large searches of specs its compiler
supports, and the scalar engine otherwise, saying why in the result's notes when a large
spec falls back.
Large means: a state type of at least ``AUTO_MIN_STATES`` values, and a search that does
not end within ``AUTO_PROBE_STATES`` states on the scalar engine (which costs the array
engine a fixed time per BFS level, and kernel models have vast state types and few
reachable states). ``--cluster`` (``Options.cluster``) always runs the cluster engine
(:mod:`explorer.engine.cluster`), with no probe. Only models compiled from a spec file have
array code; hand-written Python models run on the scalar engine. Every engine gives the
same answers; the choice only changes the time. The scalar engine always runs searches
that record diagrams (an observer sees every state).
"""

from __future__ import annotations

import copy
from dataclasses import replace

from explorer.engine import arrays, cluster, compiled, scalar, workers
from explorer.engine.interface import Engine, HandOver, Options
from explorer.result import Result
from pyspec.errors import ModelConfigError
from pyspec.layout import Layout, LayoutError
from pyspec.model import Model, NoProgram
from pyspec.symmetry import symmetric_sets

#: Every engine: one process each, then the engines run when ``--workers`` is above 1
#: (by name; an engine without such a variant ignores ``--workers``).
REGISTERED: tuple[Engine, ...] = (scalar.ENGINE, arrays.ENGINE, compiled.ENGINE)
PARALLEL: tuple[Engine, ...] = (workers.ENGINE,)
#: The reference engine: it runs every model and takes over from an engine that hands over.
REFERENCE = scalar.ENGINE
#: What ``auto`` runs a large search of a spec with, when the spec has its program.
AUTO = arrays.ENGINE

ENGINES: dict[str, Engine] = {e.name: e for e in REGISTERED}
BACKENDS = ("auto", *ENGINES)
#: ``auto`` picks the array engine when the state type has at least this many values:
#: below it, a search is over in a blink either way.
AUTO_MIN_STATES = 2**17
#: ... and when the scalar engine does not finish within this many states.
AUTO_PROBE_STATES = 5_000


def backend_help() -> str:
    """``--backend``'s help: every engine's summary."""
    engines = ", ".join(f"{e.name} ({e.summary})" for e in REGISTERED)
    return f"the engine: {engines}, auto ({AUTO.name} for large specs it supports; the default)"


def check(model: Model, options: Options | None = None) -> Result:
    """Explore every reachable state of ``model`` (or until a limit) and report verdicts."""
    validate_expectations(model)
    options = options or Options()
    if model.temporal and not options.temporal:
        left_out = ", ".join(t.name for t in model.temporal)
        result = check(without_temporal(model), options)
        result.notes.insert(0, f"temporal properties not checked (--no-temporal): {left_out}")
        return result
    if model.temporal:
        _liveness_engines(model, options)
        return _liveness(model, options)
    if options.cluster:
        return _run(on_cluster(model, options), model, options)
    engine, note = choose(model, options)
    if options.checkpoint or options.recover:  # no probe: the snapshot is the engine's
        result = _run(engine, model, options)
    elif engine is REFERENCE:
        result = REFERENCE.check(model, options)
    else:
        probe = _probe(model, options)
        if probe is not None and (probe.stopped != "max_states" or _capped(options)):
            result = probe
        elif options.workers > 1:
            result = _run(_parallel(engine), model, options)
        else:
            result = _run(engine, model, options)
            if probe is not None:  # the probe's time was spent on this search too
                result.stats = replace(result.stats, elapsed_s=result.stats.elapsed_s
                                       + probe.stats.elapsed_s)
    if note:
        result.notes.insert(0, note)
    return result


def without_temporal(model: Model) -> Model:
    """``model`` with no temporal property and no fairness (a shallow copy: the states,
    actions and compiled programs are the model's own)."""
    safety = copy.copy(model)
    safety.temporal, safety.fairness = (), ()
    return safety


def _liveness_engines(model: Model, options: Options) -> None:
    """Refuse, naming why, the engines that cannot record the graph temporal properties
    are checked on: each keeps only its states, not the transitions between them."""
    names = ", ".join(t.name for t in model.temporal)
    why = None
    if options.cluster:
        why = ("--cluster: the shards keep no transitions, and the check needs the whole "
               "state graph in one process; run without --cluster")
    elif options.workers > 1:
        why = ("--workers: the worker processes keep no transitions, and the check needs "
               "the whole state graph in one process; run with --workers 1")
    elif options.backend == compiled.ENGINE.name:
        why = (f"--backend {compiled.ENGINE.name}: the compiled search keeps no transitions; "
               f"use --backend {arrays.ENGINE.name} (auto's choice for a large spec) or "
               f"{REFERENCE.name}")
    if why is not None:
        raise ModelConfigError(f"temporal properties ({names}) are checked on the recorded "
                               f"state graph. {why}; or leave them out with --no-temporal")


def _liveness(model: Model, options: Options) -> Result:
    """A search that records the graph for the temporal properties: on the numpy engine
    when the choice would be a batch engine and its program runs the model, else on the
    scalar engine (explorer.liveness.check says which and why). Imported here: it needs
    scipy, which a spec without temporal properties need not load."""
    from explorer.liveness import check as liveness

    engine, _ = choose(model, options)
    batch = None
    if engine is not REFERENCE and arrays.PROGRAM in model.programs.kinds:
        try:
            model.programs.get(arrays.PROGRAM)
            batch = arrays.ENGINE
        except NoProgram:
            batch = None
    return liveness.check(model, options, REFERENCE, batch)


def validate_expectations(model: Model) -> None:
    """A misspelt expectation would otherwise be silently ignored."""
    known = {c.name for c in (*model.invariants, *model.action_properties, *model.reachables,
                              *model.temporal)}
    known.add("deadlock")
    unknown = sorted(set(model.expect_violated) - known)
    if unknown:
        raise ModelConfigError(
            f"model {model.name!r} expects unknown properties to be violated: "
            + ", ".join(unknown)
        )


def _run(engine: Engine, model: Model, options: Options) -> Result:
    """Run ``engine``; when it hands over, the reference engine runs the search."""
    try:
        return engine.check(model, options)
    except HandOver as exc:
        result = REFERENCE.check(model, options)
        result.notes.append(f"the {engine.name} backend handed over to the "
                            f"{REFERENCE.name} engine ({exc})")
        return result


def _parallel(engine: Engine) -> Engine:
    return next((e for e in PARALLEL if e.name == engine.name), engine)


def _probe(model: Model, options: Options) -> Result | None:
    """``auto``: the scalar engine's search cut at a few thousand states (None for an
    explicit backend); when it ended before the cut, it is the answer."""
    if options.backend != "auto":
        return None
    if _capped(options):
        return REFERENCE.check(model, options)
    return REFERENCE.check(model, replace(options, max_states=AUTO_PROBE_STATES,
                                          progress=None))


def _capped(options: Options) -> bool:
    """The user's own state limit is within the probe's."""
    return options.max_states is not None and options.max_states <= AUTO_PROBE_STATES


def choose(model: Model, options: Options) -> tuple[Engine, str | None]:
    """The engine to run and a note on the choice."""
    wanted = options.backend
    if wanted not in BACKENDS:
        raise ModelConfigError(f"unknown backend {wanted!r} (one of {', '.join(BACKENDS)})")
    engine = AUTO if wanted == "auto" else ENGINES[wanted]
    if options.checkpoint or options.recover:
        return checkpointing(engine, model, options), None
    why_not = None
    if wanted == "auto":
        why_not = _why_not_compiled(model, options)
        if why_not is None:
            return compiled.ENGINE, None
    elif engine is compiled.ENGINE and (options.workers > 1
                                        or symmetric_sets(model, options.symmetry)):
        raise ModelConfigError("--backend compiled runs one worker without symmetry "
                               "reduction (--no-symmetry turns it off)")
    engine, note = _choose(model, options, engine)
    if why_not and engine is not REFERENCE:
        note = f"the {compiled.ENGINE.name} engine did not run: {why_not}"
    return engine, note


def _why_not_compiled(model: Model, options: Options) -> str | None:
    """``auto``: None when the compiled engine is the one to run (a large search of a
    spec its generator supports, llvmlite installed, one worker, no diagrams), else why
    not (``""``: nothing worth a note)."""
    if options.observer is not None or state_space(model) < AUTO_MIN_STATES \
            or compiled.PROGRAM not in model.programs.kinds:
        return ""
    if options.workers > 1:
        return "it runs one worker"
    if symmetric_sets(model, options.symmetry):
        return "it does not support symmetry reduction"
    if not compiled.llvmlite_available():
        return "llvmlite is not installed"
    try:
        compiled.generated_source(model)
    except NoProgram as exc:
        return f"it does not support {exc}"
    return None


def _choose(model: Model, options: Options, engine: Engine) -> tuple[Engine, str | None]:
    wanted = options.backend
    if engine.program is None:
        return engine, None
    if options.observer is not None:
        if wanted != "auto":
            raise ModelConfigError(f"--backend {wanted} cannot record diagrams (every state is "
                                   f"drawn from the {REFERENCE.name} engine); use --backend "
                                   f"{REFERENCE.name}")
        return REFERENCE, None
    if wanted == "auto" and (state_space(model) < AUTO_MIN_STATES
                             or engine.program not in model.programs.kinds):
        return REFERENCE, None  # small, or a model not made from a spec
    try:
        model.programs.get(engine.program)
    except NoProgram as exc:
        if wanted != "auto":
            raise ModelConfigError(f"--backend {wanted} cannot run model {model.name}: {exc}") \
                from None
        return REFERENCE, (f"the {REFERENCE.name} engine ran this model: the {engine.name} "
                           f"backend does not support {exc}")
    return engine, None


def on_cluster(model: Model, options: Options) -> Engine:
    """``--cluster``: the cluster engine, when it can run this search; refused otherwise."""
    why = None
    if options.backend not in ("auto", arrays.ENGINE.name):
        why = f"it runs the {arrays.ENGINE.name} engine's array code, not --backend " \
              f"{options.backend}"
    elif options.observer is not None:
        why = f"diagrams are drawn from the {REFERENCE.name} engine"
    else:
        try:
            model.programs.get(cluster.ENGINE.program or "")
        except NoProgram as exc:
            why = f"its shards run the {arrays.ENGINE.name} engine's array code, which " \
                  f"cannot run model {model.name}: {exc} (only the {REFERENCE.name} engine " \
                  "runs it: run it without --cluster, on one process)"
    if why is not None:
        raise ModelConfigError(f"--cluster: {why}")
    return cluster.ENGINE


def checkpointing(engine: Engine, model: Model, options: Options) -> Engine:
    """``--checkpoint``/``--recover``: the engine, when it can keep snapshots of this
    search (``auto`` picks :data:`AUTO` whatever the size); refused otherwise."""
    why = None
    if not engine.checkpoints:
        why = f"the {engine.name} engine keeps no checkpoints (use --backend {AUTO.name})"
    elif options.workers > 1:
        why = "one worker only (--workers 1)"
    elif options.observer is not None:
        why = f"diagrams are drawn from the {REFERENCE.name} engine, which keeps none"
    elif engine.program is not None:
        try:
            model.programs.get(engine.program)
        except NoProgram as exc:
            why = f"the {engine.name} engine cannot run model {model.name}: {exc}"
    if why is not None:
        raise ModelConfigError(f"--checkpoint/--recover: {why}")
    return engine


def state_space(model: Model) -> int:
    """How many values the model's state type has (0 when it cannot tell)."""
    if model.var_types is None:
        return 0
    try:
        layout = Layout(model.var_types)
    except LayoutError:
        return 0
    return 2**layout.bits
