"""Pass 1: every declaration claims its global name and goes into the symbol table.

Names are global across the merged modules: a name declared twice (in one file or two)
is an error at the second declaration (E102). A constant whose value is a set literal of
fresh names declares those names as model values.

A module parameter (``param N: T``) is bound by a declaration of ``N`` elsewhere in the
spec (the importer's ``const``, ``def`` or ``var``), or by ``import "m.cow" with { N = e }``,
or by neither: then it is a constant whose value a model or ``-D`` must give (a set of
model values, ``param S: set[S]``, declares the binding's names as its members). An
operator parameter (``param F(x: T): U``) only a def binds. Actions have a
namespace of their own: only scenario steps name them, so an enum constant (a PlusCal
``pc`` label) may share an action's name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from pyspec import ast as A
from pyspec import errorcodes as codes
from pyspec.checked import TYPE_OK, Symbols
from pyspec.model import SourcePos
from pyspec.passes.report import Report

#: The builtins on sequences (TLA+'s Len, Head, Tail, Append, SubSeq) and how many
#: arguments each takes.
SEQ_BUILTINS = {"len": 1, "head": 1, "tail": 1, "append": 2, "subseq": 3}
#: Functions every spec has; their names cannot be declared.
BUILTINS = frozenset({"card", "min", "max", "abs", *SEQ_BUILTINS})


@dataclass
class Declared:
    """The output of the pass: the symbol table (declarations only, no types yet) and
    where each global name is declared."""

    symbols: Symbols = field(default_factory=Symbols)
    global_names: dict[str, SourcePos] = field(default_factory=dict)
    #: Parameters bound by a declaration of the same name: name -> its declarations
    #: as parameters (checked against the binding's type by :mod:`.params`).
    bound_params: dict[str, list[A.ParamDecl]] = field(default_factory=dict)


def declare_all(modules: list[A.Module], report: Report) -> Declared:
    """Collect the declarations of ``modules`` (merged, the main file last)."""
    out = Declared()
    s = out.symbols
    types_at: SourcePos | None = None

    def claim(name: str, pos: SourcePos) -> bool:
        if name in BUILTINS:
            report.error(codes.DUPLICATE, f"'{name}' is a builtin and cannot be redeclared",
                         pos)
            return False
        if name in out.global_names:
            first = out.global_names[name]
            report.error(codes.DUPLICATE, f"'{name}' is already declared at {first}", pos)
            return False
        out.global_names[name] = pos
        return True

    # Declarations that only claim their name and go into one table.
    tables: dict[type, dict] = {
        A.RecordDecl: s.records, A.TypeAliasDecl: s.aliases, A.VarDecl: s.vars,
        A.DefDecl: s.defs, A.ActionDefDecl: s.action_defs, A.CheckDecl: s.checks,
        A.ViewDecl: s.views, A.ScenarioDecl: s.scenarios, A.TemporalDecl: s.temporals,
    }
    params: dict[str, list[A.ParamDecl]] = {}
    for module in modules:
        for d in module.decls:
            table = tables.get(type(d))
            if table is not None:
                if claim(d.name, d.pos):
                    table[d.name] = d
                continue
            match d:
                case A.ParamDecl():
                    params.setdefault(d.name, []).append(d)
                case A.ActionDecl():
                    if d.name in s.actions:
                        report.error(codes.DUPLICATE, f"action '{d.name}' is already declared "
                                     f"at {s.actions[d.name].pos}", d.pos)
                    else:
                        s.actions[d.name] = d
                case A.ConstDecl():
                    if claim(d.name, d.pos):
                        s.consts[d.name] = d
                        members = _model_values(d, modules)
                        if members is not None:
                            s.mv_sets[d.name] = [m for m, _ in members]
                            for m, pos in members:
                                if claim(m, pos):
                                    s.mv_members[m] = d.name
                        elif d.symmetric:
                            report.error(codes.TYPE_MISMATCH,
                                         "only a set of model values can be symmetric", d.pos)
                case A.EnumDecl():
                    if claim(d.name, d.pos):
                        s.enums[d.name] = d
                        for m, pos in d.members:
                            if claim(m, pos):
                                s.enum_members[m] = d.name
                case A.UnionDecl():
                    if claim(d.name, d.pos):
                        s.unions[d.name] = d
                        for v in d.variants:
                            if claim(v.name, v.pos):
                                s.variants[v.name] = (d.name, v)
                case A.InitDecl():
                    if s.init is not None:
                        report.error(codes.DUPLICATE,
                                     f"a second init block (the first is at {s.init.pos})",
                                     d.pos)
                    else:
                        s.init = d
                case A.SettingDecl(name="types"):
                    s.check_types = d.on
                    types_at = d.pos
                case A.SettingDecl():
                    s.deadlock = d.on
                case A.ModelDecl() if d.refines:
                    if d.name in s.model_refinements:
                        first = s.model_refinements[d.name].pos
                        report.error(codes.DUPLICATE, f"'for model {d.name}' is already "
                                     f"written at {first}", d.pos)
                    else:
                        s.model_refinements[d.name] = d
                case A.FairnessDecl():
                    s.fairness.append(d)
                case A.ModelDecl():
                    if d.name in s.models:
                        report.error(codes.DUPLICATE, f"model '{d.name}' is already declared "
                                     f"at {s.models[d.name].pos}", d.pos)
                    else:
                        s.models[d.name] = d
    if s.check_types and TYPE_OK in out.global_names:
        report.error(codes.DUPLICATE, f"'check types on' adds the invariant {TYPE_OK}, "
                     f"already declared at {out.global_names[TYPE_OK]}: rename that one",
                     types_at)
    _join_model_value_sets(s, report)
    bindings = _import_bindings(modules, params, report)
    for name, decls in params.items():
        if name in out.global_names:
            out.bound_params[name] = decls
            if name in bindings:
                report.error(codes.PARAM_BOUND_TWICE, f"parameter '{name}' is bound here and "
                             f"by its declaration at {out.global_names[name]}",
                             bindings[name].pos)
            continue
        first = decls[0]
        binding = bindings.get(name)
        if first.params is not None:
            report.error(codes.OPERATOR_PARAM_UNBOUND, f"parameter '{name}' takes arguments, "
                         f"so only a def binds it: declare 'def {name}(...)' with the same "
                         "parameters and result type in the spec that imports this module",
                         first.pos)
            continue
        if claim(name, first.pos):
            value = binding.value if binding else None
            if model_value_param(first):
                value = _model_value_binding(name, value, claim, s, report)
            s.consts[name] = A.ConstDecl(name, first.pos, first.type, value, False,
                                         doc=first.doc, annotations=first.annotations,
                                         end_line=first.end_line)
            s.params[name] = decls
    return out


def model_value_param(d: A.ParamDecl) -> bool:
    """``param S: set[S]``: a set of model values the importer, a model or ``-D`` gives
    (TLA+'s ``CONSTANT S`` that a configuration sets to ``{s1, s2}``)."""
    return isinstance(d.type, A.TSetSyn) and isinstance(d.type.elem, A.TNamedSyn) \
        and d.type.elem.name == d.name


def _model_value_binding(name: str, value: A.Expr | None, claim: Callable[[str, SourcePos], bool],
                         s: Symbols, report: Report) -> A.Expr | None:
    """A set-of-model-values parameter is one: its members are the binding's fresh names
    (none without a binding: a model or ``-D`` then says how many)."""
    members: list[tuple[str, SourcePos]] = []
    if value is not None:
        if not (isinstance(value, A.SetLit)
                and all(isinstance(i, A.Name) for i in value.items)):
            report.error(codes.TYPE_MISMATCH, f"'{name}' is a set of model values: bind it "
                         "with a set of fresh names, {a, b}", value.pos)
            value = None
        else:
            members = [(i.name, i.pos) for i in value.items]  # type: ignore[union-attr]
    s.mv_sets[name] = [m for m, _ in members]
    for m, pos in members:
        if claim(m, pos):
            s.mv_members[m] = name
    return value


def _join_model_value_sets(s: Symbols, report: Report) -> None:
    """``const Node = A | B`` where A and B are sets of model values (TLA+'s ``A \\cup
    B`` of two configurations' model values): Node becomes the one set of model values,
    A's members then B's, and A and B constant sets of its members, so that the three
    are sets of one type."""
    for name, d in list(s.consts.items()):
        parts = _union_parts(d.value)
        if parts is None or d.type is not None or name in s.mv_sets \
                or len(set(parts)) != len(parts) or name in parts:
            continue
        taken = [p for p in parts if any(p in u for u in s.mv_unions.values())]
        if not all(p in s.mv_sets and p not in s.mv_unions or p in taken for p in parts):
            continue
        if taken:
            report.error(codes.DUPLICATE, f"'{taken[0]}' is already joined into another set "
                         "of model values; a set can be part of one union", d.pos)
            continue
        symmetric = [p for p in parts if s.consts[p].symmetric] + \
            ([name] if d.symmetric else [])
        if symmetric:
            report.error(codes.TYPE_MISMATCH, f"'{symmetric[0]}' is part of the union "
                         f"'{name}' of sets of model values and cannot be symmetric "
                         "(symmetry reduction permutes a whole set of model values)", d.pos)
        s.mv_unions[name] = {p: s.mv_sets.pop(p) for p in parts}
        s.mv_sets[name] = [m for members in s.mv_unions[name].values() for m in members]
        for m in s.mv_sets[name]:
            s.mv_members[m] = name


def _union_parts(e: A.Expr | None) -> list[str] | None:
    """The names ``A | B | C`` joins, or None for another expression."""
    if isinstance(e, A.Name):
        return [e.name]
    if isinstance(e, A.BinOp) and e.op == "|":
        left, right = _union_parts(e.left), _union_parts(e.right)
        if left is not None and right is not None:
            return left + right
    return None


def _import_bindings(modules: list[A.Module], params: dict[str, list[A.ParamDecl]],
                     report: Report) -> dict[str, A.Binding]:
    """The parameters bound by ``import ... with { }``: each names a parameter of the
    imported module or of a module it imports, and is bound once."""
    by_file = {m.file: m for m in modules}
    out: dict[str, A.Binding] = {}
    for module in modules:
        for imp in module.imports:
            if not imp.bindings or imp.file not in by_file:
                continue
            reach = _closure(imp.file, by_file)
            for b in imp.bindings:
                if not any(p.pos.file in reach for p in params.get(b.name, [])):
                    report.error(codes.NOT_A_PARAMETER, f"\"{imp.target}\" (and what it "
                                 f"imports) declares no parameter '{b.name}'", b.pos)
                elif b.name in out:
                    report.error(codes.PARAM_BOUND_TWICE, f"parameter '{b.name}' is already "
                                 f"bound at {out[b.name].pos}", b.pos)
                else:
                    out[b.name] = b
    return out


def _closure(file: str, by_file: dict[str, A.Module]) -> set[str]:
    """``file`` and every file it imports, transitively."""
    seen: set[str] = set()
    todo = [file]
    while todo:
        f = todo.pop()
        if f in seen or f not in by_file:
            continue
        seen.add(f)
        todo.extend(i.file for i in by_file[f].imports if i.file is not None)
    return seen


def _model_values(d: A.ConstDecl, modules: list[A.Module]
                  ) -> list[tuple[str, SourcePos]] | None:
    """A const whose value is a set literal of fresh names declares model values."""
    if not isinstance(d.value, A.SetLit) or d.type is not None:
        return None
    if not d.value.items or not all(isinstance(i, A.Name) for i in d.value.items):
        return None
    names = [(i.name, i.pos) for i in d.value.items]  # type: ignore[union-attr]
    declared = [n for n, _ in names if _declared_anywhere(n, modules)]
    return None if declared else names


def _declared_anywhere(name: str, modules: list[A.Module]) -> bool:
    for module in modules:
        for d in module.decls:
            if getattr(d, "name", None) == name and not isinstance(d, A.InitDecl):
                return True
            if isinstance(d, A.EnumDecl) and any(m == name for m, _ in d.members):
                return True
            if isinstance(d, A.UnionDecl) and any(v.name == name for v in d.variants):
                return True
    return name in BUILTINS
