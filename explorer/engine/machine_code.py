"""Machine code of a compiled module: LLVM IR optimised and compiled by llvmlite, cached.

:func:`pyspec.codegen.lower_llvm.lower` turns the generated Python into LLVM IR; here
llvmlite (the LLVM binding numba itself is built on) optimises it at ``-O2`` for this
machine's CPU and emits an object file, which is cached on disk (private files of the
user's cache directory, :mod:`pyspec.private_cache`, as the parse cache's are), keyed by
the module's source, the entry points' argument kinds, the lowering, the llvmlite version
and the CPU. A second run loads the object file into an MCJIT engine and only binds
the entry points: no lowering, no optimisation.

:class:`MachineModule` is what the engine calls: ``module.search(consts, cur, ...)`` with
numpy arrays and ints, as the Python module would be called, each argument checked against
the kinds the code was compiled for (a wrong dtype or a non-contiguous array would be
memory corruption, so it is refused). An evaluation error of the spec comes back as
:class:`~pyspec.codegen.compiled.CompiledEvalError`.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import llvmlite
import llvmlite.binding as llvm
import numpy as np

from explorer.engine import perf_map
from pyspec.codegen import lower_llvm
from pyspec.codegen.compiled import CompiledEvalError
from pyspec.codegen.lower_llvm import INT, ArrayKind, Kind, TupleKind, lower
from pyspec.private_cache import read_private, write_private

#: LLVM's optimisation level: -O2 (-O3 took longer to compile and searched no faster).
OPT_LEVEL = 2
Signatures = dict[str, tuple[Kind, ...]]
#: The largest cached object file read back (a kernel spec's is under 200 kB).
MAX_OBJECT_BYTES = 64 << 20
#: The lowering's own code is part of the cache key: a change to it is a new compiler.
_LOWERING = hashlib.sha256(Path(lower_llvm.__file__).read_bytes()
                           + Path(__file__).read_bytes()).hexdigest()


def kind_of_argument(value: object) -> Kind:
    """The kind an argument is passed as (what the code is compiled for)."""
    if isinstance(value, np.ndarray):
        return ArrayKind(value.dtype.name, value.ndim)
    if isinstance(value, tuple):
        return TupleKind(len(value))
    return INT


def _target_machine() -> llvm.TargetMachine:
    llvm.initialize_native_target()
    llvm.initialize_native_asmprinter()
    target = llvm.Target.from_default_triple()
    return target.create_target_machine(
        cpu=llvm.get_host_cpu_name(), features=llvm.get_host_cpu_features().flatten(),
        opt=OPT_LEVEL, reloc="pic", codemodel="jitdefault")


def digest(source: str, entries: Signatures) -> str:
    """The cache key of a module's machine code."""
    text = "\n".join([source, repr(sorted(entries.items(), key=lambda kv: kv[0])),
                      _LOWERING, llvmlite.__version__, llvm.get_process_triple(),
                      llvm.get_host_cpu_name(), llvm.get_host_cpu_features().flatten()])
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def is_cached(folder: Path, source: str, entries: Signatures) -> bool:
    """Whether the machine code is in the cache (a run would not pay the compile)."""
    return _cached(folder, digest(source, entries)) is not None


def _cached(folder: Path, key: str) -> tuple[bytes, list[str]] | None:
    """The object code and error messages cached under ``key``; None when absent, or not
    to be trusted (:mod:`pyspec.private_cache`: machine code is run, so a file somebody
    else could have written is never loaded), or damaged."""
    obj = read_private(folder / f"m_{key}.o", MAX_OBJECT_BYTES)
    meta = read_private(folder / f"m_{key}.json", MAX_OBJECT_BYTES)
    if obj is None or meta is None:
        return None
    try:
        messages = json.loads(meta)["messages"]
    except (ValueError, KeyError, TypeError):
        return None
    if not (isinstance(messages, list) and all(isinstance(m, str) for m in messages)):
        return None
    return obj, messages


