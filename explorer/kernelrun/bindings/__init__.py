"""One binding per kernel-model scenario: cow.c's anonymous cases in cow.c's order, then
the runner's own scenarios."""

from explorer.kernelrun.bindings.base import Binding, Observation, ScenarioError
from explorer.kernelrun.bindings.collapse import (
    CollapseAfterForkLowerShared,
    CollapseAfterForkShared,
    CollapseAfterForkUpperShared,
    CollapseBeforeFork,
)
from explorer.kernelrun.bindings.cow_basic import BasicCowAfterFork, BasicCowAfterForkMprotect
from explorer.kernelrun.bindings.ro_pins import RoPinForkWrite, RoPinZeropage
from explorer.kernelrun.bindings.rw_pins import RwPinFork, RwPinSwapoutWrite, RwPinWrprotectWrite
from explorer.kernelrun.bindings.vmsplice import (
    VmspliceAfterFork,
    VmspliceAfterForkMprotect,
    VmspliceBeforeFork,
    VmspliceInParentAfterFork,
)

BINDINGS: tuple[type[Binding], ...] = (
    BasicCowAfterFork,
    BasicCowAfterForkMprotect,
    VmspliceAfterFork,
    VmspliceAfterForkMprotect,
    VmspliceBeforeFork,
    VmspliceInParentAfterFork,
    RoPinForkWrite,
    RwPinWrprotectWrite,
    RwPinFork,
    CollapseBeforeFork,
    CollapseAfterForkShared,
    CollapseAfterForkLowerShared,
    CollapseAfterForkUpperShared,
    RwPinSwapoutWrite,
    RoPinZeropage,
)

__all__ = ["BINDINGS", "Binding", "Observation", "ScenarioError"]
