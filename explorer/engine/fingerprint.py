"""64-bit fingerprints of states, first occurrences of keys, and collision odds.

One fingerprint function for every engine. A state of a spec with a packed layout
(:mod:`pyspec.layout`) is keyed by its packed words: the word itself when the state fits in
one 63-bit word (exact, no collision possible), else the 64-bit fingerprint of its words
(:func:`fingerprint`: a splitmix64 chain over the words, never all ones). The numpy engine
and its workers compute it over arrays, the scalar engine packs each state and computes it
on Python integers (:func:`fingerprint_words`, :class:`StateFingerprint`), the compiled
engine's machine code computes it in int64 arithmetic
(:func:`pyspec.codegen.compiled_search.kernel_source`): a state has the same key on every engine,
in every run and process, and :func:`collision_probability` is about that function.

Only a state without a layout (an unbounded integer, a hand-written Python model: what the
array engines cannot run) is hashed from an injective serialisation with BLAKE2b. Never
Python's ``hash``, which is salted per process and collides by design for small integers
(``hash(-1) == hash(-2)``): that silently merged distinct states and gave a wrong verdict.
"""

from __future__ import annotations

import marshal
from collections.abc import Callable, Sequence
from hashlib import blake2b

import numpy as np

from explorer.engine.packing import packer
from pyspec.layout import Layout, LayoutError, items
from pyspec.runtime import TypeDesc

U64 = np.uint64
SEED = 0x9E3779B97F4A7C15
M1 = 0xBF58476D1CE4E5B9
M2 = 0x94D049BB133111EB
#: The one value a fingerprint never takes (the compiled engine's empty slot); the
#: function gives all ones minus one instead.
ALL_ONES = 2**64 - 1
_SEED, _M1, _M2, _TOP = U64(SEED), U64(M1), U64(M2), U64(ALL_ONES - 1)


class Collision(Exception):
    """Two distinct states have the same 64-bit fingerprint (exact mode only)."""


def mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: every input bit moves every output bit."""
    x = x ^ (x >> U64(30))
    x = x * _M1
    x = x ^ (x >> U64(27))
    x = x * _M2
    return x ^ (x >> U64(31))


def fingerprint(words: Sequence[np.ndarray]) -> np.ndarray:
    """The 64-bit fingerprint of each packed state (one array per word): ``h = SEED``, then
    per word ``h = mix(h ^ word) + SEED`` (mod 2^64), all ones mapped to all ones minus one."""
    h = np.full(len(words[0]), _SEED, dtype=U64)
    for w in words:
        h = mix(h ^ w) + _SEED
    return np.minimum(h, _TOP)


def mix_int(x: int) -> int:
    """:func:`mix` on one Python integer below 2^64."""
    x ^= x >> 30
    x = x * M1 & ALL_ONES
    x ^= x >> 27
    x = x * M2 & ALL_ONES
    return x ^ x >> 31


def fingerprint_words(words: Sequence[int]) -> int:
    """:func:`fingerprint` of one packed state, on Python integers."""
    h = SEED
    for w in words:  # mix_int, inlined: the scalar engine calls this per successor
        x = h ^ w
        x ^= x >> 30
        x = x * M1 & ALL_ONES
        x ^= x >> 27
        x = x * M2 & ALL_ONES
        h = ((x ^ x >> 31) + SEED) & ALL_ONES
    return min(h, ALL_ONES - 1)


def exact_note(bits: int) -> str:
    """What ``--fingerprint`` says of a state that fits one word (every engine)."""
    return (f"a state packs into {bits} bits: seen states are stored exactly, by their "
            "packed word, with no fingerprint")


def state_layout(var_types: tuple[TypeDesc, ...] | None) -> Layout | None:
    """The packed layout of a model's states, or None when they have none (no types: a
    hand-written model; a type without a finite domain)."""
    if var_types is None:
        return None
    try:
        return Layout(var_types)
    except LayoutError:
        return None


def canonical_encoding(value: object) -> bytes:
    """An injective byte encoding of a state built from ``None``, bools, integers of any
    size and sign, strings, tuples, lists and (frozen)sets: equal values, and only they,
    encode alike, whatever the process, hash seed or set iteration order."""
    out = bytearray()
    _encode(value, out)
    return bytes(out)


def _encode(v: object, out: bytearray) -> None:
    t = type(v)
    if t is bool:
        out += b"T" if v else b"F"
    elif isinstance(v, int):
        digits = str(int(v)).encode()
        out += b"i%d:" % len(digits) + digits
    elif t is tuple or t is list:
        out += b"(%d:" % len(v)  # type: ignore[arg-type]
        for x in v:  # type: ignore[attr-defined]
            _encode(x, out)
    elif t is frozenset or t is set:
        items = sorted(canonical_encoding(x) for x in v)  # type: ignore[attr-defined]
        out += b"{%d:" % len(items)
        for item in items:
            out += item
    elif t is str:
        data = v.encode("utf-8", "surrogatepass")  # type: ignore[attr-defined]
        out += b"s%d:" % len(data) + data
    elif v is None:
        out += b"N"
    else:
        raise TypeError(f"--fingerprint cannot encode a state value of type {t.__name__}")


def digest64(data: bytes) -> int:
    """A 64-bit BLAKE2b digest: stable across processes, platforms and Python versions."""
    return int.from_bytes(blake2b(data, digest_size=8).digest(), "little")


Normaliser = Callable[[object], object]


def set_normaliser(t: TypeDesc) -> Normaliser | None:
    """A function turning every set inside a value of type ``t`` into the tuple of its
    elements in sorted order (each normalised first), or None when ``t`` holds no set.

    Two equal frozensets may iterate in different orders, so a set is the only value of
    a compiled state whose serialisation is not canonical as it stands."""
    kind = t[0]
    if kind == "set":
        inner = set_normaliser(t[1])
        if inner is None:
            return lambda v: tuple(sorted(v))  # type: ignore[call-overload]
        return lambda v: tuple(sorted(inner(x) for x in v))  # type: ignore[attr-defined]
    if kind == "union":
        per_variant = [_items_normaliser([ft for _, ft in fields]) for _, fields in t[2]]
        if all(f is None for f in per_variant):
            return None
        return lambda v: _normal_variant(v, per_variant)  # type: ignore[arg-type]
    if kind in ("rec", "tup", "map"):
        return _items_normaliser(items(t))
    if kind == "seq":
        inner = set_normaliser(t[1])
        if inner is None:
            return None
        return lambda v: tuple(inner(x) for x in v)  # type: ignore[attr-defined]
    return None


def _items_normaliser(types: Sequence[TypeDesc]) -> Normaliser | None:
    parts = [set_normaliser(it) for it in types]
    if all(f is None for f in parts):
        return None
    return lambda v: tuple(x if f is None else f(x)  # type: ignore[attr-defined]
                           for f, x in zip(parts, v))  # type: ignore[call-overload]


def _normal_variant(v: tuple, per_variant: list[Normaliser | None]) -> tuple:
    f = per_variant[v[0]]
    return v if f is None else (v[0],) + f(v[1:])  # type: ignore[operator]


class StateFingerprint:
    """The 64-bit key of one model's states as the scalar engine computes it, sound by
    construction: two states share a key only by a genuine 64-bit collision, the event
    whose odds :func:`collision_probability` estimates.

    With a packed layout: the state packed and keyed as every other engine keys it (the
    word of a one-word state, exact: ``exact`` is True; else :func:`fingerprint_words`).
    Without one, an injective serialisation followed by BLAKE2b: a compiled spec's state
    (its ``var_types`` known) by ``marshal``'s version-2 format, which is fixed across
    Python versions and decodable, hence injective, once its sets are put in sorted order;
    any other state (a hand-written Python model) by :func:`canonical_encoding`."""

    def __init__(self, var_types: tuple[TypeDesc, ...] | None) -> None:
        self.of: Callable[[object], int]
        self.layout = state_layout(var_types)
        self.exact = self.layout is not None and self.layout.words == 1
        if self.layout is not None:
            encode = packer(self.layout)
            if self.exact:
                self.of = lambda state: encode(state)[0]  # type: ignore[arg-type]
            else:
                self.of = lambda state: fingerprint_words(encode(state))  # type: ignore[arg-type]
            return
        if var_types is None:
            self.of = lambda state: digest64(canonical_encoding(state))
            return
        normal = _items_normaliser(var_types)
        if normal is None:
            self.of = lambda state: digest64(marshal.dumps(state, 2))
        else:
            self.of = lambda state: digest64(marshal.dumps(normal(state), 2))


def collision_probability(distinct: int, generated: int) -> float:
    """TLC's "calculated (optimistic)" probability that some state was missed because its
    fingerprint equalled another's: n * (m - n) / 2^64 for n distinct states among m
    generated."""
    return distinct * max(generated - distinct, 0) / 2.0**64


def first_occurrences(keys: np.ndarray, key_bits: int) -> tuple[np.ndarray, np.ndarray]:
    """The distinct keys, sorted, and the position of each one's first occurrence.

    When key and position fit one word together, one plain sort of ``key << b | position``
    does it (several times faster than a stable argsort); otherwise an argsort, and the
    smallest position of each run of equal keys."""
    n = len(keys)
    if n == 0:
        return keys, np.zeros(0, dtype=np.int64)
    b = max((n - 1).bit_length(), 1)
    if key_bits + b <= 64:
        packed = np.sort((keys << U64(b)) | np.arange(n, dtype=U64))
        k = packed >> U64(b)
        starts = np.empty(n, dtype=bool)
        starts[0] = True
        np.not_equal(k[1:], k[:-1], out=starts[1:])
        return k[starts], (packed[starts] & U64((1 << b) - 1)).astype(np.int64)
    order = np.argsort(keys)
    ks = keys[order]
    starts = np.empty(n, dtype=bool)
    starts[0] = True
    np.not_equal(ks[1:], ks[:-1], out=starts[1:])
    first = np.minimum.reduceat(order, np.flatnonzero(starts))
    return ks[starts], first.astype(np.int64)
