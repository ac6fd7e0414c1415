"""The breadth-first search of a compiled module and its state store, as generated source.

:mod:`pyspec.codegen.compiled` appends these functions to every generated module, so that
the search is compiled with the model's actions (LLVM inlines them). The store they
work on (held and grown by :mod:`explorer.engine.compiled`):

- ``store``: every stored state in BFS order, one ``uint8`` row each, each word of the
  packed state (:mod:`pyspec.layout`) in the fewest bytes its bit fields need (low byte
  first). A state's id is its row: the frontier is a range of ids, nothing is copied
  from level to level. With fingerprints only a window of it is kept, the states from
  the next one to expand on (row ``id - base``).
- ``ivals`` and ``itable``: when two or more words hold nothing but sets' bitmasks (the
  kernel model's GUP references, 256 bits over at most a few members), those words are
  **interned**, as SPIN's ``COLLAPSE`` mode stores each distinct part of a state once:
  ``ivals`` holds each distinct value of them once, ``itable`` finds it (open addressing,
  ``uint32`` slots of ``id + 1``), and a row holds the value's id in four bytes instead
  of the words. A state's words are rebuilt from its row and ``ivals``, which stays in
  the cache (its values are few).
- ``table``: the seen-state table, open addressing with linear probing, of any size (a
  hash picks a slot by a multiply and a shift, not a mask). Exact: a ``uint32`` slot
  holds ``id + 1`` in its low ``idbits`` bits (0: empty) and as many hash bits as are
  left above them, so that most slots of another state are passed over without reading
  its row. With fingerprints, ``ftable`` holds the 64-bit fingerprints (-1: empty).
- ``kids``: how many states each state added when it was expanded; a state's parent is
  found from their running sum (the children of a state have consecutive ids). ``vias``:
  each state's position in its parent's successor list.

Exactly the scalar engine's loop (:meth:`explorer.search._Search._explore`) over packed
states. Only the subset of Python the generated module keeps to (ints, int arrays,
``for``/``while``/``if``, calls of module functions).
"""

from __future__ import annotations

from dataclasses import dataclass

from pyspec.layout import Layout

#: Counter slots the search shares with the engine (the engine names them alike).
COUNTERS = 19
#: Bytes of an interned value's id in a row.
ID_BYTES = 4
#: The most an intern table is filled before it grows.
INTERN_LOAD = 0.5


@dataclass(frozen=True)
class RowFormat:
    """How a packed state is laid out in a store row: the ``kept`` words in ``widths``
    bytes each (their bit fields' total, rounded up), then, when some words are
    ``interned``, the id of their value in ``ivals``."""

    kept: tuple[int, ...]
    widths: tuple[int, ...]
    interned: tuple[int, ...]

    @property
    def id_at(self) -> int:
        """The byte of a row where the interned value's id starts."""
        return sum(self.widths)

    @property
    def row_bytes(self) -> int:
        return self.id_at + (ID_BYTES if self.interned else 0)


