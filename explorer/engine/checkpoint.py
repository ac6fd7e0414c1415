"""Checkpoints of an array search (TLC's ``-checkpoint``/``-recover``): write, check, load.

A snapshot is taken at a batch boundary, where the store is consistent: the seen keys
(and words in exact mode), the parent links, the level being explored and the next one
found so far, the counters, the coverage counts and the findings so far. The search marks
such a boundary cheaply (:class:`Mark`: references to arrays it never changes in place,
lengths of the ones it appends to, copies of the small counters) before every batch, so a
snapshot can be written at a level boundary, or after a stop that happened inside a batch
(the state limit, an interrupt): it then holds the search as it was before that batch,
which the resumed search explores again.

The format cannot execute code: ``DIR/state-N.npz`` (numpy arrays of integers, loaded with
``allow_pickle=False``) and ``DIR/manifest.json`` (the counters, findings, the file's
SHA-256 and what the search is: :func:`identity`). Both are written to temporary names
and renamed; the manifest's rename is the moment a new snapshot replaces the old one. A
snapshot whose identity differs from the search's (another spec text, constants, model,
engine, option that changes the counts, or cowspec version) or whose file does not match
its manifest is refused with :class:`CheckpointError` (exit 151), never loaded.
"""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from explorer.engine.array_level import ArrayLevel
from explorer.engine.findings import CoverageCounts, Findings
from explorer.engine.fingerprint import U64
from explorer.engine.interface import Options
from explorer.engine.links import Anchor, GrowArray, TraceBuilder
from pyspec.errors import ModelConfigError
from pyspec.model import Model
from pyspec.symmetry import Symmetry

#: Bumped whenever the files change meaning.
FORMAT = 1
MANIFEST = "manifest.json"
#: Where a finding hangs off the store, as the manifest keeps it: (kind, property index,
#: stored state id or -1, position of the last transition in its parent's successors or
#: in the initial states, or -1 for none).
FoundAt = tuple[str, int, int, int]


class CheckpointError(ModelConfigError):
    """A checkpoint that cannot be used: missing, corrupt, or of another search."""


def package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version  # here: slow to import

    try:
        return version("cowspec")
    except PackageNotFoundError:
        return "unknown"


def identity(model: Model, engine: str, source: str, symmetry: Symmetry | None,
             options: Options, check_deadlock: bool, keep_going: bool) -> dict[str, Any]:
    """What a search is, as far as its counts go: a snapshot resumes only a search with
    the same identity. ``source`` is the generated program (the spec with its imports and
    constants); the spec file's own hash is kept too, so that an edited spec is refused
    even where its program did not change. Comment lines of the program are left out:
    they show values by their addresses in memory, which differ from run to run."""
    code = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith("#"))
    spec_hash = None
    if model.spec_file is not None:
        try:
            spec_hash = hashlib.sha256(Path(model.spec_file).read_bytes()).hexdigest()
        except OSError:
            spec_hash = None
    return {
        "cowspec": package_version(),
        "spec": model.spec_file,
        "spec_sha256": spec_hash,
        "program_sha256": hashlib.sha256(code.encode()).hexdigest(),
        "model": model.name,
        "constants": {k: repr(v) for k, v in sorted(model.constants.items())},
        "engine": engine,
        "fingerprint": options.fingerprint,
        "symmetry": list(symmetry.sets) if symmetry is not None else [],
        "check_deadlock": check_deadlock,
        "keep_going": keep_going,
        "max_depth": options.max_depth,
    }


@dataclass
class Mark:
    """An array search at a batch boundary (see the module doc)."""

    old: np.ndarray
    level: np.ndarray
    old_words: np.ndarray
    level_words: np.ndarray
    links: int
    current: list[np.ndarray]
    #: The next level's blocks (lists the search only appends to) and how many are in.
    next: list[list[np.ndarray]]
    next_blocks: int
    frontier_start: int
    level_no: int
    level_end: int
    count: int
    total: int
    head: int
    cut_by_depth: bool
    coverage: dict[str, list[int]]
    found: list[FoundAt]


