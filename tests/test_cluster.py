"""``cowspec check --cluster``: the search sharded over a local Ray of two worker
processes (started here, torn down after) gives one process's answers exactly: counts,
depth, verdicts, shortest traces and coverage, also when a violation or a limit cuts a
level; a killed shard ends the run (exit 152) and its checkpoint resumes to exactly the
uninterrupted counts; checkpoints of the other engine kind are refused (exit 151). One
test starts a cluster of two Ray nodes (``ray start``: a head and a second raylet, as on two
machines) and checks that the shards are placed on both."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from explorer_testing import run_cli

from explorer.engine import cluster, registry
from explorer.engine.checkpoint import CheckpointError
from explorer.engine.interface import Options, Progress
from explorer.engine.limits import descendants
from explorer.result import Result
from explorer.run import run_model
from pyspec.errors import ModelConfigError
from pyspec.loader import load_spec
from pyspec.model import NoProgram

ROOT = Path(__file__).resolve().parent.parent


def array_refusal(spec: Path) -> str | None:
    """Why the array code (which the shards run) refuses one of the spec's models; None
    when it runs them all."""
    loaded = load_spec(str(spec))
    for name in loaded.model_names or [None]:
        try:
            loaded.instantiate(name).programs.get(cluster.ENGINE.program or "")
        except NoProgram as exc:
            return str(exc)
    return None


#: Every example, by whether the array code runs it: an example moves to EXAMPLES by itself
#: when the array code learns what it uses. (Their temporal properties are left out, as
#: --cluster requires: the liveness check needs the graph in one process.)
ALL = sorted((ROOT / "spec/examples").glob("*.cow"))
EXAMPLES = [p for p in ALL if array_refusal(p) is None]
SCALAR_ONLY = [p for p in ALL if array_refusal(p) is not None]
REFCOUNT = str(ROOT / "spec/examples/refcount.cow")
KERNEL = str(ROOT / "spec/kernel/cow.cow")


def ray_or_skip() -> Any:
    return pytest.importorskip("ray", reason="Ray is not installed (pip install "
                                             "'cowspec[distributed]')")


@pytest.fixture(scope="module")
def local_ray() -> Any:
    """A local Ray of two worker processes for this module's searches."""
    ray = ray_or_skip()
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False,
             logging_level="ERROR")
    yield ray
    ray.shutdown()


def answers(result: Result) -> tuple:
    """What a search found, without timings and notes."""
    s = result.stats
    return (s.distinct_states, s.total_states, s.depth, s.queue, result.stopped,
            [(p.name, p.verdict, None if p.trace is None else
              [(st.action, st.params, str(st.state)) for st in p.trace.steps])
             for p in result.properties],
            [(a.name, a.enabled, a.fired, a.new) for a in result.coverage.actions],
            result.coverage.tags)


def both(path: str, model: str | None = None, defines: dict[str, str] | None = None,
         **options: Any) -> tuple[Result, Result]:
    """One process's search and the cluster's (two shards) of one model."""
    m = load_spec(path).instantiate(model, defines or {})
    opts = Options(backend="numpy", **options)
    return registry.check(m, opts), registry.check(m, replace(opts, cluster="auto", workers=2))


