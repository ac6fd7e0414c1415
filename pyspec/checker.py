"""Static checks: names, types, finiteness, effects, models, all errors collected.

:func:`check` runs the passes of :mod:`pyspec.passes` in order over the merged modules
and returns a :class:`~pyspec.checked.Checked` value: the symbol table, the type of every
expression, and what every name, call, field and pattern resolves to. The code
generators read only that; they never re-derive a type. Editors and other tools call
:func:`check` (or :func:`pyspec.loader.load_spec`) and read ``Checked.diagnostics``.
"""

from __future__ import annotations

from pyspec import ast as A
from pyspec.checked import Checked
from pyspec.errors import Diagnostic, SourceCache
from pyspec.passes import finiteness, lints, models, temporal
from pyspec.passes.branching import warn_branching
from pyspec.passes.effects import Effects
from pyspec.passes.names import declare_all
from pyspec.passes.params import check_params
from pyspec.passes.report import Report
from pyspec.passes.typecheck import Typer


def check(modules: list[A.Module], sources: SourceCache) -> Checked:
    """Check merged modules (the main file last). Errors and warnings are in
    ``Checked.diagnostics``, in the order the passes found them."""
    report = Report(sources)
    declared = declare_all(modules, report)
    sym = declared.symbols
    typer = Typer(sym, declared.global_names, report)
    typer.resolve_declarations()
    finiteness.check_variables(sym, report)
    effects = Effects(typer)
    effects.check_init()
    for name, action in sym.actions.items():
        effects.check_action(name, action)
    effects.check_unperformed()
    typer.check_properties()
    temporal.check_temporal(typer)
    typer.check_views()
    typer.check_defs()
    check_params(typer, declared.bound_params)
    models.check_models(typer)
    models.check_scenarios(typer)
    lints.warn_all(modules, sym, typer.used_defs, report)
    warn_branching(sym, typer, report)
    return Checked(modules, sym, typer.types, typer.names, typer.calls, typer.fields,
                   typer.patterns, typer.const_deps, declared.global_names,
                   report.diagnostics)


def check_override(checked: Checked, sources: SourceCache, name: str,
                   value: A.Expr) -> list[Diagnostic]:
    """Check a constant's value given outside the spec (``-D NAME=VALUE``); its types
    and resolved names join ``checked``'s tables."""
    report = Report(sources)
    typer = Typer(checked.symbols, checked.global_names, report)
    typer.types, typer.names, typer.calls = checked.types, checked.names, checked.calls
    typer.fields, typer.patterns = checked.fields, checked.patterns
    typer.const_deps = checked.const_deps
    typer.mark_checked_defs(set(checked.symbols.def_types))
    models.check_override(typer, name, value)
    return report.diagnostics
