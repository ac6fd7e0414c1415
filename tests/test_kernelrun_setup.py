"""``--setup`` (root only): swap file and huge pages are provided, then restored exactly.

Restoration is checked after a normal run, after SIGTERM and after SIGINT in the middle
of a run: /proc/swaps, nr_hugepages and the swap directory must be byte-for-byte as they
were before.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import struct
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from explorer.kernelrun import machine_setup, procfs, thp_sysfs, variants
from explorer.kernelrun import syscalls as sc
from explorer.kernelrun.machine_setup import (
    NR_HUGEPAGES,
    MachineSetup,
    SetupError,
    swap_directory,
    swap_header,
)

ROOT = Path(__file__).resolve().parent.parent


def machine_state() -> tuple[list[tuple[str, int]], int, list[str], dict[str, str],
                             list[int]]:
    """Active swap areas (name, size), nr_hugepages, swap files left in the directory, the
    THP/mTHP enabled controls, and the nr_hugepages of every hugetlb size.

    "Used" is left out: a swap area that was active before may fill or drain meanwhile.
    """
    swaps = sorted((name, size) for name, size, _ in procfs.active_swaps())
    leftovers = sorted(n for n in os.listdir(swap_directory()) if n.startswith("cowspec-swap-"))
    sized = [procfs.read_int(f"{variants.HUGETLB_DIR}/hugepages-{s // 1024}kB/nr_hugepages")
             for s in variants.hugetlb_sizes()]
    return swaps, procfs.read_int(NR_HUGEPAGES), leftovers, thp_sysfs.snapshot(), sized


@pytest.fixture(scope="module")
def setup_works():
    """Skip (not fail) where the machine cannot hold a swap file, e.g. on overlayfs."""
    if os.geteuid() != 0:
        pytest.skip("--setup needs root")
    before = machine_state()
    try:
        with MachineSetup(swap_mb=16, hugepages=1):
            pass
    except SetupError as e:
        assert machine_state() == before
        pytest.skip(str(e))


def test_swap_header_is_a_version_1_swap_area():
    page = swap_header(100)
    assert len(page) == sc.PAGE_SIZE
    assert page[-10:] == b"SWAPSPACE2"
    assert struct.unpack_from("<III", page, 1024) == (1, 99, 0)


def test_an_interrupted_swapoff_is_tried_again(monkeypatch):
    """try_to_unuse() returns EINTR while task work (io_uring) is pending: swapoff is
    retried; any other error, or EINTR every time, is reported."""
    calls: list[str] = []

    def flaky(path: str) -> None:
        calls.append(path)
        if len(calls) < 3:
            raise OSError(errno.EINTR, "swapoff: Interrupted system call")

    monkeypatch.setattr(sc, "swapoff", flaky)
    machine_setup.swapoff("/swap")
    assert calls == ["/swap"] * 3

    def always(path: str) -> None:
        raise OSError(errno.EINTR, "swapoff: Interrupted system call")

    monkeypatch.setattr(sc, "swapoff", always)
    with pytest.raises(InterruptedError):
        machine_setup.swapoff("/swap")

    def busy(path: str) -> None:
        calls.append("busy")
        raise OSError(errno.ENOMEM, "swapoff: Cannot allocate memory")

    calls.clear()
    monkeypatch.setattr(sc, "swapoff", busy)
    with pytest.raises(OSError, match="Cannot allocate memory"):
        machine_setup.swapoff("/swap")
    assert calls == ["busy"]


def test_setup_provides_swap_and_huge_pages_and_restores_exactly(setup_works):
    before = machine_state()
    with MachineSetup(swap_mb=16, hugepages=2) as setup:
        swaps = procfs.active_swaps()
        assert any(os.path.basename(name).startswith("cowspec-swap-") for name, _, _ in swaps)
        assert procfs.read_int(NR_HUGEPAGES) == before[1] + 2
    assert machine_state() == before
    assert any("restored nr_hugepages" in n for n in setup.notes)


def test_setup_restores_the_thp_controls_a_variant_changed(setup_works):
    sizes = thp_sysfs.sizes()
    if len(sizes) < 2:
        pytest.skip("no mTHP sizes (kernel before 6.8)")
    before = machine_state()
    with MachineSetup(swap_mb=16, hugepages=1) as setup:
        setup.prepare(variants.Variant("thp", sizes[0], variants.pmd_size()))
        assert thp_sysfs.madvise_gets(sizes[0])
        assert not thp_sysfs.madvise_gets(sizes[-1])
    assert machine_state() == before
    assert any("restored" in n and "THP" in n for n in setup.notes)


def test_cli_setup_runs_swap_and_hugetlb_kinds_and_restores(setup_works, tmp_path):
    before = machine_state()
    out = tmp_path / "rows.json"
    p = subprocess.run([sys.executable, "-m", "explorer.kernelrun", "--setup",
                        "VmspliceAfterFork", "--kind", "swap", "--kind", "hugetlb", "--json",
                        str(out)], cwd=ROOT, capture_output=True, text=True, timeout=300,
                       env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert machine_state() == before
    assert p.returncode in (0, 1), p.stderr
    rows = json.loads(out.read_text())["rows"]
    observed: dict[tuple[str, str], dict] = {}
    for r in rows:  # the first (smallest) size of each family
        observed.setdefault((r["binding"], r["kind"]), r)
    # The vmsplice scenarios need nothing but the kind: with --setup they must run.
    for kind in ("swap", "hugetlb"):
        row = observed[("VmspliceAfterFork", kind)]
        assert row["agree"] not in ("skip", "error"), row
    assert observed[("VmspliceAfterFork", "hugetlb")]["observed"] == "leak"
    assert observed[("VmspliceAfterFork", "swap")]["observed"] == "no leak"


INTERRUPTED_RUN = textwrap.dedent("""
    import sys, time
    from explorer.kernelrun import cli, runner

    def stalled(selection, variants, facs, predictions, model, repeat, prepare, on_row):
        # change the THP controls as the smallest THP size's rows do, then hang
        thp = [v for v in variants if v.family == "thp"]
        if thp:
            prepare(thp[0])
        print("running", flush=True)
        time.sleep(60)
        raise SystemExit("not interrupted")

    runner.run = stalled
    sys.exit(cli.main(["--setup", "VmspliceAfterFork"]))
""")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_setup_is_restored_when_the_run_is_interrupted(setup_works, sig):
    before = machine_state()
    proc = subprocess.Popen([sys.executable, "-c", INTERRUPTED_RUN], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert proc.stdout.readline().strip() == "running"
        assert machine_state() != before  # the setup is in place while it runs
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 128 + sig, err
    assert "machine restored" in err
    assert machine_state() == before