@pytest.mark.parametrize("spec", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_matches_one_process(local_ray: Any, spec: Path) -> None:
    for model in load_spec(str(spec)).model_names or [None]:
        one, cluster = both(str(spec), model, temporal=False)
        assert answers(cluster) == answers(one)
        assert any("searched by 2 shards on 1 Ray node;" in n for n in cluster.notes)


@pytest.mark.parametrize("spec", SCALAR_ONLY, ids=lambda p: p.stem)
def test_examples_the_array_code_cannot_run_are_refused_with_why(spec: Path) -> None:
    """Refused before any Ray starts (exit 151), naming what the array code lacks."""
    model = load_spec(str(spec)).instantiate()
    with pytest.raises(ModelConfigError) as info:
        registry.check(model, Options(cluster="auto", workers=2, temporal=False))
    assert str(info.value) == (
        f"--cluster: its shards run the numpy engine's array code, which cannot run model "
        f"{model.name}: {array_refusal(spec)} (only the scalar engine runs it: run it "
        "without --cluster, on one process)")


@pytest.mark.parametrize("options", [
    {"max_states": 10_000}, {"max_depth": 5}, {"keep_going": True, "max_states": 20_000},
], ids=["max-states", "max-depth", "continue"])
def test_cuts_match_one_process(local_ray: Any, options: dict[str, Any]) -> None:
    one, cluster = both(REFCOUNT, None, {"N": "4"}, **options)
    assert answers(cluster) == answers(one)
    assert cluster.stopped in ("max_states", "max_depth")


def test_first_violation_cuts_where_one_process_does(local_ray: Any, tmp_path: Path) -> None:
    """DieHard without its expectation: the first violation stops the search."""
    text = (ROOT / "spec/examples/diehard.cow").read_text()
    spec = tmp_path / "diehard.cow"
    spec.write_text(text.replace("expect violated NotSolved", ""))
    one, cluster = both(str(spec), "default")
    assert cluster.stopped == "violation"
    assert answers(cluster) == answers(one)


def test_deadlock_cuts_where_one_process_does(local_ray: Any) -> None:
    one, cluster = both(str(ROOT / "spec/examples/tcommit.cow"), check_deadlock=True)
    assert cluster.stopped == "violation"
    assert [p.verdict for p in cluster.properties if p.name == "deadlock"] == ["violated"]
    assert answers(cluster) == answers(one)


def test_kernel_model_violations_and_traces_match(local_ray: Any) -> None:
    one, cluster = both(KERNEL, "linux-5.17")
    assert (cluster.stats.distinct_states, cluster.stats.depth) == (102_978, 25)
    violated = [p for p in cluster.properties if p.verdict == "violated"]
    assert violated and all(p.trace is not None for p in violated)
    assert answers(cluster) == answers(one)


def shard_pids(root: int | None = None) -> list[int]:
    """The processes of the shard actors below ``root`` (this process by default: its
    local Ray's), which Ray titles ``ray::Shard``; another run's shards are left alone."""
    pids = []
    for pid in descendants(os.getpid() if root is None else root):
        try:
            if Path(f"/proc/{pid}/cmdline").read_bytes().startswith(b"ray::Shard"):
                pids.append(pid)
        except OSError:
            continue
    return sorted(pids)


def killer(at_level: int) -> Any:
    """A progress callback that kills one shard's process when level ``at_level``
    starts."""
    def progress(p: Progress) -> None:
        if p.depth == at_level and not killed:
            killed.append(shard_pids()[0])
            os.kill(killed[0], signal.SIGKILL)

    killed: list[int] = []
    return progress


def test_killed_shard_stops_the_run_and_its_checkpoint_resumes_exactly(
        local_ray: Any, tmp_path: Path) -> None:
    model = load_spec(REFCOUNT).instantiate(None, {"N": "4"})
    whole = registry.check(model, Options(backend="numpy"))
    ck = str(tmp_path / "ck")
    opts = Options(backend="numpy", cluster="auto", workers=2, checkpoint=ck,
                   checkpoint_every_s=0, progress=killer(5), progress_interval_s=0)
    cut = registry.check(model, opts)
    assert cut.stopped == "interrupted"
    assert any("shard" in n and "died" in n and f"--recover {ck}" in n for n in cut.notes)
    assert 0 < cut.stats.distinct_states < whole.stats.distinct_states
    # The coverage of the levels done, the lost shard's share included.
    inits = len(list(model.initial_states()))
    for result in (whole, cut):
        actions = result.coverage.actions
        assert sum(a.fired for a in actions) == result.stats.total_states - inits
        assert sum(a.new for a in actions) == result.stats.distinct_states - inits
    assert (tmp_path / "ck" / "manifest.json").exists()
    resumed = registry.check(model, replace(opts, recover=ck, progress=None))
    assert answers(resumed) == answers(whole)
    assert any(n.startswith(f"resumed from checkpoint {ck} on 2 shards") for n in resumed.notes)


def test_checkpoint_resumes_on_another_number_of_shards(local_ray: Any, tmp_path: Path) -> None:
    model = load_spec(KERNEL).instantiate("linux-5.17", {})
    whole = registry.check(model, Options(backend="numpy", keep_going=True))
    ck = str(tmp_path / "ck")
    opts = Options(backend="numpy", keep_going=True, cluster="auto", workers=2,
                   checkpoint=ck, checkpoint_every_s=0)
    stopped = registry.check(model, replace(opts, max_states=40_000))
    assert stopped.stopped == "max_states"
    manifest = json.loads((tmp_path / "ck" / "manifest.json").read_text())
    assert manifest["found"] and len(manifest["files"]) == 2
    resumed = registry.check(model, replace(opts, workers=1, recover=ck))
    assert answers(resumed) == answers(whole)
    assert len(list((tmp_path / "ck").glob("*.npz"))) == 1


def test_checkpoints_of_the_other_engine_are_refused(local_ray: Any, tmp_path: Path) -> None:
    model = load_spec(REFCOUNT).instantiate(None, {"N": "3"})
    one, many = str(tmp_path / "one"), str(tmp_path / "many")
    base = Options(backend="numpy", max_states=1000, checkpoint_every_s=0)
    registry.check(model, replace(base, checkpoint=one))
    registry.check(model, replace(base, checkpoint=many, cluster="auto", workers=2))
    with pytest.raises(CheckpointError, match="written by the numpy engine .* resume it "
                                              "without --cluster"):
        registry.check(model, replace(base, recover=one, cluster="auto", workers=2))
    with pytest.raises(CheckpointError, match="written by the cluster engine .* resume it "
                                              "with --cluster"):
        registry.check(model, replace(base, recover=many))


def test_corrupt_shard_file_is_refused(local_ray: Any, capsys: pytest.CaptureFixture[str],
                                       tmp_path: Path) -> None:
    ck = tmp_path / "ck"
    args = ("check", REFCOUNT, "-D", "N=3", "--no-progress", "--no-scenarios", "--cluster",
            "auto", "--workers", "2")
    code, _, err = run_cli(capsys, *args, "--checkpoint", str(ck), "--checkpoint-every", "0",
                           "--max-states", "1000")
    assert code == 152
    assert f"note: resume the search with: cowspec {' '.join(args)} --checkpoint-every 0 " \
           f"--max-states 1000 --recover {ck}" in err
    part = sorted(ck.glob("shard-*.npz"))[0]
    data = bytearray(part.read_bytes())
    data[len(data) // 2] ^= 0xFF
    part.write_bytes(bytes(data))
    code, _, err = run_cli(capsys, *args, "--recover", str(ck))
    assert code == 151
    assert f"{part} does not match its manifest (corrupt or replaced)" in err


def test_without_ray_the_cluster_is_a_clear_error(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)
    code, _, err = run_cli(capsys, "check", REFCOUNT, "-D", "N=3", "--no-progress",
                           "--cluster", "auto")
    assert code == 151
    assert "--cluster needs Ray, which is not installed: pip install " \
           "'cowspec[distributed]'" in err


def test_sigterm_ends_the_run_and_its_local_ray(tmp_path: Path) -> None:
    """``--cluster auto`` in a process of its own: SIGTERM ends it with exit 152 and takes
    down the Ray it started (no process of it is left)."""
    ray_or_skip()
    proc = subprocess.Popen(
        [sys.executable, "-m", "explorer.cli", "check", REFCOUNT, "-D", "N=6",
         "--no-progress", "--no-scenarios", "--cluster", "auto", "--workers", "2"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT)
    below: set[int] = set()
    try:
        deadline = time.monotonic() + 120
        while proc.poll() is None and time.monotonic() < deadline:
            below |= set(descendants(proc.pid))
            if len(shard_pids(proc.pid)) >= 2:
                break
            time.sleep(0.2)
        time.sleep(1)
        below |= set(descendants(proc.pid))
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 152, err.decode()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(Path(f"/proc/{p}").exists() for p in below):
        time.sleep(0.2)
    assert below and not [p for p in below if Path(f"/proc/{p}").exists()]


def test_what_the_arrays_cannot_represent_is_handed_over(local_ray: Any, tmp_path: Path) -> None:
    """A value out of its range: the scalar engine reruns the search and reports the
    error with its position and trace, as after the one-process numpy engine."""
    spec = tmp_path / "over.cow"
    spec.write_text("module Over\n\nvar x: 0..3\n\ninit {\n  x = 0\n}\n\n"
                    "action Inc { x' = x + 1 }\n")
    one, cluster = both(str(spec))
    assert cluster.error is not None and one.error is not None
    assert (cluster.error.message, cluster.error.pos) == (one.error.message, one.error.pos)
    assert "outside its declared range" in cluster.error.message
    assert any("the cluster backend handed over to the scalar engine" in n
               for n in cluster.notes)


def test_max_memory_bounds_a_local_cluster(local_ray: Any) -> None:
    """--cluster auto: the local Ray's processes are in this process's tree, so
    --max-memory stops the search (exit 152, max_memory) rather than being ignored."""
    model = load_spec(REFCOUNT).instantiate(None, {"N": "4"})
    result = run_model(model, Options(backend="numpy", cluster="auto", workers=2,
                                      max_memory_mb=50))
    assert result.stopped == "max_memory"
    assert result.exit_code == 152



def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ray_start(cli: str, log: Path, env: dict[str, str], *args: str) -> subprocess.Popen:
    """``ray start ... --block`` as a child of this process (so that its node's
    processes are below it, to be torn down by id), once it says the node runs."""
    ports = ("--dashboard-agent-listen-port", "--dashboard-agent-grpc-port",
             "--runtime-env-agent-port", "--metrics-export-port")
    argv = [cli, "start", *args, "--num-cpus", "1", "--node-ip-address", "127.0.0.1",
            "--disable-usage-stats", "--block"]
    for option in ports:
        argv += [option, str(free_port())]
    with open(log, "wb") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env)
    deadline = time.monotonic() + 120
    while b"Ray runtime started" not in log.read_bytes():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{' '.join(argv)} failed:\n{log.read_text()}")
        time.sleep(0.2)
    return proc


def tear_down(procs: list[subprocess.Popen]) -> None:
    """Kill the ``ray start`` processes and every process below them."""
    pids = [p for proc in procs for p in (proc.pid, *descendants(proc.pid))]
    for pid in pids:
        with suppress(ProcessLookupError):  # already gone with its parent
            os.kill(pid, signal.SIGKILL)
    for proc in procs:
        proc.wait()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(Path(f"/proc/{p}").exists() for p in pids):
        time.sleep(0.2)


@pytest.fixture
def two_nodes() -> Iterator[tuple[str, dict[str, str]]]:
    """A Ray cluster of two nodes of one CPU each, as on two machines: a head and a
    second raylet that joins it (``ray start --address``); its address and environment."""
    ray_or_skip()
    cli = shutil.which("ray", path=str(Path(sys.executable).parent)) or shutil.which("ray")
    if cli is None:
        pytest.skip("the ray command is not installed")
    # Short: Ray's socket paths under it must fit in 107 bytes.
    tmp = Path(tempfile.mkdtemp(prefix="rn"))
    env = {**os.environ, "RAY_AUTH_MODE": "disabled"}
    procs: list[subprocess.Popen] = []
    try:
        port = free_port()
        procs.append(ray_start(cli, tmp / "head.log", env, "--head", "--port", str(port),
                               "--temp-dir", str(tmp), "--include-dashboard", "false",
                               "--dashboard-port", str(free_port())))
        procs.append(ray_start(cli, tmp / "node.log", env, "--address", f"127.0.0.1:{port}"))
        yield f"127.0.0.1:{port}", env
    finally:
        tear_down(procs)
        shutil.rmtree(tmp, ignore_errors=True)


def test_a_search_across_two_nodes_places_a_shard_on_each(
        two_nodes: tuple[str, dict[str, str]], capsys: pytest.CaptureFixture[str],
        tmp_path: Path) -> None:
    """``--cluster ADDRESS`` on two nodes: one shard per node (a CPU each), and one
    process's answers, coverage included."""
    address, env = two_nodes
    argv = ("check", REFCOUNT, "-D", "N=3", "--no-progress", "--no-scenarios",
            "--backend", "numpy")
    proc = subprocess.run([sys.executable, "-m", "explorer.cli", *argv, "--cluster", address,
                           "--json", str(tmp_path / "two.json")],
                          capture_output=True, env=env, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr.decode()
    code, _, _ = run_cli(capsys, *argv, "--json", str(tmp_path / "one.json"))
    assert code == 0
    two, one = (json.loads((tmp_path / f"{n}.json").read_text()) for n in ("two", "one"))
    assert any(n.startswith("searched by 2 shards on 2 Ray nodes;") for n in two["notes"])
    timing = {"elapsed_s", "states_per_s", "notes", "engine"}
    assert {k: v for k, v in two.items() if k not in timing} == \
        {k: v for k, v in one.items() if k not in timing}
    assert (two["distinct_states"], two["total_states"], two["depth"]) == (3_634, 48_664, 7)
