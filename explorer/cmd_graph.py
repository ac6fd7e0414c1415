"""``cowspec graph``: draw the state graph, a view of it, or one property's trace."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace

import graphviz

from explorer.cli_common import (
    CommandError,
    add_diagram_arguments,
    add_search_arguments,
    add_spec_arguments,
    import_policy,
    load,
    parse_defines,
    search_options,
    view_graph,
)
from explorer.dot import (
    diagram_format,
    heading,
    property_trace,
    state_graph,
    view_diagram,
    write_diagram,
)
from explorer.engine.interface import Observer, Options
from explorer.engine.registry import check
from explorer.graph import StateGraphRecorder, ViewRecorder, find_view, mark_unexplored
from explorer.outputs import check_file
from explorer.progress import end as end_progress
from explorer.report_text import render_failure
from explorer.result import Result
from pyspec.errors import ModelConfigError, SourceCache
from pyspec.exit_codes import EXIT_LIMIT, EXIT_OK, EXIT_SPEC_ERROR
from pyspec.model import Model

NAME = "graph"
HELP = "draw the state graph, a view of it, or a trace (Graphviz SVG, PNG or PDF + .dot)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_spec_arguments(p)
    p.add_argument("--model", metavar="M", help="the named model to draw")
    what = p.add_mutually_exclusive_group()
    what.add_argument("--view", metavar="NAME", help="draw the quotient graph under this view")
    what.add_argument(
        "--trace", metavar="PROPERTY", help="draw the counterexample (or witness) of PROPERTY"
    )
    add_diagram_arguments(p)
    add_search_arguments(p)
    p.add_argument(
        "-o", "--output", required=True, metavar="FILE.svg",
        help="where to write: .svg, .png or .pdf (and FILE.dot beside it)",
    )


def search(model: Model, options: Options, observer: Observer | None = None) -> Result:
    """The search behind a diagram; an evaluation error ends the command (exit 150)."""
    result = check(model, replace(options, keep_going=True, observer=observer))
    if result.error is not None:
        raise CommandError(render_failure(result.error, SourceCache(), False), EXIT_SPEC_ERROR)
    return result


def _trace(model: Model, options: Options, name: str) -> tuple[graphviz.Digraph, Result]:
    names = [c.name for c in (*model.invariants, *model.action_properties, *model.reachables)]
    if name not in [*names, "deadlock"]:
        raise ModelConfigError(f"model {model.name!r} has no property {name!r}")
    result = search(model, options)
    found = next((p for p in result.properties if p.name == name), None)
    if found is None or found.trace is None:
        verdict = found.verdict if found is not None else "not checked"
        raise ModelConfigError(f"{name} has no trace to draw: {verdict}")
    return property_trace(found, model.spec_file, model.name), result


def _view(
    model: Model, options: Options, name: str, self_loops: bool, max_nodes: int
) -> tuple[graphviz.Digraph, Result]:
    recorder = ViewRecorder(model, find_view(model, name), self_loops=self_loops)
    result = search(model, options, recorder)
    graph = view_graph(recorder, max_nodes)
    return view_diagram(graph, heading(model.spec_file, model.name, f"view {name}")), result


def _states(model: Model, options: Options, max_nodes: int) -> tuple[graphviz.Digraph, Result]:
    recorder = StateGraphRecorder(model, max_nodes)
    result = search(model, replace(options, max_states=max_nodes + 1), recorder)
    if recorder.too_large:
        views = ", ".join(v.name for v in model.views)
        hint = f"draw a view (--view NAME; this model has: {views})" if views else "define a view"
        raise CommandError(
            f"error: the state graph has more than {max_nodes} states; {hint}, "
            "or raise --max-nodes",
            EXIT_LIMIT,
        )
    partial = mark_unexplored(recorder.graph, result)
    what = "reachable states" + (f" ({partial})" if partial else "")
    title = heading(model.spec_file, model.name, what)
    return state_graph(recorder.graph, title), result


def run(args: argparse.Namespace) -> int:
    if diagram_format(args.output) is None:
        raise ModelConfigError(
            f"-o {args.output}: cannot draw to this file type; use .svg, .png or .pdf"
        )
    check_file("-o", args.output)
    spec = load(args.spec, import_policy(args))
    model = spec.instantiate(args.model, parse_defines(args.defines))
    options = search_options(args)
    try:
        if args.trace:
            diagram, result = _trace(model, options, args.trace)
        elif args.view:
            diagram, result = _view(model, options, args.view, args.self_loops, args.max_nodes)
        else:
            diagram, result = _states(model, options, args.max_nodes)
    finally:
        end_progress(options.progress)
    svg, dot = write_diagram(diagram, args.output)
    print(f"wrote {svg} and {dot}")
    if result.stopped is not None:
        print(f"warning: search stopped ({result.stopped}): diagram is partial", file=sys.stderr)
        return EXIT_LIMIT
    return EXIT_OK
