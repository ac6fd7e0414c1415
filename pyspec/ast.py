"""The syntax tree of a spec: plain dataclasses, one per construct, each with its position.

Nodes compare by identity (``eq=False``) so that later passes can key side tables
(types, resolved names) on them without the tree ever being mutated.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pyspec.model import SourcePos

# ---- expressions ------------------------------------------------------------------


@dataclass(eq=False)
class Int:
    value: int
    pos: SourcePos


@dataclass(eq=False)
class Str:
    value: str
    pos: SourcePos


@dataclass(eq=False)
class Bool:
    value: bool
    pos: SourcePos


@dataclass(eq=False)
class Name:
    name: str
    pos: SourcePos


@dataclass(eq=False)
class Primed:
    """``x'``: a variable's value in the next state."""

    name: str
    pos: SourcePos


@dataclass(eq=False)
class Arg:
    """A call argument, positional (``name`` is None) or named (``frame: f``)."""

    name: str | None
    value: Expr
    pos: SourcePos


@dataclass(eq=False)
class Call:
    """A call of a def, a builtin, a record or a union variant constructor."""

    func: str
    args: list[Arg]
    pos: SourcePos


@dataclass(eq=False)
class TupleLit:
    items: list[Expr]
    pos: SourcePos


@dataclass(eq=False)
class SetLit:
    items: list[Expr]
    pos: SourcePos


@dataclass(eq=False)
class Binder:
    """``x in S`` in a quantifier, comprehension, pick or for."""

    name: str
    domain: Expr
    pos: SourcePos


@dataclass(eq=False)
class SetFilter:
    """``{x in S where cond}``."""

    binder: Binder
    cond: Expr
    pos: SourcePos


@dataclass(eq=False)
class SetMap:
    """``{e for x in S, y in T where cond}``."""

    expr: Expr
    binders: list[Binder]
    cond: Expr | None
    pos: SourcePos


@dataclass(eq=False)
class MapComp:
    """``[x in K -> e]``: a total map over the key type K."""

    binder: Binder
    expr: Expr
    pos: SourcePos


@dataclass(eq=False)
class IfExpr:
    branches: list[tuple[Expr, Expr]]
    orelse: Expr
    pos: SourcePos


@dataclass(eq=False)
class Pattern:
    """A match pattern: ``Variant(a, _)``, an enum constant, or ``_`` (``ctor`` None)."""

    ctor: str | None
    args: list[str | None] | None
    pos: SourcePos


@dataclass(eq=False)
class MatchExpr:
    subject: Expr
    arms: list[tuple[list[Pattern], Expr]]
    pos: SourcePos


@dataclass(eq=False)
class Quant:
    """``forall``, ``exists`` or ``sum`` over one or more binders."""

    kind: str
    binders: list[Binder]
    body: Expr
    pos: SourcePos


@dataclass(eq=False)
class LetExpr:
    """``let x = value in body``: ``body`` with ``x`` naming ``value``."""

    name: str
    value: Expr
    body: Expr
    pos: SourcePos


@dataclass(eq=False)
class Choose:
    """``choose x in S: cond``: the first element of ``S``, in the set's order, that
    satisfies ``cond`` (TLA+'s deterministic CHOOSE)."""

    binder: Binder
    cond: Expr
    pos: SourcePos


@dataclass(eq=False)
class SeqLit:
    """``<<a, b>>``: a sequence (TLA+'s tuple-as-sequence)."""

    items: list[Expr]
    pos: SourcePos


@dataclass(eq=False)
class Select:
    """``select x in s: cond``: the elements of sequence ``s`` that satisfy ``cond``, in
    order (TLA+'s ``SelectSeq``)."""

    binder: Binder
    cond: Expr
    pos: SourcePos


@dataclass(eq=False)
class BinOp:
    """Every binary operator. ``op`` is its source spelling (``+``, ``union``, ``in``, ...)."""

    op: str
    left: Expr
    right: Expr
    pos: SourcePos


@dataclass(eq=False)
class Not:
    operand: Expr
    pos: SourcePos


@dataclass(eq=False)
class Neg:
    operand: Expr
    pos: SourcePos


@dataclass(eq=False)
class RangeExpr:
    """``lo..hi`` as a set of integers."""

    lo: Expr
    hi: Expr
    pos: SourcePos


@dataclass(eq=False)
class Is:
    """``e is Variant``."""

    operand: Expr
    variant: str
    pos: SourcePos


@dataclass(eq=False)
class Field:
    operand: Expr
    name: str
    pos: SourcePos


@dataclass(eq=False)
class Index:
    operand: Expr
    key: Expr
    pos: SourcePos


@dataclass(eq=False)
class WithFields:
    """``r with {f: v, ...}``: a record (or union value) with some fields replaced."""

    operand: Expr
    updates: list[tuple[str, Expr, SourcePos]]
    pos: SourcePos


@dataclass(eq=False)
class WithKey:
    """``m with [k -> v]``: a map with one entry replaced."""

    operand: Expr
    key: Expr
    value: Expr
    pos: SourcePos


Expr = (
    Int | Str | Bool | Name | Primed | Call | TupleLit | SetLit | SetFilter | SetMap |
    MapComp | IfExpr | MatchExpr | Quant | LetExpr | Choose | SeqLit | Select | BinOp | Not |
    Neg | RangeExpr | Is | Field | Index | WithFields | WithKey
)

# ---- types (as written) -----------------------------------------------------------


@dataclass(eq=False)
class TBoolSyn:
    pos: SourcePos


@dataclass(eq=False)
class TIntSyn:
    """``int``: unbounded, so only allowed where no finite domain is needed."""

    pos: SourcePos


@dataclass(eq=False)
class TStringSyn:
    pos: SourcePos


@dataclass(eq=False)
class TNamedSyn:
    name: str
    pos: SourcePos


@dataclass(eq=False)
class TRangeSyn:
    lo: Expr
    hi: Expr
    pos: SourcePos


@dataclass(eq=False)
class TMapSyn:
    key: TypeSyn
    value: TypeSyn
    pos: SourcePos


@dataclass(eq=False)
class TSetSyn:
    elem: TypeSyn
    pos: SourcePos


@dataclass(eq=False)
class TTupleSyn:
    items: list[TypeSyn]
    pos: SourcePos


@dataclass(eq=False)
class TSeqSyn:
    """``seq[T, N]``: sequences of at most ``cap`` elements of ``elem``."""

    elem: TypeSyn
    cap: Expr
    pos: SourcePos


@dataclass(eq=False)
class TSetExprSyn:
    """A constant set written where a type goes (``[Prisoner - {Counter} -> 0..2]``,
    ``var k: Prisoner - {Counter}``): TLA+'s ``[S -> T]`` and ``x \\in S`` over any set.
    It names the set by its text, as a ``const`` would by its name."""

    expr: Expr
    pos: SourcePos


TypeSyn = (
    TBoolSyn | TIntSyn | TStringSyn | TNamedSyn | TRangeSyn | TMapSyn | TSetSyn | TTupleSyn
    | TSeqSyn | TSetExprSyn
)

# ---- statements -------------------------------------------------------------------


@dataclass(eq=False)
class IndexAcc:
    key: Expr
    pos: SourcePos


@dataclass(eq=False)
class FieldAcc:
    name: str
    pos: SourcePos


@dataclass(eq=False)
class LValue:
    """``x'``, ``pte'[p][a]``, ``page'[f].ae``; in ``init`` without the prime."""

    var: str
    primed: bool
    path: list[IndexAcc | FieldAcc]
    pos: SourcePos


@dataclass(eq=False)
class Requires:
    cond: Expr
    pos: SourcePos


@dataclass(eq=False)
class Let:
    name: str
    value: Expr
    pos: SourcePos


@dataclass(eq=False)
class Assign:
    target: LValue
    value: Expr
    pos: SourcePos


@dataclass(eq=False)
class IfStmt:
    branches: list[tuple[Expr, Block]]
    orelse: Block | None
    pos: SourcePos


@dataclass(eq=False)
class MatchStmt:
    subject: Expr
    arms: list[tuple[list[Pattern], Block]]
    pos: SourcePos


@dataclass(eq=False)
class Either:
    """``either { ... } or { ... }``: every branch is a separate way to take the step,
    as a disjunction in a TLA+ action (TLC counts each true branch as a successor)."""

    branches: list[Block]
    pos: SourcePos


@dataclass(eq=False)
class Pick:
    """``pick x in S where c``: each choice is a separate successor."""

    binder: Binder
    cond: Expr | None
    pos: SourcePos


@dataclass(eq=False)
class For:
    """``for x in S { ... }``: a deterministic loop, in the set's order."""

    binder: Binder
    body: Block
    pos: SourcePos


@dataclass(eq=False)
class Skip:
    pos: SourcePos


@dataclass(eq=False)
class Perform:
    """``Send(m)`` as a statement: the body of an action definition, with its parameters
    bound to the arguments, on the caller's paths."""

    name: str
    args: list[Arg]
    pos: SourcePos


Stmt = (
    Requires | Let | Assign | IfStmt | MatchStmt | Either | Pick | For | Skip | Perform
)


@dataclass(eq=False)
class Block:
    stmts: list[Stmt]
    pos: SourcePos


# ---- declarations -----------------------------------------------------------------


@dataclass(eq=False)
class Annotation:
    name: str
    args: list[str | int]
    pos: SourcePos


@dataclass(eq=False)
class DeclBase:
    name: str
    pos: SourcePos
    doc: str = field(default="", kw_only=True)
    annotations: list[Annotation] = field(default_factory=list, kw_only=True)
    #: The last line of the declaration, for quoting it in generated docs.
    end_line: int = field(default=0, kw_only=True)


@dataclass(eq=False)
class ConstDecl(DeclBase):
    type: TypeSyn | None
    #: None for a module parameter nothing binds (a model or ``-D`` must).
    value: Expr | None
    symmetric: bool


@dataclass(eq=False)
class ParamDecl(DeclBase):
    """``param N: T``: a module parameter, a constant whose value the importer gives
    (``import "m.cow" with { N = e }``, a declaration of its own named ``N``, a model or
    ``-D``). With ``params`` (``param F(x: T): U``) it is an operator, which a def of
    the same name binds. ``param S: set[S]`` is a set of model values."""

    type: TypeSyn
    params: list[Param] | None = None


@dataclass(eq=False)
class EnumDecl(DeclBase):
    members: list[tuple[str, SourcePos]]


@dataclass(eq=False)
class FieldDecl:
    name: str
    type: TypeSyn
    pos: SourcePos


@dataclass(eq=False)
class RecordDecl(DeclBase):
    fields: list[FieldDecl]


@dataclass(eq=False)
class VariantDecl:
    name: str
    fields: list[FieldDecl]
    pos: SourcePos


@dataclass(eq=False)
class UnionDecl(DeclBase):
    variants: list[VariantDecl]


@dataclass(eq=False)
class TypeAliasDecl(DeclBase):
    type: TypeSyn


@dataclass(eq=False)
class VarDecl(DeclBase):
    type: TypeSyn


@dataclass(eq=False)
class InitDecl(DeclBase):
    body: Block


@dataclass(eq=False)
class Param:
    name: str
    type: TypeSyn
    pos: SourcePos


@dataclass(eq=False)
class ActionDecl(DeclBase):
    params: list[Param]
    body: Block


@dataclass(eq=False)
class DefDecl(DeclBase):
    params: list[Param] | None
    ret: TypeSyn | None
    body: Expr


@dataclass(eq=False)
class ActionDefDecl(DeclBase):
    """``def Send(m: Msg) { ... }``: statements an action performs by name (TLA+'s
    action-level operator); its body may read and assign primed variables."""

    params: list[Param]
    body: Block


@dataclass(eq=False)
class CheckDecl(DeclBase):
    """``invariant``, ``property`` (action property), ``reachable`` or ``constraint``."""

    kind: str
    body: Expr


@dataclass(eq=False)
class ViewDecl(DeclBase):
    element: tuple[str, TypeSyn] | None
    body: Expr


@dataclass(eq=False)
class SettingDecl(DeclBase):
    """``check deadlock on|off`` or ``check types on|off`` at the top level (``name`` says
    which): the spec's default."""

    on: bool


@dataclass(eq=False)
class ModelConst:
    name: str
    value: Expr
    symmetric: bool
    pos: SourcePos


@dataclass(eq=False)
class ModelDecl(DeclBase):
    extends: str | None
    consts: list[ModelConst]
    expect_violated: list[tuple[str, SourcePos]]
    expect_holds: list[tuple[str, SourcePos]]
    expect_deadlock: bool
    deadlock: bool | None
    #: ``for model M { ... }``: expectations this spec adds to a model declared
    #: elsewhere (a shared module), not a model of its own.
    refines: bool = False


@dataclass(eq=False)
class Step:
    action: str
    args: list[Expr | None] | None
    pos: SourcePos


@dataclass(eq=False)
class ScenarioExpect:
    """``expect holds`` or ``expect violated A, B``, for some models or (empty) all."""

    violated: list[tuple[str, SourcePos]]
    models: list[tuple[str, SourcePos]]
    pos: SourcePos


@dataclass(eq=False)
class ScenarioDecl(DeclBase):
    steps: list[Step]
    expects: list[ScenarioExpect]


# ---- temporal properties and fairness ----------------------------------------------


@dataclass(eq=False)
class Always:
    """``always F``: F holds at every point of the behaviour (TLA+'s ``[]``)."""

    body: Expr | Temporal | TStep
    pos: SourcePos


@dataclass(eq=False)
class Eventually:
    """``eventually F``: F holds at some point of the behaviour (TLA+'s ``<>``)."""

    body: Expr | Temporal | TStep
    pos: SourcePos


@dataclass(eq=False)
class LeadsTo:
    """``P leads_to Q`` (``P ~> Q``): whenever P holds, Q holds then or later (or, with
    ``step A`` on the right, an A step that changes the state follows)."""

    left: Expr
    right: Expr | TStep
    pos: SourcePos


@dataclass(eq=False)
class StepRef:
    """``A`` or ``A(e1, e2)`` after ``step``: every binding of action A, or one."""

    action: str
    args: list[Expr] | None
    pos: SourcePos


@dataclass(eq=False)
class TStep:
    """``step A, B(p)``: a step of one of these that changes the state, TLA+'s
    ``<<A \\/ B(p)>>_vars``, as the body of ``always``/``eventually``/``leads_to``."""

    refs: list[StepRef]
    pos: SourcePos


@dataclass(eq=False)
class TForall:
    """``forall x in T: F`` around a temporal formula: one property per instance."""

    binders: list[Binder]
    body: Temporal
    pos: SourcePos


Temporal = Always | Eventually | LeadsTo | TForall


@dataclass(eq=False)
class TemporalDecl(DeclBase):
    """``property Name = <formula with always/eventually/leads_to>``: a property of
    behaviours, checked on the reachable graph under the spec's fairness."""

    formula: Temporal
    #: The keyword it was declared with; anything but ``property`` is an error (E430).
    written_as: str = "property"


@dataclass(eq=False)
class FairnessDecl(DeclBase):
    """``fair weak A, B`` (TLA+'s ``WF_vars(A \\/ B)``), ``fair strong A``, and ``fair
    weak each A`` (``\\A p: WF_vars(A(p))``: one constraint per parameter binding)."""

    strong: bool
    each: bool
    actions: list[tuple[str, SourcePos]]


Decl = (
    ConstDecl | ParamDecl | EnumDecl | RecordDecl | UnionDecl | TypeAliasDecl | VarDecl |
    InitDecl | ActionDecl | DefDecl | ActionDefDecl | CheckDecl | ViewDecl | SettingDecl |
    ModelDecl | ScenarioDecl | TemporalDecl | FairnessDecl
)


@dataclass(eq=False)
class Binding:
    """``N = e`` in ``import "m.cow" with { ... }``: a value for a parameter of m."""

    name: str
    value: Expr
    pos: SourcePos


@dataclass(eq=False)
class Import:
    """``import "target" [as X] [with { bindings }]``. ``file`` is the path it resolved
    to, set when the imports are read (None if it could not be). With ``alias`` the
    module is an instance: its names are ``X!Name`` (:mod:`pyspec.instances`)."""

    target: str
    pos: SourcePos
    bindings: list[Binding] = field(default_factory=list)
    file: str | None = None
    alias: str | None = None


@dataclass(eq=False)
class Module:
    """One parsed file, with its imports as written."""

    file: str
    name: str | None
    imports: list[Import]
    decls: list[Decl]
