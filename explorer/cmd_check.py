"""``cowspec check``: explore a model, judge every verdict, report it."""

from __future__ import annotations

import argparse
import re
import shlex
import sys
from dataclasses import replace
from pathlib import Path

from explorer.annotate import annotate
from explorer.cli_common import (
    add_diagram_arguments,
    add_search_arguments,
    add_spec_arguments,
    compile_limits,
    import_policy,
    load,
    models_of,
    parse_defines,
    search_options,
)
from explorer.dot import heading, property_trace, state_graph, view_diagram, write_diagram
from explorer.engine.checkpoint import MANIFEST
from explorer.graph import Recorders, StateGraphRecorder, ViewRecorder, mark_unexplored
from explorer.judge import combine
from explorer.outputs import check_dir, check_file
from explorer.progress import end as end_progress
from explorer.report_summary import summary_line
from explorer.report_text import render_result
from explorer.reports import FORMATS
from explorer.result import Result
from explorer.run import run_model
from pyspec.errors import ModelConfigError
from pyspec.model import Model

NAME = "check"
HELP = "check a model: every state, every property, every scenario"


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_spec_arguments(p)
    which = p.add_mutually_exclusive_group()
    which.add_argument("--model", metavar="M", help="the named model to check")
    which.add_argument(
        "--all-models", action="store_true", help="check every named model of the spec"
    )
    p.add_argument(
        "--continue",
        dest="keep_going",
        action="store_true",
        help="do not stop at the first violation: one shortest trace per violated property",
    )
    add_search_arguments(p)
    p.add_argument(
        "--strict-coverage", action="store_true", help="an action that never fires is an error"
    )
    p.add_argument("--coverage", action="store_true", help="print the coverage table")
    p.add_argument(
        "--summary", action="store_true", help="one line per model instead of the whole report"
    )
    p.add_argument("--full", action="store_true", help="show whole states in traces")
    for fmt in FORMATS:
        p.add_argument(f"--{fmt.name}", metavar="FILE", help=fmt.help)
    shown = p.add_mutually_exclusive_group()
    shown.add_argument(
        "--show-traces",
        action="store_true",
        help="print the traces of expected violations and witnesses too",
    )
    shown.add_argument(
        "--trace",
        action="append",
        metavar="PROP",
        help="print this property's trace even when its verdict is expected (repeatable)",
    )
    p.add_argument("--diagrams", metavar="DIR", help="write Graphviz diagrams (SVG + .dot)")
    p.add_argument("--cluster", metavar="auto|ADDRESS",
                   help="search on Ray (pip install 'cowspec[distributed]'): auto starts a "
                   "local Ray of --workers processes, ADDRESS joins a running cluster "
                   "(docs/distributed.md)")
    p.add_argument("--checkpoint", metavar="DIR",
                   help="keep a snapshot of the search in DIR (numpy and cluster engines), "
                   "to resume it")
    p.add_argument("--checkpoint-every", type=float, default=300.0, metavar="S",
                   help="seconds between snapshots, written at BFS level boundaries "
                   "(default 300; also one when a limit stops the search)")
    p.add_argument("--recover", metavar="DIR",
                   help="resume the search whose snapshot DIR holds (and keep it there)")
    add_diagram_arguments(p)
    scen = p.add_mutually_exclusive_group()
    scen.add_argument("--no-scenarios", action="store_true", help="skip the scenarios")
    scen.add_argument(
        "--scenario", action="append", metavar="NAME", help="run only this scenario (repeatable)"
    )


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)


def _diagrams(
    result: Result,
    graph: StateGraphRecorder,
    views: list[ViewRecorder],
    out: Path,
) -> list[str]:
    """Write every diagram of one model into ``out``; returns notes for the user."""
    out.mkdir(parents=True, exist_ok=True)
    notes: list[str] = []
    if graph.too_large:
        notes.append(
            f"state graph not drawn: more than {graph.max_nodes} states "
            "(raise --max-nodes, or draw a view)"
        )
    else:
        partial = mark_unexplored(graph.graph, result)
        what = "reachable states" + (f" ({partial})" if partial else "")
        title = heading(result.spec, result.model, what)
        write_diagram(state_graph(graph.graph, title), out / "states.svg")
    for p in result.properties:
        if p.trace is not None:
            diagram = property_trace(p, result.spec, result.model)
            write_diagram(diagram, out / f"trace-{_safe(p.name)}.svg")
    for v in views:
        quotient = v.graph()
        if quotient.number_of_nodes() > graph.max_nodes:
            notes.append(f"view {v.view.name} not drawn: more than {graph.max_nodes} labels")
            continue
        title = heading(result.spec, result.model, f"view {v.view.name}")
        write_diagram(view_diagram(quotient, title), out / f"view-{_safe(v.view.name)}.svg")
    return notes


