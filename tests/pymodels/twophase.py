"""TwoPhase (tlaplus/Examples, transaction_commit/TwoPhase.tla) as a hand-written model.

TLC with RM = {r1, r2, r3}: 288 distinct, 1146 generated, depth 11. ``-D RM=5`` gives
Stateright's 8,832. States are tuples of small ints and bit masks, as a compiled spec's
would be, so that the model is fast enough to measure the engine.
"""

from pyspec.model import ActionInfo, Check, Model
from pyspec.values import MapV, Rec, SetV

WORKING, PREPARED, COMMITTED, ABORTED = range(4)
RM_STATES = ("working", "prepared", "committed", "aborted")
TM_STATES = ("init", "committed", "aborted")


class TwoPhase(Model):
    name = "TwoPhase"
    variables = ("rmState", "tmState", "tmPrepared", "msgs")
    actions = (
        ActionInfo("TMCommit", doc="The TM commits: every RM has prepared."),
        ActionInfo("TMAbort", doc="The TM spontaneously aborts."),
        ActionInfo("TMRcvPrepared", ("rm",)),
        ActionInfo("RMPrepare", ("rm",)),
        ActionInfo("RMChooseToAbort", ("rm",)),
        ActionInfo("RMRcvCommitMsg", ("rm",)),
        ActionInfo("RMRcvAbortMsg", ("rm",)),
    )

    def __init__(self, rms):
        n = len(rms)
        self.rms = rms
        self.constants = {"RM": SetV(rms)}
        self.all_prepared = (1 << n) - 1
        self.commit_msg = 1 << n
        self.abort_msg = 1 << (n + 1)
        self.invariants = (
            Check("TPTypeOK", "invariant", fn=self.type_ok),
            Check(
                "TCConsistent",
                "invariant",
                fn=lambda s: not (ABORTED in s[0] and COMMITTED in s[0]),
            ),
        )

    def type_ok(self, s):
        rm, tm, prepared, msgs = s
        return (
            all(0 <= x <= 3 for x in rm)
            and 0 <= tm <= 2
            and prepared <= self.all_prepared
            and msgs < (self.abort_msg << 1)
        )

    def initial_states(self):
        return [((WORKING,) * len(self.rms), 0, 0, 0)]

    def successors(self, s):
        rm, tm, prepared, msgs = s
        out = []
        if tm == 0:
            if prepared == self.all_prepared:
                out.append((0, (), (rm, 1, prepared, msgs | self.commit_msg)))
            out.append((1, (), (rm, 2, prepared, msgs | self.abort_msg)))
        commit = msgs & self.commit_msg
        abort = msgs & self.abort_msg
        for i, name in enumerate(self.rms):
            bit = 1 << i
            p = (name,)
            if tm == 0 and msgs & bit:
                out.append((2, p, (rm, tm, prepared | bit, msgs)))
            if rm[i] == WORKING:
                out.append((3, p, (rm[:i] + (PREPARED,) + rm[i + 1 :], tm, prepared, msgs | bit)))
                out.append((4, p, (rm[:i] + (ABORTED,) + rm[i + 1 :], tm, prepared, msgs)))
            if commit:
                out.append((5, p, (rm[:i] + (COMMITTED,) + rm[i + 1 :], tm, prepared, msgs)))
            if abort:
                out.append((6, p, (rm[:i] + (ABORTED,) + rm[i + 1 :], tm, prepared, msgs)))
        return out

    def describe_state(self, s):
        rm, tm, prepared, msgs = s
        sent = [
            Rec((("type", "Prepared"), ("rm", r)))
            for i, r in enumerate(self.rms)
            if msgs >> i & 1
        ]
        if msgs & self.commit_msg:
            sent.append(Rec((("type", "Commit"),)))
        if msgs & self.abort_msg:
            sent.append(Rec((("type", "Abort"),)))
        return {
            "rmState": MapV(tuple((r, RM_STATES[x]) for r, x in zip(self.rms, rm, strict=True))),
            "tmState": TM_STATES[tm],
            "tmPrepared": SetV(tuple(r for i, r in enumerate(self.rms) if prepared >> i & 1)),
            "msgs": SetV(tuple(sent)),
        }


def model(defines, name):
    return TwoPhase(tuple(f"r{i}" for i in range(1, int(defines.get("RM", "3")) + 1)))
