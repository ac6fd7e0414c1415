"""The breadth-first search of a compiled module and its state store, as generated source.

:mod:`pyspec.codegen.compiled` appends these functions to every generated module, so that
the search is compiled with the model's actions (LLVM inlines them). The store they
work on (held and grown by :mod:`explorer.engine.compiled`):

- ``store``: every stored state in BFS order, one ``uint8`` row each, each word of the
  packed state (:mod:`pyspec.layout`) in the fewest bytes its bit fields need (low byte
  first). A state's id is its row: the frontier is a range of ids, nothing is copied
  from level to level. With fingerprints only a window of it is kept, the states from
  the next one to expand on (row ``id - base``).
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

from pyspec.layout import Layout

#: Counter slots the search shares with the engine (the engine names them alike).
COUNTERS = 17


def row_widths(layout: Layout) -> list[int]:
    """Bytes of each packed word in a store row: its bit fields' total, rounded up."""
    used = [0] * layout.words
    for leaf in layout.leaves:
        used[leaf.word] += leaf.bits
    return [(bits + 7) // 8 for bits in used]


def _offsets(widths: list[int]) -> list[int]:
    out, at = [], 0
    for w in widths:
        out.append(at)
        at += w
    return out


def _read_word(widths: list[int], w: int, row: str) -> str:
    """The packed word ``w`` of store row ``row``."""
    at = _offsets(widths)[w]
    terms = [f"(store[{row}, {at + k}] & 255)" + (f" << {8 * k}" if k else "")
             for k in range(widths[w])]
    return " | ".join(f"({t})" if "<<" in t else t for t in terms) or "0"


def _write_row(widths: list[int], row: str, prefix: str, indent: str) -> list[str]:
    offsets = _offsets(widths)
    out = []
    for w, width in enumerate(widths):
        for k in range(width):
            shifted = f"({prefix}{w} >> {8 * k})" if k else f"{prefix}{w}"
            out.append(f"{indent}store[{row}, {offsets[w] + k}] = {shifted} & 255")
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


def _hash(words: int, indent: str, state: str = "n") -> list[str]:
    """``h``: the key of state ``n0..`` (of ``v0..`` with ``state`` ``v``: the word itself,
    or for several words, with fingerprints, its fingerprint,
    :func:`explorer.engine.fingerprint.fingerprint`);
    ``m``: the hash that picks its slot. An exact table of several words hashes their sum
    times odd multipliers instead of the fingerprint: the fingerprint's chain of a
    multiplication per word, each waiting for the last, was a sixth of the search's time
    on the kernel models, and a slot's hash need not be the same on every engine.
    Multiplications must wrap, as the lowering's do (:mod:`pyspec.codegen.lower_llvm`):
    with overflow undefined (numba's int64 ``*`` is LLVM's ``mul nsw``), LLVM folded the
    hash of a word read from bytes to another value than the same word's hash read from
    an int64 array."""
    if words == 1:
        return [f"{indent}h = {state}0", f"{indent}m = mix({state}0)"]
    summed = " + ".join(f"{state}{w} * {c}" for w, c in enumerate(_multipliers(words)))
    return ([f"{indent}if fp:", f"{indent}    h = FP_SEED"]
            + [f"{indent}    h = fpmix(h ^ {state}{w}) + FP_SEED" for w in range(words)]
            + [f"{indent}    if h == -1:", f"{indent}        h = -2",
               f"{indent}else:", f"{indent}    h = {summed}", f"{indent}m = mix(h)"])


def _find_exact(widths: list[int], indent: str) -> list[str]:
    """Probe the exact table for state ``n0..``: ``seen``, or ``j`` at an empty slot. A
    slot whose hash bits differ from ``tag`` is another state: its row is not read."""
    same = " and ".join(f"({_read_word(widths, w, 'q')}) == n{w}" for w in range(len(widths)))
    return [indent + line for line in [
        "while True:",
        "    e = table[j] & 0xFFFFFFFF",
        "    if e == 0:",
        "        break",
        "    if (e >> idbits) == tag:",
        "        q = (e & idmask) - 1",
        f"        if {same}:",
        "            seen = True",
        "            break",
        "    j = next_slot(j, size)",
    ]]


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


def kernel_source(layout: Layout, actions: list[str], checks: dict[str, list[str]],
                  values: list[tuple[int, str]]) -> list[str]:
    """The hash helpers, ``seed`` (states of the store into the table), ``refill`` (a
    fingerprint table into a larger one) and ``search``. The search calls each action's
    function and each check's function (``checks``: their names by kind) itself, not
    ``successors`` and the ``check_`` dispatchers (which walks of ``cowspec simulate``
    call). Before the checks of a new state it computes its state values (``values``:
    the ``K`` slot and def function of each, which the checks read)."""
    words = layout.words
    widths = row_widths(layout)
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
        state_checks[:0] = ["            if check:",
                            *[f"                K[{slot}] = {fn}(K, {ns})" for slot, fn in values]]
    fps = words > 1  # a one-word state is its own key: never fingerprinted
    # A successor equal to the state it comes from (a step that changes nothing) is seen
    # without a lookup: the state is in the table.
    same_as_v = " and ".join(f"n{w} == v{w}" for w in range(words))
    read_v = [f"        v{w} = {_read_word(widths, w, 'r')}" for w in range(words)]
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
        *_find_exact(widths, "                "),
    ] if fps else _find_exact(widths, "            ")
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
        "def seed(store, table, ftable, ctr, lo, hi):",
        "    # states lo..hi-1 of the store, known to be distinct, into the table",
        "    fp = ctr[15] != 0",
        "    size = len(ftable) if fp else len(table)",
        "    idbits = ctr[6]",
        "    tagmask = (1 << (32 - idbits)) - 1",
        "    for c in range(lo, hi):",
        "        r = c - ctr[5]",
        *[f"        n{w} = {_read_word(widths, w, 'r')}" for w in range(words)],
        *_hash(words, "        "),
        "        j = ((m & 0xFFFFFFFF) * size) >> 32",
        *seed_fp,
        "        table[free_slot(table, j, 0)] = (c + 1) | (((m >> 32) & tagmask) << idbits)",
        "",
        "def search(K, store, table, ftable, kids, vias, ctr, live, fired, enabled, newc,",
        "           group_of, genab, stamp, gstamp, events, sbuf, abuf, hbuf, budget):",
        "    # ctr: 0 count, 1 total, 2 head, 3 level, 4 level_end, 5 base (store row 0's",
        "    # id), 6 idbits, 7 cut_by_depth, 8 stopped (1 violation, 2 max states),",
        "    # 9 nevents, 10 keep_going, 11 check_deadlock, 12 max_depth (-1 none), 13 cap,",
        "    # 14 table_limit, 15 fingerprint, 16 max successors",
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
        "                or ctr[0] + ctr[16] > len(vias):",
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
        *_hash(words, "        ", "v"),
        "        hv = h",
        "        for pos in range(n):",
        *read_n,
        *_hash(words, "            "),
        "            hbuf[pos, 0] = h",
        "            hbuf[pos, 1] = m",
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
        *_write_row(widths, "c - base", "n", "                "),
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
