"""From a spec file to its modules: the file and every file it imports, each parsed once.

A file whose text the parse cache holds (:mod:`pyspec.parse_cache`) is read from it and
not parsed: a warm run never imports Lark. Parsing is :mod:`pyspec.parser`; what a spec
may open is :mod:`pyspec.sourcefiles`.
"""

from __future__ import annotations

from pathlib import Path

from pyspec import ast as A
from pyspec import errorcodes as codes
from pyspec import parse_cache
from pyspec.errors import Diagnostic, SourceCache
from pyspec.instances import expand_instances
from pyspec.model import SourcePos
from pyspec.sourcefiles import ImportPolicy, SourceFileError, read_source, resolve_import


def parse_files(path: str, sources: SourceCache, policy: ImportPolicy | None = None
                ) -> tuple[list[A.Module], list[Diagnostic]]:
    """Parse a spec file and, transitively, every file it imports (each once).

    Imports are resolved relative to the importing file, then to the include directories
    of ``policy`` (see :mod:`pyspec.sourcefiles` for what a spec may open). Modules come
    back in dependency order (an imported module before its importer), which is also the
    order in which their declarations are merged.
    """
    policy = policy or ImportPolicy()
    root = Path(path).parent
    modules: list[A.Module] = []
    diags: list[Diagnostic] = []
    seen: set[Path] = set()

    def refuse(exc: SourceFileError, p: Path, origin: SourcePos | None) -> None:
        if exc.line is not None:  # in the file's own text
            pos = SourcePos(str(p), exc.line, exc.col or 1)
            diags.append(Diagnostic(codes.IMPORT_UNREADABLE, exc.message, pos,
                                    source_line=exc.source_line))
        else:
            diags.append(Diagnostic(codes.IMPORT_UNREADABLE, exc.message, origin,
                                    source_line=sources.line(origin)))

    def visit(p: Path, origin: SourcePos | None) -> None:
        resolved = p.resolve()
        if resolved in seen:
            return
        seen.add(resolved)
        try:
            text = read_source(p)
        except SourceFileError as exc:
            refuse(exc, p, origin)
            return
        file = str(p)
        sources.add(file, text)
        module, errors = parse_module(text, file)
        diags.extend(errors)
        if module is None:
            return
        for imp in module.imports:
            try:
                target = resolve_import(p, imp.target, root, policy)
            except SourceFileError as exc:
                refuse(exc, p, imp.pos)
                continue
            imp.file = str(target)
            visit(target, imp.pos)
        modules.append(module)

    visit(Path(path), None)
    diags += expand_instances(modules, sources)
    return modules, diags


def parse_module(text: str, file: str) -> tuple[A.Module | None, list[Diagnostic]]:
    """One file's tree: from the parse cache, else parsed (and then cached when it has
    no error: a file with errors is parsed again, to report them)."""
    module = parse_cache.load(text, file)
    if module is not None:
        return module, []
    from pyspec.parser import parse_text  # Lark, imported only when a file is parsed

    module, errors = parse_text(text, file)
    if module is not None and not errors:
        parse_cache.store(text, module)
    return module, errors
