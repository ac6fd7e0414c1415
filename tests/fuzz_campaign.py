"""A fuzz campaign as a tool (``make fuzz``; not part of ``make test``).

Mutates the example specs at token boundaries, as the suite's hypothesis fuzzer does at
character level (tests/test_pyspec_safety.py), plus mutations that aim at the limits:
integer literals swapped for edge values, expressions nested deeply, spans duplicated.
Every mutant runs through the real ``cowspec check`` in a forked child of this process
(imports are paid once) with an address-space cap (``resource.setrlimit``), a search
limit and a wall-clock deadline. Outcomes are counted by kind; every distinct crash
(exit 255, by where it was raised), hang (past the deadline) and blow-up (killed, or out of
memory) is kept under ``tests/fuzz_regressions/`` with its outcome in its name, where
``test_hardening_fuzz.py`` runs it again on every ``make test``.

Usage: ``python tests/fuzz_campaign.py --minutes 10 [--memory-mb 2048] [--seed 1]``
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import re
import resource
import signal
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEEDS = sorted((ROOT / "spec" / "examples").glob("*.cow"))
KEEP = Path(__file__).resolve().parent / "fuzz_regressions"
#: The options every mutant is checked with: small limits, so that a clean run is quick.
CHECK = ["--max-states", "3000", "--timeout", "5", "--max-memory", "1024"]
#: Past this, a mutant is a hang (the --timeout above did not stop it).
DEADLINE_S = 30.0

TOKEN = re.compile(r'"(?:\\.|[^"\\])*"|//[^\n]*|\d+|[A-Za-z_][A-Za-z0-9_]*\'?|\.\.|->|=>|'
                   r'\+\+|~>|<<|>>|[=!<>]=|\s+|.', re.S)
VOCABULARY = [
    "var", "init", "action", "requires", "pick", "either", "or", "match", "for", "if",
    "then", "else", "{", "}", "(", ")", "[", "]", ",", ":", "'", "=", "==", "!=", "<", "..",
    "+", "-", "*", "/", "%", "|", "&", "in", "not", "and", "implies", "forall", "exists",
    "sum", "with", "is", "_", "card", "min", "max", "set", "const", "def", "invariant",
    "property", "reachable", "constraint", "view", "model", "scenario", "expect", "import",
    "\n", "\\", '"', "\x00", "\xff",
    # sequences, module parameters, temporal properties and fairness
    "seq", "<<", ">>", "++", "append", "head", "tail", "len", "subseq", "select", "let",
    "choose", "param", "check types on", "`", "always", "eventually", "leads_to", "~>",
    "fair", "weak", "strong", "each", "for model", "subset", "union", "where",
]
EDGE_INTS = ["0", "-1", "1", "2147483648", "4294967296", "1099511627776", "100000"]


def tokens(text: str) -> list[str]:
    return TOKEN.findall(text)


def mutate(text: str, rng: random.Random) -> str:
    """One to four token-level edits of ``text``."""
    toks = tokens(text)
    for _ in range(rng.randint(1, 4)):
        i = rng.randrange(len(toks) + 1)
        j = min(len(toks), i + rng.randrange(1, 12))
        kind = rng.randrange(7)
        if kind == 0:
            del toks[i:j]
        elif kind == 1:
            toks[i:i] = [" ", rng.choice(VOCABULARY), " "]
        elif kind == 2:
            toks[i:i] = toks[i:j]
        elif kind == 3:
            k = rng.randrange(len(toks) + 1)
            toks[k:k] = toks[i:j]
        elif kind == 4:
            ints = [n for n, t in enumerate(toks) if t.isdigit()]
            if ints:
                toks[rng.choice(ints)] = rng.choice(EDGE_INTS)
        elif kind == 5:
            depth = rng.choice([10, 200, 3000])
            wrap = rng.choice(["forall q in 0..1: ", "not ", "-", "if true then "])
            tail = " else 0" if wrap.startswith("if") else ""
            toks[i:i] = [wrap * depth + "("]
            k = min(len(toks), i + 1 + rng.randrange(1, 6))
            toks[k:k] = [")" + tail * depth]
        else:
            names = [n for n, t in enumerate(toks) if t[:1].isalpha()]
            if len(names) > 1:
                a, b = rng.sample(names, 2)
                toks[a], toks[b] = toks[b], toks[a]
    return "".join(toks)


def run_one(path: Path, memory_mb: int) -> tuple[str, str]:
    """(outcome, signature) of ``cowspec check`` on one file, in a forked child."""
    out = tempfile.TemporaryFile()
    pid = os.fork()
    if pid == 0:  # the child: capped, quiet, and never back into the campaign's loop
        code = 254
        try:
            resource.setrlimit(resource.RLIMIT_AS, (memory_mb * 2**20,) * 2)
            os.dup2(out.fileno(), 1)
            os.dup2(out.fileno(), 2)
            from explorer.cli import main
            code = main(["check", str(path), *CHECK])
        except MemoryError:
            code = 253
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    deadline = time.monotonic() + DEADLINE_S
    status = None
    while status is None:
        done, raw = os.waitpid(pid, os.WNOHANG)
        if done:
            status = raw
        elif time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return "hang", "hang"
        else:
            time.sleep(0.02)
    out.seek(0)
    text = out.read().decode("utf-8", "replace")
    if os.WIFSIGNALED(status):
        return "blow-up", f"signal {os.WTERMSIG(status)}"
    code = os.WEXITSTATUS(status)
    if code == 253:
        return "blow-up", "MemoryError"
    if code in (254, 255):
        where = re.search(r"internal error.*?: (\w+).*?\n\s+at (\S+) in (\w+)", text, re.S)
        return "crash", " ".join(where.groups()) if where else text[-200:]
    return {0: "ran", 11: "ran", 12: "ran", 13: "ran", 150: "spec error", 151: "model error",
            152: "limit"}.get(code, f"exit {code}"), ""


def campaign(minutes: float, memory_mb: int, seed: int) -> Counter[str]:
    rng = random.Random(seed)
    seeds = [p.read_text(encoding="utf-8") for p in SEEDS]
    counts: Counter[str] = Counter()
    kept: set[str] = {p.stem.split("-", 1)[1] for p in KEEP.glob("*.cow")} \
        if KEEP.exists() else set()
    end = time.monotonic() + minutes * 60
    with tempfile.TemporaryDirectory(prefix="cowspec-fuzz-") as folder:
        path = Path(folder) / "mutant.cow"
        while time.monotonic() < end:
            origin = rng.randrange(len(seeds))
            text = mutate(seeds[origin], rng)
            path.write_text(text, encoding="utf-8", errors="surrogateescape")
            outcome, signature = run_one(path, memory_mb)
            if outcome in ("hang", "blow-up"):  # told apart by the spec they came from
                signature += f" {SEEDS[origin].stem}"
            counts[outcome] += 1
            if outcome in ("crash", "hang", "blow-up"):
                key = hashlib.sha256(f"{outcome} {signature}".encode()).hexdigest()[:12]
                if key not in kept:
                    kept.add(key)
                    KEEP.mkdir(exist_ok=True)
                    (KEEP / f"{outcome}-{key}.cow").write_text(text, encoding="utf-8")
                    print(f"new {outcome}: {signature} -> fuzz_regressions/{outcome}-{key}.cow",
                          flush=True)
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--memory-mb", type=int, default=2048,
                        help="address-space cap of each mutant's run")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from explorer import cli  # noqa: F401 - imported once, before the forks
    from pyspec.parser import parse_text
    parse_text("module M\n", "warm.cow")  # the parser is built once, before the forks
    start = time.monotonic()
    counts = campaign(args.minutes, args.memory_mb, args.seed)
    total = sum(counts.values())
    print(f"{total} mutants in {time.monotonic() - start:.0f} s:")
    for outcome, n in counts.most_common():
        print(f"  {outcome:12} {n:6}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
