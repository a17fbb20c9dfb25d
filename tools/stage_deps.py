"""Each DVC stage's code deps, computed from what its entry module imports (at any depth).

    python -m tools.stage_deps           # list stages whose declared code deps differ (exit 1 if any)
    python -m tools.stage_deps --write   # rewrite those deps in dvc.yaml (other deps and comments kept)

A stage runs ``python -m stages.<name>``; its code deps are every project file that this
module imports, transitively: ``import a.b``, ``from a import b`` (b a module or a name),
relative imports and imports inside functions, plus the packages' ``__init__.py`` files that
Python runs on the way. Imports under ``if TYPE_CHECKING:`` never run and are not deps.
Declaring exactly this set means a cached result is what the current code computes, and an
edit re-runs only the stages that execute the edited file.
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from functools import lru_cache
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
CODE_ROOTS = ("pipeline", "stages", "tools")
_MODULE_CMD = re.compile(r"python\s+-m\s+([\w.]+)")


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
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _is_main_guard(test: ast.expr) -> bool:
    return (isinstance(test, ast.Compare) and isinstance(test.left, ast.Name) and test.left.id == "__name__"
            and any(isinstance(c, ast.Constant) and c.value == "__main__" for c in test.comparators))


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


@lru_cache(maxsize=None)
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


def is_code_dep(dep: str) -> bool:
    return dep.split("/")[0] in CODE_ROOTS


def stage_modules(dvc_yaml: Path) -> dict[str, str]:
    """Stage name -> the module its command runs (``python -m <module>``)."""
    stages = (yaml.safe_load(dvc_yaml.read_text()) or {}).get("stages", {})
    modules = {}
    for name, stage in stages.items():
        match = _MODULE_CMD.search(str(stage.get("cmd", "")))
        if match:
            modules[name] = match.group(1)
    return modules


def declared_deps(dvc_yaml: Path) -> dict[str, list[str]]:
    stages = (yaml.safe_load(dvc_yaml.read_text()) or {}).get("stages", {})
    return {name: [str(d) for d in stage.get("deps") or []] for name, stage in stages.items()}


def _covered(file: str, declared: set[str]) -> bool:
    return any(file == d or file.startswith(d + "/") for d in declared)


def check(dvc_yaml: Path, root: Path = ROOT) -> dict[str, tuple[list[str], list[str]]]:
    """Stage -> (imported files no dep covers, declared code deps that are not imported files)."""
    declared = declared_deps(dvc_yaml)
    result = {}
    for stage, module in stage_modules(dvc_yaml).items():
        needed = import_closure(module, root)
        code = {d.rstrip("/") for d in declared.get(stage, []) if is_code_dep(d)}
        missing = [f for f in needed if not _covered(f, code)]
        extra = sorted(code - set(needed))
        if missing or extra:
            result[stage] = (missing, extra)
    return result


def rewrite(text: str, closures: dict[str, list[str]]) -> str:
    """dvc.yaml's text with each stage's code deps replaced by its closure (other lines kept)."""
    lines, out = text.splitlines(keepends=True), []
    stage, in_deps, pending = None, False, []
    for line in lines:
        stage_match = re.match(r"^  (\w[\w-]*):", line)
        if stage_match:
            stage = stage_match.group(1)
        if in_deps:
            item = re.match(r"^(\s+)- ([^\s#]+)", line)
            if item and len(item.group(1)) >= 6:
                if not is_code_dep(item.group(2)):
                    out.append(line)
                continue
            out.extend(f"      - {dep}\n" for dep in pending)
            in_deps = False
        if re.match(r"^    deps:\s*(#.*)?$", line) and stage in closures:
            in_deps, pending = True, closures[stage]
        out.append(line)
    if in_deps:
        out.extend(f"      - {dep}\n" for dep in pending)
    return "".join(out)


def write(dvc_yaml: Path, root: Path = ROOT) -> list[str]:
    """Rewrite dvc.yaml's code deps; returns the stages whose deps changed."""
    changed = list(check(dvc_yaml, root))
    closures = {stage: import_closure(module, root) for stage, module in stage_modules(dvc_yaml).items()}
    dvc_yaml.write_text(rewrite(dvc_yaml.read_text(), closures))
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.stage_deps", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dvc-yaml", type=Path, default=ROOT / "dvc.yaml")
    parser.add_argument("--write", action="store_true", help="rewrite the code deps in dvc.yaml")
    args = parser.parse_args(argv)
    if args.write:
        changed = write(args.dvc_yaml)
        print(f"{args.dvc_yaml}: code deps rewritten for {len(changed)} stage(s): {', '.join(changed) or 'none'}")
        return 0
    problems = check(args.dvc_yaml)
    for stage, (missing, extra) in problems.items():
        print(f"{stage}: imported but not declared: {', '.join(missing) or '-'}; "
              f"declared but not imported: {', '.join(extra) or '-'}")
    if problems:
        print("fix: python -m tools.stage_deps --write")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
