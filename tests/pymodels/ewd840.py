"""EWD840 (tlaplus/Examples, ewd840/EWD840.tla): Dijkstra's termination detection on a ring.

TLC with N = 3 and no deadlock check: 302 distinct, 2001 generated, depth 9.
``SendMsg(i)`` chooses its receiver ``j`` with an existential; each choice is a separate
successor, so ``j`` is shown as a second parameter. The guards of ``InitiateProbe`` and
``PassToken`` are disjunctions: TLC generates one successor per true disjunct, and so does
this model.
"""

from itertools import product

from pyspec.model import ActionInfo, Check, Model
from pyspec.values import MapV

WHITE, BLACK = 0, 1
COLORS = ("white", "black")


class EWD840(Model):
    name = "EWD840"
    variables = ("active", "color", "tpos", "tcolor")
    check_deadlock = False
    actions = (
        ActionInfo("InitiateProbe"),
        ActionInfo("PassToken", ("i",)),
        ActionInfo("SendMsg", ("i", "j")),
        ActionInfo("Deactivate", ("i",)),
    )

    def __init__(self, n):
        self.n = n
        self.constants = {"N": n}
        self.invariants = (
            Check("TypeOK", "invariant", fn=lambda s: 0 <= s[2] < n),
            Check("TerminationDetection", "invariant", fn=self.termination_detection),
            Check("Inv", "invariant", fn=self.inv),
        )

    def termination_detection(self, s):
        active, color, tpos, tcolor = s
        detected = tpos == 0 and tcolor == WHITE and color[0] == WHITE and not active[0]
        return not detected or not any(active)

    def inv(self, s):
        active, color, tpos, tcolor = s
        return (
            all(not active[i] for i in range(tpos + 1, self.n))
            or any(color[j] == BLACK for j in range(tpos + 1))
            or tcolor == BLACK
        )

    def initial_states(self):
        n = self.n
        return [
            (active, color, tpos, BLACK)
            for active in product((False, True), repeat=n)
            for color in product((WHITE, BLACK), repeat=n)
            for tpos in range(n)
        ]

    def successors(self, s):
        active, color, tpos, tcolor = s
        n = self.n
        out = []
        if tpos == 0:
            # One successor per true disjunct of the guard, as TLC generates them.
            probe = (active, (WHITE,) + color[1:], n - 1, WHITE)
            out.extend([(0, (), probe)] * ((tcolor == BLACK) + (color[0] == BLACK)))
        else:
            i = tpos
            tc = BLACK if color[i] == BLACK else tcolor
            passed = (active, color[:i] + (WHITE,) + color[i + 1 :], i - 1, tc)
            guards = (not active[i]) + (color[i] == BLACK) + (tcolor == BLACK)
            out.extend([(1, (i,), passed)] * guards)
        for i in range(n):
            if active[i]:
                for j in range(n):
                    if j != i:
                        act = active[:j] + (True,) + active[j + 1 :]
                        col = color[:i] + (BLACK,) + color[i + 1 :] if j > i else color
                        out.append((2, (i, j), (act, col, tpos, tcolor)))
                idle = active[:i] + (False,) + active[i + 1 :]
                out.append((3, (i,), (idle, color, tpos, tcolor)))
        return out

    def describe_state(self, s):
        active, color, tpos, tcolor = s
        return {
            "active": MapV(tuple(enumerate(active))),
            "color": MapV(tuple((i, COLORS[c]) for i, c in enumerate(color))),
            "tpos": tpos,
            "tcolor": COLORS[tcolor],
        }


def model(defines, name):
    return EWD840(int(defines.get("N", "3")))
