"""Small models, each made to exercise one thing the explorer does.

Select one with ``--model NAME`` (``cowspec check tests/pymodels/toys.py --model chain``).
"""

from pyspec.errors import ModelConfigError
from pyspec.model import (
    ActionInfo,
    Check,
    EvalError,
    Model,
    Scenario,
    ScenarioStep,
    SourcePos,
    Tag,
    View,
)
from pyspec.values import MapV

MODEL_NAMES = [
    "chain",
    "coverage",
    "tagged",
    "bounded",
    "bounded-bad",
    "monotone",
    "crash",
    "pages",
    "pages-noshare",
    "scenarios",
    "grid",
    "interrupt",
]


class Toy(Model):
    """A model given as rules: ``(ActionInfo, fn(state) -> [(params, next state)])``."""

    def __init__(self, name, init, rules, describe, **attrs):
        self.name = name
        self._init = init
        self._rules = rules
        self._describe = describe
        self.actions = tuple(info for info, _ in rules)
        for key, value in attrs.items():
            setattr(self, key, value)

    def initial_states(self):
        return list(self._init)

    def successors(self, s):
        return [(a, p, t) for a, (_, fn) in enumerate(self._rules) for p, t in fn(s)]

    def describe_state(self, s):
        return self._describe(s)


def counter(s):
    return {"x": s}


def chain():
    """Counts to 3 and stops: deadlocks in x = 3, after a 4-state trace."""
    inc = (ActionInfo("Inc"), lambda x: [((), x + 1)] if x < 3 else [])
    return Toy("chain", [0], [inc], counter)


WP = Tag("kernel", ("mm/memory.c: do_wp_page",))


def coverage(name="coverage", **attrs):
    """x cycles 0 -> 1 -> 2 -> 0; ``Never`` is never enabled. ``tagged`` adds an
    invariant that the kernel-tagged ``Inc`` breaks."""
    return Toy(
        name,
        [0],
        [
            (
                ActionInfo("Inc", tags=(WP, Tag("patch", (12,)))),
                lambda x: [((), x + 1)] if x < 2 else [],
            ),
            (ActionInfo("Reset", tags=(WP,)), lambda x: [((), 0)] if x == 2 else []),
            (
                ActionInfo("Never", tags=(Tag("kernel", ("mm/gup.c: gup_fast",)),)),
                lambda x: [((), x)] if x > 5 else [],
            ),
            (ActionInfo("Stay"), lambda x: [((), x)]),
        ],
        counter,
        **attrs,
    )


def bounded(bad):
    """An unbounded counter cut by the constraint x <= 5. The successor 6 is generated and
    its invariants checked, but it is not stored."""
    inv = Check("NotSix", "invariant", fn=lambda x: x != 6) if bad else Check(
        "AtMostSix", "invariant", fn=lambda x: x <= 6
    )
    return Toy(
        "bounded-bad" if bad else "bounded",
        [0],
        [(ActionInfo("Inc"), lambda x: [((), x + 1)])],
        counter,
        invariants=(inv,),
        constraints=(Check("Bound", "constraint", fn=lambda x: x <= 5),),
        check_deadlock=False,
    )


def monotone():
    """``Reset`` (from 2 to 0) breaks the action property x' >= x."""
    return Toy(
        "monotone",
        [0],
        [
            (ActionInfo("Inc"), lambda x: [((), x + 1)] if x < 3 else []),
            (ActionInfo("Reset"), lambda x: [((), 0)] if x == 2 else []),
        ],
        counter,
        action_properties=(Check("Monotone", "property", fn=lambda x, y: y >= x),),
        check_deadlock=False,
    )


