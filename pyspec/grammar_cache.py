"""The built Lark parser, kept between runs as plain JSON data.

Building the LALR tables from ``grammar.lark`` takes about half a second, so the result is
cached. Lark's own cache is a pickle, and unpickling a file runs whatever code the file
names: anyone who could write the cache file would run code as the next user of cowspec
(root under ``kernel-run --setup``). This cache holds only JSON (dicts, lists, strings,
numbers; tuples and integer-keyed dicts tagged), which decodes to data and nothing else,
and is used only when its key matches the hash of the grammar, the Lark version and the
parser options; anything else (a missing, stale, foreign or broken file) means building
the parser from the grammar again. The file is kept and read as
:mod:`pyspec.private_cache` says: private, written atomically, and not trusted when
another user owns or could write it or its directory.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import lark
from lark import Lark
from lark.grammar import Rule
from lark.lexer import TerminalDef

from pyspec.private_cache import cache_dir, read_private, write_private

#: Bumped when the file's layout changes.
_FORMAT = 1
#: A cache file larger than this is not read (the real one is about 400 KB).
_MAX_BYTES = 16 * 2**20


def load_parser(grammar: str, **options: Any) -> Lark:
    """A Lark parser for ``grammar``: from the cache when it holds this exact build."""
    key = cache_key(grammar, options)
    folder = cache_dir()
    path = folder / "grammar.json"
    cached = read_cache(path, key)
    if cached is not None:
        try:
            return Lark.load(cached)
        except Exception:  # noqa: BLE001 - a cache that does not load is rebuilt
            pass
    parser = Lark(grammar, **options)
    _write(path, key, parser)
    return parser


def cache_key(grammar: str, options: dict[str, Any]) -> str:
    """What a cached parser must have been built from: format, Lark version, grammar,
    options."""
    text = json.dumps([_FORMAT, lark.__version__, grammar, sorted(options.items())],
                      default=repr)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def read_cache(path: Path, key: str) -> dict | None:
    """The cached parser data at ``path`` if it is trusted and built for ``key``."""
    data = read_private(path, _MAX_BYTES)
    if data is None:
        return None
    try:
        document = json.loads(data, object_hook=_decode)
    except (ValueError, RecursionError):
        return None
    if not isinstance(document, dict) or document.get("key") != key:
        return None
    parser = document.get("parser")
    return parser if isinstance(parser, dict) and {"data", "memo"} <= parser.keys() else None


def _write(path: Path, key: str, parser: Lark) -> None:
    """Best effort: a cache that cannot be written only costs the next run time."""
    try:
        data, memo = parser.memo_serialize([TerminalDef, Rule])
        text = json.dumps({"key": key, "parser": _encode({"data": data, "memo": memo})})
    except (TypeError, ValueError):
        return
    if write_private(path, text.encode("utf-8")):
        (path.parent / "grammar.lark.cache").unlink(missing_ok=True)  # the old pickle cache


def _encode(x: Any) -> Any:
    """JSON keeps lists and string-keyed dicts; tuples and other dicts are tagged."""
    if isinstance(x, tuple):
        return {"__tuple__": [_encode(v) for v in x]}
    if isinstance(x, list):
        return [_encode(v) for v in x]
    if isinstance(x, dict):
        if all(isinstance(k, str) and not k.startswith("__") for k in x):
            return {k: _encode(v) for k, v in x.items()}
        return {"__items__": [[_encode(k), _encode(v)] for k, v in x.items()]}
    if x is None or isinstance(x, (bool, int, float, str)):
        return x
    raise TypeError(f"cannot cache a {type(x).__name__}")


def _decode(obj: dict) -> Any:
    if "__tuple__" in obj:
        return tuple(obj["__tuple__"])
    if "__items__" in obj:
        return {_hashable(k): v for k, v in obj["__items__"]}
    return obj


def _hashable(k: Any) -> Any:
    return tuple(_hashable(v) for v in k) if isinstance(k, list) else k
