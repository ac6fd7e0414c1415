"""DieHard (tlaplus/Examples, DieHard/DieHard.tla): measure 4 gallons with a 5 and a 3 gallon jug.

TLC finds NotSolved violated with a 7-state shortest trace. The model ``solve`` expects that
violation (the point of the puzzle), ``witness`` asks for the same state as a ``reachable``
witness, and ``impossible`` for a state that cannot be reached.
"""

from pyspec.model import ActionInfo, Check, Model

MODEL_NAMES = ["puzzle", "solve", "witness", "impossible"]


class DieHard(Model):
    variables = ("big", "small")
    actions = (
        ActionInfo("FillSmallJug"),
        ActionInfo("FillBigJug"),
        ActionInfo("EmptySmallJug"),
        ActionInfo("EmptyBigJug"),
        ActionInfo("SmallToBig"),
        ActionInfo("BigToSmall"),
    )

    def __init__(self, name):
        self.name = name
        type_ok = Check("TypeOK", "invariant", fn=lambda s: 0 <= s[0] <= 5 and 0 <= s[1] <= 3)
        not_solved = Check("NotSolved", "invariant", fn=lambda s: s[0] != 4)
        self.invariants = (type_ok, not_solved) if name in ("puzzle", "solve") else (type_ok,)
        if name == "solve":
            self.expect_violated = frozenset({"NotSolved"})
        if name == "witness":
            self.reachables = (Check("Solved", "reachable", fn=lambda s: s[0] == 4),)
        if name == "impossible":
            self.reachables = (Check("SixGallons", "reachable", fn=lambda s: s[0] == 6),)

    def initial_states(self):
        return [(0, 0)]

    def successors(self, s):
        big, small = s
        to_big = min(big + small, 5)
        to_small = min(big + small, 3)
        return [
            (0, (), (big, 3)),
            (1, (), (5, small)),
            (2, (), (big, 0)),
            (3, (), (0, small)),
            (4, (), (to_big, small - (to_big - big))),
            (5, (), (big - (to_small - small), to_small)),
        ]

    def describe_state(self, s):
        return {"big": s[0], "small": s[1]}


def model(defines, name):
    return DieHard(name or "puzzle")
