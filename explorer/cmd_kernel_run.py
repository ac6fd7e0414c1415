"""``cowspec kernel-run``: the kernel model's scenarios on the live kernel
(:mod:`explorer.kernelrun`)."""

from explorer.kernelrun.cli import add_arguments, run

NAME = "kernel-run"
HELP = "Run the kernel model's scenarios on this machine's kernel and compare."

__all__ = ["NAME", "HELP", "add_arguments", "run"]
