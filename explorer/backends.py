"""Which engine runs a search: ``--backend scalar``, ``numpy`` or ``auto``.

``auto`` runs the array engine (:mod:`explorer.backend_numpy`) on large searches of specs
its compiler supports, and the scalar engine otherwise, saying why in the result's notes
when a large spec falls back. Large means: a state type of at least ``AUTO_MIN_STATES``
values, and a search that does not end within ``AUTO_PROBE_STATES`` states on the scalar
engine (which costs the array engine a fixed time per BFS level, and kernel models have
vast state types and few reachable states). Only models compiled from a spec file have
array code; hand-written Python models run on the scalar engine. Both engines give the
same answers; the
choice only changes the time. The scalar engine always runs scenarios and searches that
record diagrams (an observer sees every state).
"""

from __future__ import annotations

from dataclasses import replace

from explorer.result import Result
from explorer.scenario import ScenarioModel
from explorer.search import Options, check_scalar
from pyspec.codegen.arrays import ArrayProgram, Unsupported, program_of, spec_of
from pyspec.errors import ModelConfigError
from pyspec.layout import Layout, LayoutError
from pyspec.model import Model

BACKENDS = ("auto", "scalar", "numpy")
#: ``auto`` picks the array engine when the state type has at least this many values:
#: below it, a search is over in a blink either way.
AUTO_MIN_STATES = 2**17
#: ... and when the scalar engine does not finish within this many states.
AUTO_PROBE_STATES = 5_000


def run_search(model: Model, options: Options) -> Result:
    """Search with the engine ``options.backend`` asks for (see the module doc)."""
    program, note = choose(model, options)
    if program is None:
        result = check_scalar(model, options)
    else:
        from explorer.backend_numpy import check_numpy

        probe = _probe(model, options)
        if probe is not None and (probe.stopped != "max_states" or _capped(options)):
            result = probe
        elif options.workers > 1:
            from explorer.parallel import check_parallel

            result = check_parallel(model, program, options)
        else:
            result = check_numpy(model, program, options)
            if probe is not None:  # the probe's time was spent on this search too
                result.stats = replace(result.stats, elapsed_s=result.stats.elapsed_s
                                       + probe.stats.elapsed_s)
    if note:
        result.notes.insert(0, note)
    return result


def _probe(model: Model, options: Options) -> Result | None:
    """``auto``: the scalar engine's search cut at a few thousand states (None for an
    explicit backend); when it ended before the cut, it is the answer."""
    if options.backend != "auto":
        return None
    if _capped(options):
        return check_scalar(model, options)
    return check_scalar(model, replace(options, max_states=AUTO_PROBE_STATES, progress=None))


def _capped(options: Options) -> bool:
    """The user's own state limit is within the probe's."""
    return options.max_states is not None and options.max_states <= AUTO_PROBE_STATES


def choose(model: Model, options: Options) -> tuple[ArrayProgram | None, str | None]:
    """The array program to run (None: the scalar engine) and a note on the choice."""
    wanted = options.backend
    if wanted not in BACKENDS:
        raise ModelConfigError(f"unknown backend {wanted!r} (one of {', '.join(BACKENDS)})")
    if wanted == "scalar" or isinstance(model, ScenarioModel):
        return None, None  # scenarios: litmus tests of a few states, on the scalar engine
    if options.observer is not None:
        if wanted == "numpy":
            raise ModelConfigError("--backend numpy cannot record diagrams (every state is "
                                   "drawn from the scalar engine); use --backend scalar")
        return None, None
    if wanted == "auto" and (state_space(model) < AUTO_MIN_STATES or spec_of(model) is None):
        return None, None  # small, or a model not made from a spec by instantiate()
    try:
        return program_of(model), None
    except Unsupported as exc:
        if wanted == "numpy":
            raise ModelConfigError(f"--backend numpy cannot run model {model.name}: {exc}") \
                from None
        return None, f"the scalar engine ran this model: the numpy backend does not support {exc}"


def state_space(model: Model) -> int:
    """How many values the model's state type has (0 when it cannot tell)."""
    var_types = getattr(model, "var_types", None)
    if var_types is None:
        return 0
    try:
        layout = Layout(var_types)
    except LayoutError:
        return 0
    return 2**layout.bits
