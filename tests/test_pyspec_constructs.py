"""Every construct of the language, each in a small spec whose successors or reachable
states are known exactly."""

from __future__ import annotations

from pathlib import Path

from pyspec_testing import explore, model_of, reachable_states, spec_of, successors_in_words

from pyspec.values import MapV, Rec, SetV, TupV, Variant

SWITCH = """
module Switch
var on: bool
init { on = false }
action Toggle { on' = not on }
"""


def test_bool_variable_and_action_without_params(tmp_path: Path) -> None:
    m = model_of(tmp_path, SWITCH)
    assert [m.describe_state(s) for s in m.initial_states()] == [{"on": False}]
    assert successors_in_words(m, m.initial_states()[0]) == [("Toggle", {"on": True})]
    assert explore(m).stats.distinct_states == 2


def test_params_range_over_their_types_and_requires_filters(tmp_path: Path) -> None:
    m = model_of(tmp_path, """
        enum Color { red, green, blue }
        var c: Color, n: 0..3
        init { c = red  n = 0 }
        action Set(x: Color, k: 0..3) {
          requires x != c and k > n
          c' = x
          n' = k
        }
    """)
    words = successors_in_words(m, m.initial_states()[0])
    assert [w[0] for w in words] == [
        f"Set(x={x}, k={k})" for x in ("green", "blue") for k in (1, 2, 3)]
    assert words[0][1] == {"c": "green", "n": 1}


def test_pick_makes_one_successor_per_choice_and_unassigned_vars_keep_values(
        tmp_path: Path) -> None:
    m = model_of(tmp_path, """
        var x: 0..9, y: 0..9
        init { x = 0  y = 7 }
        action Choose {
          pick v in 1..9 where v % 3 == 0
          x' = v
        }
    """)
    words = successors_in_words(m, m.initial_states()[0])
    assert [w[1] for w in words] == [{"x": 3, "y": 7}, {"x": 6, "y": 7}, {"x": 9, "y": 7}]


def test_nondeterministic_init_and_let(tmp_path: Path) -> None:
    m = model_of(tmp_path, """
        var x: 0..20
        init {
          pick a in {1, 2, 3}
          let twice = a * 2
          x = twice
        }
    """)
    assert sorted(m.describe_state(s)["x"] for s in m.initial_states()) == [2, 4, 6]


def test_either_counts_each_true_branch(tmp_path: Path) -> None:
    m = model_of(tmp_path, """
        var x: 0..5
        init { x = 1 }
        action Step {
          requires x < 5
          either { requires x > 0 } or { requires x < 5 } or { requires x == 9 }
          x' = x + 1
        }
        check deadlock off
    """)
    # Two branches are true in state x=1: two (duplicate) successors, as TLC counts them.
    assert len(m.successors(m.initial_states()[0])) == 2
    result = explore(m)
    assert result.error is None
    assert (result.stats.distinct_states, result.stats.total_states) == (5, 1 + 4 * 2)


def test_records_unions_match_and_point_updates(tmp_path: Path) -> None:
    m = model_of(tmp_path, """
        const Frames = {F0, F1}
        record Page { ae: bool, ref: 0..3 }
        union Pte { None, Present(frame: Frames, writable: bool), Swap(slot: 0..1) }
        var pte: Pte
        var page: [Frames -> Page]
        init {
          pte = None
          page = [f in Frames -> Page(ae: false, ref: 0)]
        }
        action Fault(f: Frames) {
          requires pte is None and page[f].ref == 0
          pte' = Present(f, true)
          page'[f] = Page(true, 1)
        }
        action WriteProtect {
          match pte {
            Present(f, w) => {
              requires w
              pte' = Present(frame: f, writable: false)
              page'[f].ae = false
            }
            None | Swap(_) => { requires false }
          }
        }
        action Unmap {
          requires pte is Present
          page'[pte.frame] = page[pte.frame] with {ref: page[pte.frame].ref - 1, ae: false}
          pte' = None
        }
    """)
    states = reachable_states(m)
    none = Variant("None")
    assert states[0] == {"pte": none, "page": MapV((
        ("F0", Rec((("ae", False), ("ref", 0)))), ("F1", Rec((("ae", False), ("ref", 0))))))}
    assert {"pte": Variant("Present", (("frame", "F1"), ("writable", False))),
            "page": MapV((("F0", Rec((("ae", False), ("ref", 0)))),
                          ("F1", Rec((("ae", False), ("ref", 1))))))} in states
    assert len(states) == 5


