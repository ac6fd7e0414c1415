"""Every way a run is stopped from outside ends it cleanly (issue 17): SIGINT, SIGTERM and
SIGHUP with and without worker processes, and a worker killed as the OOM killer does.
Each run must exit 152, write its JSON marked interrupted with partial statistics, and
leave no process and no /dev/shm entry behind. Nothing here is timed."""

from __future__ import annotations

import glob
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pyspec_testing import ROOT

SPEC = ROOT / "spec" / "examples" / "refcount.cow"
#: A search of some minutes: every signal arrives while it runs.
LONG = ["-D", "N=7"]
#: How long to wait for a run to reach its search, at most (a loaded machine is slow).
PATIENCE_S = 120


def _start(tmp_path: Path, *options: str) -> subprocess.Popen[str]:
    argv = [sys.executable, "-m", "explorer.cli", "check", str(SPEC), *LONG,
            "--json", str(tmp_path / "r.json"), *options]
    return subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    for path in glob.glob(f"/proc/{pid}/task/*/children"):
        try:
            kids += [int(k) for k in Path(path).read_text().split()]
        except OSError:
            pass
    return kids


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _wait_until(proc: subprocess.Popen[str], ready: object) -> None:
    deadline = time.monotonic() + PATIENCE_S
    while not ready():  # type: ignore[operator]
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the run never reached its search"
        time.sleep(0.1)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _finish(proc: subprocess.Popen[str], tmp_path: Path, workers: list[int]) -> tuple[str, dict]:
    out, err = proc.communicate(timeout=PATIENCE_S)
    assert proc.returncode == 152, (out, err)
    for pid in workers:  # reaped by whoever inherits them, or gone
        deadline = time.monotonic() + 30
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(pid), f"worker {pid} outlived its run"
    assert not glob.glob(f"/dev/shm/cowspec-{proc.pid}-*")
    document = json.loads((tmp_path / "r.json").read_text())
    return out, document


def _partial(document: dict) -> dict:
    [model] = document["models"] if "models" in document else [document]
    assert model["stopped"] == "interrupted"
    assert model["distinct_states"] > 0 and model["exit_code"] == 152
    return model


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_a_signal_ends_a_single_process_run(tmp_path: Path, sig: signal.Signals) -> None:
    proc = _start(tmp_path, "--backend", "scalar")
    _wait_until(proc, lambda: _cpu_s(proc.pid) > 3.0)  # loading takes about 1 s of CPU
    proc.send_signal(sig)
    out, document = _finish(proc, tmp_path, [])
    assert "search:      interrupted" in out
    _partial(document)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_a_signal_ends_a_run_with_workers(tmp_path: Path, sig: signal.Signals) -> None:
    proc = _start(tmp_path, "--backend", "numpy", "--workers", "2")
    _wait_until(proc, lambda: len(_children(proc.pid)) == 2
                and glob.glob(f"/dev/shm/cowspec-{proc.pid}-*"))
    workers = _children(proc.pid)
    time.sleep(1.0)  # into the levels
    proc.send_signal(sig)
    out, document = _finish(proc, tmp_path, workers)
    assert "search:      interrupted" in out
    _partial(document)


def test_a_killed_worker_is_reported_with_its_cause(tmp_path: Path) -> None:
    proc = _start(tmp_path, "--backend", "numpy", "--workers", "2")
    _wait_until(proc, lambda: len(_children(proc.pid)) == 2
                and glob.glob(f"/dev/shm/cowspec-{proc.pid}-*"))
    workers = _children(proc.pid)
    time.sleep(1.0)
    os.kill(workers[1], signal.SIGKILL)
    out, document = _finish(proc, tmp_path, workers)
    assert "a bug in cowspec" not in out
    note = (f"worker 1 (pid {workers[1]}) died, killed by SIGKILL: the search stopped with "
            "the counts of the levels done")
    assert note in out
    model = _partial(document)
    assert any(n.startswith(note) for n in model["notes"])


def test_workers_die_with_a_killed_coordinator(tmp_path: Path) -> None:
    proc = _start(tmp_path, "--backend", "numpy", "--workers", "2")
    _wait_until(proc, lambda: len(_children(proc.pid)) == 2
                and glob.glob(f"/dev/shm/cowspec-{proc.pid}-*"))
    workers = _children(proc.pid)
    proc.kill()
    proc.communicate(timeout=PATIENCE_S)
    for pid in workers:
        deadline = time.monotonic() + 30
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(pid), f"worker {pid} outlived its coordinator"
    deadline = time.monotonic() + 30
    while glob.glob(f"/dev/shm/cowspec-{proc.pid}-*") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not glob.glob(f"/dev/shm/cowspec-{proc.pid}-*")
