"""Where the passes put what they find: every diagnostic, with its source line."""

from __future__ import annotations

from pyspec.errors import Diagnostic, SourceCache
from pyspec.model import SourcePos


class Report:
    """The diagnostics of one check, in the order the passes found them."""

    def __init__(self, sources: SourceCache):
        self.sources = sources
        self.diagnostics: list[Diagnostic] = []

    def error(self, code: str, message: str, pos: SourcePos | None) -> None:
        self.diagnostics.append(Diagnostic(code, message, pos, "error", self.sources.line(pos)))

    def warning(self, code: str, message: str, pos: SourcePos | None) -> None:
        self.diagnostics.append(Diagnostic(code, message, pos, "warning",
                                           self.sources.line(pos)))
