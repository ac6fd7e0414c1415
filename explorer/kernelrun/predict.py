"""The kernel model's predictions, per model scenario name.

The runner compares each observation with what the newest kernel model says: the set of
properties a model scenario violates under the ``linux-5.19`` model (empty: every
property holds; a name absent from the mapping: the model has no such scenario yet).
"""

from __future__ import annotations

import json

MODEL = "linux-5.19"


class PredictionsUnavailable(Exception):
    """The model's predictions cannot be computed here; the message says why."""


def model_predictions(names: list[str]) -> dict[str, frozenset[str]]:
    """Violated properties per model scenario in ``names``, from the kernel model.

    Computing them means loading the kernel spec (spec/kernel) with pyspec and running
    its scenarios under the ``linux-5.19`` model with the explorer; both are being
    written beside this package and have no entry point for that yet, so this raises
    PredictionsUnavailable and the caller reports every row as no-model (or takes a
    saved mapping through :func:`load_predictions`).
    """
    raise PredictionsUnavailable(
        "the kernel model cannot be run from here yet (no pyspec loader / explorer "
        f"scenario runner to evaluate {len(names)} scenarios of {MODEL})")


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
