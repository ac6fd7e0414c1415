"""The editor files: the TextMate grammar knows every keyword of the language's grammar,
and the VS Code extension names files that exist and starts ``cowspec lsp``."""

from __future__ import annotations

import json
import re
from pathlib import Path

from explorer.lsp_index import KEYWORDS

VSCODE = Path(__file__).resolve().parent.parent / "editors" / "vscode"
GRAMMAR = json.loads((VSCODE / "syntaxes" / "cowspec.tmLanguage.json").read_text())


def _scope_of(word: str) -> str | None:
    for p in GRAMMAR["repository"]["keywords"]["patterns"]:
        if re.fullmatch(p["match"], word):
            return p["name"]
    return None


def test_every_keyword_is_highlighted() -> None:
    assert "implies" in KEYWORDS and "forall" in KEYWORDS
    assert [k for k in KEYWORDS if _scope_of(k) is None] == []
    assert _scope_of("Isolation") is None
    assert _scope_of("true") == "constant.language.cowspec"
    assert _scope_of("action") == "keyword.declaration.cowspec"


def test_comments_and_annotations_are_scoped() -> None:
    repo = GRAMMAR["repository"]
    assert re.match(repo["doc"]["match"], "/// a doc comment")
    assert re.match(repo["annotations"]["match"], '@kernel("mm/memory.c: do_wp_page")')
    assert re.fullmatch(repo["primed"]["match"], "pte'")


def test_extension_starts_the_language_server() -> None:
    package = json.loads((VSCODE / "package.json").read_text())
    assert (VSCODE / package["main"]).is_file()
    (grammar,) = package["contributes"]["grammars"]
    assert (VSCODE / grammar["path"]).is_file()
    assert grammar["scopeName"] == GRAMMAR["scopeName"]
    assert package["contributes"]["languages"][0]["extensions"] == [".cow"]
    assert 'args: ["lsp"]' in (VSCODE / package["main"]).read_text()