def test_match_expression_enum_patterns_and_alternatives(tmp_path: Path) -> None:
    m = model_of(tmp_path, """
        enum Kind { GET, PIN, NONE }
        var k: Kind, w: 0..9
        init { k = GET  w = 0 }
        action Weigh {
          w' = match k { GET => 1, PIN => 5, _ => 0 }
          k' = match k { GET | PIN => NONE, NONE => GET }
        }
    """)
    assert reachable_states(m) == [{"k": "GET", "w": 0}, {"k": "NONE", "w": 1}]


def test_for_loop_accumulates_through_the_draft(tmp_path: Path) -> None:
    m = model_of(tmp_path, """
        const Procs = {P0, P1, P2}
        var owner: [Procs -> 0..2]
        var count: [0..2 -> 0..3]
        init {
          owner = [p in Procs -> 0]
          count = [f in 0..2 -> 0]
        }
        action Recount {
          for p in Procs { count'[owner[p]] = count'[owner[p]] + 1 }
        }
    """)
    (_, after), = successors_in_words(m, m.initial_states()[0])
    assert after["count"] == MapV(((0, 3), (1, 0), (2, 0)))


def test_sets_quantifiers_comprehensions_and_builtins(tmp_path: Path) -> None:
    m = model_of(tmp_path, """
        const Procs = {P0, P1, P2}
        var s: set[Procs]
        var n: 0..10
        var m: [Procs -> bool]
        var t: tuple[Procs, 0..3]
        init {
          s = {P0, P2}
          n = 0
          m = [p in Procs -> p in {P1}]
          t = (P0, 0)
        }
        action Compute {
          requires forall p in s: p != P1
          requires exists p in Procs: m[p]
          n' = card(s | {P1}) + card(s & {P2}) + card(Procs - s)
               + (sum p in Procs: if m[p] then 2 else 0) + card({p in Procs where not m[p]})
          s' = {p for p in Procs where p != min(s)}
          t' = (max(s), t[1] + 1)
          m' = m with [P0 -> true]
        }
        check deadlock off
    """)
    (_, after), = successors_in_words(m, m.initial_states()[0])
    assert after["n"] == 3 + 1 + 1 + 2 + 2
    assert after["s"] == SetV(("P1", "P2"))
    assert after["t"] == TupV(("P2", 1))
    assert after["m"] == MapV((("P0", True), ("P1", True), ("P2", False)))


def test_arithmetic_division_modulo_and_comparisons_of_model_values(tmp_path: Path) -> None:
    m = model_of(tmp_path, """
        const Procs = {P0, P1}
        var x: -5..5, b: bool
        init { x = 0  b = false }
        action A {
          x' = -7 / 2 + 7 % 3 + abs(-2)
          b' = P0 < P1 and not (P1 <= P0) and (true implies P0 != P1)
        }
        check deadlock off
    """)
    (_, after), = successors_in_words(m, m.initial_states()[0])
    assert after == {"x": -4 + 1 + 2, "b": True}


def test_if_expression_elif_and_strings_in_views(tmp_path: Path) -> None:
    m = model_of(tmp_path, """
        var x: 0..3
        init { x = 0 }
        action Inc { requires x < 3  x' = x + 1 }
        view Size = if x == 0 then "empty" elif x < 3 then "some" else "full"
        view Tagged = "x=" + (if x > 1 then "big" else "small")
        check deadlock off
    """)
    size = next(v for v in m.views if v.name == "Size")
    labels = [size.fn(s) for s in [(0,), (2,), (3,)]]
    assert labels == [[(None, "empty")], [(None, "some")], [(None, "full")]]
    tagged = next(v for v in m.views if v.name == "Tagged")
    assert tagged.fn((2,)) == [(None, "x=big")]


