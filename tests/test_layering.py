"""The package's shape: data flows one way between subpackages, and modules stay small.

docs/architecture.md ("The layer map") orders the subsystems; a module may import its own
subsystem and the ones below it, never one above (not even inside a function: that is how import
cycles creep back in). No module passes MAX_LINES lines.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "evosearch"

#: Bottom to top. ``errors``, ``plugins``, ``registry`` and ``_lazy`` are shared by all.
ORDER = [
    ("errors", "plugins", "registry", "_lazy"),
    ("data",),
    ("preprocess",),
    ("nn",),
    ("space",),
    ("objectives",),
    ("evaluation",),
    ("runs",),
    ("deploy",),
    ("search",),
    ("report",),
    ("dashboard",),
    ("cli",),
    ("testing",),
]
LEVEL = {name: level for level, names in enumerate(ORDER) for name in names}
MAX_LINES = 500


def subsystem(path: Path) -> str:
    return path.relative_to(PACKAGE).parts[0].removesuffix(".py")


def imported_subsystems(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "evosearch" and len(parts) > 1:
                found.add(parts[1])
    return found


MODULES = sorted(p for p in PACKAGE.rglob("*.py") if p.parent != PACKAGE or p.name != "__init__.py")


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_a_module_imports_only_its_own_or_lower_subsystems(path: Path) -> None:
    own = subsystem(path)
    if own not in LEVEL:
        pytest.fail(f"{own} is not in the layer order of this test (and docs/architecture.md)")
    higher = {s for s in imported_subsystems(path) if s in LEVEL and LEVEL[s] > LEVEL[own]}
    assert not higher, f"{path.relative_to(PACKAGE)} ({own}) imports higher subsystems {higher}"


def test_no_module_is_oversized() -> None:
    sizes = {str(p.relative_to(PACKAGE)): len(p.read_text("utf-8").splitlines()) for p in MODULES}
    assert {m: n for m, n in sizes.items() if n > MAX_LINES} == {}
