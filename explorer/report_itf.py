"""Traces in the ITF format of Apalache (ADR-015), which existing trace viewers read."""

from __future__ import annotations

import json
import re
from pathlib import Path

from explorer.result import Result, Trace
from explorer.textsafe import encodable
from pyspec.values import to_itf

DESCRIPTION_URL = "https://apalache-mc.org/docs/adr/015adr-trace.html"


def itf_document(trace: Trace, source: str | None, description: str) -> dict:
    variables = list(trace.steps[0].state) if trace.steps else []
    doc = {
        "#meta": {
            "format": "ITF",
            "format-description": DESCRIPTION_URL,
            "source": encodable(source or ""),
            "description": description,
        },
        "vars": variables,
        "states": [
            {
                "#meta": {"index": i, "action": step.label},
                **{name: to_itf(v) for name, v in step.state.items()},
            }
            for i, step in enumerate(trace.steps)
        ],
    }
    if trace.loop is not None and trace.back is not None:
        # ITF's lasso: after the last state the behaviour continues at states[loop].
        doc["loop"] = trace.loop
        doc["#meta"]["loop-action"] = trace.back.label
    return doc


def traces_of(result: Result) -> list[tuple[str, str, Trace]]:
    """(name, description, trace) of every property trace and of an evaluation error."""
    out = [
        (p.name, f"{result.model}: {p.kind} {p.name} {p.verdict}", p.trace)
        for p in result.properties
        if p.trace is not None
    ]
    if result.error is not None and result.error.trace is not None:
        out.append(("error", f"{result.model}: {result.error.message}", result.error.trace))
    return out


def _with_key(path: Path, key: str) -> Path:
    """``cex.itf.json`` + ``NotSolved`` -> ``cex.NotSolved.itf.json``."""
    stem, dot, ext = path.name.partition(".")
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", key)
    return path.with_name(f"{stem}.{safe}{dot}{ext}")


def itf_files(results: list[Result], path: str) -> dict[Path, dict]:
    """One trace goes to ``path`` itself; several get their name inserted before the
    extensions (prefixed by the model's name when several models were checked)."""
    several_models = len(results) > 1
    named = [
        (f"{r.model}.{name}" if several_models else name, r.spec, desc, trace)
        for r in results
        for name, desc, trace in traces_of(r)
    ]
    target = Path(path)
    if len(named) == 1:
        _, spec, desc, trace = named[0]
        return {target: itf_document(trace, spec, desc)}
    return {_with_key(target, key): itf_document(t, spec, d) for key, spec, d, t in named}


def write_itf(results: list[Result], path: str) -> list[Path]:
    files = itf_files(results, path)
    for p, doc in files.items():
        p.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return list(files)
