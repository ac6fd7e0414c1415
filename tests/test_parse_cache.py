"""The parse cache: a tree read from it is the tree the parser gives (positions, node
sharing, doc comments), messages about a spec read from it are the same as when it is
parsed, and a damaged, foreign or unsafe entry is ignored and the file parsed again."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from explorer_testing import run_cli
from pyspec_testing import ROOT, write

from pyspec import parse_cache, parser
from pyspec.errors import SourceCache
from pyspec.model import SourcePos
from pyspec.modules import parse_files
from pyspec.sourcefiles import read_source

SPECS = sorted((ROOT / "spec").rglob("*.cow"))


@pytest.fixture(autouse=True)
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "cache-home"
    monkeypatch.setenv("XDG_CACHE_HOME", str(home))
    return home / "cowspec" / "parse"


def same_tree(a: object, b: object, seen: dict[int, object], back: dict[int, object]) -> bool:
    """Equal types and values, and the same sharing of nodes (a node held twice in one
    tree is held twice in the other)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same_tree(x, y, seen, back)  # type: ignore[arg-type]
                                        for x, y in zip(a, b))  # type: ignore[call-overload]
    if dataclasses.is_dataclass(a) and not isinstance(a, SourcePos):
        if id(a) in seen or id(b) in back:
            return seen.get(id(a)) is b and back.get(id(b)) is a
        seen[id(a)], back[id(b)] = b, a
        return vars(a).keys() == vars(b).keys() and all(
            same_tree(vars(a)[k], vars(b)[k], seen, back) for k in vars(a))
    return a == b


def entry(text: str, folder: Path) -> Path:
    return folder / f"{parse_cache.entry_key(text)}.json"


@pytest.mark.parametrize("path", SPECS, ids=lambda p: str(p.relative_to(ROOT / "spec")))
def test_a_cached_tree_is_the_parsed_tree(path: Path, cache_home: Path) -> None:
    text = read_source(path)
    fresh, errors = parser.parse_text(text, str(path))
    assert fresh is not None and errors == []
    parse_cache.store(text, fresh)
    assert entry(text, cache_home).is_file()
    again, _ = parser.parse_text(text, str(path))
    cached = parse_cache.load(text, str(path))
    assert cached is not None
    assert same_tree(again, cached, {}, {})
    # Read under another name, every position names the file it is read as.
    moved = parse_cache.load(text, "elsewhere/x.cow")
    renamed, _ = parser.parse_text(text, "elsewhere/x.cow")
    assert same_tree(renamed, moved, {}, {})


def test_a_shared_node_stays_shared(cache_home: Path) -> None:
    text = "module M\nvar x: 0..3\ninit { x = 0 }\naction A { x' = x }\n"
    module, _ = parser.parse_text(text, "m.cow")
    assert module is not None
    twice = module.decls[0].type
    module.decls.append(module.decls[0])  # the same declaration held twice
    parse_cache.store(text, module)
    cached = parse_cache.load(text, "m.cow")
    assert cached is not None
    assert cached.decls[-1] is cached.decls[0]
    assert type(cached.decls[0].type) is type(twice)


IMPORTED = """
module Lib
/// How far the counter goes.
const Top: int = 3
def next(v: int): int = v + true
"""
MAIN = """
module Main
import "lib.cow"
var x: 0..3
init { x = 0 }
action Step { requires x < Top  x' = next(x) }
"""


def test_errors_from_cached_files_are_the_same(tmp_path: Path, cache_home: Path,
                                               capsys: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, IMPORTED, "lib.cow")
    spec = str(write(tmp_path, MAIN, "main.cow"))
    first = run_cli(capsys, "check", spec)
    assert first[0] == 150
    assert "lib.cow:4:" in first[2] and "^" in first[2]
    assert len(list(cache_home.glob("*.json"))) == 2

    def no_parsing(text: str, file: str) -> None:
        raise AssertionError(f"{file} parsed again")

    monkeypatch.setattr(parser, "parse_text", no_parsing)
    assert run_cli(capsys, "check", spec) == first


