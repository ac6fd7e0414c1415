"""``cowspec sweep``: one model checked at a range of bounds (``-D MaxRefs=1..3``), to see
what a wider bound costs (states, seconds) and which verdicts it changes.

One ``-D`` gives a range ``NAME=LO..HI`` of integers (an int constant, or a set of model
values by its size); the others fix constants as in ``cowspec check``. A bound the spec
refuses (exit 151: outside a constant's declared range) is a row of its own, and the
sweep goes on with the next bound.
"""

from __future__ import annotations

import argparse
import re

from explorer.cli_common import (
    add_search_arguments,
    add_spec_arguments,
    load,
    parse_defines,
    search_options,
)
from explorer.judge import combine
from explorer.result import Result
from explorer.run import run_model
from pyspec.errors import EXIT_MODEL_ERROR, ModelConfigError

NAME = "sweep"
HELP = "check one model at a range of bounds: states, time and verdict changes per bound"

_RANGE = re.compile(r"^\s*(\d+)\s*\.\.\s*(\d+)\s*$")


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_spec_arguments(p)
    p.add_argument("--model", metavar="M", help="the model (default: the spec's default)")
    p.add_argument("--no-scenarios", action="store_true", help="skip the scenarios")
    add_search_arguments(p)


def swept(defines: dict[str, str]) -> tuple[str, list[int]]:
    """The one constant given a range ``LO..HI``, and its values."""
    ranges = {name: m for name, text in defines.items() if (m := _RANGE.match(text))}
    if len(ranges) != 1:
        raise ModelConfigError("sweep wants exactly one -D NAME=LO..HI (integers), "
                               f"got {len(ranges)}")
    (name, m), = ranges.items()
    lo, hi = int(m.group(1)), int(m.group(2))
    if lo > hi:
        raise ModelConfigError(f"-D {name}={lo}..{hi}: an empty range")
    return name, list(range(lo, hi + 1))


def verdicts(r: Result) -> dict[str, str]:
    out = {p.name: p.verdict for p in r.properties}
    out.update({f"scenario {s.name}": "violates " + ", ".join(s.violated) if s.violated
                else "holds" for s in r.scenarios})
    return out


def changes(before: dict[str, str], after: dict[str, str]) -> str:
    """The verdicts that differ between two bounds, ``name: old -> new``."""
    diff = [f"{k}: {before.get(k, '-')} -> {after.get(k, '-')}"
            for k in sorted(set(before) | set(after)) if before.get(k) != after.get(k)]
    return "; ".join(diff) or "none"


def run(args: argparse.Namespace) -> int:
    spec = load(args.spec)
    defines = parse_defines(args.defines)
    name, values = swept(defines)
    options = search_options(args)
    codes: list[int] = []
    previous: dict[str, str] | None = None
    print(f"model {args.model or 'default'}, {name} = {values[0]}..{values[-1]}")
    for value in values:
        bound = dict(defines, **{name: str(value)})
        try:
            model = spec.instantiate(args.model, bound)
        except ModelConfigError as exc:
            print(f"{name}={value}: refused: {exc.message}")
            codes.append(EXIT_MODEL_ERROR)
            continue
        r = run_model(model, options, [] if args.no_scenarios else None)
        codes.append(r.exit_code)
        now = verdicts(r)
        changed = "" if previous is None else f", changed: {changes(previous, now)}"
        print(f"{name}={value}: {r.stats.distinct_states:,} distinct states, "
              f"{r.stats.total_states:,} generated, depth {r.stats.depth}, "
              f"{r.stats.elapsed_s:.2f} s, exit code {r.exit_code}{changed}")
        previous = now
    code = combine(codes)
    print(f"exit code {code}")
    return code
