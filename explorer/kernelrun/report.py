"""The runner's outputs: the terminal table, JSON rows and kselftest-style TAP.

All three are pure functions of the rows and the run's facts (:class:`RunInfo`), so the
output order is the deterministic order of the rows.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass

from explorer.kernelrun.facilities import Facility
from explorer.kernelrun.runner import AGREE, DISAGREE, ERROR, FLAKY, NO_MODEL, SKIP, Row

RESULT_ORDER = (AGREE, DISAGREE, FLAKY, NO_MODEL, SKIP, ERROR)


@dataclass(frozen=True)
class RunInfo:
    """What a reader needs to know about the run besides the rows."""

    release: str
    machine: str
    date: str
    model: str
    setup: bool
    predictions: str
    facilities: tuple[Facility, ...]
    setup_notes: tuple[str, ...]
    #: Wall-clock seconds from the machine setup to its restore (0: not measured).
    elapsed_s: float = 0.0


def duration(seconds: float) -> str:
    """``6 min 57 s`` (whole seconds)."""
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes} min {secs} s" if minutes else f"{secs} s"


def totals(rows: list[Row]) -> str:
    counts = Counter(r.result for r in rows)
    return ", ".join(f"{name}: {counts[name]}" for name in RESULT_ORDER)


def headers(info: RunInfo) -> list[str]:
    return ["binding", "variant", "model scenario", f"model ({info.model})",
            f"kernel ({info.release})", "result", "reason"]


def cells(row: Row) -> list[str]:
    return [row.binding, row.variant or row.kind, row.model_scenario,
            row.model_verdict or "-", row.observed or "-", row.result, row.reason]


def table(rows: list[Row], info: RunInfo) -> str:
    """A fixed-width table for the terminal, with a header line naming both sides."""
    head = headers(info)
    body = [cells(r) for r in rows]
    widths = [max(len(line[i]) for line in [head, *body]) for i in range(len(head) - 1)]

    def fmt(line: list[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=False)) + "  " + line[-1]

    out = [f"cowspec kernel-run: model {info.model} vs Linux {info.release} ({info.machine}), "
           f"{info.date}", f"predictions: {info.predictions}", "", fmt(head),
           fmt(["-" * w for w in widths] + ["-" * 6])]
    out += [fmt(line).rstrip() for line in body]
    out += ["", totals(rows)]
    return "\n".join(out) + "\n"


def to_json(rows: list[Row], info: RunInfo) -> str:
    """One object per (scenario, kind) under "rows", plus the run's facts."""
    doc = {
        "kernel_release": info.release,
        "machine": info.machine,
        "date": info.date,
        "model": info.model,
        "setup": info.setup,
        "predictions": info.predictions,
        "facilities": [asdict(f) for f in info.facilities],
        "setup_notes": list(info.setup_notes),
        "elapsed_s": round(info.elapsed_s, 1),
        "rows": [{
            "binding": r.binding,
            "kind": r.kind,
            "variant": r.variant,
            "model": r.model,
            "model_scenario": r.model_scenario,
            "property": r.property,
            "model_verdict": r.model_verdict,
            "observed": r.observed,
            "agree": r.result,
            "reason": r.reason,
            "explanation": r.explanation,
            "runs": r.runs,
            "bad_runs": r.bad_runs,
            "kernel_release": info.release,
        } for r in rows],
    }
    return json.dumps(doc, indent=2) + "\n"


def _tap_line(n: int, row: Row) -> str:
    name = (f"{row.binding} on {row.variant or row.kind} ({row.model or 'model'} "
            f"{row.model_scenario})")
    if row.result == SKIP:
        return f"ok {n} {name} # SKIP {row.reason}"
    if row.result == NO_MODEL:
        return f"ok {n} {name}: kernel {row.observed} # SKIP no prediction for this variant"
    if row.result == ERROR:
        return f"not ok {n} {name} # error: {row.reason}"
    if row.result == FLAKY:
        return f"ok {n} {name}: model {row.model_verdict}, kernel {row.observed} # XFAIL flaky"
    status = "ok" if row.result == AGREE else "not ok"
    return f"{status} {n} {name}: model {row.model_verdict}, kernel {row.observed}"


def to_tap(rows: list[Row], info: RunInfo) -> str:
    """TAP version 13 as the kernel selftests print it, with their Totals line."""
    counts = Counter(r.result for r in rows)
    lines = ["TAP version 13", f"1..{len(rows)}",
             f"# cowspec kernel-run: model {info.model} vs Linux {info.release} "
             f"({info.machine})"]
    for n, row in enumerate(rows, 1):
        lines.append(_tap_line(n, row))
        if row.result in (DISAGREE, AGREE):
            lines.append(f"# {row.reason}")
    lines.append(f"# Totals: pass:{counts[AGREE]} fail:{counts[DISAGREE]} "
                 f"xfail:{counts[FLAKY]} xpass:0 "
                 f"skip:{counts[SKIP] + counts[NO_MODEL]} error:{counts[ERROR]}")
    return "\n".join(lines) + "\n"
