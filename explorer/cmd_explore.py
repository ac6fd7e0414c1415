"""``cowspec explore``: write the interactive explorer page of a model (one HTML file)."""

from __future__ import annotations

import argparse
from pathlib import Path

import graphviz

from explorer.cli_common import (
    add_spec_arguments,
    load,
    models_of,
    parse_defines,
    positive,
    search_options,
)
from explorer.dot import heading, view_diagram
from explorer.explore import DEFAULT_CAP, build_page
from explorer.explore_html import render_html
from explorer.graph import ViewRecorder
from explorer.replay import decode
from pyspec.errors import ModelConfigError

NAME = "explore"
HELP = "write an interactive page (one self-contained HTML file) to step through traces"

#: Views with more labels than this are listed on the page but not drawn.
MAX_DRAWN_LABELS = 150


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_spec_arguments(p)
    p.add_argument("--model", metavar="M", help="the named model to explore")
    p.add_argument("--html", required=True, metavar="FILE",
                   help="where to write the page (open it in any browser; no server)")
    p.add_argument("--replay", metavar="TRACE",
                   help="show this trace first (a string check and simulate print)")
    p.add_argument("--max-shown", type=positive(int), default=DEFAULT_CAP, metavar="N",
                   help=f"keep the first N states on the page (default {DEFAULT_CAP}); "
                   "traces always show all their states")
    p.add_argument("--max-states", type=positive(int), metavar="N",
                   help="stop the search after N states")
    p.add_argument("--timeout", type=positive(float), metavar="S",
                   help="stop the search after S seconds")
    p.add_argument("--no-deadlock", action="store_true", help="do not report deadlocks")


def _svgs(views: list[ViewRecorder]) -> dict[str, str]:
    """Each view's diagram as inline SVG, when dot is installed and the view is small."""
    out = {}
    for r in views:
        g = r.graph()
        if g.number_of_nodes() > MAX_DRAWN_LABELS:
            continue
        diagram = view_diagram(g, heading(None, r.model.name, f"view {r.view.name}"))
        try:
            svg = diagram.pipe(format="svg", quiet=True).decode("utf-8")
        except graphviz.ExecutableNotFound:
            return {}
        out[r.view.name] = svg[svg.index("<svg"):]
    return out


def run(args: argparse.Namespace) -> int:
    out = Path(args.html)
    if not out.parent.is_dir():
        raise ModelConfigError(f"--html {args.html}: no directory {out.parent}")
    model = models_of(load(args.spec), args.model, False, parse_defines(args.defines))[0]
    replay = decode(model, args.replay) if args.replay else None
    options = search_options(argparse.Namespace(
        no_deadlock=args.no_deadlock, max_states=args.max_states, max_depth=None,
        timeout=args.timeout, max_memory=None))
    data = build_page(model, options, args.max_shown, replay, _svgs)
    out.write_text(render_html(data), encoding="utf-8")
    kept = data["stats"]["shown"]
    print(f"wrote {out} ({out.stat().st_size / 2**20:.1f} MB, {kept:,} states, "
          f"{len(data['traces'])} traces)")
    for note in data["notes"]:
        print(f"note: {note}")
    return 0
