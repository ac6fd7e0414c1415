"""The summary a user reads on the terminal, and counterexamples that read at a glance."""

from __future__ import annotations

from explorer.result import (
    EvalFailure,
    PropertyVerdict,
    Result,
    ScenarioResult,
    Stats,
    Trace,
    TraceStep,
    Why,
)
from explorer.scenario import FURTHEST
from explorer.traces import changes, leaves
from pyspec.errors import Diagnostic, SourceCache
from pyspec.values import render

#: Code of an error raised while the model was being evaluated.
E_EVAL = "E900"

_MARK = {"pass": "PASS", "fail": "FAIL", "unknown": "----"}
_STOPPED = {
    "violation": "stopped at the first violation (--continue goes on)",
    "max_states": "stopped: --max-states reached",
    "max_depth": "stopped: --max-depth reached",
    "timeout": "stopped: --timeout reached",
    "max_memory": "stopped: --max-memory reached",
    "interrupted": "interrupted",
    "error": "stopped by an evaluation error",
}


def _n(x: int) -> str:
    return f"{x:,}"


def _count(x: int, noun: str) -> str:
    return f"{x:,} {noun}{'' if x == 1 else 's'}"


def stats_line(s: Stats) -> str:
    return (
        f"{_n(s.distinct_states)} distinct states, {_n(s.total_states)} generated, "
        f"depth {s.depth}, {s.elapsed_s:.2f} s, {_n(round(s.states_per_s))} distinct states/s"
    )


def _store_figures(s: Stats) -> str:
    """The store's bytes per state, and the frontier window's when it is kept apart."""
    if not s.store_bytes or not s.distinct_states:
        return ""
    per = s.store_bytes / s.distinct_states
    if s.queue_bytes is None:
        return f", {per:.1f} bytes per stored state"
    return (f", {per:.1f} bytes per state (fingerprints and parent links), frontier window "
            f"at most {s.queue_bytes / 2**20:.1f} MB")


def engine_lines(result: Result) -> list[str]:
    """How the search ran, when it is not the plain scalar engine or there is a note."""
    s = result.stats
    out = []
    if s.backend not in ("scalar", "simulation"):
        per = _store_figures(s)
        how = "the search as machine code" if s.backend == "compiled" else "a BFS level at a time"
        out.append(f"engine:      {s.backend} ({how}){per}")
    if s.compile_s is not None:
        out.append(f"compile:     {s.compile_s:.2f} s (generating and compiling the model, or "
                   "loading it from the cache; not in the search time)")
    if s.seen_by == "fingerprint":
        p = s.collision_probability or 0.0
        out.append(f"fingerprints: 64-bit; probability of a collision, calculated (optimistic): "
                   f"{p:.2g}")
    if s.symmetry:
        out.append(f"symmetry:    {', '.join(s.symmetry)} (distinct states are orbits)")
    out.extend(f"note:        {n}" for n in result.notes)
    return out


def render_result(result: Result, full: bool = False, show_coverage: bool = False,
                  show_traces: bool | frozenset[str] = False) -> str:
    """The whole report of one model: summary, verdicts, then every failure's trace, and
    the traces of expected outcomes too when ``show_traces`` is true or names them."""
    sources = SourceCache()
    out = [f"spec:        {result.spec or '-'}", f"model:       {result.model}"]
    if result.constants:
        consts = ", ".join(f"{k} = {render(v)}" for k, v in result.constants.items())
        out.append(f"constants:   {consts}")
    out.append(f"states:      {stats_line(result.stats)}")
    out.extend(engine_lines(result))
    if result.stopped:
        queue = result.stats.queue
        left = f" ({_count(queue, 'state')} left unexplored)" if queue else ""
        out.append(f"search:      {_STOPPED[result.stopped]}{left}")
    elif result.stats.backend == "simulation":
        out.append("search:      random walks (a property no walk violated is unknown)")
    else:
        out.append("search:      complete")
    if result.properties:
        out.append("properties:")
        width = max(len(property_title(p)) for p in result.properties)
        out.extend(_property_line(p, width) for p in result.properties)
    if result.scenarios:
        out.append("scenarios:")
        width = max(len(s.name) for s in result.scenarios)
        out.extend(_scenario_line(s, width) for s in result.scenarios)
    out.extend(_coverage_lines(result, show_coverage))
    out.append(f"result:      exit code {result.exit_code}")
    if result.error is not None:
        out += ["", render_failure(result.error, sources, full)]
    for p in result.properties:
        wanted = show_traces is True or bool(show_traces) and p.name in show_traces
        if p.trace is not None and (p.judgement == "fail" or wanted):
            title = "Counterexample" if p.verdict == "violated" else "Witness"
            length = _count(len(p.trace.steps), "state")
            if p.trace.loop is not None:
                length += f", a lasso: cycle from state {p.trace.loop + 1}"
            expected = " as expected" if p.judgement == "pass" else ""
            out += ["", f"{title}: {property_title(p)} {p.verdict}{expected} ({length})"]
            out.append(render_trace(p.trace, full))
            out.extend(_explanation_lines(p))
    for s in result.scenarios:
        if s.error is not None:
            out += ["", f"Scenario {s.name}:", render_failure(s.error, sources, full)]
        for name in s.violated:
            if name not in s.expect_violated and name in s.traces:
                trace = s.traces[name]
                out += ["", f"Scenario {s.name}: {name} violated ({len(trace.steps)} states)"]
                out.append(render_trace(trace, full))
        if s.judgement == "fail" and FURTHEST in s.traces:
            out += ["", f"Scenario {s.name}: the furthest run, {s.reached} of {len(s.steps)} steps"]
            out.append(render_trace(s.traces[FURTHEST], full))
    return "\n".join(out)


