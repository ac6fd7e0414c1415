"""The generated documentation of the kernel model: ``docs/model.md`` and its diagrams.

``python -m explorer.docgen`` (``make docs``, and the last step of ``make check``) checks
every model of every top-level kernel spec, judges each verdict against what the spec
says it should be, and writes from the results:

- ``docs/model.md``: every action with its kernel function, patch, rule in prose and its
  spec text; every property; the verdicts by model; the scenarios by model; the patch
  ablation table;
- ``docs/diagrams/<spec>/``: each view (the lifecycle of a page) per model, each model
  against the reference model (what only the reference forbids), and the shortest
  counterexample of every violation.

Nothing here is drawn or written by hand, so the docs cannot drift from the spec. The
output is the same byte for byte for the same specs (no timings, sorted everything).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import sys
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from explorer.cli_common import default_max_memory_mb
from explorer.dot import compare_diagram, heading, property_trace, view_diagram, write_diagram
from explorer.engine.interface import Options
from explorer.graph import Recorders, ViewRecorder
from explorer.judge import combine
from explorer.kernel_specs import REFERENCE_MODEL, kernel_specs
from explorer.result import Result
from explorer.run import run_model
from pyspec import ast as A
from pyspec.errors import ModelConfigError, SpecError
from pyspec.exit_codes import EXIT_OK
from pyspec.loader import Spec, load_spec
from pyspec.model import SourcePos
from pyspec.values import SetV

ROOT = Path(__file__).resolve().parents[1]
#: Kernels newer than the reference: the ablation table also says what they change.
NEWER_MODELS = ("linux-6.x",)
ABLATION = re.compile(r"-without-patch-(\d+)$")
#: The suffix of a model at wider bounds than the one it extends.
WIDE = "-wide"
#: A view with more labels than this is listed, not drawn.
MAX_VIEW_NODES = 60


@dataclass
class ModelRun:
    """One model's judged result and the quotient graphs of its views."""

    name: str
    result: Result
    views: dict[str, object] = field(default_factory=dict)


@dataclass
class SpecRun:
    spec: Spec
    stem: str
    runs: list[ModelRun]


def _drawn(name: str | None) -> bool:
    """Views are drawn per kernel version; an ablation, and a model at wider bounds
    (``-wide``), is documented by its verdicts and counterexamples (recording a view
    needs the one-state-at-a-time engine)."""
    return name is None or (ABLATION.search(name) is None and not name.endswith(WIDE))


def _check_model(path: str, name: str | None, options: Options) -> ModelRun:
    """One model of one spec, with its views recorded when they are drawn. A function of
    plain arguments, so that models can be checked in parallel processes."""
    model = load_spec(path).instantiate(name)
    recorders = [ViewRecorder(model, v) for v in model.views] if _drawn(name) else []
    observer = Recorders(recorders) if recorders else None
    result = run_model(model, replace(options, observer=observer, keep_going=True))
    return ModelRun(model.name, result, {r.view.name: r.graph() for r in recorders})


def _check_specs(
    paths: list[Path], options: Options, jobs: int, on_run: Callable[[str, ModelRun], None]
) -> list[SpecRun]:
    """Every model of every spec, ``jobs`` at a time; results in spec and model order.
    ``on_run(stem, run)`` sees each model as soon as it and every model before it are
    done, so that a log shows progress instead of everything at the end."""
    specs = [load_spec(str(p)) for p in paths]
    stems = [p.stem for p, spec in zip(paths, specs) for _ in spec.model_names or [None]]
    tasks = [(spec.path, name, options) for spec in specs for name in spec.model_names or [None]]
    runs: list[ModelRun] = []
    with contextlib.ExitStack() as stack:
        if jobs > 1 and len(tasks) > 1:
            pool = stack.enter_context(ProcessPoolExecutor(max_workers=jobs))
            done: Iterable[ModelRun] = pool.map(_check_model, *zip(*tasks))
        else:
            done = (_check_model(*task) for task in tasks)
        for stem, run in zip(stems, done):
            on_run(stem, run)
            runs.append(run)
    out, i = [], 0
    for path, spec in zip(paths, specs):
        n = len(spec.model_names or [None])
        out.append(SpecRun(spec, path.stem, runs[i:i + n]))
        i += n
    return out


