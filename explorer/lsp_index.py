"""What an editor asks of a spec, answered without any editor library: the checker's
diagnostics for the text being edited, and an index of every global name (where it is
declared, what it is) for hover, go to definition and completion, and of every local
name (parameters, binders, ``let``: :mod:`explorer.lsp_locals`) by where it is written.

The file being edited is read from the editor's buffer (``overlay``); the modules it
imports are read from the editor's buffers when open there, else from disk, resolved
as the loader resolves them (relative to the importing file, each once). A library
module (the kernel spec's ``lib/*.cow``) uses names that only the spec importing it
declares, so it is checked as part of that spec (:func:`owner`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path

from explorer.lsp_locals import local_names
from pyspec import ast as A
from pyspec.checked import Symbols
from pyspec.checker import check
from pyspec.errors import Diagnostic, SourceCache
from pyspec.model import SourcePos
from pyspec.parser import parse_text

#: Words the grammar spells out as keywords, read from the grammar itself.
KEYWORDS: tuple[str, ...] = tuple(
    sorted(set(re.findall(r'"([a-z][a-z_]*)"', files("pyspec").joinpath("grammar.lark").read_text(
        encoding="utf-8"))))
)

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_IMPORT = re.compile(r'^\s*import\s+"([^"\n]+)"', re.MULTILINE)

#: What each kind of declaration is called in a hover.
_KINDS: dict[type, str] = {
    A.ConstDecl: "const",
    A.ParamDecl: "param",
    A.EnumDecl: "enum",
    A.RecordDecl: "record",
    A.UnionDecl: "union",
    A.TypeAliasDecl: "type",
    A.VarDecl: "var",
    A.InitDecl: "init",
    A.ActionDecl: "action",
    A.DefDecl: "def",
    A.ActionDefDecl: "def",
    A.ViewDecl: "view",
    A.ModelDecl: "model",
    A.ScenarioDecl: "scenario",
}


@dataclass(frozen=True)
class Symbol:
    """A global name: where it is declared and what a hover says about it."""

    name: str
    kind: str
    pos: SourcePos
    header: str
    detail: str = ""
    doc: str = ""
    annotations: tuple[str, ...] = ()

    def hover(self) -> str:
        """Markdown: the declaring line, its type, its doc comment, its annotations."""
        parts = [f"```cowspec\n{self.header}\n```"]
        if self.detail:
            parts.append(self.detail)
        if self.doc:
            parts.append(self.doc)
        if self.annotations:
            parts.append("\n".join(f"- `{a}`" for a in self.annotations))
        return "\n\n".join(parts)


@dataclass
class Analysis:
    """One spec's diagnostics (by file) and global names."""

    diagnostics: dict[str, list[Diagnostic]] = field(default_factory=dict)
    symbols: dict[str, Symbol] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    #: Local names (:mod:`explorer.lsp_locals`), by the resolved file, 1-based line and
    #: column of each binding and each use.
    locals: dict[tuple[str, int, int], Symbol] = field(default_factory=dict)

    def symbol_at(self, file: str, line: int, col: int, word: str) -> Symbol | None:
        """The local binding the name at ``file:line:col`` refers to, else the global
        name ``word``."""
        local = self.locals.get((str(Path(file).resolve()), line, col))
        return local if local is not None else self.symbols.get(word)


def analyse(path: str, overlay: dict[str, str]) -> Analysis:
    """Parse and check ``path`` and its imports; ``overlay`` maps resolved file paths to
    the editor's unsaved text."""
    sources = SourceCache()
    modules: list[A.Module] = []
    result = Analysis()
    seen: set[Path] = set()

    def visit(p: Path, origin: SourcePos | None) -> None:
        resolved = p.resolve()
        if resolved in seen:
            return
        seen.add(resolved)
        file = str(p)
        result.files.append(file)
        text = overlay.get(str(resolved))
        if text is None:
            try:
                text = p.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
                _add(result, Diagnostic("E004", f"cannot read {p}: {reason}", origin))
                return
        sources.add(file, text)
        module, errors = parse_text(text, file)
        for d in errors:
            _add(result, d)
        if module is None:
            return
        for imp in module.imports:
            imp.file = str(p.parent / imp.target)
            visit(p.parent / imp.target, imp.pos)
        modules.append(module)

    visit(Path(path), None)
    if modules:
        checked = check(modules, sources)
        for d in checked.diagnostics:
            _add(result, d)
        result.symbols = index(modules, sources, checked.symbols)
        result.locals = {
            (str(Path(f).resolve()), line, col): Symbol(b.name, b.kind, b.pos, b.header,
                                                        b.detail)
            for (f, line, col), b in local_names(modules, sources).items()
        }
    return result


