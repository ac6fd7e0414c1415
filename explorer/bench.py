"""``make bench``: the fixed performance suite, side by side with minicheck.

Every model runs in a child process of its own, so that its wall time and peak resident
memory (``os.wait4``'s rusage of exactly that child) are its own and not the previous
model's. The suite: RefCount N=2..6 (7 with ``--big``), whose counts must equal the table
of ``bench/refcount/README.md``; TwoPhase with 3..7 resource managers; every model of
every ``spec/kernel/*.cow`` found at run time, and the kernel models at wider bounds (cow
linux-5.19 with two addresses, thp linux-5.19 with two references and four frames), these
two also with ``--fingerprint``. Each case runs once per engine of ``--backend`` (default
``numpy,compiled``), rows side by side; the compiled engine's compile time (or cache load)
has its own column. ``--repeat N`` runs each case N times, the engines taking turns, and
gives for each engine the run whose search time is the median (every run's search time is
in the history's ``search_runs``): one run of a search of a few seconds varies by up to 8%
on a shared two-core machine, more than a change being measured may gain. ``B/state`` is
the store of seen states and parent links per distinct state (or, for an engine that does
not account for its store, the peak resident memory gained per state); ``queue MB`` the
peak of the compiled engine's frontier window with fingerprints, which is kept apart from
its store. minicheck runs the same RefCount sizes in the same run
(``refcount_minicheck.py``), and the table prints our distinct-states rate over
minicheck's. ``--record`` also writes the run to ``bench/history/DATE-COMMIT.json``, to be
committed with the change it measures; a plain ``make bench`` leaves the tree as it was.

Never part of ``make test``: performance is measured here, never asserted in a test.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: The benchmark's TLA+ original, its minicheck version and its exact counts.
REFCOUNT_DIR = ROOT / "bench" / "refcount"
HISTORY = ROOT / "bench" / "history"

#: RefCount's exact counts (bench/refcount/README.md): N -> (distinct, total, depth).
REFCOUNT_EXPECTED: dict[int, tuple[int, int | None, int | None]] = {
    2: (253, 2443, 5),
    3: (3634, 48664, 7),
    4: (43369, 709117, 9),
    5: (398476, 7532116, 10),
    6: (2715541, 57087271, None),
    7: (14052718, None, None),
}


#: minicheck runs RefCount up to this size (N=7 would take it about ten minutes).
MINICHECK_MAX_N = 6


@dataclass
class Case:
    """One model and size of the suite."""

    group: str
    size: str
    spec: str
    model: str | None = None
    defines: dict[str, str] = field(default_factory=dict)
    expected: tuple[int, int | None, int | None] | None = None
    minicheck_n: int | None = None
    fingerprint: bool = False


@dataclass
class Row:
    """What one case measured; ``None`` where a run did not produce the figure."""

    group: str
    size: str
    backend: str = ""
    distinct: int = 0
    total: int = 0
    depth: int = 0
    search_s: float = 0.0
    wall_s: float = 0.0
    peak_rss_mb: float = 0.0
    store_bytes: int | None = None
    #: The peak of a queue of states the engine keeps apart from its store (the compiled
    #: engine's frontier window with fingerprints), not in ``bytes_per_state``.
    queue_bytes: int | None = None
    rss_bytes_per_state: float | None = None
    exit_code: int | None = None
    counts_ok: bool | None = None
    error: str = ""
    notes: list[str] = field(default_factory=list)
    minicheck_s: float | None = None
    minicheck_wall_s: float | None = None
    minicheck_distinct: int | None = None
    compile_s: float | None = None
    #: The search time of every run of the case on this engine (``--repeat``), in order.
    search_runs: list[float] = field(default_factory=list)

    @property
    def states_per_s(self) -> float:
        return self.distinct / self.search_s if self.search_s > 0 else 0.0

    @property
    def transitions_per_s(self) -> float:
        return self.total / self.search_s if self.search_s > 0 else 0.0

    @property
    def bytes_per_state(self) -> float | None:
        if self.store_bytes is not None and self.distinct:
            return self.store_bytes / self.distinct
        return self.rss_bytes_per_state

    @property
    def minicheck_ratio(self) -> float | None:
        """Our distinct states/s over minicheck's, both timed inside the search."""
        if not self.minicheck_s or not self.search_s or not self.minicheck_distinct:
            return None
        return self.states_per_s / (self.minicheck_distinct / self.minicheck_s)