class Crash(Toy):
    """Divides by zero in x = 2: in an invariant, or (``-D WHERE=step``) in ``Inc``."""

    POS = SourcePos("toys.cow", 7, 12)

    def __init__(self, where):
        def inc(x):
            if where == "step" and x == 2:
                return [((), 1 // (2 - x))]
            return [((), x + 1)] if x < 3 else []

        super().__init__(
            "crash",
            [0],
            [(ActionInfo("Inc"), inc)],
            counter,
            invariants=(Check("Finite", "invariant", fn=self.finite),),
            check_deadlock=False,
        )
        self.where = where

    def finite(self, x):
        return self.where == "step" or 1 // (2 - x) > -10

    def explain_error(self, exc):
        return EvalError("division by zero", self.POS)


STATES = ("Free", "Anon", "Shared")


def pages(share_back):
    """Two pages, each Free -> Anon -> Shared -> Anon -> Free. Both pages shared at once
    violates ``NotBothShared``, which this model expects. ``pages-noshare`` has no way
    back from Shared (no ``Unshare``), for comparisons."""

    def move(frm, to):
        return lambda s: [
            ((p,), s[:p] + (to,) + s[p + 1 :]) for p in range(len(s)) if s[p] == frm
        ]

    rules = [
        (ActionInfo("Map", ("p",)), move(0, 1)),
        (ActionInfo("Share", ("p",)), move(1, 2)),
        (ActionInfo("Release", ("p",)), move(1, 0)),
    ]
    if share_back:
        rules.append((ActionInfo("Unshare", ("p",)), move(2, 1)))
    return Toy(
        "pages" if share_back else "pages-noshare",
        [(0, 0)],
        rules,
        lambda s: {"page": MapV(tuple((f"P{p}", STATES[x]) for p, x in enumerate(s)))},
        invariants=(Check("NotBothShared", "invariant", fn=lambda s: s != (2, 2)),),
        expect_violated=frozenset({"NotBothShared"}),
        check_deadlock=False,
        views=(
            View("page", lambda s: [(f"P{p}", STATES[x]) for p, x in enumerate(s)], "page"),
            View("shared", lambda s: [(None, f"{s.count(2)} shared")]),
        ),
    )


def scenarios():
    """``Add(d)`` adds 1 or 2 while x < 4; ``Bump`` adds 1 or 3 (a choice inside the
    step); ``Small`` (x < 5) fails once x reaches 5, which the model expects."""
    add, bump = 0, 1

    def step(action, *params):
        return ScenarioStep(action, params)

    return Toy(
        "scenarios",
        [0],
        [
            (ActionInfo("Add", ("d",)), lambda x: [((d,), x + d) for d in (1, 2)] if x < 4 else []),
            (ActionInfo("Bump"), lambda x: [((), x + 1), ((), x + 3)] if x < 4 else []),
        ],
        counter,
        invariants=(Check("Small", "invariant", fn=lambda x: x < 5),),
        expect_violated=frozenset({"Small"}),
        check_deadlock=False,
        scenarios=(
            Scenario("ok", (step(add, 1), step(add, 2))),
            Scenario("bump-bad", (step(add, 2), step(bump)), frozenset({"Small"})),
            Scenario("bump-unexpected", (step(add, 2), step(bump))),
            Scenario("missing", (step(add, 1),), frozenset({"Small"})),
            Scenario("stuck", (step(add, 2), step(add, 2), step(add, 1))),
            Scenario("any", (step(add, None), step(add, None))),
        ),
    )


def grid(size):
    """A torus of size x size states: big enough to hit every limit."""
    return Toy(
        "grid",
        [(0, 0)],
        [
            (ActionInfo("Right"), lambda s: [((), ((s[0] + 1) % size, s[1]))]),
            (ActionInfo("Up"), lambda s: [((), (s[0], (s[1] + 1) % size))]),
        ],
        lambda s: {"x": s[0], "y": s[1]},
    )


def interrupt():
    """Ctrl-C arrives while x = 50 is being explored."""

    def inc(x):
        if x == 50:
            raise KeyboardInterrupt
        return [((), x + 1)]

    return Toy("interrupt", [0], [(ActionInfo("Inc"), inc)], counter)


def model(defines, name):
    builders = {
        "chain": chain,
        "coverage": coverage,
        "tagged": lambda: coverage(
            "tagged", invariants=(Check("NotTwo", "invariant", fn=lambda x: x != 2),)
        ),
        "bounded": lambda: bounded(False),
        "bounded-bad": lambda: bounded(True),
        "monotone": monotone,
        "crash": lambda: Crash(defines.get("WHERE", "invariant")),
        "pages": lambda: pages(True),
        "pages-noshare": lambda: pages(False),
        "scenarios": scenarios,
        "grid": lambda: grid(int(defines.get("SIZE", "200"))),
        "interrupt": interrupt,
    }
    if name is None:
        raise ModelConfigError("toys.py holds several models: pick one with --model")
    return builders[name]()
