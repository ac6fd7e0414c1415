"""TCommit (tlaplus/Examples, transaction_commit/TCommit.tla) as a hand-written model.

TLC with RM = {r1, r2, r3} and no deadlock check: 34 distinct, 94 generated, depth 7.
``Decide(rm)`` keeps the spec's disjunction: committing and aborting are two
nondeterministic branches of one action, each a separate successor.
"""

from pyspec.model import ActionInfo, Check, Model
from pyspec.values import MapV

WORKING, PREPARED, COMMITTED, ABORTED = range(4)
NAMES = ("working", "prepared", "committed", "aborted")


class TCommit(Model):
    name = "TCommit"
    variables = ("rmState",)
    check_deadlock = False
    actions = (
        ActionInfo("Prepare", ("rm",)),
        ActionInfo("Decide", ("rm",), doc="Commit if all are prepared, or abort."),
    )

    def __init__(self, rms):
        self.rms = rms
        self.constants = {"RM": rms}
        self.invariants = (
            Check("TCTypeOK", "invariant", fn=lambda s: all(0 <= x <= 3 for x in s)),
            Check(
                "TCConsistent",
                "invariant",
                fn=lambda s: not (ABORTED in s and COMMITTED in s),
            ),
        )

    def initial_states(self):
        return [(WORKING,) * len(self.rms)]

    def successors(self, s):
        out = []
        can_commit = all(x in (PREPARED, COMMITTED) for x in s)
        not_committed = COMMITTED not in s
        for i, rm in enumerate(self.rms):
            x = s[i]
            if x == WORKING:
                out.append((0, (rm,), s[:i] + (PREPARED,) + s[i + 1 :]))
            if x == PREPARED and can_commit:
                out.append((1, (rm,), s[:i] + (COMMITTED,) + s[i + 1 :]))
            if x in (WORKING, PREPARED) and not_committed:
                out.append((1, (rm,), s[:i] + (ABORTED,) + s[i + 1 :]))
        return out

    def describe_state(self, s):
        return {"rmState": MapV(tuple((rm, NAMES[x]) for rm, x in zip(self.rms, s, strict=True)))}


def model(defines, name):
    return TCommit(tuple(f"r{i}" for i in range(1, int(defines.get("RM", "3")) + 1)))
