"""Expected against found: each verdict's pass/fail, and the exit code of a run.

Exit codes are TLC's (:mod:`pyspec.exit_codes`), so CI scripts written for
TLC or Apalache keep working. A found failure outranks an incomplete search: a run cut by
a limit still fails with 12 if it already found an unexpected violation.
"""

from __future__ import annotations

from collections.abc import Iterable

from explorer.result import Judgement, PropertyVerdict, Result, ScenarioResult, Verdict
from pyspec.exit_codes import (
    EXIT_DEADLOCK,
    EXIT_LIMIT,
    EXIT_LIVENESS,
    EXIT_OK,
    EXIT_SAFETY,
    EXIT_SPEC_ERROR,
    PRECEDENCE,
)


def judge_verdict(verdict: Verdict, expected: Verdict) -> Judgement:
    if verdict == "unknown":
        return "unknown"
    return "pass" if verdict == expected else "fail"


def judge_scenario(sr: ScenarioResult) -> None:
    """A scenario passes when exactly its expected properties are violated, and, if it
    expects none, when its last step is reached: a scenario that cannot run to the end
    proves nothing."""
    expected, violated = set(sr.expect_violated), set(sr.violated)
    unexpected = sorted(violated - expected)
    if sr.error is not None:
        sr.judgement, sr.reason = "fail", f"evaluation error: {sr.error.message}"
    elif unexpected:
        sr.judgement, sr.reason = "fail", "unexpected violation of " + ", ".join(unexpected)
    elif not sr.complete:
        sr.judgement, sr.reason = "unknown", "search cut by a limit"
    elif expected and violated == expected:
        sr.judgement, sr.reason = "pass", "violates " + ", ".join(sorted(expected)) + " as expected"
    elif expected:
        missing = ", ".join(sorted(expected - violated))
        sr.judgement, sr.reason = "fail", f"expected violation of {missing} not found"
    elif sr.reached < len(sr.steps):
        k = sr.reached + 1
        sr.judgement = "fail"
        sr.reason = f"stuck at step {k} ({sr.steps[k - 1]}): no behaviour gets past it"
    else:
        sr.judgement, sr.reason = "pass", "holds, every step reached"


def judge(result: Result, strict_coverage: bool = False) -> Result:
    """Fill in every judgement of ``result`` and its exit code."""
    for p in result.properties:
        p.judgement = judge_verdict(p.verdict, p.expected)
    cov = result.coverage
    cov.strict = strict_coverage
    if cov.never_fired and strict_coverage:
        cov.judgement = "fail" if result.complete else "unknown"
    else:
        cov.judgement = "pass"
    result.exit_code = exit_code(result)
    return result


def exit_code(result: Result) -> int:
    if result.error is not None or any(s.error is not None for s in result.scenarios):
        return EXIT_SPEC_ERROR
    failed = [p for p in result.properties if p.judgement == "fail"]
    if (
        any(p.kind != "deadlock" and not _lasso(p) for p in failed)
        or any(s.judgement == "fail" for s in result.scenarios)
        or result.coverage.judgement == "fail"
    ):
        return EXIT_SAFETY
    if any(_lasso(p) for p in failed):
        return EXIT_LIVENESS
    if failed:
        return EXIT_DEADLOCK
    if not result.complete or any(s.judgement == "unknown" for s in result.scenarios):
        return EXIT_LIMIT
    return EXIT_OK


def _lasso(p: PropertyVerdict) -> bool:
    """An unexpected violation of a temporal property: TLC's liveness exit code."""
    return p.kind == "temporal" and p.verdict == "violated"


def combine(codes: Iterable[int]) -> int:
    """One exit code for several models: the most serious."""
    seen = set(codes)
    return next((c for c in PRECEDENCE if c in seen), EXIT_OK)
