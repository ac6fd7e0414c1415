"""``cowspec compare``: every verdict side by side across models (e.g. kernel versions),
and a view diagram of the edges one model has and the other does not."""

from __future__ import annotations

import argparse
from dataclasses import replace

from explorer.cli_common import (
    add_diagram_arguments,
    add_search_arguments,
    add_spec_arguments,
    import_policy,
    load,
    parse_defines,
    search_options,
    view_graph,
)
from explorer.dot import compare_diagram, heading, write_diagram
from explorer.graph import ViewRecorder, find_view
from explorer.judge import combine
from explorer.outputs import check_file
from explorer.progress import end as end_progress
from explorer.report_text import property_title, render_failure
from explorer.result import Result, ScenarioResult
from explorer.run import run_model
from pyspec.errors import ModelConfigError, SourceCache

NAME = "compare"
HELP = "compare verdicts (and a view) across models"


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_spec_arguments(p)
    p.add_argument(
        "--model",
        action="append",
        required=True,
        metavar="M",
        help="a model to compare (give it two or more times)",
    )
    p.add_argument("--view", metavar="NAME", help="draw this view's differences (two models)")
    p.add_argument("-o", "--output", metavar="FILE.svg", help="where --view writes its diagram")
    add_diagram_arguments(p)
    p.add_argument("--no-scenarios", action="store_true", help="skip the scenarios")
    add_search_arguments(p)


def scenario_verdict(s: ScenarioResult) -> str:
    """What a scenario found, whatever the model expects: the properties its steps
    violate, ``holds`` when it runs to the end violating none, or how it fell short."""
    if s.error is not None:
        return "error"
    if s.violated:
        return "violates " + ", ".join(sorted(s.violated))
    if not s.complete:
        return "unknown"
    if s.reached < len(s.steps):
        return f"stuck at step {s.reached + 1}"
    return "holds"


def verdict_table(results: list[Result]) -> str:
    """One row per property or scenario, one column per model. ``*`` marks a row whose
    verdicts differ between the models; ``!`` a verdict the model does not expect."""
    rows: dict[str, list[str]] = {}
    found: dict[str, set[str]] = {}
    for i, r in enumerate(results):
        cells = [(property_title(p), p.verdict, p.judgement) for p in r.properties]
        cells += [(f"scenario {s.name}", scenario_verdict(s), s.judgement) for s in r.scenarios]
        for key, text, judgement in cells:
            row = rows.setdefault(key, ["-"] * len(results))
            row[i] = text + (" !" if judgement == "fail" else "")
            found.setdefault(key, set()).add(text)
    header = ["", "", *(r.model for r in results)]
    table = [header]
    for key, cells in rows.items():
        differs = len(found[key]) > 1 or "-" in cells
        table.append(["*" if differs else "", key, *cells])
    widths = [max(len(row[c]) for row in table) for c in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in table]
    lines.append("* verdicts differ between the models; ! not the verdict the model expects")
    return "\n".join(line.rstrip() for line in lines)


def run(args: argparse.Namespace) -> int:
    if len(args.model) < 2:
        raise ModelConfigError("compare wants at least two --model")
    if args.view and (len(args.model) != 2 or not args.output):
        raise ModelConfigError("--view compares exactly two models and needs -o FILE.svg")
    check_file("-o", args.output)
    spec = load(args.spec, import_policy(args))
    defines = parse_defines(args.defines)
    options = search_options(args)
    results: list[Result] = []
    recorders: list[ViewRecorder] = []
    for name in args.model:
        model = spec.instantiate(name, defines)
        opts = options
        if args.view:
            recorder = ViewRecorder(model, find_view(model, args.view), args.self_loops)
            recorders.append(recorder)
            opts = replace(options, observer=recorder)
        try:
            results.append(run_model(model, opts, [] if args.no_scenarios else None))
        finally:
            end_progress(options.progress)
    print(verdict_table(results))
    for r in results:
        if r.error is not None:
            print(f"\nmodel {r.model}:\n{render_failure(r.error, SourceCache(), full=False)}")
    code = combine(r.exit_code for r in results)
    if args.view:
        a, b = (view_graph(r, args.max_nodes) for r in recorders)
        names = (results[0].model, results[1].model)
        title = heading(spec.path, f"{names[0]} vs {names[1]}", f"view {args.view}")
        svg, dot = write_diagram(compare_diagram(a, b, names, title), args.output)
        print(f"wrote {svg} and {dot}")
    print(f"exit code {code}")
    return code
