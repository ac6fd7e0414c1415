"""The engine options on the command line: --backend, --fingerprint, --workers,
--symmetry/--no-symmetry, what ``auto`` picks, and the engine facts in text and JSON."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest

from explorer.engine.registry import AUTO_PROBE_STATES
from explorer.report_json import load_schema
from tests.explorer_testing import run_cli
from tests.pyspec_testing import write
from tests.test_perf_fingerprint import WIDE
from tests.test_perf_symmetry import LOCK

ROOT = Path(__file__).resolve().parent.parent
REFCOUNT = str(ROOT / "spec" / "examples" / "refcount.cow")


def check_json(capsys: pytest.CaptureFixture[str], tmp_path: Path, *argv: str) -> dict:
    out = tmp_path / "r.json"
    code, _, _ = run_cli(capsys, "check", *argv, "--json", str(out))
    assert code == (152 if "--max-states" in argv else 0)
    doc = json.loads(out.read_text())
    jsonschema.Draft202012Validator(load_schema()).validate(doc)
    return doc


@pytest.mark.parametrize(("argv", "backend"), [
    (["-D", "N=3"], "scalar"),  # ends within the scalar probe
    (["-D", "N=4"], "compiled"),  # compiled on a cold cache: a few seconds, once
    (["-D", "N=4", "--max-states", str(AUTO_PROBE_STATES)], "scalar"),
    (["-D", "N=4", "--backend", "scalar"], "scalar"),
])
def test_what_auto_picks(capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str],
                         backend: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # no compiled code cached
    doc = check_json(capsys, tmp_path, REFCOUNT, *argv)
    assert doc["engine"]["backend"] == backend
    if "--max-states" not in argv:
        assert doc["distinct_states"] in (3634, 43369)


def test_numpy_engine_facts_in_text_and_json(capsys: pytest.CaptureFixture[str],
                                             tmp_path: Path) -> None:
    doc = check_json(capsys, tmp_path, REFCOUNT, "-D", "N=4", "--backend", "numpy",
                     "--workers", "2")
    assert (doc["distinct_states"], doc["total_states"], doc["depth"]) == (43369, 709117, 9)
    assert doc["engine"]["store_bytes"] > 0 and doc["engine"]["seen_by"] == "state"
    code, out, _ = run_cli(capsys, "check", REFCOUNT, "--backend", "numpy")
    assert code == 0 and "engine:      numpy (a BFS level at a time), 14.0 bytes" in out


@pytest.mark.parametrize("backend", ["scalar", "numpy"])
def test_fingerprints_reported_as_tlc_does(capsys: pytest.CaptureFixture[str],
                                           tmp_path: Path, backend: str) -> None:
    wide = str(write(tmp_path, WIDE))
    code, out, _ = run_cli(capsys, "check", wide, "--backend", backend, "--fingerprint")
    assert code == 0
    assert "fingerprints: 64-bit; probability of a collision, calculated (optimistic): " in out
    doc = check_json(capsys, tmp_path, wide, "--backend", backend, "--fingerprint")
    p = doc["engine"]["collision_probability"]
    assert doc["engine"]["seen_by"] == "fingerprint"
    assert p == doc["distinct_states"] * (doc["total_states"] - doc["distinct_states"]) / 2**64


def test_compiled_fingerprint_store_and_frontier_window_in_text_and_json(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """The compiled engine with fingerprints reports the seen set and parent links per
    state and, apart, the frontier window's peak; exact mode reports one store."""
    cow = str(ROOT / "spec" / "kernel" / "cow.cow")
    argv = (cow, "--model", "linux-5.17", "--backend", "compiled")
    fps = check_json(capsys, tmp_path, *argv, "--fingerprint")
    exact = check_json(capsys, tmp_path, *argv)
    counts = ("distinct_states", "total_states", "depth")
    assert [fps[k] for k in counts] == [exact[k] for k in counts] == [102978, 1294307, 25]
    assert fps["engine"]["seen_by"] == "fingerprint" and fps["engine"]["queue_bytes"] > 0
    assert fps["engine"]["store_bytes"] / fps["distinct_states"] <= 16
    assert exact["engine"]["queue_bytes"] is None
    code, out, _ = run_cli(capsys, "check", *argv, "--fingerprint")
    assert code == 0 and re.search(
        r"engine:      compiled \(the search as machine code\), \d+\.\d bytes per state "
        r"\(fingerprints and parent links\), frontier window at most \d+\.\d MB\n", out)
    code, out, _ = run_cli(capsys, "check", *argv)
    assert code == 0 and re.search(
        r"engine:      compiled \(the search as machine code\), \d+\.\d bytes per stored "
        r"state\n", out)


def test_one_word_states_stay_exact_with_fingerprint(capsys: pytest.CaptureFixture[str],
                                                     tmp_path: Path) -> None:
    """Every engine keys a state that packs into one word by that word: exact."""
    doc = check_json(capsys, tmp_path, REFCOUNT, "--backend", "scalar", "--fingerprint")
    assert doc["engine"]["seen_by"] == "state"
    assert doc["engine"]["collision_probability"] is None
    assert any("no fingerprint" in note for note in doc["notes"])


def test_symmetry_on_by_declaration_and_off_by_option(capsys: pytest.CaptureFixture[str],
                                                      tmp_path: Path) -> None:
    spec = str(write(tmp_path, LOCK + "\n    model default { expect violated NotTwoWaiting }\n"))
    on = check_json(capsys, tmp_path, spec)
    off = check_json(capsys, tmp_path, spec, "--no-symmetry")
    assert on["engine"]["symmetry"] == ["Procs"] and off["engine"]["symmetry"] == []
    assert on["distinct_states"] < off["distinct_states"]
    code, out, _ = run_cli(capsys, "check", spec, "--symmetry")
    assert code == 0 and "symmetry:    Procs (distinct states are orbits)" in out


def test_numpy_backend_refusals_exit_151(capsys: pytest.CaptureFixture[str],
                                         tmp_path: Path) -> None:
    spec = str(write(tmp_path, """
        var xs: set[set[0..2]]
        init { xs = {} }
        action Add(i: 0..2) { xs' = xs | {{i}} }
    """))
    code, _, err = run_cli(capsys, "check", spec, "--backend", "numpy")
    assert code == 151 and "--backend numpy cannot run" in err and "sets of sets" in err
    code, _, err = run_cli(capsys, "check", REFCOUNT, "--backend", "numpy", "--diagrams",
                           str(tmp_path / "d"))
    assert code == 151 and "diagrams" in err


def test_scenarios_run_on_the_scalar_engine_under_any_backend(
        capsys: pytest.CaptureFixture[str]) -> None:
    pages = str(ROOT / "tests" / "explorer_specs" / "pages.cow")
    outs = [run_cli(capsys, "check", pages, "--backend", b) for b in ("scalar", "numpy")]
    assert outs[0][0] == outs[1][0] == 12  # the spec's Stuck scenario fails by design
    assert "scenarios:" in outs[1][1] and "engine:      numpy" in outs[1][1]
