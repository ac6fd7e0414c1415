"""Hostile or unusual input ends as a clean spec or model error, never as code run from a
file, an unbounded read, a hang or a traceback: the parser cache, what imports may open,
non-UTF-8 text, deep nesting and ``-D`` values at the edges (issues 17 and 18)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from explorer_testing import run_cli
from pyspec_testing import ROOT, write

from pyspec import grammar_cache
from pyspec.codegen.scalar import MAX_MODEL_VALUES
from pyspec.parser import MAX_NESTING
from pyspec.sourcefiles import MAX_SPEC_BYTES

TOGGLE = """
module M
{imports}
var x: 0..1
init {{ x = 0 }}
action Flip {{ x' = 1 - x }}
"""


def toggle(tmp_path: Path, *imports: str, name: str = "spec.cow") -> Path:
    lines = "\n".join(f'import "{i}"' for i in imports)
    return write(tmp_path, TOGGLE.format(imports=lines), name)


# ---- the parser cache ---------------------------------------------------------------

PICKLE_PAYLOAD = (
    b"cos\nsystem\n(S'touch PWNED'\ntR."  # pickle protocol 0: os.system('touch PWNED')
)


def _fresh_python(cache: Path, cwd: Path, code: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, XDG_CACHE_HOME=str(cache))
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, text=True,
                          capture_output=True, timeout=120, check=False)


PARSE = ("from pyspec.parser import parse_text\n"
         "m, d = parse_text('module M\\nconst N = 3\\n', 'x.cow')\n"
         "print(m.name, len(m.decls), d)")


def test_a_planted_pickle_in_the_cache_runs_nothing(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    (cache / "cowspec").mkdir(parents=True)
    for name in ("grammar.lark.cache", "grammar.json"):
        (cache / "cowspec" / name).write_bytes(PICKLE_PAYLOAD)
    done = _fresh_python(cache, tmp_path, PARSE)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "M 1 []"
    assert not (tmp_path / "PWNED").exists()
    # The rebuilt cache is JSON data, private, and the old pickle is gone.
    stored = cache / "cowspec" / "grammar.json"
    assert json.loads(stored.read_text())["key"]
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert not (cache / "cowspec" / "grammar.lark.cache").exists()


def test_the_cache_directory_is_private_and_reused(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    assert _fresh_python(cache, tmp_path, PARSE).returncode == 0
    folder = cache / "cowspec"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    before = (folder / "grammar.json").stat().st_mtime_ns
    again = _fresh_python(cache, tmp_path, PARSE)
    assert again.stdout.strip() == "M 1 []"
    assert (folder / "grammar.json").stat().st_mtime_ns == before  # read, not rebuilt


def test_a_stale_or_writable_cache_is_not_used(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    grammar = (ROOT / "pyspec" / "grammar.lark").read_text()
    options = {"parser": "lalr", "start": "start"}
    grammar_cache.load_parser(grammar, **options)
    path = tmp_path / "cowspec" / "grammar.json"
    key = grammar_cache.cache_key(grammar, options)
    assert grammar_cache.read_cache(path, key) is not None
    assert grammar_cache.read_cache(path, key.replace(key[0], "x")) is None  # another grammar
    path.chmod(0o622)  # others may write it: not trusted
    assert grammar_cache.read_cache(path, key) is None


# ---- what imports may open -----------------------------------------------------------

def _err(tmp_path: Path, capsys: pytest.CaptureFixture[str], spec: Path,
         *options: str) -> tuple[int, str]:
    code, _, err = run_cli(capsys, "check", str(spec), *options)
    return code, err


@pytest.mark.parametrize("target", ["/dev/zero", "/etc/passwd", "../outside.cow"])
def test_absolute_and_dotdot_imports_need_an_option(tmp_path: Path, target: str,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "d").mkdir()
    spec = toggle(tmp_path / "d", target)
    code, err = _err(tmp_path, capsys, spec)
    assert code == 150
    assert f"spec.cow:2:8: error[E004]: import \"{target}\" is an absolute path" in err
    assert "--allow-outside" in err
    assert "root:" not in err


def test_devices_fifos_and_directories_are_refused_at_the_import(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    os.mkfifo(tmp_path / "fifo.cow")
    (tmp_path / "folder.cow").mkdir()
    os.symlink("/dev/zero", tmp_path / "zero.cow")
    spec = toggle(tmp_path, "fifo.cow", "folder.cow", "zero.cow")
    code, err = _err(tmp_path, capsys, spec, "--allow-outside")
    assert code == 150
    assert "spec.cow:2:8: error[E004]: cannot read" in err and "fifo.cow: it is a FIFO" in err
    assert "spec.cow:3:8: error[E004]: cannot read" in err
    assert "folder.cow: it is a directory, not a regular file" in err
    assert "spec.cow:4:8: error[E004]: cannot read" in err and "it is a device" in err


def test_a_symlink_out_of_the_spec_directory_is_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET LINE\n")
    (tmp_path / "d").mkdir()
    os.symlink(secret, tmp_path / "d" / "lib.cow")
    spec = toggle(tmp_path / "d", "lib.cow")
    code, err = _err(tmp_path, capsys, spec)
    assert code == 150
    assert "spec.cow:2:8: error[E004]: import \"lib.cow\" leads to" in err
    assert "outside the spec's directory" in err
    assert "TOP SECRET" not in err


def test_include_directories_resolve_and_allow_imports(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "consts.cow").write_text("module C\nconst Q = 1\n")
    (tmp_path / "d").mkdir()
    spec = toggle(tmp_path / "d", "consts.cow")
    code, err = _err(tmp_path, capsys, spec)
    assert code == 150 and "spec.cow:2:8: error[E004]: cannot read" in err
    code, err = _err(tmp_path, capsys, spec, "--include", str(shared))
    assert code == 0, err


def test_a_file_over_the_size_cap_is_refused_unread(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    big = tmp_path / "big.cow"
    with open(big, "wb") as f:
        f.truncate(MAX_SPEC_BYTES + 1)
    code, err = _err(tmp_path, capsys, toggle(tmp_path, "big.cow"))
    assert code == 150
    assert f"spec.cow:2:8: error[E004]: cannot read {big}: it is larger than" in err


def test_the_kernel_model_imports_still_resolve(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "compile", str(ROOT / "spec" / "kernel" / "cow.cow"),
                             "-o", os.devnull)
    assert code == 0, err


# ---- non-UTF-8 text ------------------------------------------------------------------

def test_a_non_utf8_byte_is_reported_at_its_line_and_column(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "latin1.cow"
    spec.write_bytes(b"module M\n// caf\xe9 au lait\nvar x: 0..1\n")
    code, err = _err(tmp_path, capsys, spec)
    assert code == 150
    lines = err.splitlines()
    assert lines[0] == (f"{spec}:2:7: error[E004]: {spec} is not UTF-8 text: byte 0xe9 "
                        "cannot be decoded")
    assert lines[1] == "    // caf\ufffd au lait"
    assert lines[2] == "          ^"


def test_a_non_utf8_import_points_into_the_imported_file(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "lib.cow").write_bytes(b"module L\nconst Q = 1 \xff\n")
    code, err = _err(tmp_path, capsys, toggle(tmp_path, "lib.cow"))
    assert code == 150
    assert "lib.cow:2:13: error[E004]:" in err and "byte 0xff" in err


# ---- deep nesting ----------------------------------------------------------------------

@pytest.mark.parametrize("body, col", [
    ("forall y in 0..1: " * 4000 + "true", 2619),
    ("not " * 4000 + "true", 603),
    (" + ".join(["x"] * 4000) + " >= 0", 15),
])
def test_nesting_past_the_limit_is_a_spec_error_at_its_position(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], body: str, col: int) -> None:
    spec = write(tmp_path, TOGGLE.format(imports="") + f"invariant I = {body}\n")
    code, err = _err(tmp_path, capsys, spec)
    assert code == 150
    assert err.startswith(f"{spec}:6:{col}: error[E005]: constructs nest more than "
                          f"{MAX_NESTING} levels deep here")
    assert "RecursionError" not in err


def test_nesting_within_the_limit_compiles(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    body = "not " * (MAX_NESTING - 10) + "true"
    spec = write(tmp_path, TOGGLE.format(imports="") + f"invariant I = x < 2 or {body}\n")
    code, _, err = run_cli(capsys, "check", str(spec))
    assert code == 0, err


# ---- -D values at the edges ----------------------------------------------------------

PARAMS = """
module P
const P = {p1, p2}
var n: 0..2
init { n = 0 }
action A(p: P) { requires n < 2  n' = n + 1 }
action Idle { requires n == 2  n' = n }
"""


@pytest.mark.parametrize("value", ["0", "{}"])
def test_an_action_over_no_model_values_never_fires(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], value: str) -> None:
    spec = write(tmp_path, PARAMS)
    code, out, err = run_cli(capsys, "check", str(spec), "-D", f"P={value}",
                             "--no-deadlock", "--json", str(tmp_path / "r.json"))
    assert code == 0, err
    assert "1 distinct states" in out and "never fired: A, Idle" in out


@pytest.mark.parametrize("backend", ["scalar", "numpy"])
def test_tcommit_with_no_resource_managers(capsys: pytest.CaptureFixture[str],
                                           backend: str) -> None:
    spec = ROOT / "spec" / "examples" / "tcommit.cow"
    code, out, err = run_cli(capsys, "check", str(spec), "-D", "RM=0", "--backend", backend)
    assert code == 0, err
    assert "PASS  invariant TCConsistent" in out


def test_kernel_model_without_frames_is_refused_with_the_supported_range(
        capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys, "check", str(ROOT / "spec" / "kernel" / "cow.cow"),
                           "-D", "Frames=0")
    assert code == 151
    assert "error: constant NumFrames = card(Frames) = 0 is outside its declared range" in err


def test_too_many_model_values_is_a_model_error_naming_the_range(
        capsys: pytest.CaptureFixture[str]) -> None:
    spec = ROOT / "spec" / "examples" / "tcommit.cow"
    code, _, err = run_cli(capsys, "check", str(spec), "-D", "RM=2147483648")
    assert code == 151
    assert err.strip() == (f"error: RM = 2147483648 model values: a set of model values has "
                           f"0..{MAX_MODEL_VALUES:,} members")


def test_a_large_set_of_model_values_compiles(capsys: pytest.CaptureFixture[str]) -> None:
    """Was quadratic (a tuple ``index`` per member): 100,000 did not compile in 60 s."""
    spec = ROOT / "spec" / "examples" / "tcommit.cow"
    code, out, err = run_cli(capsys, "compile", str(spec), "-D", f"RM={MAX_MODEL_VALUES}")
    assert code == 0, err
    assert f"'r{MAX_MODEL_VALUES}'" in out


# ---- evaluation errors on every engine ------------------------------------------------

@pytest.mark.parametrize("engine", [["--backend", "scalar"], ["--backend", "numpy"],
                                    ["--backend", "numpy", "--workers", "2"]])
def test_an_initial_state_out_of_range_is_a_spec_error_on_every_engine(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], engine: list[str]) -> None:
    text = (ROOT / "spec" / "examples" / "hourclock.cow").read_text()
    spec = tmp_path / "hourclock.cow"
    spec.write_text(text.replace("pick h in 1..12", "pick h in 1..255"))
    code, out, err = run_cli(capsys, "check", str(spec), *engine)
    assert code == 150, err
    assert "internal error" not in err
    assert f"{spec}:9:8: error[E900]: value 13 is outside its declared range 1..12" in out
    assert "while evaluating the last state of this trace" in out
