"""Every exit code of ``cowspec`` in one table: TLC's numbering, so that CI scripts written
for TLC or Apalache keep working (``docs/explorer.md``, "Exit codes").

The language package raises errors that carry two of them (:mod:`pyspec.errors`); the
explorer judges a run into the others (:mod:`explorer.judge`) and prints this table in
``cowspec --help``.

``cowspec kernel-run`` is the one command that does not use this table: it runs the
kernel model's scenarios on the live kernel and reports agreement, a test runner's job,
so it keeps a test runner's codes (0 every row agrees, 1 some row disagrees or failed,
2 bad usage or a broken environment, 128 + the signal number when interrupted, as a
shell reports it); ``docs/explorer.md`` ("Exit codes") lists them.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_DEADLOCK = 11
EXIT_SAFETY = 12
#: TLC's code for a violated temporal property (a lasso counterexample).
EXIT_LIVENESS = 13
EXIT_SPEC_ERROR = 150
EXIT_MODEL_ERROR = 151
EXIT_LIMIT = 152
#: The reader of the output went away (``| head``): the status of a process killed by
#: SIGPIPE (128 + 13), as a shell reports it.
EXIT_BROKEN_PIPE = 141
EXIT_INTERNAL = 255

#: Each code and what it means, for ``--help`` and the docs.
TABLE: tuple[tuple[int, str], ...] = (
    (EXIT_OK, "every verdict as expected"),
    (EXIT_DEADLOCK, "unexpected deadlock"),
    (EXIT_SAFETY, "any other failed judgement (safety violation, expected violation not "
                  "found, failed scenario, unreachable witness, --strict-coverage)"),
    (EXIT_LIVENESS, "a temporal property violated (a lasso), and no other failure"),
    (EXIT_SPEC_ERROR, "spec error, or the model raised while being evaluated"),
    (EXIT_MODEL_ERROR, "bad model or options"),
    (EXIT_LIMIT, "limit reached or interrupted (Ctrl-C, SIGTERM, SIGHUP, a worker that died)"),
    (EXIT_BROKEN_PIPE, "the reader of the output went away (e.g. `| head`)"),
    (EXIT_INTERNAL, "internal error"),
)

#: When several models are checked, the first of these that any model returned wins.
PRECEDENCE = (
    EXIT_INTERNAL,
    EXIT_SPEC_ERROR,
    EXIT_MODEL_ERROR,
    EXIT_SAFETY,
    EXIT_LIVENESS,
    EXIT_DEADLOCK,
    EXIT_LIMIT,
)
