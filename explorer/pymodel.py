"""Hand-written Python models given on the command line (``cowspec check model.py``).

The file defines ``model(defines, name) -> Model`` and, optionally, ``MODEL_NAMES``. It is
ordinary Python and runs as such: unlike a spec, it is trusted code. :class:`PythonSpec`
offers the same surface as a loaded spec (``path``, ``model_names``, ``instantiate``) so
the commands treat both alike.
"""

from __future__ import annotations

import hashlib
import importlib.util
import traceback
from pathlib import Path
from types import ModuleType

from pyspec.errors import Diagnostic, ModelConfigError, SpecError
from pyspec.model import Model, SourcePos

#: A Python model file that does not load or does not build a model.
E_PYMODEL = "E901"


def _where(exc: BaseException, path: str) -> SourcePos | None:
    """The innermost line of the model file involved in ``exc``."""
    if isinstance(exc, SyntaxError) and exc.lineno is not None:
        return SourcePos(path, exc.lineno, exc.offset or 1)
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == path]
    if not frames:
        return None
    last = frames[-1]
    return SourcePos(path, last.lineno or 1, (getattr(last, "colno", None) or 0) + 1)


def _spec_error(message: str, pos: SourcePos | None) -> SpecError:
    return SpecError([Diagnostic(E_PYMODEL, message, pos)])


class PythonSpec:
    def __init__(self, path: str) -> None:
        self.path = str(Path(path).resolve())
        self.module = self._load()
        names = getattr(self.module, "MODEL_NAMES", [])
        if not isinstance(names, (list, tuple)) or not all(isinstance(n, str) for n in names):
            raise _spec_error("MODEL_NAMES must be a list of strings", None)
        self.model_names: list[str] = list(names)

    def _load(self) -> ModuleType:
        if not Path(self.path).is_file():
            raise ModelConfigError(f"no such file: {self.path}")
        digest = hashlib.sha1(self.path.encode()).hexdigest()[:12]
        spec = importlib.util.spec_from_file_location(f"cowspec_pymodel_{digest}", self.path)
        if spec is None or spec.loader is None:
            raise ModelConfigError(f"cannot load {self.path} as Python")
        module = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(module)
        except Exception as exc:
            raise _spec_error(f"{type(exc).__name__}: {exc}", _where(exc, self.path)) from exc
        if not callable(getattr(module, "model", None)):
            raise _spec_error("a Python model file must define model(defines, name)", None)
        return module

    def instantiate(self, model: str | None = None, defines: dict[str, str] | None = None) -> Model:
        if model is not None and self.model_names and model not in self.model_names:
            raise ModelConfigError(
                f"{self.path} has no model {model!r} (it has: {', '.join(self.model_names)})"
            )
        try:
            built = self.module.model(dict(defines or {}), model)
        except ModelConfigError:
            raise
        except Exception as exc:
            raise _spec_error(f"{type(exc).__name__}: {exc}", _where(exc, self.path)) from exc
        if not isinstance(built, Model):
            raise _spec_error(
                f"model() returned {type(built).__name__}, not a pyspec.model.Model", None
            )
        if built.spec_file is None:
            built.spec_file = self.path
        return built