def _check_one(model: Model, args: argparse.Namespace, several: bool, width: int) -> Result:
    known = {c.name for c in (*model.invariants, *model.action_properties, *model.reachables,
                              *model.temporal)}
    unknown = sorted(set(args.trace or ()) - known - {"deadlock"})
    if unknown:
        raise ModelConfigError(f"--trace {', '.join(unknown)}: model {model.name!r} has no such "
                               f"property (it has: {', '.join(sorted(known)) or 'none'})")
    options = replace(search_options(args, keep_going=args.keep_going), cluster=args.cluster)
    if args.checkpoint or args.recover:
        def sub(path: str | None) -> str | None:
            return str(Path(path) / _safe(model.name)) if path and several else path

        options = replace(options, checkpoint=sub(args.checkpoint or args.recover),
                          checkpoint_every_s=args.checkpoint_every, recover=sub(args.recover))
    if args.diagrams:
        graph = StateGraphRecorder(model, args.max_nodes)
        views = [ViewRecorder(model, v, self_loops=args.self_loops) for v in model.views]
        options = replace(options, observer=Recorders([graph, *views]))
    scenarios = [] if args.no_scenarios else args.scenario
    try:
        result = run_model(model, options, scenarios, args.strict_coverage)
    finally:
        end_progress(options.progress)
    shown = True if args.show_traces else frozenset(args.trace or ())
    annotate(model, result, lambda p: bool(args.json) or p.judgement == "fail"
             or shown is True or p.name in shown)
    if args.summary:
        print(summary_line(result, width), flush=True)
    else:
        print(render_result(result, full=args.full, show_coverage=args.coverage,
                            show_traces=shown), flush=True)
    if options.checkpoint and result.stopped in RESUMABLE and \
            (Path(options.checkpoint) / MANIFEST).exists():
        print("note: resume the search with: "
              f"{resume_command(args.argv, args.checkpoint or args.recover)}",
              file=sys.stderr)
    if args.diagrams and result.error is None:
        out = Path(args.diagrams) / (_safe(model.name) if several else "")
        for note in _diagrams(result, graph, views, out):
            print(f"note: {note}", file=sys.stderr)
    return result


#: Stops after which a search with ``--checkpoint`` can be resumed.
RESUMABLE = ("max_states", "timeout", "interrupted", "max_memory")


def resume_command(argv: list[str], directory: str) -> str:
    """The command line ``argv`` (without the program) with ``--recover DIR`` in place of
    ``--checkpoint``/``--recover`` (the snapshot stays in DIR)."""
    out: list[str] = ["cowspec"]
    skip = False
    for arg in argv:
        if skip:
            skip = False
            continue
        name = arg.split("=", 1)[0]
        if name in ("--checkpoint", "--recover"):
            skip = "=" not in arg
            continue
        out.append(arg)
    return shlex.join([*out, "--recover", directory])


def run(args: argparse.Namespace) -> int:
    for fmt in FORMATS:
        check_file(f"--{fmt.name}", getattr(args, fmt.name))
    check_dir("--diagrams", args.diagrams)
    check_dir("--checkpoint", args.checkpoint)
    if args.checkpoint_every < 0:
        raise ModelConfigError("--checkpoint-every wants seconds, 0 or more")
    with compile_limits(args):
        spec = load(args.spec, import_policy(args))
        models = models_of(spec, args.model, args.all_models, parse_defines(args.defines))
    for warning in getattr(spec, "warnings", []):
        print(warning.render(), file=sys.stderr)
    several = len(models) > 1
    results: list[Result] = []
    width = max(len(m.name) for m in models)
    for i, model in enumerate(models):
        if i and not args.summary:
            print()
        results.append(_check_one(model, args, several, width))
        if results[-1].stopped == "interrupted":
            break
    code = combine(r.exit_code for r in results)
    if several:
        if not args.summary:
            print()
        print(f"{len(results)} models checked: exit code {code}")
    for fmt in FORMATS:
        path = getattr(args, fmt.name)
        if path:
            fmt.write(results, code, several, path)
    return code