def mark(store: ArrayLevel, coverage: CoverageCounts, found: dict[tuple[str, int], int],
         total: int, head: int, cut_by_depth: bool,
         anchors: dict[tuple[str, int], tuple[int, int]]) -> Mark:
    """The search now; ``anchors`` gives each finding's (state id, position)."""
    seen, frontier = store.seen, store.frontier
    return Mark(
        old=seen.old, level=seen.level, old_words=seen.old_words,
        level_words=seen.level_words, links=store.links.parents.n,
        current=frontier.current, next=frontier.next, next_blocks=len(frontier.next[0]),
        frontier_start=frontier.start, level_no=frontier.levels.level,
        level_end=frontier.levels.level_end, count=store.count, total=total, head=head,
        cut_by_depth=cut_by_depth,
        coverage={"enabled": list(coverage.enabled), "fired": list(coverage.fired),
                  "new": list(coverage.new), "group_enabled": list(coverage.group_enabled)},
        found=[(kind, index, *anchors[(kind, index)]) for kind, index in found],
    )


def write(directory: str, ident: dict[str, Any], at: Mark, store: ArrayLevel) -> Path:
    """Write the snapshot of ``at`` into ``directory`` atomically; returns its file."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    links = store.links
    nxt = [np.concatenate(at.next[w][: at.next_blocks])
           if at.next_blocks else np.zeros(0, dtype=U64) for w in range(store.words)]
    arrays = {
        "seen_old": at.old, "seen_level": at.level,
        "seen_old_words": at.old_words, "seen_level_words": at.level_words,
        "link_parents": links.parents.data[: at.links],
        "link_positions": links.positions.data[: at.links],
        "frontier_current": np.stack(at.current),
        "frontier_next": np.stack(nxt),
    }
    try:
        previous: dict[str, Any] | None = _manifest(out)
    except CheckpointError:
        previous = None
    serial = int(previous.get("serial", 0)) + 1 if previous is not None else 1
    name = f"state-{serial}.npz"
    tmp = out / f".{name}.tmp"
    with open(tmp, "wb") as f:
        np.savez(f, **arrays)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, out / name)
    manifest = {
        "format": FORMAT,
        "serial": serial,
        "identity": ident,
        "file": name,
        "sha256": sha256(out / name),
        "counters": {"count": at.count, "total": at.total, "head": at.head,
                     "cut_by_depth": at.cut_by_depth, "level": at.level_no,
                     "level_end": at.level_end, "frontier_start": at.frontier_start},
        "coverage": at.coverage,
        "found": [list(f) for f in at.found],
    }
    tmp = out / f".{MANIFEST}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, out / MANIFEST)
    old = previous.get("file") if previous is not None else None
    if isinstance(old, str) and old != name and "/" not in old:
        (out / old).unlink(missing_ok=True)
    return out / name


@dataclass
class Loaded:
    """A checked snapshot: its manifest and its arrays."""

    manifest: dict[str, Any]
    arrays: dict[str, np.ndarray]

    @property
    def counters(self) -> dict[str, Any]:
        return self.manifest["counters"]  # type: ignore[no-any-return]


ARRAYS = ("seen_old", "seen_level", "seen_old_words", "seen_level_words", "link_parents",
          "link_positions", "frontier_current", "frontier_next")


def read(directory: str, ident: dict[str, Any]) -> Loaded:
    """The snapshot in ``directory``, refused unless it is whole and of this search."""
    where = Path(directory)
    manifest = checked_manifest(directory, ident)
    name = manifest.get("file")
    if not isinstance(name, str) or "/" in name or name.startswith("."):
        raise refuse(directory, "the manifest names no snapshot file")
    path = where / name
    try:
        digest = sha256(path)
    except OSError as exc:
        raise refuse(directory, f"cannot read {path}: {exc.strerror}") from None
    if digest != manifest.get("sha256"):
        raise refuse(directory, f"{path} does not match its manifest (corrupt or replaced)")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in ARRAYS}
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        raise refuse(directory, f"cannot load {path}: {exc}") from None
    try:
        _validate(manifest, arrays)
    except (KeyError, TypeError, ValueError) as exc:
        raise refuse(directory, f"inconsistent snapshot ({exc})") from None
    return Loaded(manifest, arrays)


#: How a snapshot is resumed, by the engine that wrote it.
RESUMED_BY = {"numpy": "without --cluster (one process)", "cluster": "with --cluster"}


def checked_manifest(directory: str, ident: dict[str, Any]) -> dict[str, Any]:
    """The manifest in ``directory``, refused unless it is of this format and of the
    search ``ident`` describes (a snapshot of the other engine kind says so)."""
    manifest = _manifest(Path(directory))
    if manifest.get("format") != FORMAT:
        raise refuse(directory, f"format {manifest.get('format')!r}, this cowspec reads "
                                 f"format {FORMAT}")
    theirs = manifest.get("identity")
    if not isinstance(theirs, dict):
        raise refuse(directory, "the manifest does not say what search it is")
    engine = theirs.get("engine")
    if engine != ident.get("engine") and engine in RESUMED_BY:
        raise refuse(directory, f"it was written by the {engine} engine and this search "
                                 f"runs the {ident.get('engine')} engine; resume it "
                                 f"{RESUMED_BY[str(engine)]}")
    differ = [k for k in sorted(set(ident) | set(theirs)) if ident.get(k) != theirs.get(k)]
    if differ:
        what = "; ".join(f"{k}: {theirs.get(k)!r} there, {ident.get(k)!r} here"
                         for k in differ)
        raise refuse(directory, f"it is of another search ({what})")
    return manifest


def write_manifest(out: Path, manifest: dict[str, Any]) -> dict[str, Any] | None:
    """Replace ``out``'s manifest atomically (the moment a new snapshot replaces the old
    one); returns the one it replaced, if any was readable."""
    try:
        previous: dict[str, Any] | None = _manifest(out)
    except CheckpointError:
        previous = None
    tmp = out / f".{MANIFEST}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, out / MANIFEST)
    return previous


def serial(out: Path) -> int:
    """The number of the next snapshot written to ``out``."""
    try:
        return int(_manifest(out).get("serial", 0)) + 1
    except (CheckpointError, TypeError, ValueError):
        return 1


def restore(loaded: Loaded, store: ArrayLevel, coverage: CoverageCounts) -> None:
    """Put a checked snapshot's store and coverage into a fresh search's."""
    a, c = loaded.arrays, loaded.counters
    seen = store.seen
    if a["seen_old_words"].shape[1:] != seen.old_words.shape[1:] or \
            a["frontier_current"].shape[0] != store.words:
        raise CheckpointError("the checkpoint's states have another packing")
    seen.old, seen.level = a["seen_old"], a["seen_level"]
    seen.old_words, seen.level_words = a["seen_old_words"], a["seen_level_words"]
    for grow, values in ((store.links.parents, a["link_parents"]),
                         (store.links.positions, a["link_positions"])):
        _fill(grow, values)
    frontier = store.frontier
    frontier.current = list(a["frontier_current"])
    frontier.next = [[w] for w in a["frontier_next"]] if a["frontier_next"].shape[1] else \
        [[] for _ in range(store.words)]
    frontier.start = int(c["frontier_start"])
    frontier.levels.start(int(c["level"]), int(c["level_end"]))
    store.count = int(c["count"])
    cov = loaded.manifest["coverage"]
    for name in ("enabled", "fired", "new", "group_enabled"):
        values = [int(v) for v in cov[name]]
        if len(values) != len(getattr(coverage, name)):
            raise CheckpointError("the checkpoint's coverage counts have another shape")
        setattr(coverage, name, values)


def found_at(loaded: Loaded) -> list[FoundAt]:
    return [(str(k), int(i), int(s), int(v)) for k, i, s, v in loaded.manifest["found"]]


def anchor(model: Model, traces: TraceBuilder, store: ArrayLevel, sid: int,
           via: int) -> Anchor:
    """A finding's anchor rebuilt from where it hangs (see :data:`FoundAt`): the parent's
    state is replayed from the parent links."""
    if via < 0:
        return (sid, [])
    if sid < 0:
        return (-1, [(None, (), list(model.initial_states())[via])])
    state = traces.explored(traces.path(store.links, sid)[-1][2])
    return (sid, [model.successors(state)[via]])


def record_all(findings: Findings[Anchor], found: list[tuple[str, int, Anchor]]) -> None:
    """Replay the recorded findings, in their order, into a fresh search's."""
    for kind, index, where in found:
        findings.record(kind, index, where)  # type: ignore[arg-type]


