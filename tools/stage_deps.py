"""Each DVC stage's code dep: a digest of every project file its entry module imports.

    python -m tools.stage_deps                     # list stages whose declared code deps are off (exit 1 if any)
    python -m tools.stage_deps --write             # rewrite those deps in dvc.yaml (other deps and comments kept)
    python -m tools.stage_deps --digests data/code # the `code` stage: one digest file per stage module

A stage runs ``python -m stages.<name>``; its code is every project file that module imports,
transitively (tools/import_closure.py). The `code` stage writes, for each module under
``stages/``, ``data/code/<module>.txt``: the SHA-256 and path of every file in that closure.
Every other stage depends on its module's digest file and on no code file: an edit changes the
digest of exactly the modules that import the edited file, so exactly their stages re-run, and
a cached result is what the current code computes. One digest per stage, instead of the ~50
files of its closure, keeps dvc.lock small: DVC reads and rewrites the whole lock file around
every stage it runs (docs/performance.md).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import yaml

from pipeline.utils.digest import sha256_line
from pipeline.utils.paths import CODE_DIGESTS
from tools.import_closure import CODE_ROOTS, ROOT, import_closure

DIGEST_DIR = str(CODE_DIGESTS)
SELF = "tools.stage_deps"  # the `code` stage's own module: it depends on the code folders themselves
SOURCES = ("pipeline", "stages")  # what the `code` stage reads besides its own closure
_MODULE_CMD = re.compile(r"python\s+-m\s+([\w.]+)")


def digest_file(module: str) -> str:
    return f"{DIGEST_DIR}/{module}.txt"


def is_code_dep(dep: str) -> bool:
    return dep.split("/")[0] in CODE_ROOTS or dep.startswith(DIGEST_DIR + "/")


def stage_entry_modules(root: Path = ROOT) -> list[str]:
    """Every module under stages/ that a stage can run (helpers included: a digest costs nothing)."""
    return sorted(f"stages.{path.stem}" for path in (root / "stages").glob("*.py") if path.stem != "__init__")


def digest_text(module: str, root: Path = ROOT) -> str:
    lines = [f"# every project file `python -m {module}` imports, with its SHA-256 (python -m tools.stage_deps)"]
    for name in import_closure(module, root):
        lines.append(sha256_line(root / name, name))
    return "\n".join(lines) + "\n"


def write_digests(out_dir: Path, root: Path = ROOT) -> list[str]:
    """The `code` stage's work: one digest file per stage module; returns the modules."""
    out_dir.mkdir(parents=True, exist_ok=True)
    modules = stage_entry_modules(root)
    for module in modules:
        (out_dir / f"{module}.txt").write_text(digest_text(module, root))
    return modules


def expected_code_deps(module: str, root: Path = ROOT) -> list[str]:
    """A stage's code deps: its digest file; for the `code` stage, the folders it hashes and its own closure."""
    if module == SELF:  # plus any file outside SOURCES that a stage imports, so an edit there re-hashes too
        outside = {
            f for m in stage_entry_modules(root) for f in import_closure(m, root) if f.split("/")[0] not in SOURCES
        }
        return sorted({*SOURCES, *import_closure(SELF, root), *outside})
    return [digest_file(module)]


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


def check(dvc_yaml: Path, root: Path = ROOT) -> dict[str, tuple[list[str], list[str]]]:
    """Stage -> (code deps it lacks, code deps it should not have); empty when every stage is right."""
    declared = declared_deps(dvc_yaml)
    result = {}
    for stage, module in stage_modules(dvc_yaml).items():
        needed = set(expected_code_deps(module, root))
        code = {d.rstrip("/") for d in declared.get(stage, []) if is_code_dep(d)}
        if code != needed:
            result[stage] = (sorted(needed - code), sorted(code - needed))
    return result


def rewrite(text: str, closures: dict[str, list[str]]) -> str:
    """dvc.yaml's text with each stage's code deps replaced by its closure (other lines kept)."""
    lines, out = text.splitlines(keepends=True), []
    stage, in_deps = None, False
    pending: list[str] = []
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
    wanted = {stage: expected_code_deps(module, root) for stage, module in stage_modules(dvc_yaml).items()}
    dvc_yaml.write_text(rewrite(dvc_yaml.read_text(), wanted))
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.stage_deps", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dvc-yaml", type=Path, default=ROOT / "dvc.yaml")
    parser.add_argument("--write", action="store_true", help="rewrite the code deps in dvc.yaml")
    parser.add_argument("--digests", type=Path, metavar="DIR", help="write one digest per stage module into DIR")
    args = parser.parse_args(argv)
    if args.digests is not None:
        modules = write_digests(args.digests)
        print(f"{args.digests}: digests of {len(modules)} stage modules")
        return 0
    if args.write:
        changed = write(args.dvc_yaml)
        print(f"{args.dvc_yaml}: code deps rewritten for {len(changed)} stage(s): {', '.join(changed) or 'none'}")
        return 0
    problems = check(args.dvc_yaml)
    for stage, (missing, extra) in problems.items():
        print(f"{stage}: code deps missing: {', '.join(missing) or '-'}; not its code deps: {', '.join(extra) or '-'}")
    if problems:
        print("fix: python -m tools.stage_deps --write")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
