"""The file formats ``cowspec check`` can write a run's results in, one option each.

To add a format, write a module like :mod:`explorer.report_junit` (a function from the
judged results to a file) and add a :class:`ReportFormat` for it to :data:`FORMATS`: the
option ``--NAME FILE`` appears in ``cowspec check --help`` and the file is written after
every model was checked. Formats read only the plain data of :mod:`explorer.result`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from explorer.report_itf import write_itf
from explorer.report_json import document, write_json
from explorer.report_junit import write_junit
from explorer.result import Result


@dataclass(frozen=True)
class ReportFormat:
    """``--NAME FILE``: ``write(results, exit code, several models?, path)``."""

    name: str
    help: str
    write: Callable[[Sequence[Result], int, bool, str], None]


FORMATS: tuple[ReportFormat, ...] = (
    ReportFormat("json", "write the whole result as JSON",
                 lambda results, code, several, path: write_json(
                     path, document(list(results), code, several))),
    ReportFormat("itf", "write traces in the ITF format",
                 lambda results, code, several, path: write_itf(list(results), path)),
    ReportFormat("junit", "write JUnit XML for CI",
                 lambda results, code, several, path: write_junit(list(results), path)),
)
