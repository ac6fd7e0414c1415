"""HourClock (tlaplus/Examples, SpecifyingSystems/HourClock) as a hand-written model.

TLC: 12 distinct states, 24 generated, depth 1 (every state is initial).
"""

from pyspec.model import ActionInfo, Check, Model


class HourClock(Model):
    name = "HourClock"
    variables = ("hr",)
    actions = (ActionInfo("HCnxt", doc="The hour hand moves on by one."),)
    invariants = (Check("HCini", "invariant", fn=lambda hr: 1 <= hr <= 12),)

    def initial_states(self):
        return list(range(1, 13))

    def successors(self, hr):
        return [(0, (), 1 if hr == 12 else hr + 1)]

    def describe_state(self, hr):
        return {"hr": hr}


def model(defines, name):
    return HourClock()
