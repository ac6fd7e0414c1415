"""GUP's follow-fault-retry loop step by step (spec/liveness/gup-retry.cow with
spec/kernel/lib/gup_retry.cow): the progress verdicts and the witness of the retry path
per kind of version, and the lasso an adversary finds once the retry is only weakly fair.
Every version model is checked by `make check-progress`; these runs cover each path."""

from __future__ import annotations

import json

from explorer_testing import run_cli
from pyspec_testing import EXAMPLES, write

from pyspec.exit_codes import EXIT_LIVENESS, EXIT_OK

KERNEL_DIR = EXAMPLES.parent / "kernel"
SPEC = EXAMPLES.parent / "liveness" / "gup-retry.cow"


def check(capsys, tmp_path, model: str, spec=SPEC, *extra: str) -> tuple[int, dict]:
    """Checks one version model of the spec; the exit code and the JSON report."""
    out = tmp_path / f"{model}.json"
    code, _, _ = run_cli(capsys, "check", str(spec), "--include", str(KERNEL_DIR),
                         "--model", model, "--no-scenarios", "--json", str(out), *extra)
    return code, json.loads(out.read_text())


def prop(report: dict, name: str) -> dict:
    return next(p for p in report["properties"] if p["name"] == name)


def steps(trace: list[dict]) -> list[str]:
    """The actions of a trace after its initial state, with their parameters."""
    return [t["action"] + "".join(f" {k}={v}" for k, v in t["params"].items())
            for t in trace[1:]]


def cycle(result: dict) -> list[str]:
    """The actions of a lasso's cycle, the back edge included."""
    lasso = result["lasso"]
    return ([t["action"] for t in result["trace"][lasso["loop"] + 1:]]
            + [lasso["back"]["action"]])


def test_linux_5_19_unshares_and_retries(capsys, tmp_path) -> None:
    code, report = check(capsys, tmp_path, "linux-5.19")
    assert code == EXIT_OK
    assert report["distinct_states"] == 63_965
    assert prop(report, "RoPinCompletes")["verdict"] == "holds"
    assert prop(report, "WriteFaultMapsWritable")["verdict"] == "holds"
    # The retry path: follow_page_pte() returns -EMLINK for the page P shares with its
    # child, the unshare fault copies it, the retry pins the copy.
    witness = prop(report, "PinnedAfterUnshare")
    assert witness["verdict"] == "reachable"
    assert steps(witness["trace"]) == [
        "Fault p=P a=A0 acc=WRITE", "Fork", "GupBegin a=A0 k=PIN w=False", "GupNoPage",
        "GupUnshareFault", "GupGrab"]
    unshared = witness["trace"][5]["state"]
    assert unshared["pte"][0] == ["P", [["A0", {"tag": "Present", "frame": "F1",
                                                "writable": False}]]]
    assert unshared["last"] == "UnshareCopy"
    assert prop(report, "RoPinnedSharedPage")["verdict"] == "unreachable"


def test_linux_5_17_pins_the_shared_page(capsys, tmp_path) -> None:
    code, report = check(capsys, tmp_path, "linux-5.17")
    assert code == EXIT_OK
    assert report["distinct_states"] == 118_643
    assert prop(report, "RoPinCompletes")["verdict"] == "holds"
    assert prop(report, "PinnedAfterUnshare")["verdict"] == "unreachable"
    witness = prop(report, "RoPinnedSharedPage")
    assert steps(witness["trace"]) == [
        "Fault p=P a=A0 acc=WRITE", "Fork", "GupBegin a=A0 k=PIN w=False", "GupGrab"]


def test_without_patch_15_the_unshare_request_loops(capsys, tmp_path) -> None:
    code, report = check(capsys, tmp_path, "linux-5.19-without-patch-15",
                         SPEC, "--trace", "RoPinCompletes")
    assert code == EXIT_OK  # the violation is the model's expectation
    result = prop(report, "RoPinCompletes")
    assert (result["verdict"], result["judgement"]) == ("violated", "pass")
    assert {"GupNoPage", "GupUnshareFault"} <= set(cycle(result))
    assert "GupGrab" not in cycle(result)
    assert prop(report, "PinnedAfterUnshare")["verdict"] == "unreachable"


def test_a_weakly_fair_retry_starves(capsys, tmp_path) -> None:
    text = SPEC.read_text().replace("fair strong GupGrab\n", "fair weak GupGrab\n")
    spec = write(tmp_path, text, "gup-retry.cow")
    code, report = check(capsys, tmp_path, "linux-5.19", spec)
    assert code == EXIT_LIVENESS
    result = prop(report, "RoPinCompletes")
    assert result["verdict"] == "violated"
    # Between the unshare fault and the retry another step (here ksmd merging the copy)
    # makes the page shared again, so the pin that was possible is never taken.
    assert {"GupUnshareFault", "GupNoPage", "KsmMerge"} <= set(cycle(result))
    assert "GupGrab" not in cycle(result)
    assert (len(result["trace"]), result["lasso"]["loop"]) == (20, 1)