def test_a_file_with_a_syntax_error_is_not_cached(tmp_path: Path, cache_home: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    spec = str(write(tmp_path, "module M\nvar x: 0..3\ninit { x = = 0 }\n"))
    first = run_cli(capsys, "check", spec)
    assert first[0] == 150 and "spec.cow:3:12: error" in first[2]
    assert not list(cache_home.glob("*.json"))
    assert run_cli(capsys, "check", spec) == first


def stored(cache_home: Path) -> tuple[str, Path]:
    path = ROOT / "spec" / "examples" / "diehard.cow"
    text = read_source(path)
    module, _ = parser.parse_text(text, str(path))
    assert module is not None
    parse_cache.store(text, module)
    return text, entry(text, cache_home)


def reparsed_and_rewritten(text: str, path: Path) -> None:
    """The cache gives nothing; parsing the file gives its tree and a good entry."""
    file = str(ROOT / "spec" / "examples" / "diehard.cow")
    assert parse_cache.load(text, file) is None
    modules, diags = parse_files(file, SourceCache())
    fresh, _ = parser.parse_text(text, file)
    assert diags == [] and same_tree(modules[0], fresh, {}, {})
    assert parse_cache.load(text, file) is not None
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_damaged_entry_is_ignored_and_rewritten(cache_home: Path) -> None:
    text, path = stored(cache_home)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01  # one bit of the tree: the checksum no longer matches
    path.write_bytes(bytes(data))
    reparsed_and_rewritten(text, path)
    path.write_bytes(path.read_bytes()[:1000])  # cut short
    reparsed_and_rewritten(text, path)


@pytest.mark.parametrize("body", [
    '{"n":"SourceCache","v":[]}',  # a class that is not a node of the tree
    '{"n":"Module","v":["x.cow",null,[],[]],"x":1}',  # a node with more than its fields
    '{"r":0}',  # a reference to a node never built
    '{"p":["1","2"]}',  # a position of strings
    '[1,2,3]',  # not a module
    '{"__reduce__":["os.system","touch PWNED"]}',
])
def test_a_foreign_entry_with_a_good_checksum_is_ignored(body: str, cache_home: Path,
                                                         tmp_path: Path) -> None:
    text, path = stored(cache_home)
    raw = body.encode()
    key = parse_cache.entry_key(text)
    path.write_bytes(b"cowspec-parse %s %s\n" % (key.encode(), hashlib.sha256(raw).hexdigest()
                                                  .encode()) + raw)
    reparsed_and_rewritten(text, path)
    assert not (tmp_path / "PWNED").exists()


def test_an_entry_of_another_key_is_ignored(cache_home: Path) -> None:
    text, path = stored(cache_home)
    other = "module Other\n"
    module, _ = parser.parse_text(other, "o.cow")
    assert module is not None
    parse_cache.store(other, module)
    entry(other, cache_home).replace(path)  # a good entry under the wrong name
    reparsed_and_rewritten(text, path)


def test_the_cache_is_private_and_unsafe_entries_are_ignored(cache_home: Path) -> None:
    text, path = stored(cache_home)
    assert stat.S_IMODE(cache_home.stat().st_mode) == 0o700
    assert stat.S_IMODE(cache_home.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    path.chmod(0o662)  # others may write it: not trusted
    assert parse_cache.load(text, "x.cow") is None
    path.chmod(0o600)
    cache_home.chmod(0o777)  # others may swap its files
    assert parse_cache.load(text, "x.cow") is None
    reparsed_and_rewritten(text, path)  # writing makes the directory private again
    assert stat.S_IMODE(cache_home.stat().st_mode) == 0o700
    link = cache_home / "link.json"
    path.rename(link)
    path.symlink_to(link)  # an entry that is a link is not followed
    assert parse_cache.load(text, "x.cow") is None


def test_the_least_recently_used_entries_are_removed(cache_home: Path) -> None:
    texts = [f"module M{i}\n" for i in range(4)]
    for age, text in enumerate(texts):
        module, _ = parser.parse_text(text, "m.cow")
        assert module is not None
        parse_cache.store(text, module)
        os.utime(entry(text, cache_home), (1000 + age, 1000 + age))
    assert parse_cache.load(texts[0], "m.cow") is not None  # used: now the newest
    parse_cache.prune(keep=2)
    assert sorted(p.name for p in cache_home.glob("*.json")) == sorted(
        entry(t, cache_home).name for t in (texts[0], texts[3]))


WARM_RUN = """
import sys
from explorer.cli import main
code = main(["check", sys.argv[1], "--no-progress"])
print(code, sorted(m for m in ("lark", "scipy", "networkx") if m in sys.modules))
"""


def test_a_warm_run_of_a_spec_without_temporal_properties_loads_no_parser(
        tmp_path: Path) -> None:
    """What a warm run leaves out: Lark (the trees come from the cache), scipy (only
    temporal properties need it) and networkx (only diagrams)."""
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "cache"))
    spec = str(ROOT / "spec" / "examples" / "diehard.cow")
    runs = [subprocess.run([sys.executable, "-c", WARM_RUN, spec], env=env, text=True,
                           capture_output=True, timeout=120, check=False) for _ in range(2)]
    assert runs[0].stdout.splitlines()[-1] == "0 ['lark']", runs[0].stderr
    assert runs[1].stdout.splitlines()[-1] == "0 []", runs[1].stderr
