"""``cowspec check --checkpoint DIR`` / ``--recover DIR``: a search stopped by a limit or
killed outright, then resumed, ends with exactly the counts, depth, verdicts, traces and
coverage of an uninterrupted run; a checkpoint of another search, or a damaged one, is
refused with exit 151 and never loaded."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from explorer_testing import run_cli

ROOT = Path(__file__).resolve().parent.parent
REFCOUNT = str(ROOT / "spec/examples/refcount.cow")
KERNEL = str(ROOT / "spec/kernel/cow.cow")
QUIET = ("--no-progress", "--no-scenarios", "--backend", "numpy")
#: What a run's JSON report says that depends on when it ran, not on what it found.
TIMING = {"elapsed_s", "states_per_s", "notes"}


def report(capsys: pytest.CaptureFixture[str], tmp: Path, name: str,
           *argv: str) -> tuple[int, dict[str, Any], str]:
    """Run ``cowspec check`` with a JSON report; its exit code, report and stderr."""
    out = tmp / f"{name}.json"
    code, _, err = run_cli(capsys, "check", *argv, *QUIET, "--json", str(out))
    data = json.loads(out.read_text()) if out.exists() else {}
    return code, {k: v for k, v in data.items() if k not in TIMING}, err


def test_resume_after_max_states_is_an_uninterrupted_run(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    spec = (REFCOUNT, "-D", "N=4")
    code, whole, _ = report(capsys, tmp_path, "whole", *spec)
    assert (code, whole["distinct_states"], whole["total_states"], whole["depth"]) == \
        (0, 43_369, 709_117, 9)
    ck = tmp_path / "ck"
    code, stopped, _ = report(capsys, tmp_path, "stopped", *spec, "--checkpoint", str(ck),
                              "--checkpoint-every", "0", "--max-states", "1000")
    assert (code, stopped["stopped"]) == (152, "max_states")
    assert (ck / "manifest.json").exists()
    # A resumed run that stops again keeps its checkpoint in the same directory.
    code, again, _ = report(capsys, tmp_path, "again", *spec, "--recover", str(ck),
                            "--max-states", "20000")
    assert (code, again["stopped"]) == (152, "max_states")
    code, resumed, _ = report(capsys, tmp_path, "resumed", *spec, "--recover", str(ck))
    assert code == 0
    assert resumed == whole
    assert len(list(ck.glob("*.npz"))) == 1


def test_kernel_model_resumed_has_the_same_verdicts_and_traces(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    spec = (KERNEL, "--model", "linux-5.17")
    code, whole, _ = report(capsys, tmp_path, "whole", *spec)
    assert (code, whole["distinct_states"], whole["depth"]) == (0, 102_978, 25)
    ck = tmp_path / "ck"
    code, _, _ = report(capsys, tmp_path, "stopped", *spec, "--checkpoint", str(ck),
                        "--max-states", "40000")
    assert code == 152
    manifest = json.loads((ck / "manifest.json").read_text())
    assert manifest["found"], "violations found before the stop are part of the snapshot"
    code, resumed, _ = report(capsys, tmp_path, "resumed", *spec, "--recover", str(ck))
    assert code == 0
    violated = [p for p in resumed["properties"] if p["verdict"] == "violated"]
    assert violated and all(p["trace"] for p in violated)
    assert resumed == whole


def test_resume_after_the_process_is_killed(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    spec = (REFCOUNT, "-D", "N=5")
    ck = tmp_path / "ck"
    proc = subprocess.Popen(
        [sys.executable, "-m", "explorer.cli", "check", *spec, *QUIET, "--checkpoint",
         str(ck), "--checkpoint-every", "0"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    try:
        deadline = time.monotonic() + 120
        while not (ck / "manifest.json").exists() and proc.poll() is None \
                and time.monotonic() < deadline:
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    code, resumed, _ = report(capsys, tmp_path, "resumed", *spec, "--recover", str(ck))
    assert code == 0
    code, whole, _ = report(capsys, tmp_path, "whole", *spec)
    assert (resumed["distinct_states"], resumed["depth"]) == (398_476, 10)
    assert resumed == whole


@pytest.fixture
def stopped_checkpoint(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> Path:
    """A checkpoint of refcount N=4 stopped after 1000 states."""
    ck = tmp_path / "ck"
    code, _, _ = report(capsys, tmp_path, "stopped", REFCOUNT, "-D", "N=4", "--checkpoint",
                        str(ck), "--checkpoint-every", "0", "--max-states", "1000")
    assert code == 152
    return ck


def test_checkpoint_of_other_constants_is_refused(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, stopped_checkpoint: Path) -> None:
    code, data, err = report(capsys, tmp_path, "other", REFCOUNT, "-D", "N=5", "--recover",
                             str(stopped_checkpoint))
    assert (code, data) == (151, {})
    assert f"error: checkpoint {stopped_checkpoint} refused: it is of another search" in err
    assert "constants" in err and "'N': '4'" in err and "'N': '5'" in err


@pytest.mark.parametrize("option", [("--fingerprint",), ("--max-depth", "5")])
def test_checkpoint_of_other_options_is_refused(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, stopped_checkpoint: Path,
        option: tuple[str, ...]) -> None:
    code, _, err = report(capsys, tmp_path, "other", REFCOUNT, "-D", "N=4", *option,
                          "--recover", str(stopped_checkpoint))
    assert code == 151
    assert "it is of another search" in err


def test_corrupt_snapshot_is_refused(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, stopped_checkpoint: Path) -> None:
    (snapshot,) = stopped_checkpoint.glob("state-*.npz")
    data = bytearray(snapshot.read_bytes())
    data[len(data) // 2] ^= 0xFF
    snapshot.write_bytes(bytes(data))
    code, _, err = report(capsys, tmp_path, "corrupt", REFCOUNT, "-D", "N=4", "--recover",
                          str(stopped_checkpoint))
    assert code == 151
    assert f"{snapshot} does not match its manifest (corrupt or replaced)" in err


def test_corrupt_or_missing_manifest_is_refused(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, stopped_checkpoint: Path) -> None:
    manifest = stopped_checkpoint / "manifest.json"
    manifest.write_text(manifest.read_text()[:100])
    code, _, err = report(capsys, tmp_path, "bad", REFCOUNT, "-D", "N=4", "--recover",
                          str(stopped_checkpoint))
    assert code == 151 and "manifest.json is not valid JSON" in err
    code, _, err = report(capsys, tmp_path, "none", REFCOUNT, "-D", "N=4", "--recover",
                          str(tmp_path / "nowhere"))
    assert code == 151 and "no manifest.json in it" in err


@pytest.mark.parametrize(("option", "why"), [
    (("--backend", "scalar"), "the scalar engine keeps no checkpoints"),
    (("--workers", "2"), "one worker only"),
])
def test_engine_without_checkpoints_refuses(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, option: tuple[str, ...],
        why: str) -> None:
    code, _, err = run_cli(capsys, "check", REFCOUNT, "--no-progress", *option,
                           "--checkpoint", str(tmp_path / "ck"))
    assert code == 151
    assert why in err
    assert not (tmp_path / "ck" / "manifest.json").exists()