def property_title(p: PropertyVerdict) -> str:
    """``invariant NotSolved``; deadlock freedom has no name of its own."""
    return p.kind if p.kind == "deadlock" else f"{p.kind} {p.name}"


def _property_line(p: PropertyVerdict, width: int) -> str:
    text = p.verdict
    if p.judgement != "unknown" and p.verdict != p.expected:
        text += f" (expected: {p.expected})"
    elif p.verdict == "violated" and p.trace is not None:
        text += f" as expected ({len(p.trace.steps)}-state trace)"
    elif p.verdict == "reachable" and p.trace is not None:
        text += f" ({len(p.trace.steps)}-state witness)"
    return f"  {_MARK[p.judgement]}  {property_title(p):<{width}}  {text}"


def _scenario_line(s: ScenarioResult, width: int) -> str:
    return f"  {_MARK[s.judgement]}  {s.name:<{width}}  {s.reason}"


def _coverage_lines(result: Result, table: bool) -> list[str]:
    cov = result.coverage
    never = cov.never_fired
    lines: list[str] = []
    if never:
        level = "error" if cov.judgement == "fail" else "warning"
        lines.append(f"coverage:    {level}: never fired: {', '.join(never)}")
    else:
        lines.append(f"coverage:    every action fired ({_count(len(cov.actions), 'action')})")
    if table and cov.actions:
        width = max(len("action"), *(len(a.name) for a in cov.actions))
        lines.append(f"  {'action':<{width}}  {'enabled':>10} {'fired':>10} {'new':>10}  kernel")
        for a in cov.actions:
            counts = f"{a.enabled:>10,} {a.fired:>10,} {a.new:>10,}"
            lines.append(f"  {a.name:<{width}}  {counts}  {a.tag('kernel') or ''}".rstrip())
        for k in cov.tagged("kernel"):
            lines.append(
                f"  kernel {k.value}: enabled {k.enabled:,}, fired {k.fired:,}, new {k.new:,}"
                f" ({', '.join(k.actions)})"
            )
    return lines


def render_failure(failure: EvalFailure, sources: SourceCache, full: bool) -> str:
    diag = Diagnostic(E_EVAL, failure.message, failure.pos, source_line=sources.line(failure.pos))
    text = diag.render()
    if failure.trace is not None:
        n = len(failure.trace.steps)
        text += f"\nwhile evaluating the last state of this trace ({n} states):\n"
        text += render_trace(failure.trace, full)
    return text


def step_heading(i: int, step: TraceStep) -> str:
    head = f"{i:>3}. {step.label}"
    notes = [f"{t.name}: {', '.join(str(a) for a in t.args)}" for t in step.tags if t.args]
    return head + ("    [" + "; ".join(notes) + "]" if notes else "")


def render_trace(trace: Trace, full: bool = False) -> str:
    """Each step: its action, parameters and tags, then the fields that changed (``--full``:
    every field, changed ones marked ``*``)."""
    lines: list[str] = []
    for i, (step, diff) in enumerate(zip(trace.steps, changes(trace), strict=True), 1):
        lines.append(step_heading(i, step) + (LOOP_MARK if trace.loop == i - 1 else ""))
        if full:
            for k, v in leaves(step.state).items():
                lines.append(f"       {'*' if k in diff and i > 1 else ' '} {k} = {v}")
        else:
            for k, v in diff.items():
                lines.append(f"         {k} = {'(gone)' if v is None else v}")
    if trace.loop is not None:
        lines.append(lasso_line(trace))
    return "\n".join(lines)


#: Marks the state a lasso's cycle starts from (and returns to).
LOOP_MARK = "    <- the cycle starts here"


def lasso_line(trace: Trace) -> str:
    """The step that closes a lasso: back to the cycle's first state, forever."""
    assert trace.loop is not None and trace.back is not None
    n, back = len(trace.steps), trace.loop + 1
    if trace.back.action is None:
        if back == n:
            return f"{n + 1:>3}. stuttering: state {n} repeats forever"
        return f"{n + 1:>3}. stuttering, back to state {back}: the cycle repeats forever"
    return f"{n + 1:>3}. {trace.back.label}, back to state {back}: the cycle repeats forever"


def _explanation_lines(p: PropertyVerdict) -> list[str]:
    """Why the property failed at the last state, and the trace as a replay string."""
    lines = []
    if p.why:
        lines.append("why:")
        for w in p.why:
            lines.extend(render_why(w, 1))
    if p.replay:
        lines.append(f"replay:  {p.replay}")
    return lines


def render_why(w: Why, depth: int = 0) -> list[str]:
    """One sub-expression per line, its parts indented under it."""
    note = f"    [{w.note}]" if w.note else ""
    text = w.text if len(w.text) <= 100 else w.text[:97] + "..."
    lines = [f"{'  ' * depth}{text} = {w.value}{note}"]
    for part in w.parts:
        lines.extend(render_why(part, depth + 1))
    return lines
