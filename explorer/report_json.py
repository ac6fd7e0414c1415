"""The whole result as JSON, in the shape documented by ``result.schema.json``."""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path

from explorer.result import (
    Coverage,
    EvalFailure,
    PropertyVerdict,
    Result,
    ScenarioResult,
    Stats,
    Trace,
    Why,
)
from explorer.textsafe import encodable_tree
from pyspec.model import SourcePos, Tag
from pyspec.values import to_json

FORMAT = "cowspec-result"
VERSION = 1


def load_schema() -> dict:
    return json.loads(files("explorer").joinpath("result.schema.json").read_text("utf-8"))


def _pos(pos: SourcePos | None) -> dict | None:
    return None if pos is None else {"file": pos.file, "line": pos.line, "col": pos.col}


def _tags(tags: tuple[Tag, ...]) -> list[dict]:
    return [{"name": t.name, "args": list(t.args)} for t in tags]


def trace_json(trace: Trace | None) -> list[dict] | None:
    if trace is None:
        return None
    return [
        {
            "action": s.action,
            "params": {name: to_json(v) for name, v in s.params},
            "label": s.label,
            "tags": _tags(s.tags),
            "state": {name: to_json(v) for name, v in s.state.items()},
        }
        for s in trace.steps
    ]


def _stats(s: Stats) -> dict:
    return {
        "distinct_states": s.distinct_states,
        "total_states": s.total_states,
        "depth": s.depth,
        "elapsed_s": round(s.elapsed_s, 6),
        "states_per_s": round(s.states_per_s, 1),
        "queue": s.queue,
    }


def _property(p: PropertyVerdict) -> dict:
    out = {
        "name": p.name,
        "kind": p.kind,
        "verdict": p.verdict,
        "expected": p.expected,
        "judgement": p.judgement,
        "doc": p.doc,
        "tags": _tags(p.tags),
        "pos": _pos(p.pos),
        "trace": trace_json(p.trace),
        "replay": p.replay,
        "why": [why_json(w) for w in p.why],
    }
    if p.trace is not None and p.trace.loop is not None and p.trace.back is not None:
        back = trace_json(Trace((p.trace.back,)))
        out["lasso"] = {"loop": p.trace.loop, "back": back[0] if back else None}
    return out


def why_json(w: Why) -> dict:
    return {"text": w.text, "value": w.value, "pos": _pos(w.pos), "note": w.note,
            "parts": [why_json(x) for x in w.parts]}


def _error(e: EvalFailure | None) -> dict | None:
    if e is None:
        return None
    return {"message": e.message, "pos": _pos(e.pos), "trace": trace_json(e.trace)}


def _scenario(s: ScenarioResult) -> dict:
    return {
        "name": s.name,
        "steps": list(s.steps),
        "expect_violated": list(s.expect_violated),
        "violated": list(s.violated),
        "reached": s.reached,
        "complete": s.complete,
        "stopped": s.stopped,
        "judgement": s.judgement,
        "reason": s.reason,
        **_stats(s.stats),
        "traces": {name: trace_json(t) for name, t in s.traces.items()},
        "error": _error(s.error),
        "doc": s.doc,
        "pos": _pos(s.pos),
    }


def _coverage(c: Coverage) -> dict:
    return {
        "actions": [
            {
                "name": a.name,
                "kernel": a.tag("kernel"),
                "enabled": a.enabled,
                "fired": a.fired,
                "new": a.new,
            }
            for a in c.actions
        ],
        "kernel": [
            {
                "kernel": k.value,
                "actions": list(k.actions),
                "enabled": k.enabled,
                "fired": k.fired,
                "new": k.new,
            }
            for k in c.tagged("kernel")
        ],
        "never_fired": c.never_fired,
        "strict": c.strict,
        "judgement": c.judgement,
    }


def result_json(r: Result) -> dict:
    return {
        "format": FORMAT,
        "version": VERSION,
        "spec": r.spec,
        "model": r.model,
        "constants": {k: to_json(v) for k, v in r.constants.items()},
        **_stats(r.stats),
        "complete": r.complete,
        "stopped": r.stopped,
        "properties": [_property(p) for p in r.properties],
        "scenarios": [_scenario(s) for s in r.scenarios],
        "coverage": _coverage(r.coverage),
        "error": _error(r.error),
        "exit_code": r.exit_code,
        "engine": {
            "backend": r.stats.backend,
            "store_bytes": r.stats.store_bytes,
            "queue_bytes": r.stats.queue_bytes,
            "compile_s": None if r.stats.compile_s is None else round(r.stats.compile_s, 6),
            "seen_by": r.stats.seen_by,
            "collision_probability": r.stats.collision_probability,
            "symmetry": list(r.stats.symmetry),
        },
        "notes": list(r.notes),
    }


def document(results: list[Result], exit_code: int, several: bool) -> dict:
    """One model: its result object. ``--all-models``: every result, and the overall code."""
    if not several:
        return result_json(results[0])
    return {
        "format": FORMAT,
        "version": VERSION,
        "results": [result_json(r) for r in results],
        "exit_code": exit_code,
    }


def write_json(path: str, doc: dict) -> None:
    text = json.dumps(encodable_tree(doc), indent=2, ensure_ascii=False)
    Path(path).write_text(text + "\n", encoding="utf-8")