def row_format(layout: Layout) -> RowFormat:
    """The store rows of a layout. The words whose every leaf is a part of a set's
    bitmask are interned when there are at least two of them: a set over a large type
    holds few of its possible members in any one state (or the spec's states would be
    too many to search), so its distinct values are few beside the states, and a row
    of the kernel model shrinks from 43 bytes to 15. A spec whose sets do take most
    of their values pays an id and an intern entry per state instead."""
    used = [0] * layout.words
    sets_only = [True] * layout.words
    for leaf in layout.leaves:
        used[leaf.word] += leaf.bits
        sets_only[leaf.word] = sets_only[leaf.word] and leaf.desc[0] == "bits"
    interned = [w for w in range(layout.words) if sets_only[w]]
    if len(interned) < 2:
        interned = []
    kept = [w for w in range(layout.words) if w not in interned]
    return RowFormat(tuple(kept), tuple((used[w] + 7) // 8 for w in kept), tuple(interned))


def _bytes_at(at: int, width: int, row: str) -> str:
    """The little-endian integer in bytes ``at .. at + width - 1`` of store row ``row``."""
    terms = [f"(store[{row}, {at + k}] & 255)" + (f" << {8 * k}" if k else "")
             for k in range(width)]
    return " | ".join(f"({t})" if "<<" in t else t for t in terms) or "0"


def _row_fields(fmt: RowFormat) -> list[tuple[str, int, int]]:
    """What a row holds, in order: the name of each kept word (``0``, ``1``, ...) and of
    the interned value's id (``id``), with its first byte and its width."""
    out, at = [], 0
    for w, width in zip(fmt.kept, fmt.widths):
        out.append((str(w), at, width))
        at += width
    return out + ([("id", at, ID_BYTES)] if fmt.interned else [])


def _read_state(fmt: RowFormat, row: str, prefix: str, indent: str) -> list[str]:
    """Words ``prefix0..`` of the state in store row ``row``."""
    out = [f"{indent}{prefix}{name} = {_bytes_at(at, width, row)}"
           for name, at, width in _row_fields(fmt)]
    return out + [f"{indent}{prefix}{w} = ivals[{prefix}id, {k}]"
                  for k, w in enumerate(fmt.interned)]


def _write_row(fmt: RowFormat, row: str, prefix: str, indent: str) -> list[str]:
    """Store state ``prefix0..`` and the id of its interned value, ``prefix`` ``id``, in
    row ``row``."""
    out = []
    for name, at, width in _row_fields(fmt):
        for k in range(width):
            shifted = f"({prefix}{name} >> {8 * k})" if k else f"{prefix}{name}"
            out.append(f"{indent}store[{row}, {at + k}] = {shifted} & 255")
    return out


def _multipliers(words: int) -> list[int]:
    """The exact table's odd multiplier of each word: splitmix64's outputs from seed 0
    (forced odd), as int64 literals."""
    out, state, ones = [], 0, (1 << 64) - 1
    for _ in range(words):
        state = (state + 0x9E3779B97F4A7C15) & ones
        z = ((state ^ (state >> 30)) * 0xBF58476D1CE4E5B9) & ones
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & ones
        z = (z ^ (z >> 31)) | 1
        out.append(z - (1 << 64) if z >> 63 else z)
    return out


def _hash(fmt: RowFormat, indent: str, state: str = "n",
          exact_first: tuple[str, ...] = ()) -> list[str]:
    """``h``: the key of state ``n0..`` (of ``v0..`` with ``state`` ``v``: the word itself,
    or for several words, with fingerprints, its fingerprint,
    :func:`explorer.engine.fingerprint.fingerprint`);
    ``m``: the hash that picks its slot. An exact table of several words hashes their sum
    times odd multipliers instead of the fingerprint: the fingerprint's chain of a
    multiplication per word, each waiting for the last, was a sixth of the search's time
    on the kernel models, and a slot's hash need not be the same on every engine. It
    hashes the row's own words and the interned value's id (``nid``), as the row holds
    them (``exact_first``: lines that compute the id first). Multiplications must wrap,
    as the lowering's do (:mod:`pyspec.codegen.lower_llvm`): with overflow undefined
    (numba's int64 ``*`` is LLVM's ``mul nsw``), LLVM folded the hash of a word read
    from bytes to another value than the same word's hash read from an int64 array."""
    words = len(fmt.kept) + len(fmt.interned)
    if words == 1:
        return [f"{indent}h = {state}0", f"{indent}m = mix({state}0)"]
    keys = [f"{state}{w}" for w in fmt.kept] + ([f"{state}id"] if fmt.interned else [])
    summed = " + ".join(f"{k} * {c}" for k, c in zip(keys, _multipliers(len(keys))))
    return ([f"{indent}if fp:", f"{indent}    h = FP_SEED"]
            + [f"{indent}    h = fpmix(h ^ {state}{w}) + FP_SEED" for w in range(words)]
            + [f"{indent}    if h == -1:", f"{indent}        h = -2",
               f"{indent}else:", *[f"{indent}    {line}" for line in exact_first],
               f"{indent}    h = {summed}", f"{indent}m = mix(h)"])


def _intern_call(fmt: RowFormat) -> str:
    """The id of successor ``n0..``'s interned value, added to ``ivals`` if new."""
    return f"intern(ivals, itable, ctr, {', '.join(f'n{w}' for w in fmt.interned)})"


def _successor_id(fmt: RowFormat) -> tuple[str, ...]:
    """``nid`` for the exact table: the state's own (``vid``) when the step left the
    interned words alone, as most steps do. With fingerprints a row's id is needed
    only when the state is stored (``nid`` 0 until then)."""
    if not fmt.interned:
        return ()
    same = " and ".join(f"n{w} == v{w}" for w in fmt.interned)
    return (f"if {same}:", "    nid = vid", "else:", f"    nid = {_intern_call(fmt)}")


def _find_exact(fmt: RowFormat, indent: str) -> list[str]:
    """Probe the exact table for state ``n0..`` (its interned value's id ``nid``):
    ``seen``, or ``j`` at an empty slot. A slot whose hash bits differ from ``tag`` is
    another state: its row is not read."""
    terms = [f"({_bytes_at(at, width, 'q')}) == n{name}"
             for name, at, width in _row_fields(fmt)]
    return [indent + line for line in [
        "while True:",
        "    e = table[j] & 0xFFFFFFFF",
        "    if e == 0:",
        "        break",
        "    if (e >> idbits) == tag:",
        "        q = (e & idmask) - 1",
        f"        if {' and '.join(terms)}:",
        "            seen = True",
        "            break",
        "    j = next_slot(j, size)",
    ]]


def _intern_source(fmt: RowFormat) -> list[str]:
    """``intern``: the id of a value of the interned words (added to ``ivals`` if new);
    ``reintern``: the first ``n`` values of ``ivals`` into a larger ``itable``."""
    if not fmt.interned:
        return []
    xs = [f"x{k}" for k in range(len(fmt.interned))]
    summed = " + ".join(f"{x} * {c}" for x, c in zip(xs, _multipliers(len(xs))))
    resummed = " + ".join(f"ivals[g, {k}] * {c}"
                          for k, c in enumerate(_multipliers(len(xs))))
    return [
        "",
        f"def intern(ivals, itable, ctr, {', '.join(xs)}):",
        "    size = len(itable)",
        f"    m = mix({summed})",
        "    j = ((m & 0xFFFFFFFF) * size) >> 32",
        "    while True:",
        "        e = itable[j] & 0xFFFFFFFF",
        "        if e == 0:",
        "            break",
        "        g = e - 1",
        "        if " + " and ".join(f"ivals[g, {k}] == {x}" for k, x in enumerate(xs)) + ":",
        "            return g",
        "        j = next_slot(j, size)",
        "    g = ctr[17]",
        *[f"    ivals[g, {k}] = {x}" for k, x in enumerate(xs)],
        "    itable[j] = g + 1",
        "    ctr[17] = g + 1",
        "    return g",
        "",
        "def reintern(ivals, itable, n):",
        "    size = len(itable)",
        "    for g in range(n):",
        f"        m = mix({resummed})",
        "        itable[free_slot(itable, ((m & 0xFFFFFFFF) * size) >> 32, 0)] = g + 1",
    ]


def _each_check(fns: list[str], first: int, args: str, holds: bool, indent: str,
                on_failure: list[str]) -> list[str]:
    """For each check function of ``fns`` (live flags from ``first`` on), in their order:
    if it is live and its verdict on ``args`` is not ``holds``, ``on_failure`` with ``k``
    its number and ``at`` its live flag. One test per check, not a loop over a dispatch:
    LLVM inlines each check into the search."""
    out = []
    for k, fn in enumerate(fns):
        call = f"{fn}(K, {args})"
        out.append(f"{indent}if live[{first + k}] and {'not ' if holds else ''}{call}:")
        out += [indent + "    " + line.format(k=k, at=first + k) for line in on_failure]
    return out


def state_value_lines(values: list[tuple[int, str]], args: str, indent: str) -> list[str]:
    """Compute the state values (``values``: the ``K`` slot and def function of each) of
    the state ``args``, in declaration order (one may read another)."""
    return [f"{indent}K[{slot}] = {fn}(K, {args})" for slot, fn in values]


def kernel_source(layout: Layout, actions: list[str], checks: dict[str, list[str]],
                  values: list[tuple[int, str]]) -> list[str]:
    """The hash helpers, ``intern`` and ``reintern`` (when some words are interned),
    ``put`` (states into the store), ``seed`` (states of the store into the table),
    ``refill`` (a fingerprint table into a larger one) and ``search``. The search calls
    each action's function and each check's function (``checks``: their names by kind)
    itself, not ``successors`` and the ``check_`` dispatchers (which walks of ``cowspec
    simulate`` call). Before the checks of a new state it computes its state values
    (``values``: the ``K`` slot and def function of each, which the checks read)."""
    words = layout.words
    fmt = row_format(layout)
    vs = ", ".join(f"v{w}" for w in range(words))
    ns = ", ".join(f"n{w}" for w in range(words))
    ninv, nprop = len(checks["invariant"]), len(checks["property"])
    stop_unless_keep = ["if not keep:", "    stop = True", "    ctr[8] = 1"]
    property_failed = ["live[{at}] = 0", "nprops -= 1",
                       "record(events, ctr, 1, {k}, sid, pos)", *stop_unless_keep]
    state_checks = [
        *_each_check(checks["invariant"], 0, ns, True, " " * 16, [
            "live[{at}] = 0", "record(events, ctr, 0, {k}, sid, pos)", *stop_unless_keep]),
        *_each_check(checks["reachable"], ninv + nprop, ns, False, " " * 16, [
            "live[{at}] = 0", "record(events, ctr, 2, {k}, sid, pos)"])]
    if state_checks:
        state_checks[:0] = ["            if check:", *state_value_lines(values, ns, " " * 16)]
    fps = words > 1  # a one-word state is its own key: never fingerprinted
    # A successor equal to the state it comes from (a step that changes nothing) is seen
    # without a lookup: the state is in the table. Compared as the row holds it (its
    # interned words by their id, already found).
    same_as_v = " and ".join(f"n{name} == v{name}" for name, _, _ in _row_fields(fmt))
    read_v = _read_state(fmt, "r", "v", " " * 8)
    read_n = [f"            n{w} = sbuf[pos, {w}]" for w in range(words)]
    seed_fp = [
        "        if fp:",
        "            ftable[free_slot(ftable, j, -1)] = h",
        "            continue",
    ] if fps else []
    find_fp = [
        "            if fp:",
        "                while True:",
        "                    e = ftable[j]",
        "                    if e == -1:",
        "                        break",
        "                    if e == h:",
        "                        seen = True",
        "                        break",
        "                    j = next_slot(j, size)",
        "            else:",
        *_find_exact(fmt, "                "),
    ] if fps else _find_exact(fmt, "            ")
    return [
        "",
        "def mix(x):",
        "    x = (x ^ (x >> 31)) * -7723592293110705685",
        "    x = (x ^ (x >> 27)) * -4658895280553007687",
        "    return x ^ (x >> 33)",
        "",
        "FP_SEED = -7046029254386353131  # 0x9E3779B97F4A7C15",
        "",
        "def record(events, ctr, kind, k, sid, pos):",
        "    # a violation (0 invariant, 1 property), witness (2) or deadlock (3) met",
        "    e = ctr[9]",
        "    events[e, 0] = kind",
        "    events[e, 1] = k",
        "    events[e, 2] = sid",
        "    events[e, 3] = pos",
        "    ctr[9] = e + 1",
        "    return 0",
        "",
        "def prefetch(element):",
        "    # a hint: LLVM's prefetch of the element's cache line (pyspec.codegen.lower_llvm)",
        "    return 0",
        "",
        "def fpmix(x):",
        "    # splitmix64's finaliser; the masks make int64's shifts logical",
        "    x = x ^ ((x >> 30) & 0x3FFFFFFFF)",
        "    x = x * -4658895280553007687  # 0xBF58476D1CE4E5B9",
        "    x = x ^ ((x >> 27) & 0x1FFFFFFFFF)",
        "    x = x * -7723592293110705685  # 0x94D049BB133111EB",
        "    return x ^ ((x >> 31) & 0x1FFFFFFFF)",
        "",
        "def next_slot(j, size):",
        "    # linear probing: the slot after j, wrapping around",
        "    return 0 if j + 1 == size else j + 1",
        "",
        "def free_slot(t, j, empty):",
        "    # the first empty slot of table t from slot j on",
        "    while t[j] != empty:",
        "        j = next_slot(j, len(t))",
        "    return j",
        "",
        "def refill(old, new):",
        "    size = len(new)",
        "    for i in range(len(old)):",
        "        h = old[i]",
        "        if h != -1:",
        "            new[free_slot(new, ((mix(h) & 0xFFFFFFFF) * size) >> 32, -1)] = h",
        "",
        *_intern_source(fmt),
        "",
        "def put(store, ivals, itable, ctr, words, lo):",
        "    # states (rows of packed words) into the store from row lo on",
        "    for i in range(words.shape[0]):",
        *[f"        n{w} = words[i, {w}]" for w in range(words)],
        *([f"        nid = {_intern_call(fmt)}"] if fmt.interned else []),
        *_write_row(fmt, "lo + i", "n", " " * 8),
        "",
        "def seed(store, ivals, table, ftable, ctr, lo, hi):",
        "    # states lo..hi-1 of the store, known to be distinct, into the table",
        "    fp = ctr[15] != 0",
        "    size = len(ftable) if fp else len(table)",
        "    idbits = ctr[6]",
        "    tagmask = (1 << (32 - idbits)) - 1",
        "    for c in range(lo, hi):",
        "        r = c - ctr[5]",
        *_read_state(fmt, "r", "n", " " * 8),
        *_hash(fmt, "        "),
        "        j = ((m & 0xFFFFFFFF) * size) >> 32",
        *seed_fp,
        "        table[free_slot(table, j, 0)] = (c + 1) | (((m >> 32) & tagmask) << idbits)",
        "",
        "def search(K, store, ivals, itable, table, ftable, kids, vias, ctr, live, fired,",
        "           enabled, newc, group_of, genab, stamp, gstamp, events, sbuf, abuf, hbuf,",
        "           budget):",
        "    # ctr: 0 count, 1 total, 2 head, 3 level, 4 level_end, 5 base (store row 0's",
        "    # id), 6 idbits, 7 cut_by_depth, 8 stopped (1 violation, 2 max states),",
        "    # 9 nevents, 10 keep_going, 11 check_deadlock, 12 max_depth (-1 none), 13 cap,",
        "    # 14 table_limit, 15 fingerprint, 16 max successors, 17 interned values,",
        "    # 18 interned values' limit",
        "    # live: invariants, then properties, then reachables, then deadlock",
        "    ninv = NINV",
        "    nprop = NPROP",
        "    nreach = NREACH",
        "    keep = ctr[10] != 0",
        "    fp = ctr[15] != 0",
        "    size = len(ftable) if fp else len(table)",
        "    base = ctr[5]",
        "    idbits = ctr[6]",
        "    idmask = (1 << idbits) - 1",
        "    tagmask = (1 << (32 - idbits)) - 1",
        "    nprops = 0",
        "    for k in range(nprop):",
        "        nprops += live[ninv + k]",
        "    steps = 0",
        "    while True:",
        "        sid = ctr[2]",
        "        if sid == ctr[0]:",
        "            return 0",
        "        if sid == ctr[4]:",
        "            return 3",
        "        if steps >= budget:",
        "            return 1",
        "        if ctr[0] + ctr[16] > ctr[14] or ctr[0] + ctr[16] - base > store.shape[0] \\",
        "                or ctr[0] + ctr[16] > len(vias)" + (
            " or ctr[17] + ctr[16] > ctr[18]:" if fmt.interned else ":"),
        "            return 4",
        "        steps += 1",
        "        r = sid - base",
        *read_v,
        "        ctr[2] = sid + 1",
        "        n = 0",
        *[f"        n = a_{name}(K, {vs}, sbuf, abuf, n)" for name in actions],
        "        ctr[1] += n",
        "        stop = False",
        "        if n == 0 and ctr[11] != 0:",
        "            d = ninv + nprop + nreach",
        "            if live[d]:",
        "                live[d] = 0",
        "                record(events, ctr, 3, 0, sid, -1)",
        "            if not keep:",
        "                ctr[8] = 1",
        "                return 2",
        "        beyond = ctr[12] >= 0 and ctr[3] >= ctr[12]",
        *_hash(fmt, "        ", "v"),
        "        hv = h",
        "        for pos in range(n):",
        *read_n,
        *(["            nid = 0"] if fmt.interned else []),
        *_hash(fmt, " " * 12, exact_first=_successor_id(fmt)),
        "            hbuf[pos, 0] = h",
        "            hbuf[pos, 1] = m",
        *(["            hbuf[pos, 2] = nid"] if fmt.interned else []),
        "            j = ((m & 0xFFFFFFFF) * size) >> 32",
        *(["            if fp:",
           "                prefetch(ftable[j])",
           "            else:",
           "                prefetch(table[j])"] if fps else ["            prefetch(table[j])"]),
        "        pos = -1",
        "        for pos in range(n):",
        "            a = abuf[pos]",
        *read_n,
        "            fired[a] += 1",
        "            if stamp[a] != sid:",
        "                stamp[a] = sid",
        "                enabled[a] += 1",
        "                for gi in range(group_of.shape[1]):",
        "                    g = group_of[a, gi]",
        "                    if g < 0:",
        "                        break",
        "                    if gstamp[g] != sid:",
        "                        gstamp[g] = sid",
        "                        genab[g] += 1",
        "            if nprops:",
        *_each_check(checks["property"], ninv, f"{vs}, {ns}", True, " " * 16, property_failed),
        "                if stop:",
        "                    break",
        "            h = hbuf[pos, 0]",
        "            m = hbuf[pos, 1]",
        *(["            nid = hbuf[pos, 2]"] if fmt.interned else []),
        "            j = ((m & 0xFFFFFFFF) * size) >> 32",
        "            tag = (m >> 32) & tagmask",
        "            seen = h == hv and (fp or (" + same_as_v + "))",
        "            if not seen:",
        *["    " + line for line in find_fp],
        "            if seen:",
        "                continue",
        "            check = False",
        "            if beyond:",
        "                ctr[7] = 1",
        f"            elif not constraints(K, {ns}):",
        "                check = True",
        "            elif ctr[0] >= ctr[13]:",
        "                ctr[8] = 2",
        "                stop = True",
        "                break",
        "            else:",
        "                c = ctr[0]",
        *(["                if fp:",
           "                    ftable[j] = h",
           "                else:",
           "                    table[j] = (c + 1) | (tag << idbits)"] if fps else
          ["                table[j] = (c + 1) | (tag << idbits)"]),
        *(["                if fp:", f"                    nid = {_intern_call(fmt)}"]
          if fmt.interned else []),
        *_write_row(fmt, "c - base", "n", " " * 16),
        "                kids[sid] += 1",
        "                vias[c] = pos",
        "                ctr[0] = c + 1",
        "                newc[a] += 1",
        "                check = True",
        *state_checks,
        "            if stop:",
        "                break",
        "        if stop:",
        "            ctr[1] -= n - pos - 1",
        "            return 2",
    ]
