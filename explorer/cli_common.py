"""What the subcommands share: loading a spec, picking models, search options, progress."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from explorer.engine.interface import Options
from explorer.engine.limits import Limits
from explorer.engine.registry import BACKENDS, backend_help
from explorer.graph import ViewRecorder
from explorer.progress import default_interval, reporter
from explorer.pymodel import PythonSpec
from pyspec.errors import ModelConfigError
from pyspec.exit_codes import EXIT_LIMIT
from pyspec.model import Model
from pyspec.sourcefiles import ImportPolicy

if TYPE_CHECKING:
    import networkx as nx


class SpecLike(Protocol):
    """What a command needs of a loaded spec (``pyspec.loader`` specs and Python models)."""

    path: str
    model_names: list[str]

    def instantiate(self, model: str | None = ..., defines: dict[str, str] = ...) -> Model: ...


def load(path: str, policy: ImportPolicy | None = None) -> SpecLike:
    """A ``.py`` file is a hand-written model; anything else goes to the spec loader,
    which opens imports where ``policy`` allows."""
    if path.endswith(".py"):
        return PythonSpec(path)
    try:
        from pyspec.loader import load_spec
    except ImportError as exc:
        raise ModelConfigError(
            f"cannot load {path}: this build has no spec loader (pyspec.loader): {exc}"
        ) from exc
    return load_spec(path, policy)


def parse_defines(items: list[str] | None) -> dict[str, str]:
    defines: dict[str, str] = {}
    for item in items or ():
        name, eq, value = item.partition("=")
        if not eq or not name.strip():
            raise ModelConfigError(f"-D wants NAME=VALUE, not {item!r}")
        defines[name.strip()] = value.strip()
    return defines


def default_max_memory_mb() -> float:
    """75% of physical memory: a search that grows past it ends with partial results
    instead of being killed by the kernel's OOM killer."""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") * 0.75 / 2**20


def positive(kind: Callable[[str], int | float]) -> Callable[[str], int | float]:
    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be positive: {text!r}")
        return value

    return parse


def add_spec_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("spec", metavar="SPEC", help="spec file, or a Python model file (.py)")
    p.add_argument(
        "-D",
        dest="defines",
        action="append",
        metavar="NAME=VALUE",
        help="override a constant (repeatable)",
    )
    add_import_arguments(p)


def add_import_arguments(p: argparse.ArgumentParser) -> None:
    """Where a spec's imports may come from (see ``pyspec.sourcefiles``)."""
    p.add_argument(
        "--include",
        action="append",
        default=[],
        metavar="DIR",
        help="also look for imports in DIR, and allow them from there (repeatable)",
    )
    p.add_argument(
        "--allow-outside",
        action="store_true",
        help="allow imports by absolute path, with '..', or leading outside the spec's "
        "directory and the --include directories",
    )


def import_policy(args: argparse.Namespace) -> ImportPolicy:
    return ImportPolicy(tuple(Path(d) for d in args.include), args.allow_outside)


