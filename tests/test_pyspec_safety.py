"""A spec can never run Python of its own, and no input crashes the compiler.

Hostile specs try to smuggle code through every place text reaches generated code:
names, strings, doc comments, annotations, file names. The fuzzer mutates valid specs;
every mutant must end as a model or as a clean error, never as an uncaught exception.
"""

from __future__ import annotations

import ast
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyspec_testing import EXAMPLES, explore, model_of, spec_of

from pyspec.errors import ModelConfigError, SpecError
from pyspec.loader import load_spec
from pyspec.model import EvalError


def test_python_names_are_just_names(tmp_path: Path) -> None:
    m = model_of(tmp_path, """
        enum open { exec, eval, __import__ }
        var __builtins__: open, lambda: 0..1, __class__: bool
        init { __builtins__ = exec  lambda = 0  __class__ = false }
        /// \"\"\" ''' \\\\ ); import os #
        @kernel("\\"); __import__('os').system('false'); (\\"")
        action print(globals: open, __dict__: 0..1) {
          __builtins__' = globals
          lambda' = __dict__
          __class__' = not __class__
        }
        view os = if __class__ then "\\"); import os; (\\"" else "\\n#\\n"
    """)
    result = explore(m)
    assert result.stats.distinct_states == 3 * 2 * 2
    assert m.actions[0].tags[0].args == ("\"); __import__('os').system('false'); (\"",)
    view = m.views[0]
    assert view.fn(m.initial_states()[0]) == [(None, "\n#\n")]


def test_generated_code_contains_only_generated_names(tmp_path: Path) -> None:
    spec = spec_of(tmp_path, """
        var exec: 0..1
        init { exec = 0 }
        /// ''' \"\"\" exec("boom")
        @kernel("\\"); exec('boom'); (\\"")
        action eval { exec' = 1 - exec }
    """)
    source = spec.compile().file_source()
    tree = ast.parse(source)  # the output is valid Python
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    calls = {n.func.id for n in ast.walk(tree)
             if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    assert "exec" not in names and "eval" not in names
    assert calls <= {"CompiledModel", "ActionInfo", "Check", "View", "Scenario",
                     "ScenarioStep", "SourcePos", "Tag", "frozenset", "tuple", "range",
                     "all", "any", "sum", "len", "sorted", "abs", "label", "make_helpers",
                     "globals", "ModelConfigError", "_chk", "_key", "_set", "_uf", "_uset",
                     "_div", "_mod", "_min", "_max", "_deep", "MapV", "SetV", "Rec", "TupV",
                     "Variant"} | {c for c in calls if c.startswith(("a_", "d_", "_k"))}


def test_file_names_cannot_break_out_of_comments(tmp_path: Path) -> None:
    name = 'x\nimport os\nos.system("false")\n"""\r.cow'
    path = tmp_path / name
    path.write_text("var x: 0..1\ninit { x = 0 }\naction A { x' = 1 }\n")
    source = load_spec(str(path)).compile().file_source()
    module = ast.parse(source)
    assert not any(isinstance(n, (ast.Import, ast.ImportFrom)) and
                   getattr(n, "module", None) != "pyspec.runtime" for n in ast.walk(module))


def test_runtime_namespace_has_no_dangerous_builtins(tmp_path: Path) -> None:
    m = model_of(tmp_path, "var x: 0..1\ninit { x = 0 }\naction A { x' = 1 }\n")
    builtins = m.successors.__globals__["__builtins__"]
    for name in ("open", "__import__", "eval", "exec", "getattr", "compile", "globals"):
        assert name not in builtins


@pytest.mark.parametrize(("text", "code"), [
    ("const Big = " + "9" * 400 + "\n", "E003"),
    ("var x: 0..3\ninit { x = " + "(" * 3000 + "1" + ")" * 3000 + " }\n", None),
    ("var b: bool\ninit { b = " + "not " * 3000 + "true }\n", "E005"),
    ("var b: bool\ninit { b = " + "not " * 300 + "true }\n", "E005"),
    ("var x: 0..3\ninit { x = " + " + ".join(["1"] * 5000) + " }\n", "E005"),
    ("var x: 0..3\ninit { x = " + " + ".join(["1"] * 3) + " }\n", None),
])
def test_huge_and_deep_inputs_end_cleanly(tmp_path: Path, text: str, code: str | None) -> None:
    path = tmp_path / "big.cow"
    path.write_text(text)
    try:
        load_spec(str(path)).instantiate()
    except SpecError as exc:
        assert code is not None and exc.diagnostics[0].code == code
    except ModelConfigError:
        assert code is None
    else:
        assert code is None


# ---- the fuzzer ----------------------------------------------------------------------
SEEDS = [p.read_text() for p in sorted(EXAMPLES.glob("*.cow"))]
VOCABULARY = [
    "var", "init", "action", "requires", "pick", "either", "or", "match", "=>", "for",
    "if", "then", "else", "elif", "{", "}", "(", ")", "[", "]", ",", ":", "'", "=", "==",
    "!=", "<", "..", "+", "-", "*", "/", "%", "|", "&", "in", "not", "and", "implies",
    "forall", "exists", "sum", "with", "is", "_", "0", "1", "99", "-3", "true", "false",
    '"s"', "x", "x'", "N", "RM", "card", "min", "union", "record", "enum", "type", "set",
    "tuple", "const", "def", "invariant", "property", "reachable", "constraint", "view",
    "model", "scenario", "expect", "violated", "holds", "import", "@kernel(\"f\")", "skip",
    "let", "__import__", "exec", "\n", ";", "///", "//", "/*", "*/", "\\", "\"", "#",
]


@st.composite
def mutants(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(SEEDS))
    rng = random.Random(draw(st.integers(0, 2**32 - 1)))
    for _ in range(draw(st.integers(1, 4))):
        i = rng.randrange(len(text) + 1)
        j = min(len(text), i + rng.randrange(0, 40))
        choice = rng.randrange(4)
        if choice == 0:
            text = text[:i] + text[j:]  # delete a span
        elif choice == 1:
            text = text[:i] + " " + rng.choice(VOCABULARY) + " " + text[i:]  # insert a token
        elif choice == 2:
            text = text[:i] + text[i:j] + text[i:j] + text[j:]  # duplicate a span
        else:
            k = rng.randrange(len(text) + 1)
            text = text[:k] + text[i:j] + text[k:]  # copy a span elsewhere
    return text


@settings(max_examples=250, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(text=mutants())
def test_every_mutant_compiles_or_fails_cleanly(tmp_path_factory: pytest.TempPathFactory,
                                               text: str) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "mutant.cow"
    path.write_text(text)
    try:
        spec = load_spec(str(path))
        model = spec.instantiate()
    except (SpecError, ModelConfigError) as exc:
        assert exc.args  # a message, never a bare exception
        return
    result = explore(model, max_states=300, timeout_s=5.0)
    if result.error is not None:
        assert result.error.message
    for state in list(model.initial_states())[:3]:
        try:
            model.successors(state)
        except EvalError as exc:
            assert exc.message
        except Exception as exc:  # noqa: BLE001 - mapped like the explorer does
            assert model.explain_error(exc).message
