"""The library's layers, read from its imports: `python -m tools.layers [--root DIR]`.

``LAYERS`` lists the modules of ``pipeline/`` from the bottom up. A module may import modules
of its own layer or of a lower one, never a higher one, and no module may take part in an
import circle. Counted: every import that runs (module level or inside a function); imports
under ``if TYPE_CHECKING:`` never run and are not counted (tools/import_closure.py).
tests/test_layers.py holds the library to it; this command prints the report and the numbers
(circles, upward imports, functions with more than five parameters, lines over 120 characters).
"""

from __future__ import annotations

import argparse
import ast
from fnmatch import fnmatch
from pathlib import Path

import networkx as nx

from tools.import_closure import ROOT, direct_imports

# Bottom to top. A name is a module under pipeline/ ("train", "meta.forward"); "pkg.*" is every
# module of a package; the most specific pattern wins ("tuning.config" before "tuning.*").
LAYERS: list[tuple[str, list[str]]] = [
    ("utilities", ["utils.*", "<pipeline>"]),
    ("optimisers", ["optim"]),
    ("data", ["data.*"]),
    ("models", ["models.*"]),
    ("methods", ["methods"]),
    ("learned", ["learned.*"]),
    ("meta", ["meta.*"]),
    ("evaluation", ["evaluation"]),
    ("training", ["training.*"]),
    ("branches", ["l2l.*", "fewshot.*"]),
    ("section configs", ["tuning.config", "distributed.config", "distributed.job"]),
    ("root config", ["config", "paramsview", "configcheck"]),
    ("orchestration", ["tuning.*", "distributed.*", "inputs"]),
    ("report and API", ["report.*", "api.*"]),
]


def module_name(path: Path, root: Path) -> str:
    """``pipeline/meta/forward.py`` -> ``meta.forward``; a package's ``__init__.py`` -> the package."""
    parts = list(path.relative_to(root / "pipeline").with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts) or "<pipeline>"


def layer_of(module: str) -> int | None:
    """The index of the module's layer in LAYERS (most specific pattern), None when no pattern names it."""
    best: tuple[int, int] | None = None  # (specificity, layer)
    for index, (_, patterns) in enumerate(LAYERS):
        for pattern in patterns:
            package = pattern.removesuffix(".*")
            if module == pattern or (pattern.endswith(".*") and (module == package or fnmatch(module, pattern))):
                specificity = len(pattern) + (1000 if module == pattern else 0)
                if best is None or specificity > best[0]:
                    best = (specificity, index)
    return None if best is None else best[1]


def import_graph(root: Path = ROOT) -> nx.DiGraph:
    """Module -> imported module, for every import that runs within pipeline/ (package __init__s left out)."""
    graph = nx.DiGraph()
    for path in sorted((root / "pipeline").rglob("*.py")):
        source = module_name(path, root)
        graph.add_node(source)
        for target in direct_imports(path, root):
            if not target.is_relative_to(root / "pipeline") or target.name == "__init__.py":
                continue  # outside the library, or a package's __init__ that Python runs on the way
            graph.add_edge(source, module_name(target, root))
    return graph


def circles(graph: nx.DiGraph) -> list[list[str]]:
    return [sorted(c) for c in nx.strongly_connected_components(graph) if len(c) > 1]


def unplaced(graph: nx.DiGraph) -> list[str]:
    return sorted(m for m in graph if m != "<pipeline>" and layer_of(m) is None)


def upward_imports(graph: nx.DiGraph) -> list[str]:
    """'a (layer) -> b (higher layer)' for every import that runs up the layers."""
    found = []
    for a, b in sorted(graph.edges):
        la, lb = layer_of(a), layer_of(b)
        if la is not None and lb is not None and lb > la:
            found.append(f"{a} ({LAYERS[la][0]}) -> {b} ({LAYERS[lb][0]})")
    return found


def long_signatures(root: Path = ROOT, limit: int = 5) -> list[str]:
    """Functions of pipeline/ and stages/ with more than ``limit`` parameters (self and cls not counted)."""
    found = []
    for path in sorted([*(root / "pipeline").rglob("*.py"), *(root / "stages").rglob("*.py")]):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                args = node.args
                names = [a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)]
                count = len([n for n in names if n not in ("self", "cls")])
                if count > limit:
                    found.append(f"{path.relative_to(root)}:{node.lineno} {node.name} ({count})")
    return found


def long_lines(root: Path = ROOT, limit: int = 120) -> int:
    paths = [*(root / "pipeline").rglob("*.py"), *(root / "stages").rglob("*.py")]
    return sum(len(line) > limit for path in paths for line in path.read_text().splitlines())


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tools.layers", description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="a checkout of the project (default: this one)")
    args = parser.parse_args()
    graph = import_graph(args.root.resolve())
    for title, items in (
        ("import circles", [" <-> ".join(c) for c in circles(graph)]),
        ("upward imports", upward_imports(graph)),
        ("modules in no layer", unplaced(graph)),
    ):
        print(f"{title}: {len(items)}")
        for item in items:
            print(f"  {item}")
    signatures = long_signatures(args.root.resolve())
    print(f"functions with more than 5 parameters: {len(signatures)}")
    print(f"lines over 120 characters: {long_lines(args.root.resolve())}")


if __name__ == "__main__":
    main()
