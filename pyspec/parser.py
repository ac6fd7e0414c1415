"""Text to syntax tree: the Lark grammar in ``grammar.lark`` plus a transformer to
:mod:`pyspec.ast` (:mod:`pyspec.modules` turns a file and its imports into a list of
modules).

Syntax errors become :class:`~pyspec.errors.Diagnostic` values with the position of the
offending token and the tokens that would have been accepted, in the source's spelling.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from pyspec import ast as A
from pyspec import errorcodes as codes
from pyspec.errors import Diagnostic
from pyspec.grammar_cache import load_parser
from pyspec.model import SourcePos

#: The largest integer literal a spec may write. Values stay far inside 64 bits so that
#: packed-state backends can rely on them.
MAX_INT_LITERAL = 2**40


@cache
def _lark() -> Lark:
    grammar = (Path(__file__).with_name("grammar.lark")).read_text(encoding="utf-8")
    return load_parser(grammar, parser="lalr", lexer="contextual", propagate_positions=True,
                       maybe_placeholders=True, start=["start", "expr"])


#: How deeply a spec may nest constructs (expressions, statements, types), in levels of
#: its syntax tree: the kernel model needs 20; the passes after parsing are recursive.
MAX_NESTING = 150


def _too_deep(tree: Tree, file: str, text: str) -> Diagnostic | None:
    """The first construct nested deeper than :data:`MAX_NESTING`, found without
    recursion (Python's own stack is what a deep spec would exhaust)."""
    stack: list[tuple[Tree, int]] = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_NESTING:
            line = getattr(node.meta, "line", 1)
            col = getattr(node.meta, "column", 1)
            lines = text.splitlines()
            return Diagnostic(
                codes.TOO_DEEP, f"constructs nest more than {MAX_NESTING} levels deep here",
                SourcePos(file, line, col),
                source_line=lines[line - 1] if 0 < line <= len(lines) else None)
        stack.extend((c, depth + 1) for c in reversed(node.children) if isinstance(c, Tree))
    return None


#: How the grammar's terminal names read in an error message.
_TERMINAL_WORDS = {
    "NAME": "a name", "INT": "an integer", "STRING": "a string", "MODEL_NAME": "a model name",
    "PRIME": "'", "SEQ_OPEN": "'<<'", "SEQ_CLOSE": "'>>'", "CMP_OP": "a comparison",
    "$END": "end of file", "SYMMETRIC": "'symmetric'",
}


def _describe_terminal(name: str) -> str:
    if name in _TERMINAL_WORDS:
        return _TERMINAL_WORDS[name]
    for term in _lark().terminals:
        if term.name == name:
            pattern = term.pattern
            if pattern.type == "str":
                return repr(pattern.value)
    return name.lower()


def _syntax_diagnostic(err: UnexpectedInput, file: str, text: str) -> Diagnostic:
    line, col = max(err.line, 1), max(err.column, 1)
    if isinstance(err, UnexpectedCharacters):
        char = text[err.pos_in_stream] if err.pos_in_stream < len(text) else ""
        message = f"unexpected character {char!r}"
    elif isinstance(err, (UnexpectedToken, UnexpectedEOF)):
        tok = getattr(err, "token", None)
        if tok is None or tok.type == "$END":
            message = "unexpected end of file"
            lines = text.splitlines() or [""]
            line, col = len(lines), len(lines[-1]) + 1
        else:
            message = f"unexpected {str(tok)!r}"
        expected = sorted({_describe_terminal(t) for t in getattr(err, "expected", set())})
        if tok is not None and tok.type == "EQUAL" and "CMP_OP" in err.expected:
            # A TLA+ habit: '=' after a complete expression, where only '==' can go on.
            message += "; use == to compare ('=' assigns)"
        elif (tok is not None and tok.type != "NAME" and "NAME" in err.expected
              and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", str(tok))):
            # A keyword where a name could stand: a TLA+ variable named `in`, say.
            message += (f"; '{tok}' is a keyword: as a name, write it in backquotes "
                        f"(`{tok}`)")
        elif expected:
            shown = expected[:8]
            more = " ..." if len(expected) > 8 else ""
            message += "; expected " + ", ".join(shown) + more
    else:  # pragma: no cover - Lark raises only the three kinds above
        message = str(err).splitlines()[0]
    lines = text.splitlines()
    src = lines[line - 1] if 1 <= line <= len(lines) else None
    if src is not None:
        found = tla_form(src, col)
        if found is not None:
            col, form, advice = found
            message = f"{form} is TLA+, not this language: {advice}"
        elif "IN" in getattr(err, "expected", ()) and re.search(r"\blet\s+\w+\s*=", src):
            message += ("; a let value is an arithmetic or postfix expression: parenthesise "
                        "a comparison, and/or, if or quantifier, as in 'let ok = (a < b) in ok'")
    return Diagnostic(codes.SYNTAX, message, SourcePos(file, line, col), source_line=src)


#: TLA+ forms a translator may write, spotted where a syntax error stops: the form's name
#: and how to write it here (docs/language.md, "Coming from TLA+").
_TLA_SYMBOLS = [
    (r"\\E\b|\\exists\b", "\\E", "write 'exists x in S: P' (in a requires, "
     "'pick x in S where P' makes one successor per witness, as TLC does)"),
    (r"\\A\b|\\forall\b", "\\A", "write 'forall x in S: P'"),
    (r"/\\", "/\\", "write 'and' (or a separate requires)"),
    (r"\\/", "\\/", "write 'or' (for one successor per disjunct, as TLC makes in an "
     "action: either { requires A } or { requires B })"),
    (r"\\notin\b", "\\notin", "write 'not in'"),
    (r"\\in\b", "\\in", "write 'in'"),
    (r"\\cup\b|\\union\b", "\\cup", "write 'A | B'"),
    (r"\\cap\b|\\intersect\b", "\\cap", "write 'A & B'"),
    (r"\\subseteq\b", "\\subseteq", "write 'A subset B'"),
    (r"\|->", "[x \\in S |-> e]", "write '[x in S -> e]' (a map over a whole key type)"),
    (r"=>", "=>", "write 'implies'"),
    (r"\\o\b|\\circ\b", "\\o", "write 's ++ t' to join two sequences"),
    (r"~", "~", "write 'not'"),
    (r"#|/=", "# (not equal)", "write '!='"),
]
_TLA_WORDS = {
    "CHOOSE": "write 'choose x in S: P' (the first such x in the set's order)",
    "LET": "write 'let x = e in body' in an expression, or the statement 'let x = e'",
    "IN": "write 'let x = e in body' in an expression, or the statement 'let x = e'",
    "UNION": "UNION of a set of sets is not supported; write '{y for x in S, y in x}'",
    "DOMAIN": "maps are total over their key type: the domain of f: [K -> V] is K; "
              "a sequence s has the domain 1..len(s)",
    "CASE": "write 'if c then a elif d then b else e', or 'match' over a union or enum",
    "OTHER": "write 'else' in an if, or '_ =>' in a match",
    "EXCEPT": "write 'f with [k -> v]' (in an action: f'[k] = v)",
    "UNCHANGED": "variables an action does not assign keep their values: leave it out",
    "SUBSET": "declare 'type T = set[S]' and use T as the set of all its values",
    "ENABLED": "ENABLED is not supported",
    "EXTENDS": "write 'import \"file.cow\"'",
    "VARIABLE": "write 'var x: T' (every variable has a finite type)",
    "VARIABLES": "write 'var x: T, y: U' (every variable has a finite type)",
    "CONSTANT": "write 'const N = 3' (every constant has a default)",
    "CONSTANTS": "write 'const N = 3' (every constant has a default)",
}


def tla_form(src: str, col: int) -> tuple[int, str, str] | None:
    """A TLA+ form at or just before column ``col`` of a line where parsing stopped:
    ``(column, form, advice)``. A keyword among the three words up to the error wins (the
    error often comes a token or two after it); then a symbol that starts at the error or
    was split by the lexer just before it; then a ``Name == ...`` definition."""
    words = [m for m in re.finditer(r"[A-Za-z_][A-Za-z0-9_]*", src) if m.start() <= col - 1]
    for m in reversed(words[-3:]):
        if m.group() in _TLA_WORDS:
            return m.start() + 1, m.group(), _TLA_WORDS[m.group()]
    for back in range(3):
        at = col - 1 - back
        if at < 0:
            break
        for pattern, form, advice in _TLA_SYMBOLS:
            if re.match(pattern, src[at:]):
                return at + 1, form, advice
    definition = re.match(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*(\([^)]*\))?\s*==", src)
    if definition and col - 1 <= definition.end(1):
        name = definition.group(1)
        return (definition.start(1) + 1, f"the definition '{name} == ...'",
                f"write 'def {name} = ...' (or 'action {name} {{ ... }}' for an action)")
    return None


class _ToAst(Transformer):
    """Builds :mod:`pyspec.ast` nodes. Every method receives the node's position."""

    def __init__(self, file: str):
        super().__init__()
        self.file = file
        self.errors: list[Diagnostic] = []

    # -- helpers -------------------------------------------------------------------
    def _pos(self, meta) -> SourcePos:
        return SourcePos(self.file, getattr(meta, "line", 1), getattr(meta, "column", 1))

    def _tpos(self, tok: Token) -> SourcePos:
        return SourcePos(self.file, tok.line or 1, tok.column or 1)

    @staticmethod
    def _present(children: list) -> list:
        return [c for c in children if c is not None]

    @classmethod
    def _args(cls, children: list) -> list:
        """A parenthesised argument list of a step or pattern; ``_`` becomes None."""
        return [None if isinstance(a, _Wildcard) else a for a in cls._present(children)]

    # -- top level -----------------------------------------------------------------
    @v_args(meta=True)
    def start(self, meta, children):
        return children

    @v_args(meta=True)
    def module_decl(self, meta, children):
        return ("module", str(children[0]))

    def __default_token__(self, token: Token) -> Token:
        """A backquoted name is the name without its quotes (so a keyword can be one)."""
        if token.type == "NAME" and token.startswith("`"):
            return Token.new_borrow_pos("NAME", token[1:-1], token)
        return token

    @v_args(meta=True)
    def import_decl(self, meta, children):
        target, alias, *bindings = children
        return A.Import(_unquote(target), self._tpos(target),
                        [b for b in bindings if b is not None],
                        alias=str(alias) if alias is not None else None)

    @v_args(meta=True)
    def binding(self, meta, children):
        return A.Binding(str(children[0]), children[1], self._pos(meta))

    @v_args(meta=True)
    def param_decl(self, meta, children):
        name, params, type_ = children
        return A.ParamDecl(str(name), self._pos(meta), type_, params)

    @v_args(meta=True)
    def annotated(self, meta, children):
        *annotations, decl = children
        for d in decl if isinstance(decl, list) else [decl]:
            d.annotations = list(annotations)
            d.end_line = getattr(meta, "end_line", d.pos.line)
        return decl

    @v_args(meta=True)
    def annotation(self, meta, children):
        name, *args = children
        return A.Annotation(str(name), [a for a in args if a is not None], self._pos(meta))

    def annot_str(self, children):
        return _unquote(children[0])

    def annot_int(self, children):
        return self._int(children[0])

    def annot_name(self, children):
        return str(children[0])

    def _int(self, tok: Token) -> int:
        value = int(str(tok).replace("_", ""))
        if value > MAX_INT_LITERAL:
            self.errors.append(Diagnostic(
                codes.INT_TOO_LARGE,
                f"integer literal {value} is too large (at most {MAX_INT_LITERAL})",
                self._tpos(tok)))
            return 0
        return value

    # -- declarations --------------------------------------------------------------
    @v_args(meta=True)
    def const_decl(self, meta, children):
        name, typ, sym, value = children
        return A.ConstDecl(str(name), self._pos(meta), typ, value, sym is not None)

    @v_args(meta=True)
    def enum_decl(self, meta, children):
        name, *members = self._present(children)
        return A.EnumDecl(str(name), self._pos(meta), [(str(m), self._tpos(m)) for m in members])

    @v_args(meta=True)
    def record_decl(self, meta, children):
        name, *fields = self._present(children)
        return A.RecordDecl(str(name), self._pos(meta), fields)

    @v_args(meta=True)
    def union_decl(self, meta, children):
        name, *variants = self._present(children)
        return A.UnionDecl(str(name), self._pos(meta), variants)

    @v_args(meta=True)
    def variant(self, meta, children):
        name, *fields = self._present(children)
        return A.VariantDecl(str(name), fields, self._pos(meta))

    @v_args(meta=True)
    def field(self, meta, children):
        return A.FieldDecl(str(children[0]), children[1], self._pos(meta))

    @v_args(meta=True)
    def type_decl(self, meta, children):
        return A.TypeAliasDecl(str(children[0]), self._pos(meta), children[1])

    @v_args(meta=True)
    def var_decl(self, meta, children):
        return children

    @v_args(meta=True)
    def var_item(self, meta, children):
        return A.VarDecl(str(children[0]), self._pos(meta), children[1])

    @v_args(meta=True)
    def init_decl(self, meta, children):
        return A.InitDecl("init", self._pos(meta), children[0])

    @v_args(meta=True)
    def action_decl(self, meta, children):
        name, *rest = self._present(children)
        body = rest.pop()
        return A.ActionDecl(str(name), self._pos(meta), rest, body)

    @v_args(meta=True)
    def param(self, meta, children):
        return A.Param(str(children[0]), children[1], self._pos(meta))

    @v_args(meta=True)
    def def_decl(self, meta, children):
        name, params, ret, body = children
        return A.DefDecl(str(name), self._pos(meta), params, ret, body)

    def def_params(self, children):
        return self._present(children)

    @v_args(meta=True)
    def action_def_decl(self, meta, children):
        name, params, body = children
        return A.ActionDefDecl(str(name), self._pos(meta), params or [], body)

    @v_args(meta=True)
    def check_decl(self, meta, children):
        kind, name, body = children
        if isinstance(body, A.Always | A.Eventually | A.LeadsTo | A.TForall):
            return A.TemporalDecl(str(name), self._pos(meta), body, kind)
        return A.CheckDecl(str(name), self._pos(meta), kind, body)

    # -- temporal properties and fairness -----------------------------------------
    @v_args(meta=True)
    def t_always(self, meta, children):
        return A.Always(children[0], self._pos(meta))

    @v_args(meta=True)
    def t_eventually(self, meta, children):
        return A.Eventually(children[0], self._pos(meta))

    @v_args(meta=True)
    def t_leads_to(self, meta, children):
        left, right = children
        return A.LeadsTo(left, right, self._pos(meta))

    @v_args(meta=True)
    def t_step(self, meta, children):
        return A.TStep(children, self._pos(meta))

    @v_args(meta=True)
    def step_ref(self, meta, children):
        name, *args = children
        present = [a for a in args if a is not None]
        return A.StepRef(str(name), present if present else None, self._pos(meta))

    @v_args(meta=True)
    def t_forall(self, meta, children):
        *binders, body = children
        return A.TForall(_flatten(binders), body, self._pos(meta))

    @v_args(meta=True)
    def fairness_decl(self, meta, children):
        strong, each, *names = children
        return A.FairnessDecl("fair", self._pos(meta), strong, each is not None,
                              [(str(n), self._tpos(n)) for n in names])

    def fair_weak(self, _):
        return False

    def fair_strong(self, _):
        return True

    def ck_invariant(self, _):
        return "invariant"

    def ck_property(self, _):
        return "property"

    def ck_reachable(self, _):
        return "reachable"

    def ck_constraint(self, _):
        return "constraint"

    @v_args(meta=True)
    def view_decl(self, meta, children):
        name, elem, etype, body = children
        element = (str(elem), etype) if elem is not None else None
        return A.ViewDecl(str(name), self._pos(meta), element, body)

    @v_args(meta=True)
    def setting_deadlock(self, meta, children):
        return A.SettingDecl("deadlock", self._pos(meta), children[0])

    @v_args(meta=True)
    def setting_types(self, meta, children):
        return A.SettingDecl("types", self._pos(meta), children[0])

    def on(self, _):
        return True

    def off(self, _):
        return False

    # -- models and scenarios ------------------------------------------------------
    @v_args(meta=True)
    def model_refine(self, meta, children):
        return self.model_decl(meta, [children[0], None, *children[1:]], refines=True)

    @v_args(meta=True)
    def model_decl(self, meta, children, refines: bool = False):
        name, extends, *items = children
        decl = A.ModelDecl(str(name), self._pos(meta), str(extends) if extends else None,
                           [], [], [], False, None, refines)
        for item in items:
            kind = item[0]
            if kind == "const":
                decl.consts.append(item[1])
            elif kind == "violated":
                decl.expect_violated.extend(item[1])
            elif kind == "holds":
                decl.expect_holds.extend(item[1])
            elif kind == "deadlock":
                decl.expect_deadlock = True
            elif kind == "setting":
                decl.deadlock = item[1]
        return decl

    @v_args(meta=True)
    def model_const(self, meta, children):
        name, sym, value = children
        return ("const", A.ModelConst(str(name), value, sym is not None, self._pos(meta)))

    @v_args(meta=True)
    def expect_violated(self, meta, children):
        names = [c for c in children if isinstance(c, Token)]
        return ("violated", [(str(n), self._tpos(n)) for n in names])

    @v_args(meta=True)
    def expect_holds(self, meta, children):
        return ("holds", [(str(n), self._tpos(n)) for n in children])

    @v_args(meta=True)
    def expect_deadlock(self, meta, children):
        return ("deadlock",)

    @v_args(meta=True)
    def model_setting(self, meta, children):
        return ("setting", children[0])

    def violated(self, _):
        return None

    @v_args(meta=True)
    def scenario_decl(self, meta, children):
        name, *items = children
        steps = [i for i in items if isinstance(i, A.Step)]
        expects = [i for i in items if isinstance(i, A.ScenarioExpect)]
        return A.ScenarioDecl(str(name), self._pos(meta), steps, expects)

    @v_args(meta=True)
    def step(self, meta, children):
        name, args = children
        return A.Step(str(name), args, self._pos(meta))

    def step_args(self, children):
        return self._args(children)

    def wildcard(self, _):
        return _Wildcard()

    @v_args(meta=True)
    def scenario_expect(self, meta, children):
        verdict, *models = children
        return A.ScenarioExpect(verdict, [(str(m), self._tpos(m)) for m in models if m is not None],
                                self._pos(meta))

    def verdict_holds(self, _):
        return []

    def verdict_violated(self, children):
        return [(str(n), self._tpos(n)) for n in children if isinstance(n, Token)]

    # -- types ---------------------------------------------------------------------
    @v_args(meta=True)
    def t_bool(self, meta, _):
        return A.TBoolSyn(self._pos(meta))

    @v_args(meta=True)
    def t_int(self, meta, _):
        return A.TIntSyn(self._pos(meta))

    @v_args(meta=True)
    def t_string(self, meta, _):
        return A.TStringSyn(self._pos(meta))

    @v_args(meta=True)
    def t_named(self, meta, children):
        return A.TNamedSyn(str(children[0]), self._pos(meta))

    @v_args(meta=True)
    def t_range(self, meta, children):
        return A.TRangeSyn(children[0], children[1], self._pos(meta))

    @v_args(meta=True)
    def t_map(self, meta, children):
        return A.TMapSyn(children[0], children[1], self._pos(meta))

    @v_args(meta=True)
    def t_set(self, meta, children):
        return A.TSetSyn(children[0], self._pos(meta))

    @v_args(meta=True)
    def t_tuple(self, meta, children):
        return A.TTupleSyn(list(children), self._pos(meta))

    @v_args(meta=True)
    def t_seq(self, meta, children):
        return A.TSeqSyn(children[0], children[1], self._pos(meta))

    @v_args(meta=True)
    def t_set_expr(self, meta, children):
        first = children[0]
        expr = A.Name(str(first), self._tpos(first)) if isinstance(first, Token) else first
        for op, operand in zip(children[1::2], children[2::2]):
            expr = A.BinOp(str(op), expr, operand, expr.pos)
        return A.TSetExprSyn(expr, self._pos(meta))

    # -- statements ----------------------------------------------------------------
    @v_args(meta=True)
    def block(self, meta, children):
        return A.Block(list(children), self._pos(meta))

    @v_args(meta=True)
    def s_requires(self, meta, children):
        return A.Requires(children[0], self._pos(meta))

    @v_args(meta=True)
    def s_let(self, meta, children):
        return A.Let(str(children[0]), children[1], self._pos(meta))

    @v_args(meta=True)
    def s_assign(self, meta, children):
        return A.Assign(children[0], children[1], self._pos(meta))

    @v_args(meta=True)
    def lhs(self, meta, children):
        name, prime, *path = children
        return A.LValue(str(name), prime is not None, path, self._pos(meta))

    @v_args(meta=True)
    def acc_index(self, meta, children):
        return A.IndexAcc(children[0], self._pos(meta))

    @v_args(meta=True)
    def acc_field(self, meta, children):
        return A.FieldAcc(str(children[0]), self._tpos(children[0]))

    @v_args(meta=True)
    def s_if(self, meta, children):
        items = list(children)
        orelse = items.pop() if len(items) % 2 == 1 else None
        branches = [(items[i], items[i + 1]) for i in range(0, len(items), 2)]
        return A.IfStmt(branches, orelse, self._pos(meta))

    @v_args(meta=True)
    def s_match(self, meta, children):
        subject, *arms = children
        return A.MatchStmt(subject, arms, self._pos(meta))

    @v_args(meta=True)
    def stmt_arm(self, meta, children):
        patterns, body = children
        if not isinstance(body, A.Block):
            body = A.Block([body], body.pos)
        return (patterns, body)

    def patterns(self, children):
        return [c for c in children if isinstance(c, A.Pattern)]

    @v_args(meta=True)
    def p_ctor(self, meta, children):
        name, args = children
        return A.Pattern(str(name), args, self._pos(meta))

    def pat_args(self, children):
        return self._args(children)

    @v_args(meta=True)
    def p_wild(self, meta, _):
        return A.Pattern(None, None, self._pos(meta))

    def pa_name(self, children):
        return str(children[0])

    def pa_wild(self, _):
        return _Wildcard()

    @v_args(meta=True)
    def s_either(self, meta, children):
        return A.Either(list(children), self._pos(meta))

    @v_args(meta=True)
    def s_pick(self, meta, children):
        name, domain, cond = children
        binder = A.Binder(str(name), domain, self._tpos(name))
        return A.Pick(binder, cond, self._pos(meta))

    @v_args(meta=True)
    def s_for(self, meta, children):
        name, domain, body = children
        return A.For(A.Binder(str(name), domain, self._tpos(name)), body, self._pos(meta))

    @v_args(meta=True)
    def s_skip(self, meta, _):
        return A.Skip(self._pos(meta))

    @v_args(meta=True)
    def s_perform(self, meta, children):
        name, *args = children
        return A.Perform(str(name), [a if isinstance(a, A.Arg) else A.Arg(None, a, a.pos)
                                     for a in args if a is not None], self._pos(meta))

    # -- expressions ---------------------------------------------------------------
    @v_args(meta=True)
    def e_int(self, meta, children):
        return A.Int(self._int(children[0]), self._pos(meta))

    @v_args(meta=True)
    def e_negint(self, meta, children):
        return A.Int(-self._int(children[0]), self._pos(meta))

    @v_args(meta=True)
    def e_str(self, meta, children):
        return A.Str(_unquote(children[0]), self._pos(meta))

    @v_args(meta=True)
    def e_true(self, meta, _):
        return A.Bool(True, self._pos(meta))

    @v_args(meta=True)
    def e_false(self, meta, _):
        return A.Bool(False, self._pos(meta))

    @v_args(meta=True)
    def e_name(self, meta, children):
        return A.Name(str(children[0]), self._pos(meta))

    @v_args(meta=True)
    def e_primed(self, meta, children):
        return A.Primed(str(children[0]), self._pos(meta))

    @v_args(meta=True)
    def e_call(self, meta, children):
        name, *args = children
        return A.Call(str(name), [a if isinstance(a, A.Arg) else A.Arg(None, a, a.pos)
                                  for a in args if a is not None], self._pos(meta))

    @v_args(meta=True)
    def named_arg(self, meta, children):
        return A.Arg(str(children[0]), children[1], self._pos(meta))

    @v_args(meta=True)
    def e_tuple(self, meta, children):
        return A.TupleLit(list(children), self._pos(meta))

    @v_args(meta=True)
    def e_seq(self, meta, children):
        return A.SeqLit([c for c in children[1:-1] if c is not None], self._pos(meta))

    @v_args(meta=True)
    def e_set(self, meta, children):
        return A.SetLit([c for c in children if c is not None], self._pos(meta))

    @v_args(meta=True)
    def e_set_filter(self, meta, children):
        head, cond = children
        if not (isinstance(head, A.BinOp) and head.op == "in" and isinstance(head.left, A.Name)):
            self.errors.append(Diagnostic(
                codes.SYNTAX, "a set filter reads {x in S where condition}", self._pos(meta)))
            return A.SetLit([], self._pos(meta))
        binder = A.Binder(head.left.name, head.right, head.left.pos)
        return A.SetFilter(binder, cond, self._pos(meta))

    @v_args(meta=True)
    def e_set_map(self, meta, children):
        expr, *rest = children
        cond = rest.pop()
        return A.SetMap(expr, _flatten(rest), cond, self._pos(meta))

    @v_args(meta=True)
    def binder(self, meta, children):
        return A.Binder(str(children[0]), children[1], self._pos(meta))

    def binder_more(self, children):
        """``x, y in S``: one binder per name, over the same set."""
        name, rest = children
        rest = rest if isinstance(rest, list) else [rest]
        return [A.Binder(str(name), rest[0].domain, self._tpos(name)), *rest]

    def _one_binder(self, binder, what: str):
        """The binder of a form that binds one name (``choose``, a map comprehension)."""
        if isinstance(binder, list):
            self.errors.append(Diagnostic(codes.SYNTAX, f"{what} binds one name",
                                          binder[1].pos))
            return binder[0]
        return binder

    @v_args(meta=True)
    def e_map(self, meta, children):
        binder = self._one_binder(children[0], "a map comprehension")
        return A.MapComp(binder, children[1], self._pos(meta))

    @v_args(meta=True)
    def e_if(self, meta, children):
        items = list(children)
        orelse = items.pop()
        branches = [(items[i], items[i + 1]) for i in range(0, len(items), 2)]
        return A.IfExpr(branches, orelse, self._pos(meta))

    @v_args(meta=True)
    def e_match(self, meta, children):
        subject, *arms = children
        return A.MatchExpr(subject, [a for a in arms if a is not None], self._pos(meta))

    def expr_arm(self, children):
        return (children[0], children[1])

    @v_args(meta=True)
    def e_forall(self, meta, children):
        *binders, body = children
        binders = _flatten(binders)
        return A.Quant("forall", binders, body, self._pos(meta))

    @v_args(meta=True)
    def e_exists(self, meta, children):
        *binders, body = children
        binders = _flatten(binders)
        return A.Quant("exists", binders, body, self._pos(meta))

    @v_args(meta=True)
    def e_sum(self, meta, children):
        *binders, body = children
        binders = _flatten(binders)
        return A.Quant("sum", binders, body, self._pos(meta))

    @v_args(meta=True)
    def e_choose(self, meta, children):
        return A.Choose(self._one_binder(children[0], "choose"), children[1], self._pos(meta))

    @v_args(meta=True)
    def e_select(self, meta, children):
        return A.Select(children[0], children[1], self._pos(meta))

    @v_args(meta=True)
    def e_let(self, meta, children):
        name, value, body = children
        return A.LetExpr(str(name), value, body, self._pos(meta))

    def _bin(self, op: str, meta, children) -> A.BinOp:
        return A.BinOp(op, children[0], children[-1], self._pos(meta))

    @v_args(meta=True)
    def e_implies(self, meta, children):
        return self._bin("implies", meta, children)

    @v_args(meta=True)
    def e_or(self, meta, children):
        return self._bin("or", meta, children)

    @v_args(meta=True)
    def e_and(self, meta, children):
        return self._bin("and", meta, children)

    @v_args(meta=True)
    def e_not(self, meta, children):
        return A.Not(children[0], self._pos(meta))

    @v_args(meta=True)
    def e_cmp(self, meta, children):
        return self._bin(str(children[1]), meta, children)

    @v_args(meta=True)
    def e_in(self, meta, children):
        return self._bin("in", meta, children)

    @v_args(meta=True)
    def e_notin(self, meta, children):
        return self._bin("not in", meta, children)

    @v_args(meta=True)
    def e_subset(self, meta, children):
        return self._bin("subset", meta, children)

    @v_args(meta=True)
    def e_is(self, meta, children):
        return A.Is(children[0], str(children[1]), self._pos(meta))

    @v_args(meta=True)
    def e_range(self, meta, children):
        return A.RangeExpr(children[0], children[1], self._pos(meta))

    @v_args(meta=True)
    def e_binop(self, meta, children):
        return self._bin(str(children[1]), meta, children)

    @v_args(meta=True)
    def e_neg(self, meta, children):
        operand = children[0]
        if isinstance(operand, A.Int):
            return A.Int(-operand.value, self._pos(meta))
        return A.Neg(operand, self._pos(meta))

    @v_args(meta=True)
    def e_field(self, meta, children):
        return A.Field(children[0], str(children[1]), self._tpos(children[1]))

    @v_args(meta=True)
    def e_index(self, meta, children):
        return A.Index(children[0], children[1], self._pos(meta))

    @v_args(meta=True)
    def e_with_fields(self, meta, children):
        operand, *updates = children
        return A.WithFields(operand, [u for u in updates if u is not None], self._pos(meta))

    @v_args(meta=True)
    def field_value(self, meta, children):
        return (str(children[0]), children[1], self._pos(meta))

    @v_args(meta=True)
    def e_with_key(self, meta, children):
        return A.WithKey(children[0], children[1], children[2], self._pos(meta))


def _flatten(binders: list) -> list:
    """Binders, with each ``x, y in S`` spread into one per name."""
    return [b for item in binders for b in (item if isinstance(item, list) else [item])]


class _Wildcard:
    """``_`` in a scenario step or a pattern, before it becomes ``None``."""




def _unquote(tok: Token) -> str:
    body = str(tok)[1:-1]
    out, i = [], 0
    while i < len(body):
        c = body[i]
        if c == "\\" and i + 1 < len(body):
            out.append({"n": "\n", "t": "\t"}.get(body[i + 1], body[i + 1]))
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _doc_lines(text: str) -> dict[int, str]:
    """Doc comments by line number, for attaching them to the declaration below."""
    docs: dict[int, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith("///"):
            docs[number] = stripped[3:].removeprefix(" ")
    return docs


def _attach_docs(decls: list[A.Decl], docs: dict[int, str]) -> None:
    for decl in decls:
        start = decl.annotations[0].pos.line if decl.annotations else decl.pos.line
        lines = []
        line = start - 1
        while line in docs:
            lines.append(docs[line])
            line -= 1
        decl.doc = "\n".join(reversed(lines)).strip()


def parse_expr(text: str, file: str) -> tuple[A.Expr | None, list[Diagnostic]]:
    """Parse a lone expression, such as the value of ``-D N=3`` on the command line."""
    try:
        tree = _lark().parse(text, start="expr")
    except UnexpectedInput as err:
        return None, [_syntax_diagnostic(err, file, text)]
    deep = _too_deep(tree, file, text)
    if deep is not None:
        return None, [deep]
    builder = _ToAst(file)
    expr = builder.transform(tree)
    return expr, builder.errors


def parse_text(text: str, file: str) -> tuple[A.Module | None, list[Diagnostic]]:
    """Parse one file's text. On a syntax error the module is None."""
    try:
        tree = _lark().parse(text, start="start")
    except UnexpectedInput as err:
        return None, [_syntax_diagnostic(err, file, text)]
    deep = _too_deep(tree, file, text)
    if deep is not None:
        return None, [deep]
    builder = _ToAst(file)
    items = builder.transform(tree)
    if not isinstance(items, list):  # pragma: no cover - start always yields a list
        items = [items]
    name: str | None = None
    imports: list[A.Import] = []
    decls: list[A.Decl] = []
    for item in items:
        if isinstance(item, Tree):  # pragma: no cover - every rule has a transformer
            continue
        if isinstance(item, tuple) and item[0] == "module":
            name = item[1]
        elif isinstance(item, A.Import):
            imports.append(item)
        elif isinstance(item, list):  # a `var` line declaring several variables
            decls.extend(item)
        else:
            decls.append(item)
    _attach_docs(decls, _doc_lines(text))
    lines = text.splitlines()
    errors = [
        Diagnostic(d.code, d.message, d.pos, d.severity,
                   lines[d.pos.line - 1] if d.pos and 0 < d.pos.line <= len(lines) else None)
        for d in builder.errors
    ]
    return A.Module(file, name, imports, decls), errors
