"""The language server behind ``cowspec lsp``: pygls over stdio, answering from
:mod:`explorer.lsp_index`.

Every change of a ``.cow`` buffer re-checks the spec it belongs to (a library module: the
spec that imports it, :func:`explorer.lsp_index.owner`) and publishes the
checker's diagnostics (code, position, message) for every file of it, imported modules
included, so an error in ``lib/fork.cow`` shows while ``cow.cow`` is edited. Hover,
go to definition (of global and local names) and completion use the last analysis of the
document, which survives a
syntax error further down the buffer. pygls is the optional extra ``cowspec[lsp]``.
"""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types as T
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path

from explorer.lsp_index import KEYWORDS, Analysis, Symbol, analyse, owner, word_span
from explorer.textsafe import encodable
from pyspec.errors import Diagnostic
from pyspec.model import SourcePos

_COMPLETION_KINDS = {
    "action": T.CompletionItemKind.Function,
    "def": T.CompletionItemKind.Function,
    "var": T.CompletionItemKind.Variable,
    "const": T.CompletionItemKind.Constant,
    "enum member": T.CompletionItemKind.EnumMember,
    "variant": T.CompletionItemKind.EnumMember,
    "enum": T.CompletionItemKind.Enum,
    "record": T.CompletionItemKind.Struct,
    "union": T.CompletionItemKind.Enum,
    "type": T.CompletionItemKind.TypeParameter,
}


class SpecServer(LanguageServer):
    """Keeps the last analysis per document URI, and which files' diagnostics it
    published, so that fixed files are cleared."""

    def __init__(self) -> None:
        super().__init__("cowspec", "1")
        self.analyses: dict[str, Analysis] = {}
        self.published: set[str] = set()


def _range(pos: SourcePos | None, length: int = 1) -> T.Range:
    line = max(pos.line - 1, 0) if pos else 0
    col = max(pos.col - 1, 0) if pos else 0
    return T.Range(T.Position(line, col), T.Position(line, col + length))


def _diagnostic(d: Diagnostic) -> T.Diagnostic:
    severity = T.DiagnosticSeverity.Error if d.severity == "error" else T.DiagnosticSeverity.Warning
    return T.Diagnostic(
        range=_range(d.pos), message=d.message, severity=severity, code=d.code, source="cowspec"
    )


def _location(sym: Symbol) -> T.Location:
    return T.Location(uri=from_fs_path(str(Path(sym.pos.file).resolve())) or "",
                      range=_range(sym.pos, len(sym.name)))


def refresh(server: SpecServer, uri: str) -> None:
    """Re-check the document at ``uri`` and publish diagnostics for each of its files."""
    path = to_fs_path(uri)
    if path is None:
        return
    overlay = {
        str(Path(p).resolve()): doc.source
        for doc in server.workspace.text_documents.values()
        if (p := to_fs_path(doc.uri)) is not None
    }
    analysis = analyse(owner(path, overlay), overlay)
    server.analyses[uri] = analysis
    by_uri: dict[str, list[T.Diagnostic]] = {}
    for file in analysis.files:
        by_uri[from_fs_path(str(Path(file).resolve())) or ""] = []
    for file, diags in analysis.diagnostics.items():
        key = from_fs_path(str(Path(file or path).resolve())) or ""
        by_uri.setdefault(key, []).extend(_diagnostic(d) for d in diags)
    for stale in server.published - by_uri.keys():
        by_uri[stale] = []
    server.published = {u for u, diags in by_uri.items() if diags}
    for target, diags in sorted(by_uri.items()):
        server.text_document_publish_diagnostics(
            T.PublishDiagnosticsParams(uri=target, diagnostics=diags)
        )


def _symbol_at(server: SpecServer, uri: str, position: T.Position) -> Symbol | None:
    analysis = server.analyses.get(uri)
    if analysis is None:
        return None
    text = server.workspace.get_text_document(uri).source
    found = word_span(text, position.line, position.character)
    path = to_fs_path(uri)
    if found is None or path is None:
        return None
    word, start = found
    return analysis.symbol_at(path, position.line + 1, start + 1, word)


def build() -> SpecServer:
    server = SpecServer()

    @server.feature(T.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: SpecServer, params: T.DidOpenTextDocumentParams) -> None:
        refresh(ls, params.text_document.uri)

    @server.feature(T.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: SpecServer, params: T.DidChangeTextDocumentParams) -> None:
        refresh(ls, params.text_document.uri)

    @server.feature(T.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: SpecServer, params: T.DidSaveTextDocumentParams) -> None:
        refresh(ls, params.text_document.uri)

    @server.feature(T.TEXT_DOCUMENT_HOVER)
    def hover(ls: SpecServer, params: T.HoverParams) -> T.Hover | None:
        sym = _symbol_at(ls, params.text_document.uri, params.position)
        if sym is None:
            return None
        content = T.MarkupContent(kind=T.MarkupKind.Markdown, value=encodable(sym.hover()))
        return T.Hover(contents=content)

    @server.feature(T.TEXT_DOCUMENT_DEFINITION)
    def definition(ls: SpecServer, params: T.DefinitionParams) -> T.Location | None:
        sym = _symbol_at(ls, params.text_document.uri, params.position)
        return _location(sym) if sym is not None else None

    @server.feature(T.TEXT_DOCUMENT_COMPLETION)
    def completion(ls: SpecServer, params: T.CompletionParams) -> T.CompletionList:
        analysis = ls.analyses.get(params.text_document.uri)
        symbols = sorted(analysis.symbols.values(), key=lambda s: s.name) if analysis else []
        items = [
            T.CompletionItem(
                label=s.name,
                kind=_COMPLETION_KINDS.get(s.kind, T.CompletionItemKind.Reference),
                detail=s.kind,
                documentation=s.doc or None,
            )
            for s in symbols
        ]
        items += [T.CompletionItem(label=k, kind=T.CompletionItemKind.Keyword) for k in KEYWORDS]
        return T.CompletionList(is_incomplete=False, items=items)

    return server


def serve() -> None:
    """Speak LSP on stdin/stdout until the client says exit."""
    build().start_io()
