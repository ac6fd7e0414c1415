"""The search engines and the parts they are built from.

Entry point: :func:`explorer.engine.registry.check` (``check(model, options) -> Result``),
which picks an engine; every engine module offers the same ``check`` and registers in
:data:`explorer.engine.registry.ENGINES`. The interface an engine implements is
:class:`explorer.engine.interface.Engine`; ``docs/explorer.md`` ("Adding an engine") says
which file to copy.

Parts, each with public names, shared by the engines (TLC's split: FPSet, IStateQueue,
TLCTrace, Worker; Stateright's: Checker, visitor, Path, report):

- :mod:`~explorer.engine.interface`: ``Options``, ``Progress``, ``Observer``, ``Engine``,
  ``HandOver`` (an engine gives the search to the scalar engine);
- :mod:`~explorer.engine.seen`: seen-state stores (exact, fingerprint, sharded);
- :mod:`~explorer.engine.frontier`: the queue of states to explore, level by level;
- :mod:`~explorer.engine.links`: parent links and trace rebuilding by replay;
- :mod:`~explorer.engine.findings`: violations and witnesses, verdicts, coverage;
- :mod:`~explorer.engine.limits`: limits and progress, looked at while searching;
- :mod:`~explorer.engine.outcome`: the :class:`~explorer.result.Result` of a search;
- :mod:`~explorer.engine.reduction`: symmetry reduction of a model;
- :mod:`~explorer.engine.fingerprint`: the one 64-bit fingerprint function of every
  engine, and sorted key arrays;
- :mod:`~explorer.engine.packing`: a scalar state packed into its layout's words, fast;
- :mod:`~explorer.engine.array_level`: the array code's expansion of a batch of states.
- :mod:`~explorer.engine.checkpoint`: snapshots of an array search, written and resumed.

Engines: :mod:`~explorer.engine.scalar`, :mod:`~explorer.engine.arrays` (numpy),
:mod:`~explorer.engine.compiled` (machine code through LLVM), :mod:`~explorer.engine.workers`
(several processes), :mod:`~explorer.engine.cluster` (shards on Ray actors,
:mod:`~explorer.engine.cluster_shard`). No engine imports the registry.
"""
