"""``cowspec completion SHELL``: a shell completion script for every command and option.

The script is generated from the argument parser by shtab (the optional extra
``cowspec[completion]``), so it can never fall behind the options.
"""

from __future__ import annotations

import argparse

from explorer.cli_common import CommandError
from pyspec.exit_codes import EXIT_MODEL_ERROR

NAME = "completion"
HELP = "print a shell completion script (bash: eval \"$(cowspec completion bash)\")"

SHELLS = ("bash", "zsh", "tcsh")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("shell", choices=SHELLS, help="the shell to complete in")


def run(args: argparse.Namespace) -> int:
    try:
        import shtab
    except ImportError:
        raise CommandError(
            "error: completion needs shtab: pip install 'cowspec[completion]'", EXIT_MODEL_ERROR
        ) from None
    print(shtab.complete(args.parser, shell=args.shell))
    return 0
