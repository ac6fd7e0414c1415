"""What a search finds: violations, witnesses, verdicts and coverage.

Every engine records its findings here, in the order the scalar engine meets them, so
that the first finding of each property is its shortest trace and the rules (a
violation stops the search unless it keeps going; a found witness is not looked for
again) live in one place. Where a finding hangs off the engine's store (its *anchor*)
is the engine's business: :meth:`Findings.verdicts` asks the engine for the trace of
each anchor.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

import numpy as np

from explorer.result import (
    ActionCoverage,
    Coverage,
    PropertyKind,
    PropertyVerdict,
    TagCoverage,
    Trace,
    Verdict,
)
from pyspec.model import ActionInfo, Check, Model

Anchor = TypeVar("Anchor")

#: Per kind: the verdict when a state was found, when none was, and the "bad" verdict.
OUTCOMES: dict[PropertyKind, tuple[Verdict, Verdict, Verdict]] = {
    "invariant": ("violated", "holds", "violated"),
    "property": ("violated", "holds", "violated"),
    "deadlock": ("violated", "holds", "violated"),
    "reachable": ("reachable", "unreachable", "unreachable"),
}


def opposite(bad: Verdict) -> Verdict:
    return "reachable" if bad == "unreachable" else "holds"


class Findings(Generic[Anchor]):
    """The first finding of each property and the checks still worth evaluating.

    ``live_invariants``, ``live_properties`` and ``live_reachables`` list ``(index,
    check function)`` of what has not been found yet; engines evaluate only those.
    """

    def __init__(self, model: Model, keep_going: bool, check_deadlock: bool) -> None:
        self.model = model
        self.keep_going = keep_going
        self.check_deadlock = check_deadlock
        #: First violation (or witness) of each (kind, index), in BFS order: the shortest.
        self.found: dict[tuple[PropertyKind, int], Anchor] = {}
        self.live_invariants = list(enumerate(c.fn for c in model.invariants))
        self.live_properties = list(enumerate(c.fn for c in model.action_properties))
        self.live_reachables = list(enumerate(c.fn for c in model.reachables))

    def record(self, kind: PropertyKind, index: int, anchor: Anchor) -> bool:
        """Record a violation or a witness; True when the search must stop here."""
        if kind == "reachable":
            self.found.setdefault((kind, index), anchor)
            self.live_reachables = [x for x in self.live_reachables if x[0] != index]
            return False
        self.found.setdefault((kind, index), anchor)
        if kind == "invariant":
            self.live_invariants = [x for x in self.live_invariants if x[0] != index]
        elif kind == "property":
            self.live_properties = [x for x in self.live_properties if x[0] != index]
        return not self.keep_going

    def verdicts(self, complete: bool,
                 trace_of: Callable[[Anchor], Trace | None]) -> list[PropertyVerdict]:
        """Every property's verdict, with the trace of its finding."""
        m = self.model
        out: list[PropertyVerdict] = []
        groups: list[tuple[PropertyKind, tuple[Check | None, ...]]] = [
            ("invariant", m.invariants),
            ("property", m.action_properties),
            ("deadlock", (None,) if self.check_deadlock else ()),
            ("reachable", m.reachables),
        ]
        for kind, checks in groups:
            found, missing, bad = OUTCOMES[kind]
            for k, c in enumerate(checks):
                name = c.name if c is not None else "deadlock"
                key = (kind, k)
                anchor_found = key in self.found
                out.append(
                    PropertyVerdict(
                        name=name,
                        kind=kind,
                        verdict=found if anchor_found else missing if complete else "unknown",
                        expected=bad if name in m.expect_violated else opposite(bad),
                        trace=trace_of(self.found[key]) if anchor_found else None,
                        doc=c.doc if c is not None else "",
                        tags=c.tags if c is not None else (),
                        pos=c.pos if c is not None else None,
                    )
                )
        return out


def primary_tags(action: ActionInfo) -> list[tuple[str, str]]:
    """``(tag name, first argument)`` of the first tag of each name the action carries:
    the group it is counted in (an action tagged with several kernel functions counts
    under the first, the one it models)."""
    out: dict[str, str] = {}
    for t in action.tags:
        if t.args and t.name not in out:
            out[t.name] = str(t.args[0])
    return list(out.items())


def tag_groups(actions: tuple[ActionInfo, ...]) -> list[tuple[str, str]]:
    """Every group coverage is also counted by, sorted: ``(tag name, first argument)``
    of the actions' primary tags (``@kernel("mm/memory.c: do_wp_page")``, ``@patch(3)``)."""
    return sorted({g for a in actions for g in primary_tags(a)})


class CoverageCounts:
    """Per action and per tag group: explored states it fired from (``enabled``),
    successors it generated (``fired``), distinct states it found first (``new``)."""

    def __init__(self, actions: tuple[ActionInfo, ...]) -> None:
        self.actions = actions
        n = len(actions)
        self.enabled = [0] * n
        self.fired = [0] * n
        self.new = [0] * n
        self.groups = tag_groups(actions)
        #: Per action, the indexes of the groups it belongs to.
        index = {g: i for i, g in enumerate(self.groups)}
        self.groups_of: list[tuple[int, ...]] = [
            tuple(sorted(index[g] for g in primary_tags(a))) for a in actions
        ]
        self.group_enabled = [0] * len(self.groups)

    def add(self, other: CoverageCounts) -> None:
        """Add another share's counts (a worker's)."""
        for a in range(len(self.fired)):
            self.fired[a] += other.fired[a]
            self.enabled[a] += other.enabled[a]
            self.new[a] += other.new[a]
        for g in range(len(self.group_enabled)):
            self.group_enabled[g] += other.group_enabled[g]

    def count_new(self, acts: np.ndarray) -> None:
        """A batch's new states, by the action that found each."""
        per = np.bincount(acts.astype(np.int64), minlength=len(self.new))
        for a in range(len(self.new)):
            self.new[a] += int(per[a])

    def cover_batch(self, rows: np.ndarray, acts: np.ndarray, nrows: int) -> None:
        """A batch's transitions (parent row, action), in any order."""
        if not len(rows):
            return
        n_actions = len(self.enabled)
        fired = np.bincount(acts.astype(np.int64), minlength=n_actions)
        took = np.zeros((nrows, n_actions), dtype=bool)
        took[rows, acts] = True
        enabled = took.sum(axis=0)
        for a in range(n_actions):
            self.fired[a] += int(fired[a])
            self.enabled[a] += int(enabled[a])
        if self.groups:
            member = np.zeros((n_actions, len(self.groups)), dtype=np.int32)
            for a, gs in enumerate(self.groups_of):
                member[a, list(gs)] = 1
            per = (took.astype(np.int32) @ member > 0).sum(axis=0)
            for g in range(len(self.groups)):
                self.group_enabled[g] += int(per[g])

    def coverage(self) -> Coverage:
        acts = self.actions
        actions = [
            ActionCoverage(a.name, a.tags, self.enabled[i], self.fired[i], self.new[i])
            for i, a in enumerate(acts)
        ]
        groups = []
        for g, (name, value) in enumerate(self.groups):
            members = [i for i, gs in enumerate(self.groups_of) if g in gs]
            groups.append(
                TagCoverage(
                    tag=name,
                    value=value,
                    actions=tuple(acts[i].name for i in members),
                    enabled=self.group_enabled[g],
                    fired=sum(self.fired[i] for i in members),
                    new=sum(self.new[i] for i in members),
                )
            )
        return Coverage(actions=actions, tags=groups)
