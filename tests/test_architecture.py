"""The code's own rules that no linter checks: no private name used across modules, and no
import cycle. (The layers are import-linter's job: ``make lint``, pyproject.toml.)

ruff's PLC2701 (import-private-name) is no substitute: it lets a module import a private
name from another module of the same package, which is exactly the coupling to catch.
"""

from __future__ import annotations

import ast
from pathlib import Path

import grimp
import networkx as nx

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("pyspec", "explorer")

#: Private names still taken across modules: the kernel runner's tests reach one helper of
#: its bindings, which is that area's to make public.
EXEMPT = {
    ("tests/test_kernelrun_bindings.py", "_read_through_pin"),
}


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _sources() -> list[Path]:
    return sorted(p for root in (*PACKAGES, "tests") for p in (ROOT / root).rglob("*.py"))


def private_uses(path: Path) -> list[tuple[int, str]]:
    """Private names ``path`` takes from other modules: ``from m import _x``, an import of
    a private module, or ``obj._x`` on anything but ``self`` and ``cls``."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 \
                and node.module.split(".")[0] in (*PACKAGES, "tests"):
            found += [(node.lineno, a.name) for a in node.names if _private(a.name)]
            found += [(node.lineno, part) for part in node.module.split(".") if _private(part)]
        elif isinstance(node, ast.Import):
            found += [(node.lineno, part) for a in node.names
                      if a.name.split(".")[0] in (*PACKAGES, "tests")
                      for part in a.name.split(".") if _private(part)]
        elif isinstance(node, ast.Attribute) and _private(node.attr):
            owner = node.value
            if not (isinstance(owner, ast.Name) and owner.id in ("self", "cls", "os", "sys")):
                found.append((node.lineno, node.attr))
    return found


def test_no_private_name_is_used_across_modules() -> None:
    offences = [f"{p.relative_to(ROOT)}:{line}: {name}"
                for p in _sources() for line, name in private_uses(p)
                if (str(p.relative_to(ROOT)), name) not in EXEMPT]
    assert offences == []


def test_the_checker_of_private_names_sees_them(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("from explorer.engine.links import _Hidden, Public\n"
                      "import explorer._inner\n"
                      "from explorer._inner import thing\n"
                      "x = other._state\nself._mine = 1\nos._exit(0)\n")
    assert sorted(private_uses(sample)) == [(1, "_Hidden"), (2, "_inner"), (3, "_inner"),
                                           (4, "_state")]


def test_no_import_cycles() -> None:
    graph = grimp.build_graph(*PACKAGES)
    imports = nx.DiGraph()
    for module in graph.modules:
        for imported in graph.find_modules_directly_imported_by(module):
            imports.add_edge(module, imported)
    assert list(nx.simple_cycles(imports)) == []
