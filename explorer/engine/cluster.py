"""The cluster engine: the numpy engine's search sharded over Ray actors (``--cluster``).

``--cluster auto`` starts a local Ray of ``--workers N`` processes for the search and
shuts it down after; ``--cluster ADDRESS`` joins a running cluster (``ray start --head``
on one machine, ``ray start --address ...`` on the others). Ray is an optional extra
(``pip install 'cowspec[distributed]'``), imported only here, only when asked for.

Each actor is a :class:`~explorer.engine.cluster_shard.Shard`: it owns the states whose
key hashes to it. The coordinator (this process) runs one BFS level at a time in four
steps (expand, absorb, rank, commit; see :mod:`explorer.engine.cluster_shard`): the
successors travel as numpy blocks through Ray's object store, straight from the shard that
made them to the shard that owns them. Every transition carries its place in one
process's order, so the coordinator can cut a level at exactly the transition where the
one-process engine (:mod:`explorer.engine.arrays`) stops (a violation, ``--max-states``):
counts, depth, verdicts, coverage and shortest traces are that engine's.

Checkpoints (``--checkpoint DIR``) are written at level boundaries, at most every
``--checkpoint-every`` seconds, and when a limit or an interrupt stops the search: each
shard writes its own ``.npz`` (its seen keys, parent links and frontier) into DIR, which
must be a directory every machine of the cluster sees, and the coordinator then writes the
manifest (:mod:`explorer.engine.checkpoint`'s checks: identity, format, each file's
SHA-256). ``--recover DIR`` resumes it on any number of shards (each takes what it owns).

A shard that dies (its process killed, its machine lost) fails the coordinator's next
wait within about a second; the search stops as interrupted (exit 152) with the counts
of the levels done and a note naming the shard, and ``cowspec check`` prints the command
that resumes it from the last checkpoint. The coordinator kills its actors, and shuts
down a Ray it started, on every way out (a limit, Ctrl-C, SIGTERM, an error).
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time
from contextlib import suppress
from dataclasses import replace
from pathlib import Path
from typing import Any

from explorer.engine import checkpoint
from explorer.engine.array_level import RANK, ArrayLevel
from explorer.engine.arrays import PROGRAM, array_program
from explorer.engine.cluster_shard import (
    COVERAGE_LISTS,
    VIA_BITS,
    VIA_MASK,
    CoverageShare,
    Shard,
    ShardEvent,
    initial_blocks,
)
from explorer.engine.findings import CoverageCounts, Findings
from explorer.engine.fingerprint import Collision
from explorer.engine.interface import Engine, HandOver, Options, Progress
from explorer.engine.limits import Limits
from explorer.engine.links import TraceBuilder
from explorer.engine.outcome import Counts, Setup, assemble
from explorer.engine.reduction import reduction
from explorer.result import Result, StopReason, Trace
from explorer.traces import RawStep
from pyspec.codegen.array_runtime import ArrayEvalError
from pyspec.codegen.arrays import ArrayProgram
from pyspec.errors import ModelConfigError
from pyspec.model import Model

NAME = "cluster"
#: Stops after which a snapshot of the last level boundary is written.
RESUMABLE = ("max_states", "timeout", "interrupted", "max_memory")
#: Signals that stop a search (the command line turns SIGTERM and SIGHUP into Ctrl-C).
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
#: Seconds between two looks at a wait (an interrupt is taken between them).
WAIT_S = 0.5
#: Seconds to tell a dead shard from a busy one.
DEAD_WAIT_S = 5.0
#: Where a finding hangs: (parent id, or None for an initial state or none at all;
#: position among the parent's successors, or the initial state's, or -1 for the state
#: itself, a deadlock; None for an evaluation error of the initial states).
ClusterAnchor = tuple[int | None, int | None]


def check(model: Model, options: Options) -> Result:
    """A search on Ray; raises HandOver for what the arrays cannot represent."""
    ray = import_ray()
    try:
        return ClusterSearch(model, array_program(model), options, ray).run()
    except (ArrayEvalError, Collision) as exc:
        raise HandOver(str(getattr(exc, "cause", None) or exc).splitlines()[-1]) from None


ENGINE = Engine(name=NAME, check=check, program=PROGRAM, checkpoints=True,
                summary="the numpy engine sharded over the actors of a Ray cluster "
                        "(--cluster auto|ADDRESS)")


def import_ray() -> Any:
    """Ray, or a clear error (exit 151) when the extra is not installed."""
    try:
        import ray
    except ImportError:
        raise ModelConfigError("--cluster needs Ray, which is not installed: pip install "
                               "'cowspec[distributed]' (or pip install ray)") from None
    return ray


class RemoteLinks:
    """Parent links kept by the shards, fetched one state at a time (a trace needs one
    link per step)."""

    def __init__(self, ray: Any, actors: list[Any]) -> None:
        self.ray, self.actors = ray, actors
        self.cache: dict[int, tuple[int, int]] = {}

    def _link(self, sid: int) -> tuple[int, int]:
        if sid not in self.cache:
            answers = self.ray.get([a.link.remote(sid) for a in self.actors])
            found = next(x for x in answers if x is not None)
            self.cache[sid] = found
        return self.cache[sid]

    def chain(self, sid: int) -> list[int]:
        chain = []
        while sid >= 0:
            chain.append(sid)
            sid = self._link(sid)[0]
        return chain[::-1]

    def via(self, sid: int) -> int:
        return self._link(sid)[1]


class ClusterSearch:
    """One search on Ray; see the module doc."""

    def __init__(self, model: Model, program: ArrayProgram, options: Options,
                 ray: Any) -> None:
        self.model, self.program, self.ray = model, program, ray
        # --max-memory bounds this machine's process tree, which holds a local Ray's
        # processes (--cluster auto). A running cluster's memory is Ray's to watch: its
        # monitor kills a shard that would exhaust a node, which ends the search as a lost
        # shard.
        self.options = options if options.cluster == "auto" else replace(
            options, max_memory_mb=None)
        self.check_deadlock = (
            model.check_deadlock if options.check_deadlock is None else options.check_deadlock
        )
        self.findings: Findings[ClusterAnchor] = Findings(
            model, options.keep_going or bool(model.expect_violated), self.check_deadlock)
        self.coverage = CoverageCounts(model.actions)
        self.symmetry, self.notes = reduction(model, options)
        self.traces = TraceBuilder(model, self.symmetry)
        self.cap = sys.maxsize if options.max_states is None else options.max_states
        self.actors: list[Any] = []
        self.pids: list[int] = []
        #: The Ray node of each shard.
        self.nodes: list[str] = []
        self.workers = 0
        self.count = self.total = self.head = 0
        self.level, self.level_start, self.level_end = 0, 0, 0
        self.frontier = 0
        self.cut_by_depth = False
        self.stopped: StopReason | None = None
        self.error: tuple[BaseException, ClusterAnchor] | None = None
        self.anchors: dict[tuple[str, int], list[int]] = {}
        self.boundary: dict[str, Any] | None = None
        #: Whether shards may be between two levels (a commit under way), and whether
        #: the snapshot of a stop was written.
        self.committing = False
        self.saved_stop = False
        #: A resumed search does not write its first boundary again.
        self.resumed = False
        self.links: RemoteLinks | None = None
        self.saved_at = time.monotonic()
        #: The last snapshot's seconds and bytes.
        self.last_save: tuple[float, int] | None = None
        self.store_bytes = 0
        self.sent_bytes = 0
        self.ranked_bytes = 0
        self.identity = checkpoint.identity(
            model, NAME, program.source, self.symmetry, options, self.check_deadlock,
            self.findings.keep_going) if options.checkpoint or options.recover else None

    # -- the run ----------------------------------------------------------------------

    def run(self) -> Result:
        ray = self.ray
        self.limits = Limits(self.options)
        started = not ray.is_initialized()
        lost = False
        try:
            try:
                with self.limits.guard():
                    self._connect(started)
                    self._search()
            except KeyboardInterrupt:
                self.stopped = self.limits.stop_reason()
            except (ArrayEvalError, Collision):
                raise
            except ray.exceptions.RayError as exc:
                cause = getattr(exc, "cause", None)
                if isinstance(cause, (ArrayEvalError, Collision)):
                    raise cause from None  # what the arrays cannot represent: handed over
                dead = self._dead()
                if not dead:
                    raise
                lost = True
                self.stopped = "interrupted"
                self.notes.append(f"{dead}: the search stopped with the counts of the levels "
                                  "done" + self._resume_note())
            if self.stopped in RESUMABLE and not lost and not self.saved_stop:
                self._save_at_stop()
            if self.stopped is None and self.cut_by_depth:
                self.stopped = "max_depth"
            if not lost and self.actors:
                self._gather()
            elapsed = self.limits.elapsed()
            depth = 0 if not self.count else self.level + (self.count > self.level_end)
            counts = Counts(self.count, self.total, depth, self.count - self.head)
            setup = Setup("numpy", self.options.fingerprint and self.program.layout.words > 1,
                          self.symmetry, self.store_bytes or None)
            self.links = None if lost else RemoteLinks(ray, self.actors)
            if self.workers:
                nodes = len(set(self.nodes))
                shards = f"{self.workers} shard{'s' * (self.workers > 1)} on {nodes} " \
                         f"Ray node{'s' * (nodes > 1)}"
                self.notes.append(f"searched by {shards}; {self.sent_bytes:,} bytes "
                                  f"of successors routed, {self.ranked_bytes:,} bytes of "
                                  "ranks exchanged")
            if self.last_save is not None:
                seconds, size = self.last_save
                self.notes.append(f"last checkpoint: {size / 2**20:,.1f} MB in {seconds:.1f} s")
            return assemble(self.model, setup, counts, elapsed, self.stopped, self.findings,
                            self.coverage, self.trace, self.error, self.notes)
        finally:
            for actor in self.actors:
                with suppress(Exception):  # an actor already gone: Ray raises its own kinds
                    ray.kill(actor, no_restart=True)
            if started and ray.is_initialized():
                ray.shutdown()

    def _connect(self, start: bool) -> None:
        """Join or start Ray, then start one actor per shard."""
        ray, opts = self.ray, self.options
        address = opts.cluster or "auto"
        if start:
            quiet = {"logging_level": logging.ERROR, "log_to_driver": False,
                     "include_dashboard": False, "configure_logging": True}
            # Ray's own handlers of these signals abort the process: ours stop the search.
            handlers = {sig: signal.getsignal(sig) for sig in STOP_SIGNALS}
            try:
                if address == "auto":  # a new local Ray, whatever else runs here
                    ray.init(address="local", num_cpus=max(opts.workers, 1), **quiet)
                else:
                    ray.init(address=address, **quiet)
            except (ConnectionError, ValueError, RuntimeError) as exc:
                raise ModelConfigError(f"--cluster {address}: cannot start or join Ray: "
                                       f"{exc}") from None
            finally:
                if threading.current_thread() is threading.main_thread():
                    for sig, handler in handlers.items():
                        if handler is not None:
                            signal.signal(sig, handler)
        cpus = int(ray.cluster_resources().get("CPU", 0))
        self.workers = opts.workers if opts.workers > 1 or address == "auto" else max(cpus, 1)
        if self.workers > cpus:
            raise ModelConfigError(f"--cluster: {self.workers} shards need as many CPUs, and "
                                   f"the cluster has {cpus}")
        remote = ray.remote(num_cpus=1, max_restarts=0, max_task_retries=0)(Shard)
        model = ray.put(self.model)
        shard_options = replace(opts, progress=None, observer=None)
        self.actors = [remote.options(scheduling_strategy="SPREAD").remote(
            model, self.program, shard_options, self.symmetry, me, self.workers)
            for me in range(self.workers)]
        try:
            self.pids = self._get([a.pid.remote() for a in self.actors])
            self.nodes = self._get([a.node.remote() for a in self.actors])
        except ray.exceptions.RayError as exc:
            why = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
            raise ModelConfigError(f"--cluster: the shards could not start ({why}); every "
                                   "machine needs this cowspec and Ray") from None

    def _get(self, refs: list[Any]) -> list[Any]:
        """The values of ``refs``, waiting in short steps (an interrupt or a limit is
        taken between them; a dead actor fails the wait)."""
        ray = self.ray
        pending = list(refs)
        while pending:
            ready, pending = ray.wait(pending, num_returns=len(pending), timeout=WAIT_S,
                                      fetch_local=False)
            if ready:
                ray.get(ready)  # a shard that died fails here, not when the others are done
        return list(ray.get(refs))

    def _dead(self) -> str | None:
        """Which shard died, if one did: a dead actor's call fails at once, a busy one's
        just waits."""
        ray = self.ray
        pings = [a.pid.remote() for a in self.actors]
        pending, deadline = list(pings), time.monotonic() + DEAD_WAIT_S
        while pending and time.monotonic() < deadline:
            ready, pending = ray.wait(pending, num_returns=1,
                                      timeout=max(deadline - time.monotonic(), 0))
            for ping in ready:
                try:
                    ray.get(ping)
                except ray.exceptions.RayError:
                    me = pings.index(ping)
                    return f"shard {me} (pid {self.pids[me]}) died"
        return None

    def _progress(self, elapsed: float) -> Progress:
        return Progress(self.count, self.total, self.level, self.count - self.head, elapsed)

    # -- the search -------------------------------------------------------------------

    def _search(self) -> None:
        if self.options.recover:
            self._resume(self.options.recover)
        elif not self._initial():
            return
        polls = 0
        while self.frontier and not self.stopped:
            polls += 1
            self._boundary()
            self.stopped = self.limits.poll(polls * 10, self._progress)
            if self.stopped:
                return
            beyond = self.options.max_depth is not None and self.level >= self.options.max_depth
            props = [k for k, _ in self.findings.live_properties]
            calls = [a.expand.options(num_returns=self.workers + 1).remote(
                self.level_start, beyond, props) for a in self.actors]
            reports = self._get([c[0] for c in calls])
            self.cut_by_depth = self.cut_by_depth or any(r.cut_by_depth for r in reports)
            self.sent_bytes += sum(r.sent_bytes for r in reports)
            blocks = None if beyond else [[c[1 + dst] for c in calls]
                                          for dst in range(self.workers)]
            events = [e for r in reports for e in r.events]
            if not self._finish(blocks, events, sum(r.generated for r in reports), False,
                                self.frontier):
                return

    def _initial(self) -> bool:
        """The initial states, routed to their owners; False when the search is over."""
        try:
            inits = list(self.model.initial_states())
        except Exception as exc:  # the spec's evaluation error: reported with its position
            self.error = (exc, (None, None))
            return False
        if not inits:
            return True
        packer = ArrayLevel(self.program, self.symmetry, self.options.fingerprint)
        words = packer.pack(inits)
        if self.symmetry is not None:
            words = self.symmetry.canonical_words(words)
        blocks = initial_blocks(packer.keys(words), words, self.workers)
        go_on = self._finish([[self.ray.put(b)] for b in blocks], [], len(inits), True,
                             len(inits))
        self.level, self.level_end = 1, self.count
        return go_on

    def _finish(self, blocks: list[list[Any]] | None, events: list[ShardEvent],
                generated: int, initial: bool, width: int) -> bool:
        """Absorb, rank and commit one level of ``width`` parents whose successors are in
        ``blocks`` (None past ``--max-depth``), cut where one process would stop; False
        when it stops."""
        actors, n = self.actors, self.workers
        invs = [k for k, _ in self.findings.live_invariants]
        reach = [k for k, _ in self.findings.live_reachables]
        ranks: list[list[Any]] = [[] for _ in actors]
        if blocks is not None:
            absorbed = [a.absorb.options(num_returns=n + 1).remote(initial, invs, reach, width,
                                                                   *blocks[d])
                        for d, a in enumerate(actors)]
            reports = self._get([x[0] for x in absorbed])
            events = events + [e for r in reports for e in r.events]
            new, room = sum(r.new for r in reports), self.cap - self.count
            if n > 1 or new > room:
                per_range = [sum(r.per_range[k] for r in reports) for k in range(n)]
                offsets = [sum(per_range[:k]) for k in range(n)]
                ranked = [a.rank.options(num_returns=n + 1).remote(
                    offsets[k], room, *[x[1 + k] for x in absorbed])
                    for k, a in enumerate(actors)]
                rankers = self._get([x[0] for x in ranked])
                self.ranked_bytes += sum(r.exchanged_bytes for r in rankers)
                ranks = [[x[1 + src] for x in ranked] for src in range(n)]
                if new > room:
                    at = next(r.hit for r in rankers if r.hit is not None)
                    events.append((at, RANK["max_states"], "max_states", 0))
        events.sort()
        stop = next((e for e in events if e[2] == "max_states"
                     or not self.findings.keep_going and e[2] != "reachable"), None)
        for event in events:
            if stop is not None and event[:2] > stop[:2]:
                break
            self._record(event, initial)
        if stop is not None and stop[2] == "max_states":
            self._save_at_stop()
        cut, rank = (None, -1) if stop is None else (stop[0], stop[1])
        props = [k for k, _ in self.findings.live_properties]
        before = self.count
        self.committing = True
        done = self._get([a.commit.remote(self.count, cut, rank, props, *ranks[d])
                          for d, a in enumerate(actors)])
        self.count += sum(c.stored for c in done)
        for c in done:
            self._cover(c.coverage)
        self.frontier = sum(c.frontier for c in done)
        if initial:
            self.total += generated if cut is None else cut + 1
        elif cut is None:
            self.total += generated
            self.head = before
        else:
            self.total += sum(c.generated for c in done)
            self.head = self.level_start + (cut >> VIA_BITS) + 1
        self.level_start = before
        self.committing = False
        if stop is not None:
            return False
        if not initial and self.frontier:
            self.level += 1
            self.level_end = self.count
        return True

    def _record(self, event: ShardEvent, initial: bool) -> None:
        """A violation, witness or limit, as the one-process engine records it."""
        tee, _, kind, index = event
        if kind == "max_states":
            self.stopped = "max_states"
            return
        if (kind, index) in self.findings.found:
            return
        anchor: ClusterAnchor
        if initial:
            anchor = (None, tee)
        elif kind == "deadlock":
            anchor = (self.level_start + (tee >> VIA_BITS), -1)
        else:
            anchor = (self.level_start + (tee >> VIA_BITS), tee & VIA_MASK)
        self.anchors[(kind, index)] = [-1 if anchor[0] is None else anchor[0], int(anchor[1])]
        if self.findings.record(kind, index, anchor):  # type: ignore[arg-type]
            self.stopped = "violation"

    def trace(self, anchor: ClusterAnchor) -> Trace | None:
        """A finding's trace, replayed from the shards' parent links (None when a shard
        died before it could be rebuilt)."""
        links = self.links
        if links is None:
            return None
        parent, position = anchor
        if position is None:  # computing the initial states failed
            return self.traces.trace(links, (-1, []))
        if parent is None:
            tail: list[RawStep] = [(None, (), list(self.model.initial_states())[position])]
            return self.traces.trace(links, (-1, tail))
        if position < 0:  # a deadlocked state itself
            return self.traces.trace(links, (parent, []))
        state = self.traces.path(links, parent)[-1][2]
        step = self.model.successors(self.traces.explored(state))[position]
        return self.traces.trace(links, (parent, [step]))

    def _gather(self) -> None:
        """Every shard's store size, added up."""
        self.store_bytes = sum(self._get([a.store_bytes.remote() for a in self.actors]))

    def _cover(self, share: CoverageShare) -> None:
        """Add a shard's coverage of a level to the search's."""
        counts = CoverageCounts(self.model.actions)
        for name in COVERAGE_LISTS:
            setattr(counts, name, share[name])
        self.coverage.add(counts)

    # -- checkpoints ------------------------------------------------------------------

    def _boundary(self) -> None:
        """A level boundary: remember it; write a snapshot when one is due."""
        self.boundary = {
            "counters": {"count": self.count, "total": self.total, "head": self.head,
                         "level": self.level, "level_start": self.level_start,
                         "level_end": self.level_end, "cut_by_depth": self.cut_by_depth},
            "coverage": {name: list(getattr(self.coverage, name)) for name in COVERAGE_LISTS},
            "found": [[kind, index, *self.anchors[(kind, index)]]
                      for kind, index in self.findings.found],
        }
        every = self.options.checkpoint_every_s
        if self.resumed:
            self.resumed = False
            self.saved_at = time.monotonic()
        elif self.options.checkpoint and time.monotonic() - self.saved_at >= every:
            self._save(self.boundary)

    def _save(self, boundary: dict[str, Any]) -> None:
        """Every shard writes its part, then the manifest names them (atomically)."""
        assert self.identity is not None and self.options.checkpoint is not None
        t0 = time.monotonic()
        out = Path(self.options.checkpoint).resolve()
        out.mkdir(parents=True, exist_ok=True)
        serial = checkpoint.serial(out)
        names = [f"shard-{serial}-{me}.npz" for me in range(self.workers)]
        saved = self._get([a.save.remote(str(out / n)) for a, n in zip(self.actors, names)])
        manifest = {
            "format": checkpoint.FORMAT, "serial": serial, "identity": self.identity,
            "files": names, "sha256": [h for h, _ in saved], "bytes": [n for _, n in saved],
            "counters": boundary["counters"], "found": boundary["found"],
            "coverage": boundary["coverage"],
        }
        previous = checkpoint.write_manifest(out, manifest)
        old = previous.get("files") if previous is not None else None
        for name in old if isinstance(old, list) else []:
            if isinstance(name, str) and "/" not in name and name not in names:
                (out / name).unlink(missing_ok=True)
        self.saved_at = time.monotonic()
        self.last_save = (self.saved_at - t0, sum(n for _, n in saved))

    def _save_at_stop(self) -> None:
        """A limit or an interrupt stopped the search: keep its last level boundary."""
        self.saved_stop = True
        directory = self.options.checkpoint
        if not directory:
            return
        if self.boundary is None or self.committing:
            self.notes.append(f"no checkpoint written to {directory} at the stop: the search "
                              "stopped " + ("before its first level boundary"
                                            if self.boundary is None else "between two levels"))
            return
        try:
            self._save(self.boundary)
        except (KeyboardInterrupt, self.ray.exceptions.RayError) as exc:
            self.notes.append(f"no checkpoint written to {directory} at the stop "
                              f"({type(exc).__name__})")
            return
        count = self.boundary["counters"]["count"]
        self.notes.append(f"checkpoint {directory}: the search as of {count:,} stored "
                          f"states; resume it with --recover {directory}")

    def _resume_note(self) -> str:
        directory = self.options.checkpoint
        if directory and (Path(directory) / checkpoint.MANIFEST).exists():
            return f"; resume it from its last checkpoint with --recover {directory}"
        return "; no checkpoint to resume from (--checkpoint DIR keeps one)"

    def _resume(self, directory: str) -> None:
        """Continue the search a snapshot holds, on this many shards (refused unless it
        is whole and of this search)."""
        assert self.identity is not None
        t0 = time.monotonic()
        manifest = checkpoint.checked_manifest(directory, self.identity)
        where = Path(directory).resolve()
        try:
            files, hashes = list(manifest["files"]), list(manifest["sha256"])
            c = {k: manifest["counters"][k] for k in ("count", "total", "head", "level",
                                                      "level_start", "level_end")}
            cut_by_depth = manifest["counters"]["cut_by_depth"]
            found = [list(f) for f in manifest["found"]]
            coverage = {k: list(manifest["coverage"][k]) for k in COVERAGE_LISTS}
        except (KeyError, TypeError) as exc:
            raise checkpoint.refuse(directory, f"the manifest lacks {exc}") from None
        if not files or len(files) != len(hashes) or not all(
                isinstance(f, str) and "/" not in f and not f.startswith(".") for f in files):
            raise checkpoint.refuse(directory, "the manifest names no snapshot files")
        if not all(isinstance(v, int) for v in c.values()) or \
                not all(isinstance(x, int) for v in coverage.values() for x in v):
            raise checkpoint.refuse(directory, "counters are not integers")
        for name, digest in zip(files, hashes):
            try:
                ok = checkpoint.sha256(where / name) == digest
            except OSError as exc:
                raise checkpoint.refuse(directory, f"cannot read {where / name}: "
                                                   f"{exc.strerror}") from None
            if not ok:
                raise checkpoint.refuse(directory, f"{where / name} does not match its "
                                                   "manifest (corrupt or replaced)")
        paths = [str(where / name) for name in files]
        try:
            sizes = self._get([a.load.remote(paths, c["level_start"]) for a in self.actors])
        except self.ray.exceptions.RayTaskError as exc:
            raise checkpoint.refuse(directory, "cannot load it: "
                                    f"{str(exc).strip().splitlines()[-1]}") from None
        seen, links, frontier = (sum(s[i] for s in sizes) for i in range(3))
        if seen != c["count"] or links != c["count"] or \
                frontier != c["count"] - c["level_start"]:
            raise checkpoint.refuse(directory, "inconsistent snapshot (its parts and counters "
                                               "differ)")
        for name, values in coverage.items():
            if len(values) != len(getattr(self.coverage, name)):
                raise checkpoint.CheckpointError("the checkpoint's coverage counts have "
                                                 "another shape")
            setattr(self.coverage, name, values)
        self.count, self.total, self.head = c["count"], c["total"], c["head"]
        self.level, self.level_start, self.level_end = c["level"], c["level_start"], \
            c["level_end"]
        self.cut_by_depth, self.frontier = bool(cut_by_depth), frontier
        for kind, index, parent, via in found:
            anchor: ClusterAnchor = (None if parent < 0 else parent, via)
            self.anchors[(kind, index)] = [parent, via]
            self.findings.record(kind, index, anchor)
        self.resumed = True
        self.notes.append(f"resumed from checkpoint {directory} on {self.workers} "
                          f"shard{'s' * (self.workers > 1)} in "
                          f"{time.monotonic() - t0:.1f} s: {self.count:,} states stored, "
                          f"{self.total:,} generated, exploring level {self.level}")
