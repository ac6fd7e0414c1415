"""TLC's liveness verdicts on the tlaplus/Examples translations in spec/examples: each
model's PROPERTY lines (its TLC configuration) with the Spec formula's fairness give the
manifest's result, with the counts unchanged; without its fairness a property fails with
a lasso."""

from __future__ import annotations

import re

import pytest
from explorer_testing import run_cli
from pyspec_testing import EXAMPLES, explore, write

from pyspec.exit_codes import EXIT_LIVENESS, EXIT_OK, EXIT_SAFETY
from pyspec.loader import load_spec

# spec, TLC's numbers (distinct, generated, depth), TLC's verdict (the manifest's
# "success": every property holds) per temporal property.
TLC = {
    "changroberts.cow": ((137, 227, 10), {"Liveness": "holds"}),
    "diningphilosophers.cow": ((67, 336, 29), {"NobodyStarves": "holds"}),
    "readerswriters.cow": ((21527, 59674, 13),
                           {"LivenessReads": "holds", "LivenessWrites": "holds",
                            "LivenessNotReading": "holds", "LivenessNotWriting": "holds"}),
    "singlelanebridge.cow": ((3605, 20181, 29),
                             {"CarsInBridgeExitBridge": "holds", "CarsEnterBridge": "holds"}),
    "innersequential.cow": ((3528, 24368, 9), {"AlwaysResponds": "holds"}),
    "alternatingbit.cow": ((240, 1392, 10),
                           {"SentLeadsToRcvd": "holds", "ABCRcvMsgFair": "holds",
                            "ABCRcvAckFair": "holds"}),
}


@pytest.mark.parametrize("name", sorted(TLC))
def test_tlc_verdict(name: str) -> None:
    counts, expected = TLC[name]
    result = explore(load_spec(str(EXAMPLES / name)).instantiate(None, {}))
    stats = result.stats
    assert (stats.distinct_states, stats.total_states, stats.depth) == counts
    assert {p.name: p.verdict for p in result.properties if p.kind == "temporal"} == expected
    assert all(p.verdict == "holds" for p in result.properties)


def test_dining_philosophers_starve_without_fairness(tmp_path, capsys) -> None:
    """Without \\A self: WF_vars(Philosopher(self)) nobody need ever move: philosopher 1
    stays hungry in the initial state (philosopher 2's step there changes nothing)."""
    text = (EXAMPLES / "diningphilosophers.cow").read_text()
    broken = write(tmp_path, "\n".join(line for line in text.splitlines()
                                       if not line.startswith("fair ")))
    code, out, _ = run_cli(capsys, "check", str(broken))
    assert code == EXIT_LIVENESS
    assert "FAIL  temporal NobodyStarves     violated (expected: holds)" in out
    assert "Counterexample: temporal NobodyStarves violated (1 state, a lasso: cycle from " \
           "state 1)" in out
    assert "[for p = 1]" in out


def test_alternating_bit_needs_strong_fairness_of_its_receivers(tmp_path, capsys) -> None:
    """With WF in place of ABFairness's SF on RcvMsg and RcvAck, losses can disable the
    receiver forever after: D1 is resent and lost round and round, never received."""
    text = (EXAMPLES / "alternatingbit.cow").read_text()
    broken = write(tmp_path, text.replace("fair strong", "fair weak"))
    code, out, _ = run_cli(capsys, "check", str(broken))
    assert code == EXIT_LIVENESS
    assert re.search(r"FAIL  temporal SentLeadsToRcvd +violated", out)
    # ABCSpec's fairness fails too: the message is never received.
    assert re.search(r"FAIL  temporal ABCRcvMsgFair +violated", out)
    head = "Counterexample: temporal SentLeadsToRcvd violated (5 states, a lasso: cycle " \
           "from state 2)"
    trace = out[out.index(head):].split("\nCounterexample:")[0]
    cycle = trace[trace.index("<- the cycle starts here"):]
    assert "LoseMsg" in cycle and "RcvMsg" not in cycle
    # The shortest lasso: D1 sent, then lost, the stale ack sent and taken, D1 resent.
    assert "  6. ReSndMsg, back to state 2: the cycle repeats forever" in cycle
    assert "[for d = D1]" in trace


def test_write_through_cache_implements_internal_memory(tmp_path, capsys) -> None:
    """MCWriteThroughCache.cfg's LM_Inner_ISpec as an action property: holds (TLC), and a
    read that answers a constant instead of the cached value is not a step of
    InternalMemory."""
    path = EXAMPLES / "writethroughcache.cow"
    code, out, _ = run_cli(capsys, "check", str(path))
    assert code == EXIT_OK, out
    assert "5,196 distinct states, 28,170 generated, depth 18" in out
    assert "PASS  property ImplementsInternalMemory  holds" in out
    wrong = path.read_text().replace("  buf'[p] = cache[p][buf[p].r.adr]\n",
                                     "  buf'[p] = Value(V1)\n")
    code, out, _ = run_cli(capsys, "check", str(write(tmp_path, wrong)))
    assert code == EXIT_SAFETY
    assert "Counterexample: property ImplementsInternalMemory violated (5 states)" in out
    assert "  5. DoRd(p=P1)" in out
