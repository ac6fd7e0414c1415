"""The kernel model's predictions, per model scenario name.

The runner compares each observation with what the newest kernel model says: the set of
properties a model scenario violates under the ``linux-5.19`` model (empty: every
property holds; a name absent from the mapping: the model has no such scenario yet).
The predictions are computed the way ``cowspec check`` judges scenarios: the spec is
loaded by the common loader, instantiated as ``linux-5.19``, and each scenario is run as
its restricted model by the explorer. Those are imported only when predictions are
computed, so the runner itself (and ``--predictions FILE``) needs the standard library
alone.
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING

from explorer.kernel_specs import REFERENCE_MODEL, kernel_spec_dir

if TYPE_CHECKING:
    from pyspec.model import Model

MODEL = REFERENCE_MODEL
#: Where the kernel model lives (package data), and which files in it are specs.
KERNEL_SPEC_DIR = kernel_spec_dir()
SPEC_PATTERNS: tuple[str, ...] = ("*.cow",)
#: A scenario that takes longer than this to check is a spec problem, not a prediction.
SCENARIO_TIMEOUT_S = 120.0


class PredictionsUnavailable(Exception):
    """The model's predictions cannot be computed here; the message says why."""


def kernel_models() -> list[Model]:
    """The ``linux-5.19`` model of every kernel spec that defines one.

    The kernel model is split into top-level specs (small pages, THP, hugetlb, the
    GUP-fast race), each with the same model names; a scenario lives in one of them.
    """
    try:
        from explorer.cli_common import load
        from pyspec.errors import ModelConfigError, SpecError
    except ImportError as e:
        raise PredictionsUnavailable(f"the spec loader cannot be imported: {e}") from e
    files = sorted({p for pat in SPEC_PATTERNS for p in KERNEL_SPEC_DIR.glob(pat)})
    models = []
    for path in files:
        try:
            spec = load(str(path))
            if MODEL in spec.model_names:
                models.append(spec.instantiate(MODEL, {}))
        except (SpecError, ModelConfigError) as e:
            raise PredictionsUnavailable(f"cannot load {path.name}: {e}") from e
    if not models:
        raise PredictionsUnavailable(
            f"no spec file in {os.path.relpath(KERNEL_SPEC_DIR)} defines model {MODEL} yet")
    return models


def predictions_of(models: list[Model], names: list[str]) -> dict[str, frozenset[str]]:
    """Violated properties of each scenario named in ``names``, from the one model among
    ``models`` that defines it (a name defined by several is ambiguous).

    A scenario the search could not finish (an evaluation error, a limit) has no
    trustworthy verdict, so it raises instead of predicting "holds".
    """
    from explorer.cli_common import default_max_memory_mb
    from explorer.engine.interface import Options
    from explorer.scenario import run_scenario

    scenarios: dict[str, tuple[Model, object]] = {}
    for model in models:
        for sc in model.scenarios:
            if sc.name in scenarios:
                raise PredictionsUnavailable(
                    f"scenario {sc.name} is defined by several kernel specs "
                    f"({scenarios[sc.name][0].spec_file}, {model.spec_file})")
            scenarios[sc.name] = (model, sc)
    options = Options(timeout_s=SCENARIO_TIMEOUT_S, max_memory_mb=default_max_memory_mb())
    out: dict[str, frozenset[str]] = {}
    for name in names:
        if name not in scenarios:
            continue
        model, scenario = scenarios[name]
        result = run_scenario(model, scenario, options)  # type: ignore[arg-type]
        if result.error is not None or not result.complete:
            why = result.error.message if result.error is not None else "search incomplete"
            raise PredictionsUnavailable(f"model scenario {name}: {why}")
        out[name] = frozenset(result.violated)
    return out


def model_predictions(names: list[str]) -> dict[str, frozenset[str]]:
    """Violated properties per model scenario in ``names``, from the ``linux-5.19`` model."""
    return predictions_of(kernel_models(), names)


def load_predictions(path: str) -> dict[str, frozenset[str]]:
    """A saved mapping: a JSON object {model scenario: [violated property, ...]}."""
    try:
        with open(path) as f:
            data = json.load(f)
    except OSError as e:
        raise PredictionsUnavailable(f"cannot read {path}: {e.strerror}") from e
    except json.JSONDecodeError as e:
        raise PredictionsUnavailable(f"{path} is not JSON: {e}") from e
    if not isinstance(data, dict) or not all(
            isinstance(v, list) and all(isinstance(p, str) for p in v) for v in data.values()):
        raise PredictionsUnavailable(
            f"{path}: expected an object mapping scenario names to lists of property names")
    return {name: frozenset(props) for name, props in data.items()}