# ---- diagrams ------------------------------------------------------------------------
def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)


def _write_diagrams(sr: SpecRun, out: Path) -> dict[tuple[str, str], str]:
    """Every diagram of one spec; returns (model, what) -> path relative to docs/."""
    where = out / "diagrams" / sr.stem
    shutil.rmtree(where, ignore_errors=True)  # no stale diagram survives a change
    where.mkdir(parents=True)
    links: dict[tuple[str, str], str] = {}
    spec_file = sr.spec.path
    reference = next((r for r in sr.runs if r.name == REFERENCE_MODEL), None)
    gaps = set() if reference is None else {
        p.name for p in reference.result.properties if p.verdict == "violated"}
    for run in sr.runs:
        ablation = ABLATION.search(run.name) is not None
        for p in run.result.properties:
            if p.trace is None or p.verdict != "violated":
                continue
            if ablation and p.name in gaps:
                continue  # the reference's own gap, drawn once for the reference
            path = where / f"{_slug(run.name)}--{_slug(p.name)}.svg"
            write_diagram(property_trace(p, spec_file, run.name), path)
            links[(run.name, p.name)] = str(path.relative_to(out))
        for view, graph in run.views.items():
            if graph.number_of_nodes() > MAX_VIEW_NODES:  # type: ignore[attr-defined]
                continue
            path = where / f"{_slug(run.name)}--view-{_slug(view)}.svg"
            title = heading(spec_file, run.name, f"view {view}")
            write_diagram(view_diagram(graph, title), path)  # type: ignore[arg-type]
            links[(run.name, f"view:{view}")] = str(path.relative_to(out))
            if reference is None or run is reference or view not in reference.views:
                continue
            other = reference.views[view]
            if other.number_of_nodes() > MAX_VIEW_NODES:  # type: ignore[attr-defined]
                continue
            path = where / f"{_slug(run.name)}-vs-{_slug(reference.name)}--view-{_slug(view)}.svg"
            title = heading(spec_file, f"{run.name} vs {reference.name}", f"view {view}")
            diagram = compare_diagram(graph, other, (run.name, reference.name), title)  # type: ignore[arg-type]
            write_diagram(diagram, path)
            links[(run.name, f"compare:{view}")] = str(path.relative_to(out))
    return links


# ---- markdown ------------------------------------------------------------------------
def _excerpt(spec: Spec, decl: A.DeclBase) -> str:
    start = decl.annotations[0].pos.line if decl.annotations else decl.pos.line
    lines = []
    for n in range(start, max(decl.end_line, decl.pos.line) + 1):
        line = spec.sources.line(SourcePos(decl.pos.file, n, 1))
        lines.append(line if line is not None else "")
    return "\n".join(lines).rstrip()


def _tags(decl: A.DeclBase, name: str) -> list[str]:
    return [str(a.args[0]) for a in decl.annotations if a.name == name and a.args]


def _cell(run: ModelRun, name: str, links: dict[tuple[str, str], str]) -> str:
    p = next((p for p in run.result.properties if p.name == name), None)
    if p is None:
        return ""
    text = {"holds": "holds", "violated": "**violated**", "reachable": "reachable",
            "unreachable": "**unreachable**", "unknown": "unknown"}[p.verdict]
    link = links.get((run.name, name))
    if link:
        text = f"[{text}]({link})"
    if p.judgement == "fail":
        return f"{text} ✗ (expected {p.expected})"
    if p.verdict != ("reachable" if p.kind == "reachable" else "holds"):
        text += " (expected)"
    return text


def _verdict_table(sr: SpecRun, links: dict[tuple[str, str], str]) -> list[str]:
    names = [r.name for r in sr.runs]
    first = sr.runs[0].result
    rows = ["| property | kind | " + " | ".join(names) + " |",
            "|---|---|" + "---|" * len(names)]
    for p in first.properties:
        cells = [_cell(r, p.name, links) for r in sr.runs]
        rows.append(f"| {p.name} | {p.kind} | " + " | ".join(cells) + " |")
    rows.append("| *distinct states / depth* | | " + " | ".join(
        f"{r.result.stats.distinct_states:,} / {r.result.stats.depth}" for r in sr.runs) + " |")
    bounds = [_bounds(sr.spec, r) for r in sr.runs]
    if any(bounds):
        rows.append("| *bounds the model sets* | | " + " | ".join(bounds) + " |")
    return rows