def _imports(path: Path, overlay: dict[str, str]) -> set[Path]:
    """Every file ``path`` imports, transitively (resolved), read as cheaply as possible:
    only to find which spec a module belongs to; the check itself parses properly."""
    found: set[Path] = set()
    todo = [path.resolve()]
    while todo:
        p = todo.pop()
        text = overlay.get(str(p))
        if text is None:
            try:
                text = p.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
        for target in _IMPORT.findall(text):
            q = (p.parent / target).resolve()
            if q not in found:
                found.add(q)
                todo.append(q)
    return found


def owner(path: str, overlay: dict[str, str]) -> str:
    """The spec to check ``path`` in: of the specs beside it and one directory up that
    import it, the one importing the most modules (the top-level spec); else itself."""
    me = Path(path).resolve()
    candidates = sorted({*me.parent.glob("*.cow"), *me.parent.parent.glob("*.cow")} - {me})
    best: tuple[int, str] | None = None
    for c in candidates:
        closure = _imports(c, overlay)
        if me in closure and (best is None or len(closure) > best[0]):
            best = (len(closure), str(c))
    return best[1] if best else path


def _add(result: Analysis, d: Diagnostic) -> None:
    key = d.pos.file if d.pos is not None else ""
    result.diagnostics.setdefault(key, []).append(d)


def index(modules: list[A.Module], sources: SourceCache, symbols: Symbols) -> dict[str, Symbol]:
    """Every global name of ``modules``: declarations, enum members, union variants."""
    types = {"var": symbols.var_types, "const": symbols.const_types, "def": symbols.def_types,
             "param": symbols.const_types}
    out: dict[str, Symbol] = {}
    for module in modules:
        for decl in module.decls:
            if isinstance(decl, A.SettingDecl) or getattr(decl, "refines", False):
                continue
            kind = decl.kind if isinstance(decl, A.CheckDecl) else _KINDS.get(type(decl), "")
            header = (sources.line(decl.pos) or decl.name).strip()
            typ = types.get(kind, {}).get(decl.name)
            detail = f"type: `{typ}`" if typ is not None else ""
            notes = tuple(_annotation(a) for a in decl.annotations)
            out.setdefault(
                decl.name, Symbol(decl.name, kind, decl.pos, header, detail, decl.doc, notes)
            )
            for member, pos in getattr(decl, "members", ()):
                out.setdefault(member, Symbol(member, "enum member", pos, f"{decl.name}.{member}",
                                              f"a member of enum `{decl.name}`"))
            for variant in getattr(decl, "variants", ()):
                line = (sources.line(variant.pos) or variant.name).strip()
                out.setdefault(variant.name, Symbol(variant.name, "variant", variant.pos, line,
                                                    f"a variant of union `{decl.name}`"))
    return out


def _annotation(a: A.Annotation) -> str:
    """``@kernel("mm/memory.c: do_wp_page")`` as written in the spec."""
    args = ", ".join(f'"{x}"' if isinstance(x, str) else str(x) for x in a.args)
    return f"@{a.name}({args})"


def word_span(text: str, line: int, character: int) -> tuple[str, int] | None:
    """The identifier at 0-based ``line``/``character`` of ``text`` and its 0-based
    starting character, if any."""
    lines = text.splitlines()
    if not 0 <= line < len(lines):
        return None
    for m in _WORD.finditer(lines[line]):
        if m.start() <= character <= m.end():
            return m.group(), m.start()
    return None