def _fill(grow: GrowArray, values: np.ndarray) -> None:
    grow.data = np.array(values, dtype=values.dtype if len(values) else grow.data.dtype)
    grow.n = len(values)
    if len(grow.data) == 0:
        grow.data = np.zeros(1024, dtype=grow.data.dtype)


def _validate(manifest: dict[str, Any], a: dict[str, np.ndarray]) -> None:
    """The arrays agree with each other and with the counters (a file that was replaced
    by another consistent snapshot is caught by the manifest's hash)."""
    c = manifest["counters"]
    if not all(isinstance(c[k], int) for k in ("count", "total", "head", "level",
                                               "level_end", "frontier_start")):
        raise ValueError("counters are not integers")
    count = c["count"]
    for k in ARRAYS:
        if a[k].dtype.kind not in "ui":
            raise ValueError(f"{k} holds {a[k].dtype}")
    if len(a["link_parents"]) != count or len(a["link_positions"]) != count:
        raise ValueError("parent links and state count differ")
    if len(a["seen_old"]) + len(a["seen_level"]) != count:
        raise ValueError("seen keys and state count differ")
    current = a["frontier_current"].shape[1] if a["frontier_current"].ndim == 2 else -1
    if current < 0 or a["frontier_next"].ndim != 2:
        raise ValueError("frontier arrays are not two-dimensional")
    if int(c["frontier_start"]) + current + a["frontier_next"].shape[1] != count:
        raise ValueError("frontier and state count differ")
    if not 0 <= int(c["head"]) - int(c["frontier_start"]) <= current:
        raise ValueError("the next state to explore is outside the frontier")
    for f in manifest["found"]:
        if not (isinstance(f, list) and len(f) == 4
                and f[0] in ("invariant", "property", "deadlock", "reachable")
                and all(isinstance(x, int) for x in f[1:]) and -1 <= f[2] < count
                and f[1] >= 0 and f[3] >= -1):
            raise ValueError(f"bad finding {f!r}")
    coverage = manifest["coverage"]
    for name in ("enabled", "fired", "new", "group_enabled"):
        if not all(isinstance(x, int) for x in coverage[name]):
            raise ValueError(f"bad coverage counts {name}")


def _manifest(where: Path) -> dict[str, Any]:
    try:
        text = (where / MANIFEST).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise refuse(str(where), f"no {MANIFEST} in it") from None
    except OSError as exc:
        raise refuse(str(where), f"cannot read {MANIFEST}: {exc.strerror}") from None
    try:
        manifest = json.loads(text)
    except ValueError as exc:
        raise refuse(str(where), f"{MANIFEST} is not valid JSON ({exc})") from None
    if not isinstance(manifest, dict):
        raise refuse(str(where), f"{MANIFEST} is not a JSON object")
    return manifest


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def refuse(directory: str, why: str) -> CheckpointError:
    return CheckpointError(f"checkpoint {directory} refused: {why}")
