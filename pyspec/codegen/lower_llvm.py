"""Lower a compiled module to LLVM IR.

:mod:`pyspec.codegen.compiled` writes a spec as a Python module over 64-bit words, in a
small subset of Python: integer arithmetic, comparisons, ``if``/``while``/``for`` over
``range`` or a tuple, tuples of integers, integer numpy arrays passed in as parameters or
defined once at module level, calls of the module's own functions, and ``raise
CompiledEvalError('...')``. This module turns that Python into LLVM IR text, which
:mod:`explorer.engine.machine_code` optimises and compiles with llvmlite. Lowering it
ourselves, instead of handing it to numba, is what makes a cold compile take seconds: numba
types and lowers every bytecode instruction in Python (about 2 ms each, 40 to 90 s for a
kernel spec), while this walk is linear and LLVM does the rest.

Semantics are numba's (and so the scalar engine's, for the values the generator produces):
every value is an ``i64`` (a bool is 0 or 1), arithmetic wraps, ``//`` and ``%`` round
towards negative infinity, ``>>`` is arithmetic. A ``raise`` stores its message's number in
a module global and returns; every call of a function that can raise is followed by a test
of it, so an error unwinds to the entry point, whose caller reads it (``cs_take_error``)
and raises :class:`~pyspec.codegen.compiled.CompiledEvalError` again. A division by zero
is such an error too (numba would raise ZeroDivisionError). ``prefetch(a[i])`` is LLVM's
prefetch of the element's cache line (the search prefetches the seen-state table's slots
of all of a state's successors before it looks them up one by one); in Python it is a
function that does nothing. The functions a module-level tuple ``ALWAYS_INLINE`` names are
inlined by LLVM into every caller (the generator names those whose inlining its own cost
model would not choose but whose callers' constant arguments fold).

Each function is specialised per kinds of its arguments (an int, a tuple of n ints, an array
of a dtype and a number of dimensions), starting from the entry points and the kinds the
engine calls them with; an entry point ``f`` is exported as ``cs_f``, every argument a
64-bit integer (an array is three: its address, its rows and its columns). Anything
outside the subset raises :class:`LoweringError`, naming the line.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

#: numpy dtype name -> (LLVM type, signed).
DTYPES = {
    "int64": ("i64", True), "int32": ("i32", True), "uint32": ("i32", False),
    "uint16": ("i16", False), "uint8": ("i8", False),
}
_I64_MIN, _I64_MAX = -(2**63), 2**63 - 1
_COMPARE = {ast.Eq: "eq", ast.NotEq: "ne", ast.Lt: "slt", ast.LtE: "sle", ast.Gt: "sgt",
            ast.GtE: "sge"}
_BITWISE = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.BitAnd: "and",
            ast.BitOr: "or", ast.BitXor: "xor", ast.LShift: "shl", ast.RShift: "ashr"}
_DIVISION_BY_ZERO = "division by zero"


class LoweringError(Exception):
    """The module uses Python outside the subset the lowering knows."""


@dataclass(frozen=True)
class IntKind:
    """A 64-bit integer (or a bool, as 0 or 1)."""


@dataclass(frozen=True)
class TupleKind:
    """A tuple of ``size`` integers."""

    size: int


@dataclass(frozen=True)
class ArrayKind:
    """A C-contiguous numpy array of ``dtype`` (a name of :data:`DTYPES`) with ``ndim``
    dimensions (1 or 2)."""

    dtype: str
    ndim: int


Kind = IntKind | TupleKind | ArrayKind
INT = IntKind()


@dataclass(frozen=True)
class ArrayValue:
    """An array: its address, rows and columns (``i64`` operands) and its kind."""

    ptr: str
    rows: str
    cols: str
    kind: ArrayKind


Value = str | tuple[str, ...] | ArrayValue


def kind_of(value: Value) -> Kind:
    if isinstance(value, ArrayValue):
        return value.kind
    if isinstance(value, tuple):
        return TupleKind(len(value))
    return INT


@dataclass(frozen=True)
class Lowered:
    """The module as LLVM IR, and the messages its errors are numbered by (from 1)."""

    ir: str
    messages: tuple[str, ...]


def lower(source: str, entries: dict[str, tuple[Kind, ...]], triple: str = "",
          data_layout: str = "") -> Lowered:
    """The LLVM IR of ``source``, with ``entries`` exported (name -> kinds of its
    arguments)."""
    return _Module(source, triple, data_layout).lower(entries)


@dataclass
class _Instance:
    """A function specialised to the kinds of its arguments."""

    name: str
    returns: Kind | None
    may_raise: bool


@dataclass
class _Module:
    source: str
    triple: str
    data_layout: str
    functions: dict[str, ast.FunctionDef] = field(default_factory=dict)
    ints: dict[str, int] = field(default_factory=dict)
    tuples: dict[str, tuple[int, ...]] = field(default_factory=dict)
    arrays: dict[str, tuple[str, list[int]]] = field(default_factory=dict)
    #: The functions named by ``ALWAYS_INLINE``.
    always_inline: frozenset[str] = frozenset()
    instances: dict[tuple[str, tuple[Kind, ...]], _Instance] = field(default_factory=dict)
    bodies: list[str] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    active: set[tuple[str, tuple[Kind, ...]]] = field(default_factory=set)
    #: Instances begun so far (their IR names are numbered in that order).
    numbered: int = 0

    def lower(self, entries: dict[str, tuple[Kind, ...]]) -> Lowered:
        self._scan(ast.parse(self.source))
        exports = [self._export(name, kinds) for name, kinds in entries.items()]
        head = []
        if self.triple:
            head.append(f'target triple = "{self.triple}"')
        if self.data_layout:
            head.append(f'target datalayout = "{self.data_layout}"')
        head.append("@cs_err = internal global i64 0")
        head.append("declare void @llvm.prefetch.p0(ptr, i32, i32, i32)")
        for name, (dtype, values) in self.arrays.items():
            ty = DTYPES[dtype][0]
            items = ", ".join(f"{ty} {v}" for v in values)
            head.append(f"@g_{name} = internal constant [{len(values)} x {ty}] [{items}]")
        head.append("define i64 @cs_take_error() nounwind {\n  %e = load i64, ptr @cs_err\n"
                    "  store i64 0, ptr @cs_err\n  ret i64 %e\n}")
        text = "\n".join(head + self.bodies + exports) + "\n"
        return Lowered(text, tuple(self.messages))

    # -- the module's top level -------------------------------------------------------

    def _scan(self, tree: ast.Module) -> None:
        for stmt in tree.body:
            if isinstance(stmt, ast.FunctionDef):
                self.functions[stmt.name] = stmt
            elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
                continue
            elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
                continue  # a docstring
            elif (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1
                  and isinstance(stmt.targets[0], ast.Name)):
                self._constant(stmt.targets[0].id, stmt.value)
            else:
                raise _error(stmt, "a module-level statement the lowering does not know")

    def _constant(self, name: str, value: ast.expr) -> None:
        if (isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute)
                and value.func.attr == "array"):
            dtype = next((k.value.attr for k in value.keywords if k.arg == "dtype"
                          and isinstance(k.value, ast.Attribute)), "int64")
            if dtype not in DTYPES or len(value.args) != 1:
                raise _error(value, "an array constant of an unknown dtype")
            self.arrays[name] = (dtype, [_literal_int(v) for v in _elements(value.args[0])])
            return
        literal = ast.literal_eval(value)
        if name == "ALWAYS_INLINE" and isinstance(literal, tuple) \
                and all(isinstance(x, str) for x in literal):
            self.always_inline = frozenset(literal)
        elif isinstance(literal, bool | int):
            self.ints[name] = int(_checked(value, int(literal)))
        elif isinstance(literal, tuple) and all(isinstance(x, int) for x in literal):
            self.tuples[name] = tuple(int(_checked(value, int(x))) for x in literal)
        else:
            raise _error(value, "a module-level constant that is not an integer")

    def instance(self, name: str, kinds: tuple[Kind, ...], node: ast.AST) -> _Instance:
        """The function ``name`` for arguments of ``kinds``, lowered on first use."""
        key = (name, kinds)
        if key in self.instances:
            return self.instances[key]
        if key in self.active:
            raise _error(node, f"a recursive call of {name}")
        fn = self.functions.get(name)
        if fn is None:
            raise _error(node, f"a call of {name}, which the module does not define")
        self.active.add(key)
        self.numbered += 1
        lowering = _Function(self, fn, kinds, f"f{self.numbered}_{name}")
        lowering.lower()
        self.active.discard(key)
        inst = _Instance(lowering.ir_name, lowering.returns, lowering.may_raise)
        self.instances[key] = inst
        self.bodies.append(lowering.text())
        return inst

    def message(self, text: str) -> int:
        if text not in self.messages:
            self.messages.append(text)
        return self.messages.index(text) + 1

    def _export(self, name: str, kinds: tuple[Kind, ...]) -> str:
        fn = self.functions.get(name)
        if fn is None:
            raise LoweringError(f"the module has no function {name}")
        inst = self.instance(name, kinds, fn)
        if isinstance(inst.returns, TupleKind | ArrayKind):
            raise _error(fn, "an entry point that returns a tuple or an array")
        params, args, body = [], [], []
        for i, kind in enumerate(kinds):
            if isinstance(kind, ArrayKind):
                params += [f"i64 %a{i}", f"i64 %r{i}", f"i64 %c{i}"]
                body.append(f"  %p{i} = inttoptr i64 %a{i} to ptr")
                args += [f"ptr %p{i}", f"i64 %r{i}", f"i64 %c{i}"]
            elif isinstance(kind, TupleKind):
                names = [f"%a{i}_{j}" for j in range(kind.size)]
                params += [f"i64 {n}" for n in names]
                args += [f"i64 {n}" for n in names]
            else:
                params.append(f"i64 %a{i}")
                args.append(f"i64 %a{i}")
        body.append(f"  %r = call i64 @{inst.name}({', '.join(args)})")
        body.append("  ret i64 %r")
        return (f"define i64 @cs_{name}({', '.join(params)}) nounwind {{\n"
                + "\n".join(body) + "\n}")


@dataclass
class _Variable:
    kind: Kind
    slots: tuple[str, ...] = ()
    array: ArrayValue | None = None


class _Function:
    """One function instance: its body as LLVM IR."""

    def __init__(self, module: _Module, fn: ast.FunctionDef, kinds: tuple[Kind, ...],
                 ir_name: str) -> None:
        self.module, self.fn, self.kinds, self.ir_name = module, fn, kinds, ir_name
        self.lines: list[str] = []
        self.allocas: list[str] = []
        self.vars: dict[str, _Variable] = {}
        self.n = 0
        self.block = "entry"
        self.terminated = False
        self.loops: list[tuple[str, str]] = []
        self.returns: Kind | None = None
        self.ret_slots: tuple[str, ...] = ()
        self.may_raise = False
        self.params: list[str] = []

    # -- emission ---------------------------------------------------------------------

    def tmp(self) -> str:
        self.n += 1
        return f"%t{self.n}"

    def label(self, hint: str) -> str:
        self.n += 1
        return f"{hint}{self.n}"

    def emit(self, line: str) -> None:
        if self.terminated:
            self.start(self.label("dead"))
        self.lines.append("  " + line)

    def start(self, label: str) -> None:
        if not self.terminated:
            self.lines.append(f"  br label %{label}")
        self.lines.append(f"{label}:")
        self.block = label
        self.terminated = False

    def jump(self, label: str) -> None:
        self.emit(f"br label %{label}")
        self.terminated = True

    def branch(self, cond: str, yes: str, no: str) -> None:
        self.emit(f"br i1 {cond}, label %{yes}, label %{no}")
        self.terminated = True

    def op(self, text: str) -> str:
        t = self.tmp()
        self.emit(f"{t} = {text}")
        return t

    def truth(self, value: str) -> str:
        return self.op(f"icmp ne i64 {value}, 0")

    def widen(self, flag: str) -> str:
        return self.op(f"zext i1 {flag} to i64")

    def slot(self, name: str) -> str:
        self.n += 1
        reg = f"%v{self.n}_{name}"
        self.allocas.append(f"  {reg} = alloca i64")
        self.allocas.append(f"  store i64 0, ptr {reg}")
        return reg

    # -- the function -----------------------------------------------------------------

    def lower(self) -> None:
        args = self.fn.args
        if args.vararg or args.kwarg or args.kwonlyargs or args.defaults or args.posonlyargs:
            raise _error(self.fn, "a function with other than plain positional parameters")
        if len(args.args) != len(self.kinds):
            raise _error(self.fn, f"{self.fn.name} called with {len(self.kinds)} arguments")
        for a, kind in zip(args.args, self.kinds):
            p = f"%p_{a.arg}"
            if isinstance(kind, ArrayKind):
                self.params += [f"ptr noalias {p}", f"i64 {p}_rows", f"i64 {p}_cols"]
                self.vars[a.arg] = _Variable(kind, array=ArrayValue(p, f"{p}_rows",
                                                                   f"{p}_cols", kind))
            elif isinstance(kind, TupleKind):
                names = tuple(f"{p}_{j}" for j in range(kind.size))
                self.params += [f"i64 {n}" for n in names]
                var = self.declare(a.arg, kind, self.fn)
                for reg, n in zip(var.slots, names):
                    self.allocas.append(f"  store i64 {n}, ptr {reg}")
            else:
                self.params.append(f"i64 {p}")
                var = self.declare(a.arg, kind, self.fn)
                self.allocas.append(f"  store i64 {p}, ptr {var.slots[0]}")
        self.body(self.fn.body)
        if not self.terminated:
            self.jump("ret")
        self.lines.append("ret:")
        self.block, self.terminated = "ret", False
        if isinstance(self.returns, TupleKind):
            agg = "undef"
            ty = self.ret_type()
            for j, reg in enumerate(self.ret_slots):
                v = self.op(f"load i64, ptr {reg}")
                agg = self.op(f"insertvalue {ty} {agg}, i64 {v}, {j}")
            self.lines.append(f"  ret {ty} {agg}")
        elif self.ret_slots:
            v = self.op(f"load i64, ptr {self.ret_slots[0]}")
            self.lines.append(f"  ret i64 {v}")
        else:
            self.lines.append("  ret i64 0")

    def ret_type(self) -> str:
        if isinstance(self.returns, TupleKind):
            return "{" + ", ".join(["i64"] * self.returns.size) + "}"
        return "i64"

    def text(self) -> str:
        inline = " alwaysinline" if self.fn.name in self.module.always_inline else ""
        return (f"define internal {self.ret_type()} @{self.ir_name}({', '.join(self.params)})"
                f"{inline} nounwind {{\nentry:\n" + "\n".join(self.allocas + self.lines)
                + "\n}")

    def declare(self, name: str, kind: Kind, node: ast.AST) -> _Variable:
        var = self.vars.get(name)
        if var is not None:
            if var.kind != kind:
                raise _error(node, f"{name} holds a {_describe(var.kind)} and a "
                             f"{_describe(kind)}")
            return var
        if isinstance(kind, ArrayKind):
            raise _error(node, f"an array assigned to the local name {name}")
        size = kind.size if isinstance(kind, TupleKind) else 1
        var = _Variable(kind, tuple(self.slot(f"{name}_{j}" if size > 1 else name)
                                    for j in range(size)))
        self.vars[name] = var
        return var

    def store(self, name: str, value: Value, node: ast.AST) -> None:
        var = self.declare(name, kind_of(value), node)
        parts = value if isinstance(value, tuple) else (value,)
        for reg, v in zip(var.slots, parts):
            self.emit(f"store i64 {v}, ptr {reg}")

    # -- statements -------------------------------------------------------------------

    def body(self, stmts: list[ast.stmt]) -> None:
        for stmt in stmts:
            self.statement(stmt)

    def statement(self, s: ast.stmt) -> None:
        if isinstance(s, ast.Assign):
            if len(s.targets) != 1:
                raise _error(s, "a chained assignment")
            target = s.targets[0]
            if isinstance(target, ast.Subscript) and _is_row_slice(target):
                self.copy_row(target, s)
            else:
                self.assign(target, self.expr(s.value), s)
        elif isinstance(s, ast.AugAssign):
            self.augassign(s)
        elif isinstance(s, ast.If):
            self.if_(s)
        elif isinstance(s, ast.For):
            self.for_(s)
        elif isinstance(s, ast.While):
            self.while_(s)
        elif isinstance(s, ast.Break | ast.Continue):
            if not self.loops:
                raise _error(s, "break or continue outside a loop")
            self.jump(self.loops[-1][1 if isinstance(s, ast.Break) else 0])
        elif isinstance(s, ast.Return):
            self.return_(s)
        elif isinstance(s, ast.Raise):
            self.raise_(s)
        elif isinstance(s, ast.Pass):
            return
        elif isinstance(s, ast.Expr):
            if not (isinstance(s.value, ast.Constant) and isinstance(s.value.value, str)):
                self.expr(s.value)
        else:
            raise _error(s, f"a statement the lowering does not know ({type(s).__name__})")

    def assign(self, target: ast.expr, value: Value, node: ast.AST) -> None:
        if isinstance(target, ast.Name):
            self.store(target.id, value, node)
        elif isinstance(target, ast.Tuple):
            if not isinstance(value, tuple) or len(value) != len(target.elts):
                raise _error(node, "an unpacking of other than a tuple of as many integers")
            for t, v in zip(target.elts, value):
                if not isinstance(t, ast.Name):
                    raise _error(t, "an unpacking into other than names")
                self.store(t.id, v, node)
        elif isinstance(target, ast.Subscript):
            if not isinstance(value, str):
                raise _error(node, "an array element assigned other than an integer")
            address, kind = self.element(target)
            ty, _ = DTYPES[kind.dtype]
            v = value if ty == "i64" else self.op(f"trunc i64 {value} to {ty}")
            self.emit(f"store {ty} {v}, ptr {address}")
        else:
            raise _error(target, "an assignment to other than a name or an array element")

    def copy_row(self, target: ast.Subscript, node: ast.Assign) -> None:
        """``new[j, :] = old[i, :]``: a row copied element by element."""
        source = node.value
        if not (isinstance(source, ast.Subscript) and _is_row_slice(source)):
            raise _error(node, "a row assigned other than another array's row")
        dst = self.array(target.value)
        src = self.array(source.value)
        if dst.kind != src.kind:
            raise _error(node, "a row copied between arrays of different dtypes")
        di = self.expr_int(target.slice.elts[0])  # type: ignore[attr-defined]
        si = self.expr_int(source.slice.elts[0])  # type: ignore[attr-defined]
        ty, _ = DTYPES[dst.kind.dtype]
        counter = self.slot("col")
        self.emit(f"store i64 0, ptr {counter}")
        head, body, done = self.label("rowhead"), self.label("rowbody"), self.label("rowdone")
        self.start(head)
        j = self.op(f"load i64, ptr {counter}")
        self.branch(self.op(f"icmp slt i64 {j}, {dst.cols}"), body, done)
        self.start(body)
        sp = self.op(f"getelementptr {ty}, ptr {src.ptr}, i64 {self.flat(src, si, j)}")
        dp = self.op(f"getelementptr {ty}, ptr {dst.ptr}, i64 {self.flat(dst, di, j)}")
        self.emit(f"store {ty} {self.op(f'load {ty}, ptr {sp}')}, ptr {dp}")
        self.emit(f"store i64 {self.op(f'add i64 {j}, 1')}, ptr {counter}")
        self.jump(head)
        self.start(done)

    def augassign(self, s: ast.AugAssign) -> None:
        right = self.expr_int(s.value)
        if isinstance(s.target, ast.Name):
            var = self.vars.get(s.target.id)
            if var is None or var.kind != INT:
                raise _error(s, f"{s.target.id} updated before it holds an integer")
            old = self.op(f"load i64, ptr {var.slots[0]}")
            self.emit(f"store i64 {self.binop(s.op, old, right, s)}, ptr {var.slots[0]}")
        elif isinstance(s.target, ast.Subscript):
            address, kind = self.element(s.target)
            old = self.load_element(address, kind)
            new = self.binop(s.op, old, right, s)
            ty, _ = DTYPES[kind.dtype]
            v = new if ty == "i64" else self.op(f"trunc i64 {new} to {ty}")
            self.emit(f"store {ty} {v}, ptr {address}")
        else:
            raise _error(s, "an update of other than a name or an array element")

    def if_(self, s: ast.If) -> None:
        yes, no, done = self.label("then"), self.label("else"), self.label("endif")
        self.branch(self.condition(s.test), yes, no if s.orelse else done)
        self.start(yes)
        self.body(s.body)
        if not self.terminated:
            self.jump(done)
        if s.orelse:
            self.start(no)
            self.body(s.orelse)
            if not self.terminated:
                self.jump(done)
        self.start(done)

    def for_(self, s: ast.For) -> None:
        if s.orelse or not isinstance(s.target, ast.Name):
            raise _error(s, "a for loop with an else clause or a target other than a name")
        it = s.iter
        head, body, step_l, done = (self.label("forhead"), self.label("forbody"),
                                    self.label("forstep"), self.label("fordone"))
        counter = self.slot("i")
        if isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and it.func.id == "range":
            bounds = [self.expr_int(a) for a in it.args]
            if not 1 <= len(bounds) <= 3 or it.keywords:
                raise _error(it, "a range of other than 1 to 3 arguments")
            start, stop = ("0", bounds[0]) if len(bounds) == 1 else (bounds[0], bounds[1])
            step = 1
            if len(bounds) == 3:
                step = _literal_int(it.args[2])
                if step == 0:
                    raise _error(it, "a range with step 0")
            self.emit(f"store i64 {start}, ptr {counter}")
            self.start(head)
            i = self.op(f"load i64, ptr {counter}")
            self.branch(self.op(f"icmp {'slt' if step > 0 else 'sgt'} i64 {i}, {stop}"),
                        body, done)
            self.start(body)
            self.store(s.target.id, i, s)
        else:
            items = self.expr(it)
            if not isinstance(items, tuple):
                raise _error(it, "a for loop over other than a range or a tuple")
            step = 1
            self.emit(f"store i64 0, ptr {counter}")
            self.start(head)
            i = self.op(f"load i64, ptr {counter}")
            self.branch(self.op(f"icmp slt i64 {i}, {len(items)}"), body, done)
            self.start(body)
            self.store(s.target.id, self.pick(items, i), s)
        self.loops.append((step_l, done))
        self.body(s.body)
        self.loops.pop()
        self.start(step_l)
        i = self.op(f"load i64, ptr {counter}")
        self.emit(f"store i64 {self.op(f'add i64 {i}, {step}')}, ptr {counter}")
        self.jump(head)
        self.start(done)

    def while_(self, s: ast.While) -> None:
        if s.orelse:
            raise _error(s, "a while loop with an else clause")
        head, body, done = self.label("whead"), self.label("wbody"), self.label("wdone")
        self.start(head)
        self.branch(self.condition(s.test), body, done)
        self.start(body)
        self.loops.append((head, done))
        self.body(s.body)
        self.loops.pop()
        if not self.terminated:
            self.jump(head)
        self.start(done)

    def return_(self, s: ast.Return) -> None:
        if s.value is not None:
            value = self.expr(s.value)
            if isinstance(value, ArrayValue):
                raise _error(s, "a function that returns an array")
            kind = kind_of(value)
            if self.returns is None:
                self.returns = kind
                size = kind.size if isinstance(kind, TupleKind) else 1
                self.ret_slots = tuple(self.slot(f"ret{j}") for j in range(size))
            elif kind != self.returns:
                raise _error(s, f"{self.fn.name} returns values of different kinds")
            parts = value if isinstance(value, tuple) else (value,)
            for reg, v in zip(self.ret_slots, parts):
                self.emit(f"store i64 {v}, ptr {reg}")
        self.jump("ret")

    def raise_(self, s: ast.Raise) -> None:
        exc = s.exc
        if not (isinstance(exc, ast.Call) and isinstance(exc.func, ast.Name)
                and exc.func.id == "CompiledEvalError" and len(exc.args) == 1
                and isinstance(exc.args[0], ast.Constant)
                and isinstance(exc.args[0].value, str)):
            raise _error(s, "a raise of other than CompiledEvalError('message')")
        self.fail(exc.args[0].value)

    def fail(self, message: str) -> None:
        self.may_raise = True
        self.emit(f"store i64 {self.module.message(message)}, ptr @cs_err")
        self.jump("ret")

    # -- expressions ------------------------------------------------------------------

    def expr_int(self, node: ast.expr) -> str:
        value = self.expr(node)
        if not isinstance(value, str):
            raise _error(node, f"a {_describe(kind_of(value))} where an integer is needed")
        return value

    def condition(self, node: ast.expr) -> str:
        return self.truth(self.expr_int(node))

    def expr(self, node: ast.expr) -> Value:
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool):
                return "1" if node.value else "0"
            if isinstance(node.value, int):
                return str(_checked(node, node.value))
            raise _error(node, "a constant other than an integer or a bool")
        if isinstance(node, ast.Name):
            return self.name(node)
        if isinstance(node, ast.BinOp):
            return self.binop(node.op, self.expr_int(node.left), self.expr_int(node.right),
                              node)
        if isinstance(node, ast.UnaryOp):
            v = self.expr_int(node.operand)
            if isinstance(node.op, ast.Not):
                return self.widen(self.op(f"icmp eq i64 {v}, 0"))
            if isinstance(node.op, ast.USub):
                return self.op(f"sub i64 0, {v}")
            if isinstance(node.op, ast.Invert):
                return self.op(f"xor i64 {v}, -1")
            return v
        if isinstance(node, ast.BoolOp):
            return self.boolop(node)
        if isinstance(node, ast.Compare):
            return self.compare(node)
        if isinstance(node, ast.IfExp):
            return self.ifexp(node)
        if isinstance(node, ast.Tuple):
            return tuple(self.expr_int(e) for e in node.elts)
        if isinstance(node, ast.Subscript):
            return self.subscript(node)
        if isinstance(node, ast.Call):
            return self.call(node)
        raise _error(node, f"an expression the lowering does not know ({type(node).__name__})")

    def name(self, node: ast.Name) -> Value:
        var = self.vars.get(node.id)
        if var is not None:
            if var.array is not None:
                return var.array
            loads = tuple(self.op(f"load i64, ptr {reg}") for reg in var.slots)
            return loads if isinstance(var.kind, TupleKind) else loads[0]
        m = self.module
        if node.id in m.ints:
            return str(m.ints[node.id])
        if node.id in m.tuples:
            return tuple(str(v) for v in m.tuples[node.id])
        if node.id in m.arrays:
            dtype, values = m.arrays[node.id]
            return ArrayValue(f"@g_{node.id}", str(len(values)), "1", ArrayKind(dtype, 1))
        raise _error(node, f"{node.id} is read before it is assigned")

    def binop(self, op: ast.operator, a: str, b: str, node: ast.AST) -> str:
        if type(op) in _BITWISE:
            return self.op(f"{_BITWISE[type(op)]} i64 {a}, {b}")
        if isinstance(op, ast.FloorDiv | ast.Mod):
            return self.division(isinstance(op, ast.FloorDiv), a, b)
        raise _error(node, f"an operator the lowering does not know ({type(op).__name__})")

    def division(self, floor_div: bool, a: str, b: str) -> str:
        """Python's ``//`` or ``%`` (rounding towards negative infinity)."""
        if b.lstrip("-").isdigit() and int(b) > 0:
            d = int(b)
            if d & (d - 1) == 0:
                shift = d.bit_length() - 1
                return (self.op(f"ashr i64 {a}, {shift}") if floor_div
                        else self.op(f"and i64 {a}, {d - 1}"))
        else:
            ok = self.label("divok")
            bad = self.label("divzero")
            self.branch(self.op(f"icmp ne i64 {b}, 0"), ok, bad)
            self.start(bad)
            self.fail(_DIVISION_BY_ZERO)
            self.start(ok)
        q = self.op(f"sdiv i64 {a}, {b}")
        r = self.op(f"srem i64 {a}, {b}")
        nonzero = self.op(f"icmp ne i64 {r}, 0")
        signs = self.op(f"xor i64 {r}, {b}")
        differ = self.op(f"icmp slt i64 {signs}, 0")
        adjust = self.op(f"and i1 {nonzero}, {differ}")
        if floor_div:
            return self.op(f"sub i64 {q}, {self.widen(adjust)}")
        return self.op(f"add i64 {r}, {self.op(f'select i1 {adjust}, i64 {b}, i64 0')}")

    def boolop(self, node: ast.BoolOp) -> str:
        """``a and b`` / ``a or b`` with Python's value semantics, short-circuited."""
        done = self.label("bdone")
        incoming: list[tuple[str, str]] = []
        for i, operand in enumerate(node.values):
            v = self.expr_int(operand)
            if i == len(node.values) - 1:
                incoming.append((v, self.block))
                self.jump(done)
                break
            nxt = self.label("bnext")
            t = self.truth(v)
            incoming.append((v, self.block))
            if isinstance(node.op, ast.And):
                self.branch(t, nxt, done)
            else:
                self.branch(t, done, nxt)
            self.start(nxt)
        self.start(done)
        return self.op("phi i64 " + ", ".join(f"[{v}, %{b}]" for v, b in incoming))

    def compare(self, node: ast.Compare) -> str:
        left = self.expr_int(node.left)
        if len(node.ops) == 1:
            return self.widen(self.cmp(node.ops[0], left, self.expr_int(node.comparators[0]),
                                       node))
        done = self.label("cdone")
        incoming: list[tuple[str, str]] = []
        for i, (op, right_node) in enumerate(zip(node.ops, node.comparators)):
            right = self.expr_int(right_node)
            flag = self.widen(self.cmp(op, left, right, node))
            incoming.append((flag, self.block))
            if i == len(node.ops) - 1:
                self.jump(done)
                break
            nxt = self.label("cnext")
            self.branch(self.truth(flag), nxt, done)
            self.start(nxt)
            left = right
        self.start(done)
        return self.op("phi i64 " + ", ".join(f"[{v}, %{b}]" for v, b in incoming))

    def cmp(self, op: ast.cmpop, a: str, b: str, node: ast.AST) -> str:
        if type(op) not in _COMPARE:
            raise _error(node, f"a comparison the lowering does not know ({type(op).__name__})")
        return self.op(f"icmp {_COMPARE[type(op)]} i64 {a}, {b}")

    def ifexp(self, node: ast.IfExp) -> Value:
        yes, no, done = self.label("ethen"), self.label("eelse"), self.label("edone")
        self.branch(self.condition(node.test), yes, no)
        self.start(yes)
        a = self.expr(node.body)
        a_block = self.block
        self.jump(done)
        self.start(no)
        b = self.expr(node.orelse)
        b_block = self.block
        self.jump(done)
        self.start(done)
        if kind_of(a) != kind_of(b) or isinstance(a, ArrayValue):
            raise _error(node, "a conditional expression of two different kinds")
        if isinstance(a, tuple):
            return tuple(self.op(f"phi i64 [{x}, %{a_block}], [{y}, %{b_block}]")
                         for x, y in zip(a, b))  # type: ignore[arg-type]
        return self.op(f"phi i64 [{a}, %{a_block}], [{b}, %{b_block}]")

    def pick(self, items: tuple[str, ...], index: str) -> str:
        """``items[index]`` for an index known only at run time."""
        value = items[-1]
        for j in range(len(items) - 2, -1, -1):
            hit = self.op(f"icmp eq i64 {index}, {j}")
            value = self.op(f"select i1 {hit}, i64 {items[j]}, i64 {value}")
        return value

    def subscript(self, node: ast.Subscript) -> Value:
        base = node.value
        if (isinstance(base, ast.Attribute) and base.attr == "shape"):
            arr = self.array(base.value)
            dim = _literal_int(node.slice)
            if not 0 <= dim < arr.kind.ndim:
                raise _error(node, "a dimension the array does not have")
            return arr.rows if dim == 0 else arr.cols
        value = self.expr(base)
        if isinstance(value, tuple):
            if isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, int):
                return value[node.slice.value]
            return self.pick(value, self.expr_int(node.slice))
        if isinstance(value, ArrayValue):
            address, kind = self.element(node)
            return self.load_element(address, kind)
        raise _error(node, "a subscript of an integer")

    def array(self, node: ast.expr) -> ArrayValue:
        value = self.expr(node)
        if not isinstance(value, ArrayValue):
            raise _error(node, "an array is needed here")
        return value

    def element(self, node: ast.Subscript) -> tuple[str, ArrayKind]:
        """The address of an array element ``a[i]`` or ``a[i, j]``."""
        arr = self.array(node.value)
        index = node.slice
        if isinstance(index, ast.Tuple):
            if len(index.elts) != 2 or arr.kind.ndim != 2:
                raise _error(node, "an index of other than one or two integers")
            at = self.flat(arr, self.expr_int(index.elts[0]), self.expr_int(index.elts[1]))
        else:
            if arr.kind.ndim != 1:
                raise _error(node, "a row of a 2-dimensional array used as a value")
            at = self.expr_int(index)
        ty, _ = DTYPES[arr.kind.dtype]
        return self.op(f"getelementptr {ty}, ptr {arr.ptr}, i64 {at}"), arr.kind

    def flat(self, arr: ArrayValue, i: str, j: str) -> str:
        """The position of ``arr[i, j]`` among a C-contiguous array's elements."""
        return self.op(f"add i64 {self.op(f'mul i64 {i}, {arr.cols}')}, {j}")

    def load_element(self, address: str, kind: ArrayKind) -> str:
        ty, signed = DTYPES[kind.dtype]
        v = self.op(f"load {ty}, ptr {address}")
        if ty == "i64":
            return v
        return self.op(f"{'sext' if signed else 'zext'} {ty} {v} to i64")

    def call(self, node: ast.Call) -> Value:
        if not isinstance(node.func, ast.Name) or node.keywords:
            raise _error(node, "a call of other than a function by name")
        name = node.func.id
        if name in ("int", "bool") and len(node.args) == 1:
            v = self.expr_int(node.args[0])
            return self.widen(self.truth(v)) if name == "bool" else v
        if name == "len" and len(node.args) == 1:
            value = self.expr(node.args[0])
            if isinstance(value, tuple):
                return str(len(value))
            if isinstance(value, ArrayValue):
                return value.rows
            raise _error(node, "len of an integer")
        if name == "prefetch" and len(node.args) == 1 and isinstance(node.args[0], ast.Subscript):
            address, _ = self.element(node.args[0])
            self.emit(f"call void @llvm.prefetch.p0(ptr {address}, i32 0, i32 3, i32 1)")
            return "0"
        if name in ("min", "max") and len(node.args) == 2:
            a, b = (self.expr_int(x) for x in node.args)
            flag = self.op(f"icmp {'slt' if name == 'min' else 'sgt'} i64 {a}, {b}")
            return self.op(f"select i1 {flag}, i64 {a}, i64 {b}")
        args = [self.expr(a) for a in node.args]
        pointers = [a.ptr for a in args if isinstance(a, ArrayValue)]
        if len(set(pointers)) != len(pointers):
            raise _error(node, "one array passed twice (parameters are noalias)")
        inst = self.module.instance(name, tuple(kind_of(a) for a in args), node)
        flat: list[str] = []
        for a in args:
            if isinstance(a, ArrayValue):
                flat += [f"ptr {a.ptr}", f"i64 {a.rows}", f"i64 {a.cols}"]
            elif isinstance(a, tuple):
                flat += [f"i64 {x}" for x in a]
            else:
                flat.append(f"i64 {a}")
        ret = ("{" + ", ".join(["i64"] * inst.returns.size) + "}"
               if isinstance(inst.returns, TupleKind) else "i64")
        result = self.op(f"call {ret} @{inst.name}({', '.join(flat)})")
        if inst.may_raise:
            self.may_raise = True
            ok = self.label("ok")
            failed = self.op(f"icmp ne i64 {self.op('load i64, ptr @cs_err')}, 0")
            self.branch(failed, "ret", ok)
            self.start(ok)
        if isinstance(inst.returns, TupleKind):
            return tuple(self.op(f"extractvalue {ret} {result}, {j}")
                         for j in range(inst.returns.size))
        return result


