"""``cowspec compile``: the executable Python a spec compiles to, for one model.

The output is what ``cowspec check`` runs: reading it is how a spec author sees exactly
what an action does, line by line, with the spec line each piece comes from. Importing
the file gives ``MODEL``, which the explorer checks like the spec itself.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from explorer.cli_common import CommandError, add_import_arguments, import_policy, parse_defines
from pyspec.exit_codes import EXIT_MODEL_ERROR
from pyspec.loader import load_spec

NAME = "compile"
HELP = "Compile a spec (one model) to plain, readable Python."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("spec", metavar="SPEC", help="the spec file (*.cow)")
    parser.add_argument("-o", "--output", metavar="FILE",
                        help="write the Python module here (default: standard output)")
    parser.add_argument("--model", metavar="M", help="the model whose constants to use")
    parser.add_argument("-D", dest="defines", action="append", metavar="NAME=VALUE",
                        help="override a constant (repeatable)")
    add_import_arguments(parser)


def run(args: argparse.Namespace) -> int:
    if args.spec.endswith(".py"):
        raise CommandError(f"{args.spec} is already Python; compile takes a spec",
                           EXIT_MODEL_ERROR)
    spec = load_spec(args.spec, import_policy(args))
    for warning in spec.warnings:
        print(warning.render(), file=sys.stderr)
    source = spec.compile(args.model, parse_defines(args.defines)).file_source()
    if args.output:
        Path(args.output).write_text(source, encoding="utf-8")
    else:
        sys.stdout.write(source)
    return 0
