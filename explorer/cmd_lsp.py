"""``cowspec lsp``: the language server for editors, on stdin/stdout
(:mod:`explorer.lsp_server`; needs the optional extra ``cowspec[lsp]``)."""

from __future__ import annotations

import argparse

from explorer.cli_common import CommandError
from pyspec.exit_codes import EXIT_MODEL_ERROR

NAME = "lsp"
HELP = "run the language server (LSP on stdin/stdout) for editors"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--stdio", action="store_true", help="speak on stdin/stdout (the only mode)")


def run(args: argparse.Namespace) -> int:
    try:
        from explorer.lsp_server import serve
    except ImportError as exc:
        raise CommandError(
            f"error: the language server needs pygls ({exc}): pip install 'cowspec[lsp]'",
            EXIT_MODEL_ERROR,
        ) from None
    serve()
    return 0