def add_search_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--no-deadlock", action="store_true", help="do not report deadlocks (TLC's -deadlock)"
    )
    p.add_argument(
        "--no-temporal", action="store_true",
        help="leave the temporal properties out and check the rest (a TLC configuration "
        "without PROPERTY), e.g. on --cluster, --workers or --backend compiled",
    )
    p.add_argument("--max-states", type=positive(int), metavar="N", help="stop after N states")
    p.add_argument(
        "--max-depth", type=positive(int), metavar="N", help="explore no deeper than level N"
    )
    p.add_argument("--timeout", type=positive(float), metavar="S", help="stop after S seconds")
    p.add_argument(
        "--max-memory",
        type=positive(float),
        metavar="MB",
        help="stop when the process uses more than MB megabytes (default: 75%% of RAM)",
    )
    p.add_argument(
        "--backend",
        choices=BACKENDS,
        default="auto",
        help=backend_help(),
    )
    p.add_argument(
        "--fingerprint",
        action="store_true",
        help="store 64-bit fingerprints instead of whole states; traces are replayed",
    )
    p.add_argument(
        "--workers",
        type=positive(int),
        default=1,
        metavar="N",
        help="worker processes for the numpy backend, each owning a share of the states "
        "(default 1); with --cluster: shards (default: auto 1, an address one per CPU)",
    )
    prog = p.add_mutually_exclusive_group()
    prog.add_argument(
        "--progress-interval",
        type=positive(float),
        metavar="S",
        help="seconds between progress reports (default: a live line on a terminal, "
        "redrawn every 0.5 s; otherwise a timestamped line every 60 s, as TLC)",
    )
    prog.add_argument("--no-progress", action="store_true", help="report no progress")
    sym = p.add_mutually_exclusive_group()
    sym.add_argument(
        "--symmetry",
        dest="symmetry",
        action="store_true",
        default=None,
        help="symmetry reduction over the model's symmetric sets (the default when it has some)",
    )
    sym.add_argument(
        "--no-symmetry", dest="symmetry", action="store_false", help="no symmetry reduction"
    )


#: The largest state graph drawn; FizzBee stops at 250, a page of SVG holds about this many.
DEFAULT_MAX_NODES = 300


def add_diagram_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--max-nodes",
        type=positive(int),
        default=DEFAULT_MAX_NODES,
        metavar="N",
        help=f"draw no graph of more nodes than this (default {DEFAULT_MAX_NODES})",
    )
    p.add_argument(
        "--self-loops", action="store_true", help="keep unchanged self-loops in view diagrams"
    )


def view_graph(recorder: ViewRecorder, max_nodes: int) -> nx.MultiDiGraph:
    """A recorded view's quotient, refused (exit 152) when it has too many labels to draw."""
    graph = recorder.graph()
    if graph.number_of_nodes() > max_nodes:
        raise CommandError(
            f"error: view {recorder.view.name} has {graph.number_of_nodes()} labels, more "
            f"than --max-nodes {max_nodes}",
            EXIT_LIMIT,
        )
    return graph


def search_options(args: argparse.Namespace, keep_going: bool = False) -> Options:
    return Options(
        keep_going=keep_going,
        check_deadlock=False if args.no_deadlock else None,
        temporal=not getattr(args, "no_temporal", False),
        max_states=args.max_states,
        max_depth=args.max_depth,
        timeout_s=args.timeout,
        max_memory_mb=args.max_memory or default_max_memory_mb(),
        progress=None if getattr(args, "no_progress", False) else reporter(),
        progress_interval_s=getattr(args, "progress_interval", None) or default_interval(),
        backend=getattr(args, "backend", "auto"),
        fingerprint=getattr(args, "fingerprint", False),
        symmetry=getattr(args, "symmetry", None),
        workers=getattr(args, "workers", 1),
    )


@contextmanager
def compile_limits(args: argparse.Namespace) -> Iterator[None]:
    """``--timeout`` and ``--max-memory`` while a spec is parsed, checked and compiled
    (constants are evaluated then): a breach ends the command with exit 152, as in a
    search (:meth:`explorer.engine.limits.Limits.guard`)."""
    limits = Limits(Options(timeout_s=args.timeout,
                            max_memory_mb=args.max_memory or default_max_memory_mb()))
    try:
        with limits.guard():
            yield
    except KeyboardInterrupt:
        if limits.breached is None:
            raise
        what = "--timeout" if limits.breached == "timeout" else "--max-memory"
        raise CommandError(f"error: {what} reached while the spec was compiled",
                           EXIT_LIMIT) from None


def models_of(
    spec: SpecLike, name: str | None, every: bool, defines: dict[str, str]
) -> list[Model]:
    """``--all-models``: every named model (the spec's defaults when it names none)."""
    names: list[str | None] = list(spec.model_names) if every else [name]
    return [spec.instantiate(n, defines) for n in names or [None]]


class CommandError(Exception):
    """A command cannot do what was asked; ``main`` prints the message and exits with
    ``exit_code``."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code
