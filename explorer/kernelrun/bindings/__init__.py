"""One binding per kernel-model scenario, in the order the brief and the reports use."""

from explorer.kernelrun.bindings.base import Binding, Observation, ScenarioError
from explorer.kernelrun.bindings.ro_pins import RoPinForkWrite, RoPinZeropage
from explorer.kernelrun.bindings.rw_pins import RwPinFork, RwPinSwapoutWrite, RwPinWrprotectWrite
from explorer.kernelrun.bindings.vmsplice import VmspliceAfterFork, VmspliceBeforeFork

BINDINGS: tuple[type[Binding], ...] = (
    VmspliceAfterFork,
    VmspliceBeforeFork,
    RoPinForkWrite,
    RwPinFork,
    RwPinWrprotectWrite,
    RwPinSwapoutWrite,
    RoPinZeropage,
)

__all__ = ["BINDINGS", "Binding", "Observation", "ScenarioError"]
