"""From a spec file to runnable models: parse, check, and compile one model at a time.

This is the API the explorer uses: :func:`load_spec` returns a :class:`Spec`, and
``spec.instantiate(model, defines)`` returns a :class:`~pyspec.model.Model`.
"""

from __future__ import annotations

import re

from pyspec import ast as A
from pyspec import errorcodes as codes
from pyspec import runtime, symmetry
from pyspec.checked import Checked
from pyspec.checker import check, check_override
from pyspec.codegen.scalar import Compiler, Generated, Overrides
from pyspec.errors import Diagnostic, ModelConfigError, SourceCache, SpecError, did_you_mean
from pyspec.model import Model, NoProgram, Programs
from pyspec.modules import parse_files
from pyspec.runtime import SAFE_BUILTINS, make_helpers
from pyspec.sourcefiles import ImportPolicy

DEFAULT_MODEL = "default"
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


class Spec:
    """A checked spec. Compiling a model happens on demand, per model and constants."""

    def __init__(self, path: str, checked: Checked, sources: SourceCache):
        self.path = path
        self.checked = checked
        self.sources = sources
        self.warnings = [d for d in checked.diagnostics if d.severity == "warning"]

    @property
    def model_names(self) -> list[str]:
        return list(self.checked.symbols.models)

    def overrides(self, model: str | None, defines: dict[str, str]) -> tuple[str, Overrides]:
        """The constant values of a model: its ``extends`` chain, then the command line."""
        sym = self.checked.symbols
        name = model if model is not None else DEFAULT_MODEL
        if model is not None and model not in sym.models:
            known = ", ".join(sym.models) or "none"
            raise ModelConfigError(f"unknown model '{model}' (models in {self.path}: {known})"
                                   f"{did_you_mean(model, sym.models)}")
        chain: list[A.ModelDecl] = []
        cur = sym.models.get(name)
        while cur is not None and cur not in chain:
            chain.append(cur)
            cur = sym.models.get(cur.extends) if cur.extends else None
        out = Overrides()
        for m in reversed(chain):
            for c in m.consts:
                out.values[c.name] = c.value
                if c.symmetric:
                    out.symmetric.add(c.name)
        for key, text in defines.items():
            if not _NAME.match(key) or key not in sym.consts:
                raise ModelConfigError(f"-D {key}: the spec has no constant '{key}'")
            from pyspec.parser import parse_expr  # Lark, imported only for -D values

            expr, diags = parse_expr(text, f"-D {key}")
            if expr is not None:
                diags += check_override(self.checked, self.sources, key, expr)
            errors = [d for d in diags if d.severity == "error"]
            if errors or expr is None:
                raise ModelConfigError(f"-D {key}={text}: not a valid value for '{key}'", errors)
            out.values[key] = expr
        return name, out

    def compile(self, model: str | None = None,
                defines: dict[str, str] | None = None) -> Generated:
        name, overrides = self.overrides(model, defines or {})
        return self._compile(name, overrides)

    def _compile(self, name: str, overrides: Overrides) -> Generated:
        try:
            return Compiler(self.checked, name, overrides, self.sources).generate()
        except RecursionError:
            raise SpecError([Diagnostic(codes.TOO_DEEP, "the spec nests expressions too deeply to "
                                        "compile", None)]) from None

    def instantiate(self, model: str | None = None,
                    defines: dict[str, str] | None = None) -> Model:
        """One model with its constants: the scalar code, compiled now, and the other
        engines' programs from the same constants, generated when first asked for."""
        name, overrides = self.overrides(model, defines or {})
        generated = self._compile(name, overrides)
        instance = load_generated(generated, f"<cowspec {self.path} model {generated.model_name}>")
        instance.programs = Programs(
            {"arrays": lambda: self._arrays(name, overrides),
             "compiler": lambda: self._compiler(name, overrides),
             "compiled": lambda: self._compiled(name, overrides),
             "compiled-plain": lambda: self._compiled(name, overrides, state_values=False)},
            lambda sets: symmetry.warnings(self.checked, sets),
        )
        return instance

    def _compiler(self, name: str, overrides: Overrides) -> Compiler:
        """The scalar compiler of one model after generating its code: its names and
        tables are the loaded module's, so it compiles further expressions of the spec
        for that module (the explanations of failures, ``explorer.explain``)."""
        compiler = Compiler(self.checked, name, overrides, self.sources)
        compiler.generate()
        return compiler

    def _compiled(self, name: str, overrides: Overrides, state_values: bool = True) -> object:
        return _compiled_program(self, name, overrides, state_values)

    def _arrays(self, name: str, overrides: Overrides) -> object:
        """The array program of one model (:mod:`pyspec.codegen.arrays`)."""
        from pyspec.codegen.arrays import ArrayCompiler, Unsupported

        try:
            return ArrayCompiler(self.checked, name, overrides, self.sources).program()
        except Unsupported as exc:
            raise NoProgram(str(exc)) from None
        except RecursionError:
            raise NoProgram("the spec nests too deeply for array code") from None


