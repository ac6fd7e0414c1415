"""Huge integer ranges are never listed when they need not be (issue 17): membership,
bounds, cardinality and quantifiers are arithmetic; a set that must be built, or a type
that must be listed, beyond ``MAX_DOMAIN`` is refused with its position. Each of these
specs ran the machine out of memory before."""

from __future__ import annotations

import resource
from pathlib import Path

import pytest
from explorer_testing import run_cli
from pyspec_testing import ROOT, write

from pyspec.runtime import MAX_DOMAIN

CLOCK = """
module R
const N = 2147483648
type Big = 1..N
var hr: 1..12
init {{ hr = 1 }}
action Tick {{ hr' = if hr == 12 then 1 else hr + 1 }}
{checks}
"""


@pytest.fixture(autouse=True)
def memory_cap() -> object:
    """A regression here must fail, not take the machine's memory: 3 GB of address space."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (3 * 2**30, hard))
    yield
    resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


@pytest.mark.parametrize("backend", ["scalar", "numpy"])
def test_membership_in_a_huge_range_is_arithmetic(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], backend: str) -> None:
    spec = write(tmp_path, CLOCK.format(checks="invariant InRange = hr in 1..2147483648\n"
                                        "invariant InType = hr in Big\n"
                                        "invariant Out = 0 not in Big"))
    code, out, err = run_cli(capsys, "check", str(spec), "--backend", backend)
    assert code == 0, out + err
    assert "12 distinct states" in out


def test_cardinality_bounds_and_quantifiers_of_a_huge_range(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    checks = ("invariant Card = card(1..N) == N and max(1..N) == N and min(Big) == 1\n"
              "invariant Some = exists k in 1..N: k == hr\n")
    code, out, err = run_cli(capsys, "check", str(write(tmp_path, CLOCK.format(checks=checks))))
    assert code == 0, out + err
    assert "PASS  invariant Card" in out and "PASS  invariant Some" in out


def test_a_huge_set_with_constant_bounds_is_refused_at_compile_time(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = write(tmp_path, CLOCK.format(checks="invariant Built = (1..N) != {hr}"))
    code, out, err = run_cli(capsys, "check", str(spec))
    assert code == 150
    assert err.splitlines()[0] == (
        f"{spec}:7:20: error[E305]: the set 1..2147483648 has 2,147,483,648 elements, more "
        f"than the {MAX_DOMAIN:,} a set built from a range may have")


def test_a_huge_set_built_while_checking_is_an_evaluation_error(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = write(tmp_path, CLOCK.format(checks="invariant Built = (1..hr * 1000000) != {hr}"))
    code, out, err = run_cli(capsys, "check", str(spec))
    assert code == 150
    assert (f"{spec}:7:20: error[E900]: the set 1..2000000 has 2,000,000 elements, more than "
            f"the {MAX_DOMAIN:,} a set built from a range may have") in out
    assert "while evaluating the last state of this trace (2 states)" in out


def test_a_huge_constant_as_a_map_key_is_a_model_error_at_the_variable(
        capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "check", str(ROOT / "spec" / "examples" / "refcount.cow"),
                             "-D", "K=2147483648")
    assert code == 151
    assert "error: variable rc cannot be represented in model default" in err
    assert ("refcount.cow:16:5: error[E305]: its type has a part 1..2147483648 of "
            f"2,147,483,648 values, more than the {MAX_DOMAIN:,} a map's keys") in err