def suite(big: bool, only: str | None) -> list[Case]:
    cases: list[Case] = []
    refcount = ROOT / "spec" / "examples" / "refcount.cow"
    for n in range(2, 8 if big else 7):
        cases.append(Case("RefCount", f"N={n}", str(refcount), None, {"N": str(n)},
                          REFCOUNT_EXPECTED[n], n if n <= MINICHECK_MAX_N else None))
    twophase = ROOT / "spec" / "examples" / "twophase.cow"
    for n in range(3, 8):
        rms = "{" + ",".join(f"r{i}" for i in range(1, n + 1)) + "}"
        cases.append(Case("TwoPhase", f"RM={n}", str(twophase), None, {"RM": rms}))
    for spec in sorted((ROOT / "spec" / "kernel").glob("*.cow")):
        for model in _model_names(spec):
            cases.append(Case(f"kernel/{spec.stem}", model or "default", str(spec), model))
    kernel = ROOT / "spec" / "kernel"
    for fingerprint in (False, True):
        tail = " fingerprint" if fingerprint else ""
        cases.append(Case("kernel/cow", "linux-5.19 Addrs=2" + tail, str(kernel / "cow.cow"),
                          "linux-5.19", {"Addrs": "2"}, fingerprint=fingerprint))
        cases.append(Case("kernel/thp", "linux-5.19 MaxRefs=2 Frames=4" + tail,
                          str(kernel / "thp.cow"), "linux-5.19", {"MaxRefs": "2", "Frames": "4"},
                          fingerprint=fingerprint))
    if only:
        pattern = re.compile(only)
        cases = [c for c in cases if pattern.search(f"{c.group} {c.size}")]
    return cases


def _model_names(spec: Path) -> list[str | None]:
    """A kernel spec's named models, or its defaults; a spec that does not load (it may be
    half-written by someone else right now) still gets a row, which reports the error."""
    from pyspec.errors import SpecError
    from pyspec.loader import load_spec

    try:
        names = load_spec(str(spec)).model_names
    except SpecError:
        return [None]
    return list(names) or [None]


# ---- one case, in a child process ------------------------------------------------------


def run_one(case: dict, backend: str, workers: int) -> dict:
    """Check one case in this process; returns the figures as plain data."""
    from explorer.cli_common import default_max_memory_mb
    from explorer.engine.interface import Options
    from explorer.run import run_model
    from pyspec.loader import load_spec

    model = load_spec(case["spec"]).instantiate(case["model"], case["defines"])
    options = Options(max_memory_mb=default_max_memory_mb(), backend=backend, workers=workers,
                      fingerprint=case["fingerprint"])
    rss_before = _rss_bytes()
    result = run_model(model, options)
    stats = result.stats
    distinct = stats.distinct_states
    return {
        "backend": stats.backend,
        "distinct": distinct,
        "total": stats.total_states,
        "depth": stats.depth,
        "search_s": stats.elapsed_s,
        "store_bytes": stats.store_bytes,
        "queue_bytes": stats.queue_bytes,
        "rss_bytes_per_state": _growth_per_state(rss_before, distinct),
        "exit_code": result.exit_code,
        "notes": result.notes,
        "compile_s": stats.compile_s,
    }


#: Below this many states the resident-memory growth says nothing about a state's cost.
MIN_STATES_FOR_RSS = 10_000


def _growth_per_state(rss_before: int, distinct: int) -> float | None:
    """Peak resident memory gained during the search, per distinct state: the cost of a
    state for engines that do not account for their store themselves."""
    grown = _peak_rss_bytes() - rss_before
    return grown / distinct if distinct >= MIN_STATES_FOR_RSS and grown > 0 else None


