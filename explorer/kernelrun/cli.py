"""``cowspec kernel-run``: command-line front end of the kernel runner.

explorer/cli.py wires the subcommand by calling :func:`add_arguments` on its subparser
and :func:`run` with the parsed arguments; ``python -m explorer.kernelrun`` uses
:func:`main`. Exit codes: 0 no row DISAGREE or error; 1 some row DISAGREE or error;
2 bad usage or a broken environment (unknown scenario, unreadable predictions, --setup
without root, a failed setup/restore, /proc unreadable); 130 / 143 interrupted by
SIGINT / SIGTERM (after reaping children and restoring the machine).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import platform
import signal
import sys
import time
from collections.abc import Iterator

from explorer.kernelrun import conformance, facilities, predict, report, runner, variants
from explorer.kernelrun.children import reap_all
from explorer.kernelrun.lock import SetupLock
from explorer.kernelrun.machine_setup import MachineSetup, SetupError
from explorer.kernelrun.runner import KINDS

EXIT_USAGE = 2


class Interrupted(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised like Ctrl-C so every ``finally`` restores and reaps."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add kernel-run's arguments to ``parser`` (a subparser of ``cowspec``)."""
    parser.description = (
        "Run cow.c's anonymous cases (and the kernel model's other scenarios) on the live "
        "kernel over every memory variant it offers, and compare with the prediction of "
        "the kernel model of the running release.")
    parser.epilog = (
        "exit codes: 0 no row DISAGREE or error; 1 some row DISAGREE or error; 2 bad usage "
        "or environment (unknown scenario, bad predictions file, --setup without root, "
        "setup/restore failure); 128+N interrupted by signal N (machine restored).")
    parser.add_argument("scenarios", nargs="*", metavar="SCENARIO",
                        help="binding names (all kinds) or model scenario names such as "
                             "VmspliceAfterForkThp; default: all")
    parser.add_argument("--kind", action="append", default=[], choices=KINDS,
                        help="run only this memory family, at every size (repeatable)")
    parser.add_argument("--model", metavar="NAME",
                        help="compare with this kernel model (default: the one for the "
                             "running release: linux-6.x for 6.x, linux-5.19 for 5.19, ...)")
    parser.add_argument("--repeat", type=int, default=1, metavar="N",
                        help="run every row N times and report how many showed the "
                             "violation (a row whose runs differ is 'flaky')")
    parser.add_argument("--setup", action="store_true",
                        help="(root) enable a temporary swap file and reserve huge pages "
                             "for the run; restored afterwards, also when interrupted")
    parser.add_argument("--json", metavar="FILE", help="write one JSON row per scenario "
                                                       "and kind to FILE")
    parser.add_argument("--tap", action="store_true",
                        help="print TAP 13 (kernel selftest format) instead of the table")
    parser.add_argument("--conformance-doc", metavar="FILE",
                        help="write the Markdown conformance record (docs/conformance.md)")
    parser.add_argument("--predictions", metavar="FILE",
                        help="compare with a saved JSON mapping {model scenario: [violated "
                             "property, ...]} instead of running the model")


def _raise_interrupted(signum: int, frame: object) -> None:
    raise Interrupted(signum)


@contextlib.contextmanager
def _signals_raise() -> Iterator[None]:
    """While active, SIGTERM and SIGHUP unwind the stack like Ctrl-C does."""
    old = {s: signal.signal(s, _raise_interrupted) for s in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)


def _predictions(args: argparse.Namespace, selection: list[tuple[type, str]],
                 model: str) -> tuple[dict[str, frozenset[str]], str]:
    """What ``model`` predicts; without predictions nothing would be compared and a CI
    job would pass on zero comparisons, so their absence is an error (exit 2)."""
    names = runner.scenario_names(selection)
    if args.predictions:
        return predict.load_predictions(args.predictions), f"saved mapping {args.predictions}"
    try:
        return (predict.model_predictions(names, model),
                f"kernel model {model} (spec/kernel)")
    except predict.PredictionsUnavailable as e:
        raise predict.PredictionsUnavailable(
            f"no predictions to compare with: {e} (give --predictions FILE)") from e


def _progress(row: runner.Row) -> None:
    if sys.stderr.isatty():
        print(f"  {row.binding:<26} {row.variant:<22} {row.result}", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    """Carry out ``cowspec kernel-run`` for parsed ``args``; returns the exit code."""
    if args.repeat < 1:
        print("cowspec kernel-run: --repeat must be at least 1", file=sys.stderr)
        return EXIT_USAGE
    model = args.model or predict.model_for_release(platform.release())
    try:
        selection = runner.plan(args.scenarios, args.kind)
        predictions, source = _predictions(args, selection, model)
    except (runner.SelectionError, predict.PredictionsUnavailable) as e:
        print(f"cowspec kernel-run: {e}", file=sys.stderr)
        return EXIT_USAGE
    setup = MachineSetup() if args.setup else None
    start = time.monotonic()
    try:
        with _signals_raise(), contextlib.ExitStack() as stack:
            stack.callback(reap_all)
            if setup is not None:
                stack.enter_context(SetupLock())
                stack.enter_context(setup)
            facs = facilities.probe()
            stack.callback(facs.close)
            rows = runner.run(selection, variants.detect(), facs, predictions, model,
                              args.repeat, prepare=setup.prepare if setup else None,
                              on_row=_progress)
    except (SetupError, OSError) as e:
        print(f"cowspec kernel-run: {e}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt as e:
        signum = e.signum if isinstance(e, Interrupted) else signal.SIGINT
        print(f"cowspec kernel-run: interrupted ({signal.Signals(signum).name}); children "
              "reaped" + (", machine restored" if setup else ""), file=sys.stderr)
        return 128 + signum
    info = report.RunInfo(
        release=facs.release, machine=facs.machine,
        date=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        model=model, setup=setup is not None, predictions=source,
        facilities=tuple(facs.items.values()),
        setup_notes=tuple(setup.notes) if setup else (),
        elapsed_s=time.monotonic() - start)
    print(report.to_tap(rows, info) if args.tap else report.table(rows, info), end="")
    try:
        if args.json:
            _write(args.json, report.to_json(rows, info))
        if args.conformance_doc:
            _write(args.conformance_doc, conformance.render(rows, info, _command(args)))
    except OSError as e:
        print(f"cowspec kernel-run: cannot write {e.filename}: {e.strerror}", file=sys.stderr)
        return EXIT_USAGE
    return runner.exit_code(rows)


def _write(path: str, text: str) -> None:
    with open(path, "w") as f:
        f.write(text)


def _command(args: argparse.Namespace) -> str:
    """The command line that regenerates the conformance document."""
    parts = ["cowspec kernel-run", *args.scenarios]
    parts += [f"--kind {k}" for k in args.kind]
    if args.model:
        parts.append(f"--model {args.model}")
    if args.repeat != 1:
        parts.append(f"--repeat {args.repeat}")
    if args.setup:
        parts.append("--setup")
    if args.predictions:
        parts.append(f"--predictions {args.predictions}")
    parts.append(f"--conformance-doc {args.conformance_doc}")
    return " ".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m explorer.kernelrun")
    add_arguments(parser)
    return run(parser.parse_args(argv))
