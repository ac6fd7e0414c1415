"""``cowspec lsp`` driven as an editor drives it: JSON-RPC over its stdin/stdout."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("pygls", reason="the language server needs pygls (pip install '.[lsp]')")

ROOT = Path(__file__).resolve().parent.parent
KERNEL = ROOT / "spec" / "kernel" / "cow.cow"


class Client:
    """A minimal LSP client: requests wait for their response, notifications are kept."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "explorer.cli", "lsp", "--stdio"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=ROOT,
        )
        self.next_id = 0
        self.notifications: list[dict[str, Any]] = []

    def send(self, message: dict[str, Any]) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()

    def receive(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        length = 0
        while (line := self.proc.stdout.readline().strip()) != b"":
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
        return json.loads(self.proc.stdout.read(length))

    def request(self, method: str, params: dict[str, Any]) -> Any:
        self.next_id += 1
        self.send({"id": self.next_id, "method": method, "params": params})
        while True:
            message = self.receive()
            if message.get("id") == self.next_id and "method" not in message:
                assert "error" not in message, message
                return message["result"]
            self.notifications.append(message)

    def notify(self, method: str, params: dict[str, Any]) -> None:
        self.send({"method": method, "params": params})

    def diagnostics_for(self, uri: str) -> list[dict[str, Any]]:
        """Wait for the next diagnostics published for ``uri``."""
        while True:
            for i, n in enumerate(self.notifications):
                if n.get("method") == "textDocument/publishDiagnostics" and (
                    n["params"]["uri"] == uri
                ):
                    del self.notifications[: i + 1]
                    return n["params"]["diagnostics"]
            self.notifications.append(self.receive())

    def close(self) -> int:
        self.request("shutdown", None)
        self.notify("exit", None)
        return self.proc.wait(timeout=30)


@pytest.fixture
def client() -> Any:
    c = Client()
    c.request("initialize", {"processId": None, "rootUri": KERNEL.parent.as_uri(),
                             "capabilities": {}})
    c.notify("initialized", {})
    yield c
    if c.proc.poll() is None:
        c.proc.kill()
        c.proc.wait()


def _open(c: Client, path: Path, text: str) -> str:
    uri = path.resolve().as_uri()
    c.notify("textDocument/didOpen", {"textDocument": {
        "uri": uri, "languageId": "cowspec", "version": 1, "text": text}})
    return uri


def _change(c: Client, uri: str, text: str, version: int) -> None:
    c.notify("textDocument/didChange", {
        "textDocument": {"uri": uri, "version": version},
        "contentChanges": [{"text": text}]})


def _at(text: str, needle: str, offset: int = 0) -> dict[str, int]:
    """The LSP position of the first ``needle`` in ``text`` (plus ``offset`` characters)."""
    before = text[: text.index(needle) + offset]
    return {"line": before.count("\n"), "character": len(before) - before.rfind("\n") - 1}


def test_diagnostics_carry_the_checkers_code_and_position(client, tmp_path) -> None:
    spec = tmp_path / "bad.cow"
    good = "var x: 0..3\ninit { x = 0 }\naction Up { requires x < 3  x' = x + 1 }\n"
    spec.write_text(good)
    uri = _open(client, spec, good)
    assert client.diagnostics_for(uri) == []
    # An unknown name, typed but not saved: the checker's E-code at line 3, column 22.
    _change(client, uri, good.replace("x < 3", "y < 3"), 2)
    (d,) = client.diagnostics_for(uri)
    assert d["code"].startswith("E") and d["severity"] == 1 and d["source"] == "cowspec"
    assert "y" in d["message"]
    assert d["range"]["start"] == {"line": 2, "character": 21}
    # A syntax error: the parser's position.
    _change(client, uri, good.replace("init {", "init {{"), 3)
    (d,) = client.diagnostics_for(uri)
    assert d["code"] == "E001" and d["range"]["start"]["line"] == 1
    # Fixed again: the diagnostics are cleared.
    _change(client, uri, good, 4)
    assert client.diagnostics_for(uri) == []
    assert client.close() == 0


def test_hover_shows_type_doc_and_kernel_annotations(client) -> None:
    faults = KERNEL.parent / "lib" / "faults.cow"
    text = faults.read_text()
    uri = _open(client, faults, text)
    # Checked as part of the spec that imports it: no "unknown name 'Hugetlb'", and no
    # warning (the swap-in guard is written 'if A then true else B', not an 'or': W503).
    assert client.diagnostics_for(uri) == []
    hover = client.request("textDocument/hover", {
        "textDocument": {"uri": uri}, "position": _at(text, "action Fault(", 8)})
    value = hover["contents"]["value"]
    assert "action Fault(p: Procs, a: Addrs, acc: Access)" in value
    assert '@kernel("mm/memory.c: handle_pte_fault")' in value
    assert "@patch(12)" in value
    assert "A load or a store by p at a" in value
    kernel = KERNEL.read_text()
    uri = _open(client, KERNEL, kernel)
    client.diagnostics_for(uri)
    hover = client.request("textDocument/hover", {
        "textDocument": {"uri": uri}, "position": _at(kernel, "page[f]", 1)})
    assert "type: `[Frames -> Page]`" in hover["contents"]["value"]


def test_definition_goes_across_imports(client) -> None:
    text = KERNEL.read_text()
    uri = _open(client, KERNEL, text)
    client.diagnostics_for(uri)
    where = client.request("textDocument/definition", {
        "textDocument": {"uri": uri}, "position": _at(text, "violated Isolation", 10)})
    lib = KERNEL.parent / "lib" / "properties.cow"
    assert where["uri"] == lib.as_uri()
    line = lib.read_text().splitlines()[where["range"]["start"]["line"]]
    assert line.startswith("invariant Isolation ")


def test_completion_offers_names_and_keywords(client) -> None:
    text = KERNEL.read_text()
    uri = _open(client, KERNEL, text)
    client.diagnostics_for(uri)
    items = client.request("textDocument/completion", {
        "textDocument": {"uri": uri}, "position": {"line": 0, "character": 0}})["items"]
    labels = {i["label"]: i for i in items}
    assert labels["Isolation"]["detail"] == "invariant"
    assert labels["pte"]["detail"] == "var"
    assert "forall" in labels and "implies" in labels


#: Local names of every kind (``k`` a parameter of two actions).
LOCALS = """var x: 0..3
init { x = 0 }
def f(a: 0..3, b: bool) = let c = a + 1 in (c > 2 and b)
action Up(k: 1..2) {
  let d = x + k
  pick e in 0..3 where e > d
  requires forall g in 0..3: exists i in {j + 1 for j in 0..2 where j > g}: i > 0
  requires (choose m in 0..3: m == e) >= 0
  x' = (d + e) % 4
}
action Down(k: 1..2) {
  requires forall q in {k}: q > 0 and f(q, true)
  x' = k
}
"""


def _where(text: str, needle: str, offset: int) -> tuple[int, int]:
    at = _at(text, needle, offset)
    return at["line"], at["character"]


@pytest.mark.parametrize(("use", "offset", "binding", "boffset", "says"), [
    ("x + k", 4, "Up(k", 3, "a parameter of action `Up`: `k: 1..2`"),
    ("c > 2", 0, "let c", 4, "bound by `let c = (a + 1)`"),
    ("a + 1", 0, "f(a", 2, "a parameter of def `f`: `a: 0..3`"),
    ("and b)", 4, "b: bool", 0, "a parameter of def `f`: `b: bool`"),
    ("e > d", 4, "let d", 4, "bound by `let d = (x + k)`"),
    ("m == e", 5, "pick e", 5, "bound by `pick e in 0..3`"),
    ("i > 0", 0, "exists i", 7, "bound by `exists i in"),
    ("j > g", 0, "for j", 4, "bound in a set comprehension: `j in 0..2`"),
    ("j > g", 4, "forall g", 7, "bound by `forall g in 0..3`"),
    ("m == e", 0, "choose m", 7, "bound by `choose m in 0..3`"),
    ("q > 0", 0, "forall q", 7, "bound by `forall q in {k}`"),
    ("{k}", 1, "Down(k", 5, "a parameter of action `Down`"),
    ("x' = k", 5, "Down(k", 5, "a parameter of action `Down`"),
])
def test_hover_and_definition_of_local_names(client, tmp_path, use, offset, binding, boffset,
                                             says) -> None:
    spec = tmp_path / "locals.cow"
    spec.write_text(LOCALS)
    uri = _open(client, spec, LOCALS)
    assert client.diagnostics_for(uri) == []
    position = _at(LOCALS, use, offset)
    hover = client.request("textDocument/hover", {"textDocument": {"uri": uri},
                                                  "position": position})
    assert says in hover["contents"]["value"]
    where = client.request("textDocument/definition", {"textDocument": {"uri": uri},
                                                       "position": position})
    assert where["uri"] == uri
    start, end = where["range"]["start"], where["range"]["end"]
    line, character = _where(LOCALS, binding, boffset)
    assert (start["line"], start["character"]) == (line, character)
    assert end["character"] == character + 1
    # The binding itself answers alike.
    again = client.request("textDocument/definition", {"textDocument": {"uri": uri},
                                                       "position": start})
    assert again["range"]["start"] == start
    assert client.close() == 0


def test_a_global_name_is_still_a_global_beside_locals(client, tmp_path) -> None:
    spec = tmp_path / "locals.cow"
    spec.write_text(LOCALS)
    uri = _open(client, spec, LOCALS)
    client.diagnostics_for(uri)
    hover = client.request("textDocument/hover", {"textDocument": {"uri": uri},
                                                  "position": _at(LOCALS, "x + k", 0)})
    assert "var x: 0..3" in hover["contents"]["value"]
    assert client.close() == 0


def test_kernel_action_parameters_across_library_modules(client) -> None:
    faults = KERNEL.parent / "lib" / "faults.cow"
    text = faults.read_text()
    uri = _open(client, faults, text)
    client.diagnostics_for(uri)
    start = text.index("action Fault(")
    use = text.index("acc", text.index("{", start))
    before = text[:use]
    position = {"line": before.count("\n"), "character": len(before) - before.rfind("\n") - 1}
    hover = client.request("textDocument/hover", {"textDocument": {"uri": uri},
                                                  "position": position})
    assert "a parameter of action `Fault`: `acc: Access`" in hover["contents"]["value"]
    where = client.request("textDocument/definition", {"textDocument": {"uri": uri},
                                                       "position": position})
    assert where["uri"] == uri
    assert where["range"]["start"] == _at(text, "acc: Access", 0)