def _rss_bytes() -> int:
    with open("/proc/self/statm", "rb") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _peak_rss_bytes() -> int:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _run_child(argv: list[str]) -> tuple[int, str, str, float, float]:
    """Run a command; returns (exit status, stdout, stderr, wall seconds, peak RSS in MB).

    The child is reaped with ``os.wait4``, whose rusage is that child's alone."""
    t0 = time.monotonic()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    assert proc.stdout is not None and proc.stderr is not None
    err_chunks: list[bytes] = []
    reader = threading.Thread(target=lambda: err_chunks.append(proc.stderr.read()))
    reader.start()
    out = proc.stdout.read()
    reader.join()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - t0
    err = b"".join(err_chunks).decode()
    return proc.returncode, out.decode(), err, wall, usage.ru_maxrss / 1024


def measure(case: Case, backend: str, workers: int, minicheck: bool) -> Row:
    row = Row(case.group, case.size, backend)
    payload = json.dumps(asdict(case))
    argv = [sys.executable, "-m", "explorer.bench", "--run-one", payload,
            "--backend", backend, "--workers", str(workers)]
    status, out, err, wall, peak = _run_child(argv)
    row.wall_s, row.peak_rss_mb = wall, peak
    if status != 0 or not out.strip():
        row.error = (err.strip().splitlines() or [f"exit status {status}"])[-1]
    else:
        figures = json.loads(out.strip().splitlines()[-1])
        for key, value in figures.items():
            setattr(row, key, value)
        if case.expected is not None:
            distinct, total, depth = case.expected
            row.counts_ok = (row.distinct == distinct and total in (None, row.total)
                             and depth in (None, row.depth))
    if minicheck and case.minicheck_n is not None:
        script = REFCOUNT_DIR / "refcount_minicheck.py"
        status, out, err, wall, _ = _run_child([sys.executable, str(script),
                                                str(case.minicheck_n)])
        found = re.search(r"(\d+) distinct states.* ([\d.]+)s in check_safety", out)
        if status == 0 and found:
            row.minicheck_distinct = int(found.group(1))
            row.minicheck_s = float(found.group(2))
            row.minicheck_wall_s = wall
        else:
            row.error = row.error or f"minicheck: {(err or out).strip()[-200:]}"
    return row


# ---- the table ---------------------------------------------------------------------------

_COLUMNS = ("model", "size", "backend", "distinct", "total", "depth", "compile s", "search s",
            "wall s", "states/s", "trans/s", "peak MB", "B/state", "queue MB", "mc s",
            "x mc")


def _cells(row: Row) -> list[str]:
    def num(x: float | None, fmt: str) -> str:
        return "-" if x is None else format(x, fmt)

    flag = {True: "", False: " !", None: ""}[row.counts_ok]
    return [row.group, row.size, row.backend or "-", f"{row.distinct:,}{flag}", f"{row.total:,}",
            str(row.depth), num(row.compile_s, ".2f"), f"{row.search_s:.2f}",
            f"{row.wall_s:.2f}",
            f"{row.states_per_s:,.0f}", f"{row.transitions_per_s:,.0f}",
            f"{row.peak_rss_mb:,.0f}", num(row.bytes_per_state, ".1f"),
            num(None if row.queue_bytes is None else row.queue_bytes / 2**20, ".1f"),
            num(row.minicheck_s, ".2f"), num(row.minicheck_ratio, ".1f")]


