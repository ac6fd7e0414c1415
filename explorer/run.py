"""A whole check of one model: the main search, then its scenarios, then the judgement."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from explorer.engine.interface import Options
from explorer.engine.registry import check
from explorer.judge import judge
from explorer.result import Result
from explorer.scenario import run_scenario
from pyspec.errors import ModelConfigError
from pyspec.model import Model


def run_model(
    model: Model,
    options: Options,
    scenarios: Sequence[str] | None = None,
    strict_coverage: bool = False,
) -> Result:
    """``scenarios``: names to run, ``None`` for all of them, ``[]`` for none."""
    known = [s.name for s in model.scenarios]
    unknown = [n for n in scenarios or () if n not in known]
    if unknown:
        listed = ", ".join(known) or "none"
        raise ModelConfigError(
            f"model {model.name!r} has no scenario {', '.join(unknown)} (it has: {listed})"
        )
    result = check(model, options)
    if result.error is None and result.stopped != "interrupted":
        wanted = known if scenarios is None else list(scenarios)
        scenario_options = replace(options, progress=None, observer=None)
        for s in model.scenarios:
            if s.name in wanted:
                sr = run_scenario(model, s, scenario_options)
                result.scenarios.append(sr)
                if sr.stopped == "interrupted":
                    break
    return judge(result, strict_coverage)
