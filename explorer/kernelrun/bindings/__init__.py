"""One binding per kernel-model scenario: cow.c's anonymous cases in cow.c's order, then
the runner's own scenarios."""

from explorer.kernelrun.bindings.base import Binding, Observation, ScenarioError
from explorer.kernelrun.bindings.cow_basic import CowAfterFork, CowAfterForkMprotect
from explorer.kernelrun.bindings.ro_pins import RoPinForkWrite, RoPinZeropage
from explorer.kernelrun.bindings.rw_pins import RwPinFork, RwPinSwapoutWrite, RwPinWrprotectWrite
from explorer.kernelrun.bindings.vmsplice import (
    VmspliceAfterFork,
    VmspliceAfterForkMprotect,
    VmspliceBeforeFork,
    VmspliceInParent,
)

BINDINGS: tuple[type[Binding], ...] = (
    CowAfterFork,
    CowAfterForkMprotect,
    VmspliceAfterFork,
    VmspliceAfterForkMprotect,
    VmspliceBeforeFork,
    VmspliceInParent,
    RoPinForkWrite,
    RwPinWrprotectWrite,
    RwPinFork,
    RwPinSwapoutWrite,
    RoPinZeropage,
)

__all__ = ["BINDINGS", "Binding", "Observation", "ScenarioError"]
