"""Which engine runs a search: ``--backend scalar``, ``numpy`` or ``auto``.

``auto`` runs the array engine (:mod:`explorer.backend_numpy`) on specs whose state space
is large enough for it to pay off and that its compiler supports, and the scalar engine
otherwise, saying why in the result's notes when a large spec falls back. The scalar
engine always runs searches that record diagrams (an observer sees every state).
"""

from __future__ import annotations

from explorer.result import Result
from explorer.search import Options, check_scalar
from pyspec.errors import ModelConfigError
from pyspec.layout import Layout, LayoutError
from pyspec.model import Model
from pyspec.vectorize import ArrayProgram, Unsupported, program_of

BACKENDS = ("auto", "scalar", "numpy")
#: ``auto`` picks the array engine when the state type has at least this many values:
#: below it, a search is over in a blink either way.
AUTO_MIN_STATES = 2**17


def run_search(model: Model, options: Options) -> Result:
    """Search with the engine ``options.backend`` asks for (see the module doc)."""
    program, note = choose(model, options)
    if program is None:
        result = check_scalar(model, options)
    else:
        from explorer.backend_numpy import check_numpy

        result = check_numpy(model, program, options)
    if note:
        result.notes.insert(0, note)
    return result


def choose(model: Model, options: Options) -> tuple[ArrayProgram | None, str | None]:
    """The array program to run (None: the scalar engine) and a note on the choice."""
    wanted = options.backend
    if wanted not in BACKENDS:
        raise ModelConfigError(f"unknown backend {wanted!r} (one of {', '.join(BACKENDS)})")
    if wanted == "scalar":
        return None, None
    if options.observer is not None:
        if wanted == "numpy":
            raise ModelConfigError("--backend numpy cannot record diagrams (every state is "
                                   "drawn from the scalar engine); use --backend scalar")
        return None, None
    if wanted == "auto" and state_space(model) < AUTO_MIN_STATES:
        return None, None
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
