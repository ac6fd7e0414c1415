"""``cowspec simulate``: random walks through a model, or the replay of one trace."""

from __future__ import annotations

import argparse
from dataclasses import replace

from explorer.annotate import annotate
from explorer.cli_common import add_spec_arguments, load, models_of, parse_defines, positive
from explorer.judge import judge
from explorer.replay import decode
from explorer.report_itf import write_itf
from explorer.report_json import result_json, write_json
from explorer.report_junit import write_junit
from explorer.report_text import render_result, render_trace
from explorer.simulate import SimOptions, SimStats, Simulation, simulate
from explorer.walk_code import ENGINES

NAME = "simulate"
HELP = "random walks through a model too large to exhaust, or replay one trace"


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_spec_arguments(p)
    p.add_argument("--model", metavar="M", help="the named model to simulate")
    p.add_argument("--traces", type=positive(int), default=100, metavar="N",
                   help="random walks to take (default 100)")
    p.add_argument("--depth", type=positive(int), default=100, metavar="D",
                   help="steps per walk at most (default 100)")
    p.add_argument("--seed", type=int, default=0, metavar="S",
                   help="seed of the random choices: the same seed gives the same walks "
                   "(default 0)")
    p.add_argument("--engine", "--backend", dest="engine", choices=ENGINES, default="auto",
                   help="whose code the walks run on: scalar, numpy, compiled, or auto (the "
                   "compiled code when it is cached, else the scalar code; the default); "
                   "the same seed gives the same walks on every engine")
    p.add_argument("--replay", metavar="TRACE",
                   help="replay the trace this string names (as check and simulate print "
                   "them) instead of random walks, and print it")
    p.add_argument("--continue", dest="keep_going", action="store_true",
                   help="do not stop at the first violation: one trace per violated property")
    p.add_argument("--no-deadlock", action="store_true", help="do not report deadlocks")
    p.add_argument("--timeout", type=positive(float), metavar="S",
                   help="start no walk after S seconds")
    p.add_argument("--full", action="store_true", help="show whole states in traces")
    p.add_argument("--json", metavar="FILE", help="write the result as JSON")
    p.add_argument("--itf", metavar="FILE", help="write traces in the ITF format")
    p.add_argument("--junit", metavar="FILE", help="write JUnit XML for CI")


def stats_lines(s: SimStats) -> list[str]:
    return [
        f"simulation:  {s.traces:,} walk{'' if s.traces == 1 else 's'} "
        f"(longest {s.longest:,} steps), seed {s.seed}: "
        f"{s.steps:,} steps, {s.distinct_states:,} distinct states seen, "
        f"{s.deadlocks:,} deadlocks met, {s.elapsed_s:.2f} s, {s.steps_per_s:,.0f} steps/s "
        f"on the {s.engine} engine's code",
    ]


def simulation_json(s: SimStats) -> dict:
    return {"traces": s.traces, "steps": s.steps, "distinct_states": s.distinct_states,
            "longest": s.longest, "deadlocks": s.deadlocks, "seed": s.seed, "engine": s.engine,
            "elapsed_s": round(s.elapsed_s, 6), "steps_per_s": round(s.steps_per_s, 1)}


def run(args: argparse.Namespace) -> int:
    spec = load(args.spec)
    model = models_of(spec, args.model, False, parse_defines(args.defines))[0]
    options = SimOptions(
        traces=args.traces, depth=args.depth, seed=args.seed,
        check_deadlock=False if args.no_deadlock else None,
        keep_going=args.keep_going, timeout_s=args.timeout, engine=args.engine,
    )
    if args.replay:
        options = replace(options, script=decode(model, args.replay), keep_going=True)
    sim: Simulation = simulate(model, options)
    result = judge(sim.result)
    annotate(model, result)
    print(render_result(result, full=args.full, show_coverage=True))
    print("\n".join(stats_lines(sim.stats)))
    if args.replay and sim.walk is not None:
        print(f"\nTrace {args.replay.strip()} ({len(sim.walk.steps)} states)")
        print(render_trace(sim.walk, args.full))
    if args.json:
        write_json(args.json, {**result_json(result), "simulation": simulation_json(sim.stats)})
    if args.itf:
        write_itf([result], args.itf)
    if args.junit:
        write_junit([result], args.junit)
    return result.exit_code
