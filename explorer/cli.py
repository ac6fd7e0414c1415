"""The ``cowspec`` command.

Each subcommand is a module with ``NAME``, ``HELP``, ``add_arguments(parser)`` and
``run(args) -> int``; adding one is adding its module to :data:`SUBCOMMANDS`. ``main``
turns every way a run can end into TLC's exit codes, and keeps Python tracebacks for
genuine bugs of cowspec itself (exit 255; the traceback is printed when
``COWSPEC_DEBUG`` is set). Everything printed passes through
:class:`explorer.textsafe.PrintableStream`, so a spec's control characters and terminal
escape codes are shown, never obeyed. A reader that stops early (``| head``) ends the run
quietly with 141, the status of a process killed by SIGPIPE.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import textwrap
import threading
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import ModuleType
from typing import NoReturn

import graphviz

from explorer import (
    cmd_check,
    cmd_compare,
    cmd_compile,
    cmd_completion,
    cmd_explore,
    cmd_graph,
    cmd_kernel_run,
    cmd_lsp,
    cmd_simulate,
    cmd_sweep,
)
from explorer.cli_common import CommandError
from explorer.textsafe import PrintableStream, printable
from pyspec.errors import ModelConfigError, SpecError
from pyspec.exit_codes import (
    EXIT_BROKEN_PIPE,
    EXIT_INTERNAL,
    EXIT_LIMIT,
    EXIT_MODEL_ERROR,
    TABLE,
)

SUBCOMMANDS: list[ModuleType] = [
    cmd_check,
    cmd_simulate,
    cmd_explore,
    cmd_graph,
    cmd_compare,
    cmd_compile,
    cmd_kernel_run,
    cmd_lsp,
    cmd_completion,
    cmd_sweep,
]

EXIT_CODES = "exit codes (TLC's; see docs/explorer.md):\n" + "\n".join(
    textwrap.fill(text, 80, initial_indent=f"  {code:<5}", subsequent_indent=" " * 7)
    for code, text in TABLE)


def package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version  # here: slow to import

    try:
        return version("cowspec")
    except PackageNotFoundError:
        return "unknown (cowspec is not installed; run `make install`)"


class _Version(argparse.Action):
    """``--version``, reading the package's metadata only when asked: argparse's own
    action needs the text when the parser is built, which cost every run that lookup."""

    def __init__(self, option_strings: list[str], dest: str = argparse.SUPPRESS,
                 help: str = "show program's version number and exit") -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help=help)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: object, option_string: str | None = None) -> NoReturn:
        print(f"cowspec {package_version()}")
        parser.exit()


class _Parser(argparse.ArgumentParser):
    """Usage errors are bad options: exit 151 as TLC, not argparse's 2."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_MODEL_ERROR, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="cowspec",
        description="Check cowspec specs and draw their state spaces.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action=_Version)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in SUBCOMMANDS:
        p = sub.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        module.add_arguments(p)
        # The whole parser goes along: `completion` describes every command from it.
        p.set_defaults(run=module.run, parser=parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help, or a usage error already printed
        return exc.code if isinstance(exc.code, int) else EXIT_MODEL_ERROR
    args.argv = list(sys.argv[1:] if argv is None else argv)  # to print a command again
    stdout = sys.stdout
    sys.stdout = PrintableStream(stdout)
    try:
        with _stop_signals():
            code = _run(args)
        if not stdout.closed:  # the language server closes it when the client exits
            sys.stdout.flush()
        return code
    except BrokenPipeError:
        # Later writes, and the interpreter's own flush at exit, go nowhere.
        os.dup2(os.open(os.devnull, os.O_WRONLY), stdout.fileno())
        return EXIT_BROKEN_PIPE
    finally:
        sys.stdout = stdout


@contextmanager
def _stop_signals() -> Iterator[None]:
    """SIGTERM (CI time-outs, container stops) and SIGHUP (a closed terminal) end a run as
    Ctrl-C does: partial statistics, reports written and marked interrupted, exit 152."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    saved = {sig: signal.signal(sig, signal.default_int_handler)
             for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


def _run(args: argparse.Namespace) -> int:
    """``args.run`` with every way it can fail turned into a message and an exit code."""
    try:
        return int(args.run(args))
    except SpecError as exc:
        print(printable(exc.render()), file=sys.stderr)
        return exc.exit_code
    except ModelConfigError as exc:
        print(printable(exc.render()), file=sys.stderr)
        return exc.exit_code
    except CommandError as exc:
        print(printable(exc.message), file=sys.stderr)
        return exc.exit_code
    except graphviz.ExecutableNotFound:
        print("error: Graphviz's `dot` is not installed; the .dot file was kept", file=sys.stderr)
        return EXIT_MODEL_ERROR
    except BrokenPipeError:
        raise
    except OSError as exc:
        print(printable(f"error: {exc}"), file=sys.stderr)
        return EXIT_MODEL_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_LIMIT
    except Exception as exc:
        where = traceback.extract_tb(exc.__traceback__)[-1]
        print(
            printable(
                f"internal error (a bug in cowspec, please report it): "
                f"{type(exc).__name__}: {exc}\n  at {where.filename}:{where.lineno} in {where.name}"
            ),
            file=sys.stderr,
        )
        if os.environ.get("COWSPEC_DEBUG"):
            traceback.print_exc()
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