def _bounds(spec: Spec, run: ModelRun) -> str:
    """The numbers a model sets (ints, and sets of model values by their size), so that a
    model at wider bounds shows them next to its verdicts."""
    if run.name not in spec.model_names:
        return ""
    _, overrides = spec.overrides(run.name, {})
    shown = []
    for name, value in run.result.constants.items():
        if name not in overrides.values:
            continue
        if isinstance(value, SetV):
            shown.append(f"{name}={len(value.items)}")
        elif isinstance(value, int) and not isinstance(value, bool):
            shown.append(f"{name}={value}")
    return ", ".join(shown)


def _scenario_table(sr: SpecRun) -> list[str]:
    names = [r.name for r in sr.runs]
    scenarios = [s.name for s in sr.runs[0].result.scenarios]
    if not scenarios:
        return []
    rows = ["| scenario | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for sc in scenarios:
        cells = []
        for r in sr.runs:
            res = next((s for s in r.result.scenarios if s.name == sc), None)
            if res is None:
                cells.append("")
                continue
            verdict = ("violates " + ", ".join(res.violated)) if res.violated else "holds"
            if res.judgement == "fail":
                verdict += f" ✗ ({res.reason})"
            elif res.judgement == "unknown":
                verdict += " ?"
            cells.append(verdict)
        rows.append(f"| {sc} | " + " | ".join(cells) + " |")
    return rows


def _ablation_table(sr: SpecRun, links: dict[tuple[str, str], str]) -> list[str]:
    reference = next((r for r in sr.runs if r.name == REFERENCE_MODEL), None)
    ablations = [(int(m.group(1)), r) for r in sr.runs if (m := ABLATION.search(r.name))]
    if reference is None or not ablations:
        return []
    base = {p.name for p in reference.result.properties if p.verdict in ("violated",
                                                                         "unreachable")}
    rows = ["| patch | model | fails without it (beyond " + REFERENCE_MODEL + ") | "
            "shortest counterexample |", "|---|---|---|---|"]
    for number, run in sorted(ablations, key=lambda x: x[0]):
        broken = [p.name for p in run.result.properties
                  if p.verdict in ("violated", "unreachable") and p.name not in base]
        traces = ", ".join(f"[{n}]({links[(run.name, n)]})" for n in broken
                           if (run.name, n) in links)
        rows.append(f"| {number} | {run.name} | {', '.join(broken) or 'nothing'} | "
                    f"{traces} |")
    for run in (r for r in sr.runs if r.name in NEWER_MODELS):
        bad = {p.name for p in run.result.properties if p.verdict in ("violated",
                                                                       "unreachable")}
        change = [f"{n} fails" for n in sorted(bad - base)]
        change += [f"{n} holds" for n in sorted(base - bad)]
        traces = ", ".join(f"[{n}]({links[(run.name, n)]})" for n in sorted(bad - base)
                           if (run.name, n) in links)
        rows.append(f"| (newer) | {run.name} | {', '.join(change) or 'nothing'} | {traces} |")
    return rows


def _views_section(sr: SpecRun, links: dict[tuple[str, str], str]) -> list[str]:
    views = sorted({v for r in sr.runs for v in r.views})
    out: list[str] = []
    for view in views:
        decl = sr.spec.checked.symbols.views[view]
        out += ["", f"### View {view}", ""]
        if decl.doc:
            out += [decl.doc, ""]
        for r in sr.runs:
            if view not in r.views:
                continue
            drawn = links.get((r.name, f"view:{view}"))
            compared = links.get((r.name, f"compare:{view}"))
            if drawn is None:
                count = r.views[view].number_of_nodes()  # type: ignore[attr-defined]
                out.append(f"- {r.name}: {count} labels (too many to draw)")
                continue
            line = f"- {r.name}: [lifecycle]({drawn})"
            if compared:
                line += f", [against {REFERENCE_MODEL}]({compared})"
            out.append(line)
    return out


def _decl_sections(sr: SpecRun) -> list[str]:
    s = sr.spec.checked.symbols
    out = ["", "### Actions", ""]
    for name, d in s.actions.items():
        kernel = ", ".join(f"`{k}`" for k in _tags(d, "kernel")) or "—"
        patches = ", ".join(_tags(d, "patch")) or "—"
        out += [f"#### {name}", "", f"Kernel: {kernel} · patch: {patches}", ""]
        if d.doc:
            out += [d.doc, ""]
        out += ["```", _excerpt(sr.spec, d), "```", ""]
    out += ["### Properties", ""]
    for name, c in s.checks.items():
        out += [f"#### {name} ({c.kind})", ""]
        if c.doc:
            out += [c.doc, ""]
        out += ["```", _excerpt(sr.spec, c), "```", ""]
    return out


def render(runs: list[SpecRun], links: dict[str, dict[tuple[str, str], str]]) -> str:
    out = ["# The kernel model, generated", "",
           "Generated by `make check` (`python -m explorer.docgen`) from the kernel specs; "
           "do not edit. Each verdict is judged against the model's stated expectation: "
           "*(expected)* marks a violation the model expects (a known bug of that kernel "
           "version), ✗ a verdict that differs from the expectation. The hand-written "
           "explanation is [kernel-model.md](kernel-model.md).", ""]
    for sr in runs:
        rel = Path(sr.spec.path).resolve()
        if rel.is_relative_to(ROOT):
            rel = rel.relative_to(ROOT)
        lk = links[sr.stem]
        out += [f"## {rel}", ""]
        out += ["### Verdicts by model", ""] + _verdict_table(sr, lk)
        scenarios = _scenario_table(sr)
        if scenarios:
            out += ["", "### Scenarios by model", ""] + scenarios
        ablation = _ablation_table(sr, lk)
        if ablation:
            out += ["", "### Patch ablation", "",
                    f"Each row is {REFERENCE_MODEL} with one patch of the series switched off."
                    " The properties listed fail only without that patch; a newer kernel's"
                    " row says what fails or holds there unlike in the reference.", ""] + ablation
        out += _views_section(sr, lk)
        out += _decl_sections(sr)
    return "\n".join(out).rstrip() + "\n"


def _print_run(stem: str, run: ModelRun) -> None:
    """One line per model, flushed: ``make check | tee log`` shows each as it ends."""
    r = run.result
    failed = [p.name for p in r.properties if p.judgement == "fail"] + [
        s.name for s in r.scenarios if s.judgement == "fail"]
    print(f"{stem}.cow {run.name}: {r.stats.distinct_states:,} distinct, "
          f"{r.stats.total_states:,} generated, depth {r.stats.depth}, "
          f"exit {r.exit_code}" + (f"; FAILED: {', '.join(failed)}" if failed else ""),
          flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m explorer.docgen", description=__doc__)
    parser.add_argument("specs", nargs="*", metavar="SPEC",
                        help="top-level specs (default: spec/kernel/*.cow)")
    parser.add_argument("--out", default=str(ROOT / "docs"), metavar="DIR",
                        help="where model.md and diagrams/ go (default: docs/)")
    parser.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1, metavar="N",
                        help="models checked in parallel (default: one per CPU)")
    args = parser.parse_args(argv)
    paths = [Path(p) for p in args.specs] or kernel_specs()
    out = Path(args.out)
    options = Options(max_memory_mb=default_max_memory_mb())
    try:
        runs = _check_specs(paths, options, max(1, args.jobs), _print_run)
    except (SpecError, ModelConfigError) as exc:
        print(exc.render(), file=sys.stderr)
        return exc.exit_code
    links: dict[str, dict[tuple[str, str], str]] = {}
    codes = [run.result.exit_code for sr in runs for run in sr.runs]
    for sr in runs:
        links[sr.stem] = _write_diagrams(sr, out)
    if runs:
        (out / "model.md").write_text(render(runs, links), encoding="utf-8")
        print(f"wrote {out / 'model.md'} and {out / 'diagrams'}/")
    else:
        print("no kernel spec found; nothing to document")
    return combine(codes) if codes else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
