"""Two ``kernel-run --setup`` runs cannot interleave (issue 18): the second refuses at
once, naming the first; the lock is free again when its holder ends, even by SIGKILL.
Only the lock itself is tested here: it needs no root."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from explorer.cli import main
from explorer.kernelrun import cli as kernelrun_cli
from explorer.kernelrun import lock
from explorer.kernelrun.lock import SetupLock, SetupLockHeld
from explorer.kernelrun.machine_setup import SetupError


def test_a_second_setup_refuses_while_the_first_holds_the_lock(tmp_path: Path) -> None:
    path = tmp_path / "kernel-run.lock"
    with SetupLock(path):
        assert path.read_text() == f"{os.getpid()}\n"
        with pytest.raises(SetupLockHeld) as info, SetupLock(path):
            pass
        assert isinstance(info.value, SetupError)  # the CLI's exit 2 with the message
        assert str(info.value) == (
            f"another kernel-run --setup (pid {os.getpid()}) is changing this machine's swap "
            f"and huge pages (lock {path}); wait for it to end and run again")
    with SetupLock(path):  # released at the end of the block
        pass


def test_the_lock_dies_with_its_holder(tmp_path: Path) -> None:
    path = tmp_path / "kernel-run.lock"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\nfrom pathlib import Path\n"
         "from explorer.kernelrun.lock import SetupLock\n"
         f"with SetupLock(Path({str(path)!r})):\n"
         "    print('held', flush=True)\n    time.sleep(600)\n"],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        with pytest.raises(SetupLockHeld, match=f"pid {holder.pid}"), SetupLock(path):
            pass
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    deadline = time.monotonic() + 30
    while True:
        try:
            with SetupLock(path):
                break
        except SetupLockHeld:
            assert time.monotonic() < deadline
            time.sleep(0.1)


class _NeverSetUp:
    """Stands in for the machine setup: reaching it while the lock is held fails the test
    (and never touches the machine)."""

    notes: list[str] = []

    def __enter__(self) -> None:
        raise AssertionError("the machine setup ran while another run held the lock")

    def __exit__(self, *exc: object) -> None:
        pass


def test_kernel_run_setup_refuses_while_the_lock_is_held(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Held here, the lock stops ``--setup`` before it changes anything."""
    path = tmp_path / "kernel-run.lock"
    monkeypatch.setattr(lock, "default_lock_path", lambda: path)
    monkeypatch.setattr(kernelrun_cli, "MachineSetup", _NeverSetUp)
    with SetupLock(path):
        code = main(["kernel-run", "--setup"])
    err = capsys.readouterr().err
    assert code == 2
    assert f"cowspec kernel-run: another kernel-run --setup (pid {os.getpid()})" in err