def _compiled_program(spec: Spec, name: str, overrides: Overrides,
                      state_values: bool) -> object:
    """The compiled engine's Python of one model (:mod:`pyspec.codegen.compiled`), with
    or without state values computed once per checked state."""
    from pyspec.codegen.arrays import Unsupported
    from pyspec.codegen.compiled import CompiledCompiler

    try:
        return CompiledCompiler(spec.checked, name, overrides, spec.sources,
                                state_values=state_values).generate()
    except Unsupported as exc:
        raise NoProgram(str(exc)) from None
    except RecursionError:
        raise NoProgram("the spec nests too deeply for compiled code") from None


def load_generated(generated: Generated, code_file: str) -> Model:
    """Run a compiled body in the restricted namespace and return its ``MODEL``."""
    namespace: dict[str, object] = {"__builtins__": SAFE_BUILTINS}
    namespace.update({name: getattr(runtime, name) for name in runtime.__all__})
    namespace.update(make_helpers(generated.positions))
    namespace["_POSITIONS"] = tuple(generated.positions)
    namespace["_SRCMAP"] = tuple(generated.srcmap)
    namespace["_CODE_FILE"] = code_file
    try:
        code = compile(generated.body, code_file, "exec")
    except (RecursionError, MemoryError, SyntaxError) as exc:
        # Python's own parser limits nesting (about 200 parentheses deep); any other
        # syntax error in generated code is a compiler bug and must surface as one.
        if isinstance(exc, SyntaxError) and "nested" not in str(exc):
            raise
        raise SpecError([Diagnostic(codes.TOO_DEEP, "the spec nests expressions too deeply to "
                                    "compile", None)]) from None
    exec(code, namespace)  # noqa: S102 - generated from a checked spec; see codegen/scalar.py
    model = namespace["MODEL"]
    assert isinstance(model, Model)
    return model


def load_spec(path: str, policy: ImportPolicy | None = None) -> Spec:
    """Parse and check a spec file and everything it imports (from where ``policy``
    allows).

    Raises :class:`SpecError` (exit code 150) with every error found; warnings are kept
    in ``Spec.warnings``.
    """
    sources = SourceCache()
    try:
        modules, diags = parse_files(path, sources, policy)
        if any(d.severity == "error" for d in diags):
            raise SpecError(diags)
        checked = check(modules, sources)
    except RecursionError:
        raise SpecError([Diagnostic(codes.TOO_DEEP,
                                    "the spec nests expressions too deeply to parse",
                                    None)]) from None
    diags += checked.diagnostics
    if any(d.severity == "error" for d in diags):
        raise SpecError(sorted(diags, key=_order))
    spec = Spec(str(path), checked, sources)
    spec.warnings = sorted((d for d in diags if d.severity == "warning"), key=_order)
    return spec


def _order(d: Diagnostic) -> tuple:
    p = d.pos
    return (p.file, p.line, p.col, d.code) if p else ("", 0, 0, d.code)

