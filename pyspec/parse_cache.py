"""Parsed spec files kept between runs: a warm run reads its syntax trees instead of parsing.

Parsing the kernel model (18 files) with Lark takes about a quarter of a second of CPU,
with Lark's import and the parser's load a third of what a warm run spends before its
search. So the syntax tree of each file that parsed without an error is kept in
``<cache>/parse/<key>.json`` (``<cache>`` is :func:`pyspec.private_cache.cache_dir`), where
the key is a SHA-256 of the file's text and of everything that decides its tree: this
module, the grammar, the transformer (``pyspec/parser.py``), the node classes
(``pyspec/ast.py``, ``pyspec/model.py``) and Lark's version. Any edit of the spec or of
the parser makes a new key; the oldest entries beyond :data:`MAX_ENTRIES` are removed.

The file is JSON data in a format of our own: nodes of :mod:`pyspec.ast` by class name
(built from a fixed table of those classes, never a name looked up elsewhere), positions as
line and column (the file's name is the one it is read under), tuples tagged, and a node
the tree holds twice as a reference to the first (the passes key side tables on node
identity). Nothing in it can run code. It is read as :mod:`pyspec.private_cache` says
(private, written atomically, not trusted when another user owns or could write it), and
its first line holds the SHA-256 of the rest: a file that is not trusted, not of this key,
damaged or not a tree of these classes is ignored and the file parsed again, as if there
had been no cache. A tree read from the cache is the one the parser gives, positions
included, so every message about the spec is the same.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import importlib.util
import json
import os
from functools import cache
from pathlib import Path

from pyspec import ast as A
from pyspec.model import SourcePos
from pyspec.private_cache import cache_dir, read_private, write_private

#: Bumped when the file's layout changes (the key also covers this module's own text).
FORMAT = 1
#: How many parsed files the cache keeps (the kernel model has 18, each under 200 KB).
MAX_ENTRIES = 500
#: A cache file larger than this is not read.
MAX_BYTES = 64 * 2**20
_MAGIC = b"cowspec-parse"

#: The classes a tree may hold, by name, with their fields in order.
_CLASSES: dict[str, tuple[type, tuple[str, ...]]] = {
    cls.__name__: (cls, tuple(f.name for f in dataclasses.fields(cls)))
    for cls in vars(A).values()
    if isinstance(cls, type) and dataclasses.is_dataclass(cls) and cls.__module__ == A.__name__
}


class Uncacheable(Exception):
    """The tree holds something the format does not keep; the file is simply not cached."""


def folder() -> Path:
    return cache_dir() / "parse"


@cache
def parser_version() -> str | None:
    """A hash of what decides a file's tree besides its text (None: it cannot be read,
    and nothing is cached)."""
    here = Path(__file__).parent
    lark = importlib.util.find_spec("lark")
    paths = [Path(__file__), here / "grammar.lark", here / "parser.py", here / "ast.py",
             here / "model.py"]
    if lark is None or lark.origin is None:
        return None
    digest = hashlib.sha256(str(FORMAT).encode())
    try:
        for path in [*paths, Path(lark.origin)]:  # lark/__init__.py holds its version
            digest.update(path.read_bytes())
    except OSError:
        return None
    return digest.hexdigest()


def entry_key(text: str) -> str | None:
    version = parser_version()
    if version is None:
        return None
    return hashlib.sha256(version.encode() + b"\0" + text.encode("utf-8")).hexdigest()


def load(text: str, file: str) -> A.Module | None:
    """The tree of ``text`` read under the name ``file``, when the cache holds it."""
    key = entry_key(text)
    if key is None:
        return None
    path = folder() / f"{key}.json"
    data = read_private(path, MAX_BYTES)
    if data is None:
        return None
    header, _, body = data.partition(b"\n")
    if header != b" ".join((_MAGIC, key.encode(), hashlib.sha256(body).hexdigest().encode())):
        return None
    try:
        module = json.loads(body, object_hook=_Decoder(file).node)
    except (ValueError, TypeError, KeyError, IndexError, RecursionError):
        return None
    if not isinstance(module, A.Module):
        return None
    module.file = file
    # most recently used: pruning removes the least recently used entries; an entry
    # another process removed meanwhile is no error
    with contextlib.suppress(OSError):
        os.utime(path)
    return module


def store(text: str, module: A.Module) -> None:
    """Keep the tree of ``text`` (as the parser gave it, before imports are resolved).
    Best effort: a cache that cannot be written only costs the next run time."""
    key = entry_key(text)
    if key is None:
        return
    try:
        body = json.dumps(_Encoder(module.file).value(module),
                          separators=(",", ":")).encode("utf-8")
    except (Uncacheable, RecursionError, ValueError):
        return
    header = b" ".join((_MAGIC, key.encode(), hashlib.sha256(body).hexdigest().encode()))
    if write_private(folder() / f"{key}.json", header + b"\n" + body):
        prune()


def prune(keep: int = MAX_ENTRIES) -> None:
    """Remove the least recently used entries beyond ``keep``."""
    try:
        with os.scandir(folder()) as it:
            entries = [(e.stat().st_mtime_ns, e.path) for e in it
                       if e.name.endswith(".json") and e.is_file(follow_symlinks=False)]
    except OSError:
        return
    if len(entries) <= keep:
        return
    entries.sort()
    for _, path in entries[:len(entries) - keep]:
        with contextlib.suppress(OSError):  # already removed by another process
            os.unlink(path)


class _Encoder:
    """A tree to JSON values: nodes ``{"n": class, "v": [fields]}``, positions
    ``{"p": [line, col]}``, tuples ``{"t": [...]}``, a node met again ``{"r": number}``
    (nodes are numbered in the order their encoding ends, as the decoder builds them)."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.numbers: dict[int, int] = {}
        self.count = 0

    def value(self, x: object) -> object:
        kind = type(x)
        if x is None or kind is bool or kind is int or kind is str:
            return x
        if kind is list:
            return [self.value(v) for v in x]  # type: ignore[attr-defined]
        if kind is tuple:
            return {"t": [self.value(v) for v in x]}  # type: ignore[attr-defined]
        if kind is SourcePos:
            if x.file != self.file:  # type: ignore[attr-defined]
                raise Uncacheable("a position in another file")
            return {"p": [x.line, x.col]}  # type: ignore[attr-defined]
        entry = _CLASSES.get(kind.__name__)
        if entry is None or entry[0] is not kind:
            raise Uncacheable(f"a {kind.__name__}")
        number = self.numbers.get(id(x))
        if number is not None:
            if number < 0:
                raise Uncacheable("a cycle")
            return {"r": number}
        self.numbers[id(x)] = -1
        attrs = vars(x)
        names = entry[1]
        if len(attrs) != len(names):
            raise Uncacheable(f"a {kind.__name__} with attributes besides its fields")
        fields = [self.value(attrs[n]) for n in names]
        self.numbers[id(x)] = self.count
        self.count += 1
        return {"n": kind.__name__, "v": fields}


class _Decoder:
    """JSON objects back to a tree: only classes of :data:`_CLASSES` are built."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.built: list[object] = []

    def node(self, obj: dict) -> object:
        if "n" in obj:
            cls, names = _CLASSES[obj["n"]]
            values = obj["v"]
            if len(obj) != 2 or type(values) is not list or len(values) != len(names):
                raise ValueError("not a node")
            node = cls.__new__(cls)
            node.__dict__.update(zip(names, values))
            self.built.append(node)
            return node
        if "p" in obj:
            line, col = obj["p"]
            if type(line) is not int or type(col) is not int:
                raise ValueError("not a position")
            return SourcePos(self.file, line, col)
        if "t" in obj:
            return tuple(obj["t"])
        if "r" in obj:
            number = obj["r"]
            if type(number) is not int or not 0 <= number < len(self.built):
                raise ValueError("not a node met before")
            return self.built[number]
        raise ValueError("not a tree")
