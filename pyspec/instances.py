"""``import "m.cow" as X with { N = e }``: TLA+'s ``X == INSTANCE M WITH N <- e``.

The namespace of a spec is flat, so an instance is a copy of the module in which every
name the module declares is renamed ``X!Name`` (as TLA+ writes an instance's
definitions), and its parameters are substituted: a parameter bound to a name becomes
that name (a constant, a variable, a def, a set of model values: anything the name is),
one bound to another expression a def ``X!N`` of the parameter's type, and one the
import leaves unbound stays a parameter of the spec, shared with every module that
declares it (TLA+ substitutes a same-named identifier). Two imports of one module with
different aliases are two copies, so they can bind its parameters differently.

An instanced module holds definitions only (parameters, constants, types and defs): its
variables, actions and checks would be the spec's own, and TLA+'s ``INSTANCE`` adds none
to the instantiating module either (E425).
"""

from __future__ import annotations

import copy
from dataclasses import fields, is_dataclass

from pyspec import ast as A
from pyspec import errorcodes as codes
from pyspec.errors import Diagnostic, SourceCache
from pyspec.model import SourcePos

#: What an instanced module may declare.
_DEFINITIONS = (A.ParamDecl, A.ConstDecl, A.EnumDecl, A.RecordDecl, A.UnionDecl,
                A.TypeAliasDecl, A.DefDecl, A.ActionDefDecl)
#: Node kinds whose ``name`` is a field's, which an instance does not rename.
_FIELD_NAMES = (A.Field, A.FieldDecl, A.FieldAcc, A.Arg)


def expand_instances(modules: list[A.Module], sources: SourceCache) -> list[Diagnostic]:
    """Replace, in place, each module imported only ``as X`` by its instances (a module
    also imported plainly stays as well). Instances come right after the module, so the
    order stays the one of dependencies."""
    by_file = {m.file: m for m in modules}
    declared = _declared_names(modules)
    diags: list[Diagnostic] = []
    copies: dict[str, list[A.Module]] = {}
    plain = {modules[-1].file} if modules else set()
    for module in modules:
        for imp in module.imports:
            if imp.file is None or imp.file not in by_file:
                continue
            if imp.alias is None:
                plain.add(imp.file)
                continue
            target = by_file[imp.file]
            copies.setdefault(target.file, []).append(
                _instance(target, imp, declared, sources, diags))
            imp.bindings = []  # substituted in the copy
    out: list[A.Module] = []
    for module in modules:
        if module.file in plain:
            out.append(module)
        out.extend(copies.get(module.file, []))
    modules[:] = out
    return diags