def _is_row_slice(node: ast.Subscript) -> bool:
    s = node.slice
    return (isinstance(s, ast.Tuple) and len(s.elts) == 2 and isinstance(s.elts[1], ast.Slice)
            and s.elts[1].lower is None and s.elts[1].upper is None and s.elts[1].step is None)


def _elements(node: ast.expr) -> list[ast.expr]:
    if not isinstance(node, ast.List | ast.Tuple):
        raise _error(node, "an array constant that is not a list of integers")
    return list(node.elts)


def _literal_int(node: ast.expr) -> int:
    try:
        value = ast.literal_eval(node)
    except ValueError:
        raise _error(node, "a constant integer is needed here") from None
    if not isinstance(value, int):
        raise _error(node, "a constant integer is needed here")
    return int(_checked(node, value))


def _checked(node: ast.AST, value: int) -> int:
    if not _I64_MIN <= value <= _I64_MAX:
        raise _error(node, "an integer constant outside 64 bits")
    return value


def _describe(kind: Kind) -> str:
    if isinstance(kind, TupleKind):
        return f"tuple of {kind.size}"
    if isinstance(kind, ArrayKind):
        return f"{kind.ndim}-dimensional {kind.dtype} array"
    return "integer"


def _error(node: ast.AST, message: str) -> LoweringError:
    return LoweringError(f"line {getattr(node, 'lineno', '?')}: {message}")