def test_element_view_labels_each_element(tmp_path: Path) -> None:
    m = model_of(tmp_path, """
        const Frames = {F0, F1}
        var used: [Frames -> bool]
        init { used = [f in Frames -> false] }
        action Use(f: Frames) { requires not used[f]  used'[f] = true }
        view Life(f in Frames) = if used[f] then "used" else "free"
        check deadlock off
    """)
    (view,) = m.views
    assert view.element == "f"
    state = m.successors(m.initial_states()[0])[1][2]
    assert view.fn(state) == [("F0", "free"), ("F1", "used")]


def test_defs_with_and_without_params_and_constant_defs_in_types(tmp_path: Path) -> None:
    m = model_of(tmp_path, """
        const Bias = 2
        def MaxRef = Bias * 2 + 1
        var ref: 0..MaxRef
        init { ref = 0 }
        def pinned(r: int) = r >= Bias
        def room = MaxRef - ref
        action Pin { requires room >= Bias  ref' = ref + Bias }
        invariant Bounded = ref <= MaxRef
        reachable Pinned = pinned(ref)
        check deadlock off
    """)
    result = explore(m)
    assert result.stats.distinct_states == 3
    verdicts = {p.name: p.verdict for p in result.properties}
    assert verdicts["Bounded"] == "holds" and verdicts["Pinned"] == "reachable"


def test_action_property_reads_both_states(tmp_path: Path) -> None:
    m = model_of(tmp_path, """
        var x: 0..3
        init { x = 0 }
        action Up { requires x < 3  x' = x + 1 }
        action Reset { requires x == 3  x' = 0 }
        property NeverDownByOne = x' != x - 1
        property OnlyUp = x' > x
        check deadlock off
    """)
    verdicts = {p.name: p.verdict for p in explore(m, keep_going=True).properties}
    assert verdicts == {"NeverDownByOne": "holds", "OnlyUp": "violated"}


def test_constraint_limits_exploration_but_counts_generated(tmp_path: Path) -> None:
    m = model_of(tmp_path, """
        var x: 0..10
        init { x = 0 }
        action Up { requires x < 10  x' = x + 1 }
        constraint Small = x <= 2
        check deadlock off
    """)
    result = explore(m)
    # x = 3 is generated (and counted) but not stored or explored.
    assert (result.stats.distinct_states, result.stats.total_states) == (3, 4)


def test_models_extend_and_override_constants_and_expectations(tmp_path: Path) -> None:
    spec = spec_of(tmp_path, """
        const N = 2
        const Procs = {P0, P1}
        var x: 0..10
        init { x = 0 }
        action Up(p: Procs) { requires x < N  x' = x + 1 }
        invariant Low = x < 3
        check deadlock off
        model big { const N = 5  expect violated Low }
        model bigger extends big { const Procs = {P0, P1, P2} }
        model fixed extends bigger { const N = 2  expect holds Low  check deadlock on }
    """)
    assert spec.model_names == ["big", "bigger", "fixed"]
    base = spec.instantiate()
    assert base.constants["N"] == 2 and base.expect_violated == frozenset()
    big = spec.instantiate("big")
    assert big.constants["N"] == 5 and big.expect_violated == frozenset({"Low"})
    bigger = spec.instantiate("bigger")
    assert bigger.constants["Procs"] == SetV(("P0", "P1", "P2"))
    assert len(bigger.successors(bigger.initial_states()[0])) == 3
    fixed = spec.instantiate("fixed")
    assert fixed.expect_violated == frozenset() and fixed.check_deadlock
    assert spec.instantiate("big", {"N": "1"}).constants["N"] == 1


def test_scenarios_resolve_steps_and_per_model_expectations(tmp_path: Path) -> None:
    spec = spec_of(tmp_path, """
        const Procs = {P0, P1}
        var x: 0..5
        init { x = 0 }
        action Add(p: Procs, k: 1..2) { requires x + k <= 5  x' = x + k }
        invariant Small = x < 4
        model old { expect violated Small }
        /// Two steps.
        @binding("Demo")
        scenario Climb {
          Add(P0, 2)
          Add(_, 2)
          expect violated Small in old
          expect holds
        }
    """)
    (sc,) = spec.instantiate().scenarios
    assert sc.name == "Climb" and sc.doc == "Two steps." and sc.expect_violated == frozenset()
    assert [s.params for s in sc.steps] == [(0, 2), (None, 2)]
    assert [s.text for s in sc.steps] == ["Add(P0, 2)", "Add(_, 2)"]
    assert sc.tags[0].name == "binding" and sc.tags[0].args == ("Demo",)
    assert spec.instantiate("old").scenarios[0].expect_violated == frozenset({"Small"})


