"""The checker's passes, run in this order by :func:`pyspec.checker.check`.

1. :mod:`~pyspec.passes.names`: every declaration claims its global name (E102) and goes
   into the symbol table; module parameters are bound (E421, E422).
2. :mod:`~pyspec.passes.typecheck`: declared types are resolved; every expression gets its
   type and every name, call, field and pattern its resolution (one ``match`` over the
   expression kinds).
3. :mod:`~pyspec.passes.finiteness`: whatever the explorer enumerates (variables, action
   parameters, view elements) has a finite type.
4. :mod:`~pyspec.passes.effects`: ``init`` and actions assign each variable once per path,
   primes where they belong.
5. :mod:`~pyspec.passes.params`: a declaration that binds a module parameter fits it;
   :mod:`~pyspec.passes.models`: models, ``for model`` blocks and scenarios name what
   exists.
6. :mod:`~pyspec.passes.lints`: warnings.

Each pass reports into one :class:`~pyspec.passes.report.Report` and writes its output
into plain data (:mod:`pyspec.checked`); no pass stops at the first error.
"""