def _instance(target: A.Module, imp: A.Import, declared: set[str], sources: SourceCache,
              diags: list[Diagnostic]) -> A.Module:
    alias = imp.alias
    assert alias is not None

    def error(code: str, message: str, pos: SourcePos) -> None:
        diags.append(Diagnostic(code, message, pos, source_line=sources.line(pos)))

    params = {d.name: d for d in target.decls if isinstance(d, A.ParamDecl)}
    renames: dict[str, str] = {}
    for d in target.decls:
        if not isinstance(d, _DEFINITIONS):
            error(codes.NOT_INSTANCEABLE, f"'import \"{imp.target}\" as {alias}' makes an "
                  f"instance of a module of definitions (param, const, type, enum, record, "
                  f"union, def); this declaration would be the spec's own: import the "
                  f"module without 'as', or bind a parameter to the importer's one", d.pos)
            continue
        if isinstance(d, A.ParamDecl):
            continue
        renames[d.name] = f"{alias}!{d.name}"
        if isinstance(d, A.EnumDecl):
            renames.update((m, f"{alias}!{m}") for m, _ in d.members)
        elif isinstance(d, A.UnionDecl):
            renames.update((v.name, f"{alias}!{v.name}") for v in d.variants)
        elif isinstance(d, A.ConstDecl) and isinstance(d.value, A.SetLit) and d.type is None:
            fresh = [i.name for i in d.value.items
                     if isinstance(i, A.Name) and i.name not in declared]
            if len(fresh) == len(d.value.items):  # a set of model values: its members too
                renames.update((m, f"{alias}!{m}") for m in fresh)
    added: list[A.ConstDecl] = []
    as_defs: list[tuple[A.Binding, A.ParamDecl]] = []
    bound: set[str] = set()
    for b in imp.bindings:
        p = params.get(b.name)
        if p is None:
            error(codes.NOT_A_PARAMETER, f"\"{imp.target}\" declares no parameter "
                  f"'{b.name}'", b.pos)
            continue
        if b.name in bound:
            error(codes.PARAM_BOUND_TWICE, f"parameter '{b.name}' is bound twice", b.pos)
            continue
        bound.add(b.name)
        name = f"{alias}!{b.name}"
        if isinstance(b.value, A.Name):  # substituted: the name is whatever it names
            renames[b.name] = b.value.name
        elif _model_value_set(p):
            if not (isinstance(b.value, A.SetLit)
                    and all(isinstance(i, A.Name) for i in b.value.items)):
                error(codes.TYPE_MISMATCH, f"'{b.name}' is a set of model values: bind it "
                      "with a set of fresh names, {a, b}, or the name of a set of model "
                      "values", b.value.pos)
            renames[b.name] = name
            added.append(A.ConstDecl(name, b.pos, None, b.value, False))
        elif p.params is not None:
            error(codes.OPERATOR_PARAM_UNBOUND, f"parameter '{b.name}' takes arguments: "
                  "bind it to the name of a def with the same parameters", b.value.pos)
        else:  # an expression of the importer's: a def of the parameter's type
            renames[b.name] = name
            as_defs.append((b, p))
    decls: list[A.Decl] = [
        _renamed(d, renames) for d in target.decls  # type: ignore[misc]
        if isinstance(d, _DEFINITIONS) and not (isinstance(d, A.ParamDecl) and d.name in bound)]
    decls += added
    # Such a def's type is the module's (renamed), its value the importer's (as written).
    decls += [A.DefDecl(renames[b.name], b.pos, None, _renamed(p.type, renames), b.value)
              for b, p in as_defs]  # type: ignore[arg-type]
    return A.Module(target.file, alias, [], decls)


def _model_value_set(p: A.ParamDecl) -> bool:
    return isinstance(p.type, A.TSetSyn) and isinstance(p.type.elem, A.TNamedSyn) \
        and p.type.elem.name == p.name


def _renamed(node: object, renames: dict[str, str]) -> object:
    """A deep copy of ``node`` with every identifier in ``renames`` renamed (binding and
    bound occurrences alike, so the copy means what the original does); field names
    are kept."""
    return _rename(copy.deepcopy(node), renames)


def _rename(node: object, renames: dict[str, str]) -> object:
    """``node`` with its identifiers renamed: in place where it is mutable, else a new
    tuple. A string is an identifier as a node's ``name``-like field, an item of a list of
    names (a pattern's bound names), or the first of a ``(name, pos)`` pair (an enum's
    members); a field's name (``p.ref``, ``with { ref: 1 }``, ``Page(ref: 1)``) is not."""
    if isinstance(node, list):
        node[:] = [renames.get(i, i) if isinstance(i, str) else _rename(i, renames)
                   for i in node]
    elif isinstance(node, tuple):
        if len(node) == 2 and isinstance(node[0], str) and isinstance(node[1], SourcePos):
            return (renames.get(node[0], node[0]), node[1])
        return tuple(i if isinstance(i, str) else _rename(i, renames) for i in node)
    elif is_dataclass(node) and not isinstance(node, (type, A.Annotation, SourcePos)):
        for f in fields(node):
            value = getattr(node, f.name)
            if isinstance(value, str):
                if f.name in ("name", "func", "var", "ctor", "variant") \
                        and not isinstance(node, _FIELD_NAMES):
                    setattr(node, f.name, renames.get(value, value))
            elif f.name != "pos":
                setattr(node, f.name, _rename(value, renames))
    return node


def _declared_names(modules: list[A.Module]) -> set[str]:
    """Every name some module declares (a set literal of other names is model values)."""
    out: set[str] = set()
    for m in modules:
        for d in m.decls:
            out.add(getattr(d, "name", ""))
            if isinstance(d, A.EnumDecl):
                out.update(n for n, _ in d.members)
            elif isinstance(d, A.UnionDecl):
                out.update(v.name for v in d.variants)
    return out
