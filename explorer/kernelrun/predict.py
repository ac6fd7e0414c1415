"""The kernel model's predictions, per model scenario name.

The runner compares each observation with what the kernel model of the running
release says (:func:`model_for_release`; ``--model`` forces one): the set of properties
a model scenario violates under that model (empty: every property holds; a name absent
from the mapping: the model has no such scenario). The predictions are computed the way
``cowspec check`` judges scenarios: the spec is loaded by the common loader,
instantiated as the chosen model, and each scenario is run as
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

#: The models a kernel release is compared with: the newest model not newer than it.
#: (major, minor) of the first release each model stands for; 5.7.3 backported 5.8's
#: COW break on read, which the minor number cannot tell apart.
MODELS_BY_RELEASE: tuple[tuple[tuple[int, int], str], ...] = (
    ((6, 0), "linux-6.x"),
    ((5, 19), "linux-5.19"),
    ((5, 18), "linux-5.18"),
    ((5, 9), "linux-5.17"),
    ((5, 8), "linux-5.8"),
    ((0, 0), "linux-5.7"),
)
MODEL = REFERENCE_MODEL
#: Where the kernel model lives (package data), and which files in it are specs.
KERNEL_SPEC_DIR = kernel_spec_dir()
SPEC_PATTERNS: tuple[str, ...] = ("*.cow",)
#: A scenario that takes longer than this to check is a spec problem, not a prediction.
SCENARIO_TIMEOUT_S = 120.0


class PredictionsUnavailable(Exception):
    """The model's predictions cannot be computed here; the message says why."""


def model_for_release(release: str) -> str:
    """The kernel model that stands for ``release`` (``uname -r``), so that a kernel is
    compared with the rules of its own release: 6.x with linux-6.x, 5.19 with 5.19."""
    parts = release.split(".")
    try:
        version = (int(parts[0]), int("".join(c for c in parts[1] if c.isdigit()) or 0))
    except (IndexError, ValueError):
        return MODELS_BY_RELEASE[0][1]
    return next(name for first, name in MODELS_BY_RELEASE if version >= first)


def kernel_models(model: str = MODEL) -> list[Model]:
    """The ``model`` (by default the reference model) of every kernel spec that defines it.

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
            if model in spec.model_names:
                models.append(spec.instantiate(model, {}))
        except (SpecError, ModelConfigError) as e:
            raise PredictionsUnavailable(f"cannot load {path.name}: {e}") from e
    if not models:
        raise PredictionsUnavailable(
            f"no spec file in {os.path.relpath(KERNEL_SPEC_DIR)} defines model {model} yet")
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


def model_predictions(names: list[str], model: str = MODEL) -> dict[str, frozenset[str]]:
    """Violated properties per model scenario in ``names``, from ``model``."""
    return predictions_of(kernel_models(model), names)


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