def measure_repeated(case: Case, backends: list[str], workers: int, minicheck: bool,
                     repeat: int) -> list[Row]:
    """One row per engine: of ``repeat`` runs, the engines taking turns, the run whose
    search time is the median (the lower middle one of an even number), with every run's
    search time in ``search_runs``. minicheck runs once, beside the first engine's first
    run."""
    runs: dict[str, list[Row]] = {b: [] for b in backends}
    for turn in range(repeat):
        for n, backend in enumerate(backends):
            runs[backend].append(measure(case, backend, workers,
                                         minicheck and n == 0 and turn == 0))
    rows = []
    for n, backend in enumerate(backends):
        done = runs[backend]
        middle = sorted(done, key=lambda r: r.search_s)[(len(done) - 1) // 2]
        if n == 0 and middle is not done[0]:  # minicheck's figures sit on the first run
            for name in ("minicheck_s", "minicheck_wall_s", "minicheck_distinct"):
                setattr(middle, name, getattr(done[0], name))
        middle.search_runs = [r.search_s for r in done]
        if not middle.error:
            middle.error = next((r.error for r in done if r.error), "")
        if middle.counts_ok is not False and any(r.counts_ok is False for r in done):
            middle.counts_ok = False
        rows.append(middle)
    return rows


def table(rows: list[Row]) -> str:
    cells = [list(_COLUMNS)] + [_cells(r) for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(_COLUMNS))]
    lines = []
    for n, c in enumerate(cells):
        lines.append("  ".join(x.ljust(w) if i < 3 else x.rjust(w)
                               for i, (x, w) in enumerate(zip(c, widths))).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    for r in rows:
        if r.error:
            lines.append(f"{r.group} {r.size}: {r.error}")
        for note in r.notes:
            lines.append(f"{r.group} {r.size}: {note}")
        if r.counts_ok is False:
            lines.append(f"{r.group} {r.size}: counts differ from bench/refcount/README.md")
    return "\n".join(lines)


def machine() -> dict[str, object]:
    import numpy

    return {
        "nproc": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "machine": platform.machine(),
        "commit": _git("rev-parse", "--short", "HEAD"),
        "dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
    }


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def write_history(info: dict[str, object], rows: list[Row], args: argparse.Namespace) -> Path:
    HISTORY.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y-%m-%dT%H%M%S")
    path = HISTORY / f"{stamp}-{info['commit'] or 'nogit'}.json"
    data = {
        "machine": info,
        "options": {"backend": args.backend, "workers": args.workers, "big": args.big,
                    "repeat": args.repeat},
        "rows": [asdict(r) | {"states_per_s": r.states_per_s,
                              "transitions_per_s": r.transitions_per_s,
                              "bytes_per_state": r.bytes_per_state,
                              "minicheck_ratio": r.minicheck_ratio} for r in rows],
    }
    path.write_text(json.dumps(data, indent=1) + "\n")
    return path


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m explorer.bench", description=__doc__.split("\n")[0])
    p.add_argument("--big", action="store_true", help="also RefCount N=7 (14M states)")
    p.add_argument("--only", metavar="REGEX", help="only cases whose 'group size' matches")
    p.add_argument("--backend", default="numpy,compiled",
                   help="engine backend, or several separated by commas, each case run once "
                   "per engine (default numpy,compiled: the two fast engines side by side)")
    p.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    p.add_argument("--no-minicheck", action="store_true", help="skip the minicheck runs")
    p.add_argument("--repeat", type=int, default=1, metavar="N",
                   help="run each case N times, the engines taking turns, and give each "
                   "engine's run of median search time (default 1)")
    p.add_argument("--record", action="store_true",
                   help="also write the run to bench/history/DATE-COMMIT.json")
    p.add_argument("--run-one", metavar="JSON", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.repeat < 1:
        p.error("--repeat must be at least 1")
    if args.run_one:
        print(json.dumps(run_one(json.loads(args.run_one), args.backend, args.workers)))
        return 0
    info = machine()
    print(f"nproc {info['nproc']}, Python {info['python']}, numpy {info['numpy']}, "
          f"{info['machine']}, commit {info['commit']}{' (dirty)' if info['dirty'] else ''}")
    median = f", each the run of median search time of {args.repeat}" if args.repeat > 1 else ""
    print(f"backend {args.backend}, workers {args.workers}{median}; times in seconds; "
          "x mc = our distinct states/s over minicheck's", flush=True)
    rows = []
    for case in suite(args.big, args.only):
        for row in measure_repeated(case, args.backend.split(","), args.workers,
                                    not args.no_minicheck, args.repeat):
            rows.append(row)
            runs = " ".join(f"{s:.2f}" for s in row.search_runs)
            print(f"  {case.group} {case.size} {row.backend}: {row.search_s:.2f} s"
                  + (f" (runs {runs})" if args.repeat > 1 else ""), file=sys.stderr, flush=True)
    print(table(rows))
    if args.record:
        print(f"written {write_history(info, rows, args).relative_to(ROOT)}")
    bad = any(r.error or r.counts_ok is False for r in rows)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
