"""A checked spec as plain data: the symbol table and what every name resolves to.

The checker's passes (:mod:`pyspec.passes`) fill these; the code generators
(:mod:`pyspec.codegen`) and the symmetry analysis read them and never re-derive a type or
a resolution. A resolution is a small frozen dataclass per kind of referent, so readers
``match`` on its class instead of decoding tuples.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pyspec import ast as A
from pyspec.errors import Diagnostic
from pyspec.model import SourcePos
from pyspec.types import Type

# -- what a name, call, field access or pattern resolves to ----------------------------


@dataclass(frozen=True)
class Local:
    """A parameter, binder, ``let`` or pattern binding."""

    name: str


@dataclass(frozen=True)
class Var:
    """A state variable."""

    name: str


@dataclass(frozen=True)
class Const:
    """A constant (a set of model values is one too)."""

    name: str


@dataclass(frozen=True)
class ModelValue:
    """A model value ``name`` of the set constant ``set``."""

    set: str
    name: str


@dataclass(frozen=True)
class EnumMember:
    """The enum constant ``name`` of ``enum`` (as a name or as a match pattern)."""

    enum: str
    name: str


@dataclass(frozen=True)
class Variant:
    """The variant ``name`` of ``union`` (a value, a constructor call or a pattern)."""

    union: str
    name: str


@dataclass(frozen=True)
class Def:
    """A ``def`` (read as a name or called)."""

    name: str


@dataclass(frozen=True)
class TypeSet:
    """A type's name read as the set of all its values (``Kind``, ``Proc``)."""

    type: Type


@dataclass(frozen=True)
class Builtin:
    """``card``, ``min``, ``max`` or ``abs``."""

    name: str


@dataclass(frozen=True)
class RecordCtor:
    """A record's constructor, ``Page(...)``."""

    record: str


@dataclass(frozen=True)
class RecordField:
    """A record's field, by its position."""

    index: int


@dataclass(frozen=True)
class UnionField:
    """A field some variants of ``union`` have: variant name -> the field's index in the
    variant's value (1-based: index 0 is the tag)."""

    union: str
    where: dict[str, int]


@dataclass(frozen=True)
class Wildcard:
    """The ``_`` pattern."""


NameRef = Local | Var | Const | ModelValue | EnumMember | Variant | Def | TypeSet
CallRef = Builtin | RecordCtor | Variant | Def
FieldRef = RecordField | UnionField
PatternRef = Wildcard | EnumMember | Variant


# -- the symbol table and the checked spec -----------------------------------------------


#: The built-in invariant of ``check types on``: every variable holds a value of its
#: declared type (ranges, sequence bounds), TLA+'s customary ``TypeOK``.
TYPE_OK = "TypeOK"


@dataclass(frozen=True)
class TemporalShape:
    """A checked temporal property: its form, the binders of its ``forall`` prefix with
    their element types, its state predicates (none for a ``step`` form but
    ``leads_to``'s P; one; or two for ``leads_to``), and the actions (with argument
    expressions, or None for every binding) of its ``step``."""

    form: str
    binders: tuple[tuple[A.Binder, Type], ...]
    atoms: tuple[A.Expr, ...]
    steps: tuple[tuple[str, tuple[A.Expr, ...] | None], ...] = ()


@dataclass
class Symbols:
    """Every global declaration of the spec, by kind, in source order."""

    consts: dict[str, A.ConstDecl] = field(default_factory=dict)
    mv_sets: dict[str, list[str]] = field(default_factory=dict)
    mv_members: dict[str, str] = field(default_factory=dict)
    #: ``const Node = A | B`` of sets of model values: Node is the set of model values
    #: (A's members, then B's), and A and B constant sets of its members. Per union, its
    #: parts and their members as declared.
    mv_unions: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    enums: dict[str, A.EnumDecl] = field(default_factory=dict)
    enum_members: dict[str, str] = field(default_factory=dict)
    records: dict[str, A.RecordDecl] = field(default_factory=dict)
    unions: dict[str, A.UnionDecl] = field(default_factory=dict)
    variants: dict[str, tuple[str, A.VariantDecl]] = field(default_factory=dict)
    aliases: dict[str, A.TypeAliasDecl] = field(default_factory=dict)
    vars: dict[str, A.VarDecl] = field(default_factory=dict)
    defs: dict[str, A.DefDecl] = field(default_factory=dict)
    action_defs: dict[str, A.ActionDefDecl] = field(default_factory=dict)
    init: A.InitDecl | None = None
    actions: dict[str, A.ActionDecl] = field(default_factory=dict)
    checks: dict[str, A.CheckDecl] = field(default_factory=dict)
    views: dict[str, A.ViewDecl] = field(default_factory=dict)
    models: dict[str, A.ModelDecl] = field(default_factory=dict)
    #: ``for model M { ... }``: the expectations the spec adds to a model declared in
    #: another module.
    model_refinements: dict[str, A.ModelDecl] = field(default_factory=dict)
    #: Module parameters that nothing in the spec declares again: they are constants
    #: (in ``consts``, valued by an import's ``with`` or by nothing yet).
    params: dict[str, list[A.ParamDecl]] = field(default_factory=dict)
    #: Constant sets written inline where a type goes (``[Prisoner - {Counter} -> V]``):
    #: constants in ``consts`` named by their text, not shown among a model's constants.
    inline_sets: set[str] = field(default_factory=set)
    scenarios: dict[str, A.ScenarioDecl] = field(default_factory=dict)
    deadlock: bool = True
    #: ``check types on``: a value outside its declared type is a violation of the
    #: built-in invariant :data:`TYPE_OK` instead of an evaluation error.
    check_types: bool = False
    # Resolved types.
    const_types: dict[str, Type] = field(default_factory=dict)
    var_types: dict[str, Type] = field(default_factory=dict)
    alias_types: dict[str, Type] = field(default_factory=dict)
    record_fields: dict[str, list[tuple[str, Type]]] = field(default_factory=dict)
    variant_fields: dict[str, list[tuple[str, Type]]] = field(default_factory=dict)
    def_params: dict[str, list[tuple[str, Type]]] = field(default_factory=dict)
    def_types: dict[str, Type] = field(default_factory=dict)
    #: State variables a def reads, directly or through other defs.
    def_reads: dict[str, frozenset[str]] = field(default_factory=dict)
    action_params: dict[str, list[tuple[str, Type]]] = field(default_factory=dict)
    #: The parameters of each action definition, with their types.
    action_def_params: dict[str, list[tuple[str, Type]]] = field(default_factory=dict)
    view_elem_types: dict[str, Type] = field(default_factory=dict)
    #: Properties of behaviours, the fairness lines, and each property's checked shape
    #: (:mod:`pyspec.passes.temporal`).
    temporals: dict[str, A.TemporalDecl] = field(default_factory=dict)
    fairness: list[A.FairnessDecl] = field(default_factory=list)
    temporal_shapes: dict[str, TemporalShape] = field(default_factory=dict)


@dataclass
class Checked:
    """What the compiler needs: symbols plus side tables keyed by AST node."""

    modules: list[A.Module]
    symbols: Symbols
    types: dict[object, Type]
    #: What each name, call, field access (an ``A.Field``, ``A.WithFields`` update or
    #: lvalue accessor) and pattern resolves to.
    names: dict[A.Name, NameRef]
    calls: dict[A.Call, CallRef]
    fields: dict[object, FieldRef]
    patterns: dict[A.Pattern, PatternRef]
    #: The constants each constant's value reads, for evaluation order.
    const_deps: dict[str, set[str]]
    global_names: dict[str, SourcePos]
    diagnostics: list[Diagnostic]