def test_docs_and_annotations_reach_the_model(tmp_path: Path) -> None:
    m = model_of(tmp_path, """
        var x: 0..1
        init { x = 0 }
        /// Write fault on a present read-only PTE.
        /// Second line.
        @kernel("mm/memory.c: do_wp_page") @patch(12) @patch(15)
        action WriteFault { x' = 1 }
        /// Why the kernel needs it.
        invariant Ok = true
        check deadlock off
    """)
    (action,) = m.actions
    assert action.doc == "Write fault on a present read-only PTE.\nSecond line."
    assert [str(t) for t in action.tags] == [
        "@kernel('mm/memory.c: do_wp_page')", "@patch(12)", "@patch(15)"]
    assert m.invariants[0].doc == "Why the kernel needs it."
    assert action.pos is not None and action.pos.line == 6


def test_imports_merge_declarations_once(tmp_path: Path) -> None:
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "types.cow").write_text("enum Kind { GET, PIN }\n")
    (tmp_path / "lib" / "state.cow").write_text(
        'import "types.cow"\nvar k: Kind\ninit { k = GET }\n')
    m = model_of(tmp_path, """
        import "lib/types.cow"
        import "lib/state.cow"
        action Pin { k' = PIN }
        check deadlock off
    """)
    assert explore(m).stats.distinct_states == 2


def test_symmetric_marker_and_command_line_model_values(tmp_path: Path) -> None:
    spec = spec_of(tmp_path, """
        const Procs = symmetric {P0, P1}
        var owner: Procs
        init { owner = P0 }
        action Move(p: Procs) { owner' = p }
    """)
    m = spec.instantiate(None, {"Procs": "{P0, P1, Q7}"})
    assert explore(m, symmetry=False).stats.distinct_states == 3
    assert explore(m).stats.distinct_states == 1  # one orbit: symmetry is on by default
    assert m.describe_params(0, (2,)) == ("Q7",)


def test_union_field_write_and_tuple_index_assignment(tmp_path: Path) -> None:
    m = model_of(tmp_path, """
        union Entry { Empty, Full(count: 0..3, tag: bool) }
        var e: Entry, t: tuple[0..3, bool]
        init { e = Full(0, false)  t = (0, false) }
        action Bump {
          requires e is Full and e.count < 3
          e'.count = e.count + 1
          t'[1] = true
        }
        check deadlock off
    """)
    (_, after), = successors_in_words(m, m.initial_states()[0])
    assert after == {"e": Variant("Full", (("count", 1), ("tag", False))),
                     "t": TupV((0, True))}


def test_constant_defs_may_call_defs_with_parameters(tmp_path: Path) -> None:
    m = model_of(tmp_path, """
        const Patches = {1, 12}
        def patched(n: int) = n in Patches
        def Exclusive = patched(12) and not patched(3)
        def Width = if patched(1) then 3 else 1
        var x: 0..Width, e: bool
        init { x = Width  e = Exclusive }
    """)
    assert [m.describe_state(s) for s in m.initial_states()] == [{"x": 3, "e": True}]


def test_a_set_of_model_values_can_be_given_by_its_size(tmp_path: Path) -> None:
    spec = spec_of(tmp_path, """
        const Frames = {F0, F1}
        const Odd = {left, right}
        var f: Frames, o: Odd
        init {
          pick p in Odd
          f = F0
          o = p
        }
        action Move(g: Frames, p: Odd) { f' = g  o' = p }
    """)
    m = spec.instantiate(None, {"Frames": "4", "Odd": "3"})
    assert m.constants["Frames"] == SetV(("F0", "F1", "F2", "F3"))
    assert m.constants["Odd"] == SetV(("Odd0", "Odd1", "Odd2"))
    assert explore(m).stats.distinct_states == 4 * 3