class MachineModule:
    """The entry points of a module's machine code, callable from Python."""

    def __init__(self, engine: llvm.ExecutionEngine, entries: Signatures,
                 messages: Sequence[str]) -> None:
        self._engine = engine  # owns the code the functions below point into
        self.messages = tuple(messages)
        take = engine.get_function_address("cs_take_error")
        self._take_error = ctypes.CFUNCTYPE(ctypes.c_int64)(take)
        for name, kinds in entries.items():
            setattr(self, name, self._bind(name, kinds))

    def _bind(self, name: str, kinds: tuple[Kind, ...]) -> Callable[..., int]:
        width = sum(3 if isinstance(k, ArrayKind) else k.size if isinstance(k, TupleKind)
                    else 1 for k in kinds)
        address = self._engine.get_function_address(f"cs_{name}")
        fn = ctypes.CFUNCTYPE(ctypes.c_int64, *([ctypes.c_int64] * width))(address)
        take_error, messages = self._take_error, self.messages

        def call(*args: object) -> int:
            if len(args) != len(kinds):
                raise TypeError(f"{name} takes {len(kinds)} arguments, not {len(args)}")
            flat: list[int] = []
            spans: list[tuple[int, int]] = []
            for value, kind in zip(args, kinds):
                if isinstance(kind, ArrayKind):
                    words = _array_words(name, value, kind)
                    spans.append((words[0], words[0] + value.nbytes))  # type: ignore[attr-defined]
                    flat += words
                elif isinstance(kind, TupleKind):
                    flat += [int(x) for x in value]  # type: ignore[attr-defined]
                else:
                    flat.append(int(value))  # type: ignore[call-overload]
            _disjoint(name, spans)
            result = fn(*flat)
            error = take_error()
            if error:
                raise CompiledEvalError(messages[error - 1])
            return result

        call.__name__ = name
        return call


def _disjoint(name: str, spans: list[tuple[int, int]]) -> None:
    """The code assumes that no two arrays it is passed overlap (``noalias``): an overlap
    would be undefined behaviour, so it is refused."""
    ordered = sorted(s for s in spans if s[1] > s[0])
    for (_, end), (start, _) in zip(ordered, ordered[1:]):
        if start < end:
            raise TypeError(f"{name} was passed two arrays that share memory")


def _array_words(name: str, value: object, kind: ArrayKind) -> list[int]:
    if (not isinstance(value, np.ndarray) or value.dtype.name != kind.dtype
            or value.ndim != kind.ndim or not value.flags.c_contiguous):
        raise TypeError(f"{name} was compiled for a C-contiguous {kind.ndim}-dimensional "
                        f"{kind.dtype} array")
    rows = value.shape[0]
    cols = value.shape[1] if value.ndim == 2 else 1
    return [value.ctypes.data, rows, cols]


def load(folder: Path, source: str, entries: Signatures) -> MachineModule:
    """The module's machine code: from the cache, or lowered, optimised, compiled and
    written to the cache first."""
    tm = _target_machine()
    key = digest(source, entries)
    cached = _cached(folder, key)
    if cached is not None:
        obj, messages = cached
    else:
        lowered = lower(source, entries, llvm.get_process_triple(), str(tm.target_data))
        module = llvm.parse_assembly(lowered.ir)
        module.verify()
        tuning = llvm.create_pipeline_tuning_options(speed_level=OPT_LEVEL)
        passes = llvm.create_pass_builder(tm, tuning)
        passes.getModulePassManager().run(module, passes)
        obj = tm.emit_object(module)
        messages = list(lowered.messages)
        # best effort: a cache that cannot be written only costs the next run a compile
        write_private(folder / f"m_{key}.o", obj)
        write_private(folder / f"m_{key}.json", json.dumps({"messages": messages}).encode())
    engine = llvm.create_mcjit_compiler(llvm.parse_assembly(""), tm)
    engine.add_object_file(llvm.ObjectFileRef.from_data(obj))
    engine.finalize_object()
    if perf_map.enabled():
        perf_map.append(obj, engine.get_function_address)
    return MachineModule(engine, entries, messages)


@dataclass(frozen=True)
class Entry:
    """An entry point and example arguments of the kinds it will be called with."""

    name: str
    arguments: tuple[object, ...]


def signatures(entries: Sequence[Entry]) -> Signatures:
    """The kinds of the entry points' arguments."""
    return {e.name: tuple(kind_of_argument(a) for a in e.arguments) for e in entries}
