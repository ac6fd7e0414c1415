"""``check --summary``: one line per model, for ``--all-models`` over a spec with dozens
of models (the kernel's cow.cow prints ~500 lines of full reports)."""

from __future__ import annotations

from explorer.report_text import property_title
from explorer.result import Result

_MARK = {0: "PASS"}


def summary_line(result: Result, width: int = 0) -> str:
    """``PASS  linux-5.19  exit 0  7,153 distinct states, depth 24, 1.20 s  48 pass``,
    followed by what failed, so a failing model names its verdicts on its line."""
    judged = [(property_title(p), p.judgement) for p in result.properties]
    judged += [(f"scenario {s.name}", s.judgement) for s in result.scenarios]
    count = {j: sum(1 for _, x in judged if x == j) for j in ("pass", "fail", "unknown")}
    tally = ", ".join(f"{n} {j}" for j, n in count.items() if n)
    s = result.stats
    line = (
        f"{_MARK.get(result.exit_code, 'FAIL')}  {result.model:<{width}}  "
        f"exit {result.exit_code:<3}  {s.distinct_states:,} distinct states, depth {s.depth}, "
        f"{s.elapsed_s:.2f} s  {tally or 'no verdicts'}"
    )
    failed = [name for name, j in judged if j == "fail"]
    if result.error is not None:
        failed.insert(0, f"evaluation error: {result.error.message}")
    if result.stopped and result.stopped not in ("violation", "error"):
        failed.append(f"search stopped: {result.stopped}")
    return line + (f"; failed: {', '.join(failed)}" if failed else "")
