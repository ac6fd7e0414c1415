"""Action forms of temporal properties (``step A``: TLA+'s ``<<A>>_vars``): each form's
verdicts and lassos, steps per parameter binding, TLA+'s steps as pairs of states, and
the errors of a ``step`` that names no action or the wrong arguments."""

from __future__ import annotations

from pyspec_testing import errors_of, explore, model_of

TURNS = """
var turn: 0..2
init { turn = 0 }
action Step(i: 0..2) { requires i != turn  turn' = i }
action Stay { turn' = turn }
property Moves = always eventually step Step
property EachTurn = forall i in 0..2: always eventually step Step(i)
property Settles = eventually always step Stay
property OnlyStep = always step Step
property Some = eventually step Step(1), Stay
property OneThenTwo = turn == 1 leads_to step Step(2)
fair weak Step
"""


def results(text: str, tmp_path, **options):
    result = explore(model_of(tmp_path, text), **options)
    return {p.name: p for p in result.properties if p.kind == "temporal"}


def shape(p) -> tuple:
    """(verdict, loop, states shown, labels into each state and back)."""
    if p.trace is None:
        return (p.verdict,)
    labels = [s.label for s in p.trace.steps[1:]] + [p.trace.back.label]
    return p.verdict, p.trace.loop, len(p.trace.steps), labels


def test_every_action_form_under_weak_fairness(tmp_path) -> None:
    got = {name: shape(p) for name, p in results(TURNS, tmp_path).items()}
    assert got == {
        "Moves": ("holds",),
        # Turn 0 is left for good: 1 and 2 alternate, Step(0) never comes.
        "EachTurn": ("violated", 1, 3, ["Step(i=1)", "Step(i=2)", "Step(i=1)"]),
        # Stay never changes the state, so WF Step keeps making other steps.
        "Settles": ("violated", 0, 2, ["Step(i=2)", "Step(i=0)"]),
        "OnlyStep": ("holds",),
        "Some": ("violated", 0, 2, ["Step(i=2)", "Step(i=0)"]),
        # 0 and 1 alternate: turn 1 again and again, Step(2) never.
        "OneThenTwo": ("violated", 0, 2, ["Step(i=1)", "Step(i=0)"]),
    }
    assert results(TURNS, tmp_path)["EachTurn"].why[0].text == \
        "always eventually step: from some point on no step of Step(i=0) is taken"


def test_without_fairness_a_step_form_stutters(tmp_path) -> None:
    got = results(TURNS.replace("fair weak Step\n", ""), tmp_path)
    assert shape(got["Moves"]) == ("violated", 0, 1, ["stuttering"])
    assert shape(got["OnlyStep"]) == ("holds",)


def test_always_step_fails_on_the_first_other_step(tmp_path) -> None:
    text = """
    var x: 0..2
    var done: bool
    init { x = 0  done = false }
    action Up { requires x < 2  x' = x + 1 }
    action Finish { requires x == 2  done' = true }
    property OnlyUp = always step Up
    """
    got = results(text, tmp_path)
    # Up, Up, then Finish changes the state: the rest may stutter.
    assert shape(got["OnlyUp"]) == ("violated", 3, 4, ["Up", "Up", "Finish", "stuttering"])
    # Home's move 1 -> 0 is also Step(0)'s: a step of Step, so OnlyStep holds.
    home = TURNS.replace("action Stay { turn' = turn }",
                         "action Stay { turn' = turn }\naction Home { turn' = 0 }")
    assert shape(results(home, tmp_path)["OnlyStep"]) == ("holds",)


def test_a_step_is_a_pair_of_states(tmp_path) -> None:
    """Two actions that make the same move: the move is a step of each (TLA+'s steps
    are pairs of states), so always eventually step Left holds though only Right is
    fair."""
    text = """
    var x: 0..1
    init { x = 0 }
    action Right { x' = 1 - x }
    action Left { x' = 1 - x }
    property LeftAgain = always eventually step Left
    fair weak Right
    """
    assert shape(results(text, tmp_path)["LeftAgain"]) == ("holds",)


def test_numpy_engine_gives_the_same_answers(tmp_path) -> None:
    scalar = results(TURNS, tmp_path, backend="scalar")
    numpy = results(TURNS, tmp_path, backend="numpy")
    assert {n: (p.verdict, p.trace) for n, p in numpy.items()} == \
        {n: (p.verdict, p.trace) for n, p in scalar.items()}


def test_step_errors(tmp_path) -> None:
    errors = errors_of(tmp_path, """
        var x: 0..1
        init { x = 0 }
        action Flip(v: 0..1) { x' = v }
        property A = always eventually step Flop
        property B = eventually step Flip(0, 1)
        property C = eventually step Flip(x)
        property D = eventually step Flip(true)
    """)
    assert [(e.code, e.pos.line, e.pos.col) for e in errors] == [
        ("E433", 4, 37), ("E433", 5, 30), ("E303", 6, 35), ("E104", 7, 35)]


def test_step_only_inside_always_eventually_or_leads_to(tmp_path) -> None:
    errors = errors_of(tmp_path, """
        var x: 0..1
        init { x = 0 }
        action Flip { x' = 1 - x }
        property A = step Flip leads_to x == 1
    """)
    assert errors and errors[0].pos.line == 4


def test_a_limit_leaves_every_step_form_unknown(tmp_path) -> None:
    got = results(TURNS, tmp_path, max_states=2)
    assert {n: p.verdict for n, p in got.items()} == dict.fromkeys(
        ["Moves", "EachTurn", "Settles", "OnlyStep", "Some", "OneThenTwo"], "unknown")
