"""Every crash, hang and blow-up a fuzz campaign found (``make fuzz``, and the findings
of issues 17 and 18) stays fixed: each spec under ``tests/fuzz_regressions/`` runs through
``cowspec check`` with an address-space cap and a deadline, and must end with a
documented exit code and no internal error. A file may start with ``// exit: N`` (the
exit code it must give) and ``// cowspec: OPTIONS`` (options for its run)."""

from __future__ import annotations

import resource
import subprocess
import sys
from pathlib import Path

import pytest
from fuzz_campaign import CHECK, KEEP, ROOT

CLEAN = {0, 11, 12, 13, 150, 151, 152}
SPECS = sorted(KEEP.glob("*.cow"))


def _header(text: str, key: str) -> str | None:
    for line in text.splitlines():
        if not line.startswith("//"):
            return None
        if line.startswith(f"// {key}: "):
            return line.split(": ", 1)[1]
    return None


def _cap() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (2 * 2**30, resource.RLIM_INFINITY))


def test_the_regressions_of_issues_14_17_and_18_are_kept() -> None:
    named = [p.name.split("-issue")[1][:2] for p in SPECS if "-issue" in p.name]
    assert sorted(named) == ["14"] + ["17"] * 5 + ["18"] * 2


@pytest.mark.parametrize("spec", SPECS, ids=[p.stem for p in SPECS])
def test_a_fuzz_finding_ends_cleanly(spec: Path) -> None:
    text = spec.read_text(encoding="utf-8", errors="replace")
    options = (_header(text, "cowspec") or "").split()
    done = subprocess.run([sys.executable, "-m", "explorer.cli", "check", str(spec), *CHECK,
                           *options], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          preexec_fn=_cap, check=False)
    output = done.stdout + done.stderr
    assert done.returncode in CLEAN, output[-2000:]
    assert "internal error" not in output and "Traceback" not in output
    expected = _header(text, "exit")
    if expected is not None:
        assert done.returncode == int(expected), output[-2000:]
