"""The project files that running ``python -m <module>`` imports, at any depth (tools/stage_deps.py).

Followed: ``import a.b``, ``from a import b`` (b a module or a name), relative imports and
imports inside functions, plus the packages' ``__init__.py`` files that Python runs on the way.
Imports under ``if TYPE_CHECKING:`` never run, nor those under ``if __name__ == "__main__":``
of a module that is not the one run: neither is part of the closure.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CODE_ROOTS = ("pipeline", "stages", "tools")


def module_file(module: str, root: Path = ROOT) -> Path | None:
    """The project file of a dotted module name (package: its __init__.py), or None."""
    if module.split(".")[0] not in CODE_ROOTS:
        return None
    base = root.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _is_main_guard(test: ast.expr) -> bool:
    return (
        isinstance(test, ast.Compare)
        and isinstance(test.left, ast.Name)
        and test.left.id == "__name__"
        and any(isinstance(c, ast.Constant) and c.value == "__main__" for c in test.comparators)
    )


def _run_time_imports(tree: ast.AST, as_main: bool) -> list[ast.Import | ast.ImportFrom]:
    """Import statements that execute at run time: not under ``if TYPE_CHECKING:``, nor under
    ``if __name__ == "__main__":`` unless the module is the one run with ``python -m``."""
    found: list[ast.Import | ast.ImportFrom] = []
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and (_is_type_checking(node.test) or (_is_main_guard(node.test) and not as_main)):
            stack.extend(node.orelse)
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        stack.extend(ast.iter_child_nodes(node))
    return found


def _module_of(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported_modules(node: ast.Import | ast.ImportFrom, path: Path, root: Path) -> list[str]:
    """Dotted names an import statement may load: the module, its parents, and `from` names."""
    if isinstance(node, ast.Import):
        targets = [alias.name for alias in node.names]
        candidates = targets
    else:
        base = node.module or ""
        if node.level:
            package = _module_of(path, root).split(".")
            if path.name != "__init__.py":
                package = package[:-1]
            package = package[: len(package) - (node.level - 1)]
            base = ".".join(package + ([node.module] if node.module else []))
        candidates = [base] + [f"{base}.{alias.name}" for alias in node.names]
    names: list[str] = []
    for name in candidates:
        parts = name.split(".")
        names.extend(".".join(parts[: i + 1]) for i in range(len(parts)))
    return names


@cache
def direct_imports(path: Path, root: Path = ROOT, as_main: bool = False) -> frozenset[Path]:
    tree = ast.parse(path.read_text(), filename=str(path))
    files = set()
    for node in _run_time_imports(tree, as_main):
        for name in _imported_modules(node, path, root):
            found = module_file(name, root)
            if found is not None:
                files.add(found)
    return frozenset(files)


def import_closure(module: str, root: Path = ROOT) -> list[str]:
    """Every project file that running ``python -m <module>`` imports, as sorted relative paths."""
    start = module_file(module, root)
    if start is None:
        raise ValueError(f"{module}: not a module of this project")
    seen, todo = {start}, [start]
    for parent in _imported_modules(ast.Import(names=[ast.alias(module)]), start, root):
        found = module_file(parent, root)  # python -m runs the parent packages' __init__ first
        if found is not None and found not in seen:
            seen.add(found)
            todo.append(found)
    while todo:
        path = todo.pop()
        for found in direct_imports(path, root, as_main=path == start):
            if found not in seen:
                seen.add(found)
                todo.append(found)
    return sorted(str(p.relative_to(root)) for p in seen)
