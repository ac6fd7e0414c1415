"""Symmetry reduction for one search: which sets are permuted, and what to tell the user.

The model declares its symmetric sets and its variables' types (:class:`pyspec.model.Model`);
this decides, once per search, whether states are stored canonical
(:class:`pyspec.symmetry.Symmetry`).
"""

from __future__ import annotations

from explorer.engine.interface import Options
from pyspec.errors import ModelConfigError
from pyspec.model import Model
from pyspec.symmetry import Symmetry, symmetric_sets


def reduction(model: Model, options: Options) -> tuple[Symmetry | None, list[str]]:
    """The symmetry of a search (None: off) and notes on it."""
    if model.symmetric and options.symmetry is not False and model.var_types is None:
        raise ModelConfigError(
            f"model {model.name!r} declares symmetric sets ({', '.join(model.symmetric)}) but "
            "not the types of its variables (var_types): symmetry reduction needs them; "
            "set var_types or pass --no-symmetry")
    sets = symmetric_sets(model, options.symmetry)
    if not sets:
        return None, []
    if options.observer is not None:
        return None, ["symmetry reduction is off: diagrams draw every state"]
    assert model.var_types is not None
    try:
        symmetry = Symmetry(model.var_types, sets)
    except ValueError as exc:
        raise ModelConfigError(f"symmetry reduction cannot rename {exc}") from None
    return symmetry, model.programs.symmetry_warnings(tuple(sorted(sets)))
