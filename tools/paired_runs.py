"""Compare two runs of the pipeline (two checkouts, or a profile against the default) seed by seed.

    python -m tools.paired_runs --a ../abl --b . --label-a residual --label-b plain [--methods ml3 adalfl]

For every pair and method present in both runs' ``data/eval/<pair>.json``: the paired
difference a - b in final test error and in validation-error AUC over the shared seeds,
with the verdict of ``pipeline.report.paired`` (t below 6 seeds, Wilcoxon from 6). Both runs
must have used the same seeds' initial weights and batches (the same pairs and seeds).

A run may also be a saved study record (``studies/results/<name>/``, whose ``eval/<pair>.json``
is the run's ``data/eval``): it keeps no learning curves, so its comparisons give the test
error only and say that the AUC was not compared.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from pipeline.report.paired import compare, curve_auc, mean_of, verdict_p
from tools.save_study import FOLDERS


def eval_folder(root: Path) -> Path:
    """A checkout's ``data/eval``, or a saved study record's ``eval``."""
    for folder in (root / "data/eval", root / FOLDERS["data/eval"]):
        if folder.is_dir():
            return folder
    raise FileNotFoundError(f"{root}: neither data/eval (a checkout after dvc repro) nor eval (a saved study record)")


def run_values(root: Path, pair: str, method: str) -> tuple[dict[int, float | None], dict[int, float | None] | None]:
    """Seed -> test error and seed -> validation-error AUC of one run (None where it diverged);
    the AUCs are None as a whole where the run kept no learning curves (a saved study record)."""
    records = json.loads((eval_folder(root) / f"{pair}.json").read_text())["methods"].get(method, [])
    runs = root / "data/runs" / pair / method
    test: dict[int, float | None] = {}
    auc: dict[int, float | None] | None = {} if runs.is_dir() else None
    for record in records:
        seed = record["seed"]
        finished = record["status"] == "finished"
        test[seed] = record["test_error"] if finished else None
        if auc is not None:
            history = json.loads((runs / f"seed{seed}" / "history.json").read_text())
            auc[seed] = curve_auc(history) if finished else None
    return test, auc


def compare_runs(a: Path, b: Path, methods: list[str] | None) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    folder_a, folder_b = eval_folder(a), eval_folder(b)
    for eval_file in sorted(folder_a.glob("*.json")):
        pair = eval_file.stem
        if not (folder_b / eval_file.name).is_file():
            continue
        shared = set(json.loads(eval_file.read_text())["methods"]) & set(
            json.loads((folder_b / eval_file.name).read_text())["methods"]
        )
        for method in sorted(shared if methods is None else shared & set(methods)):
            (test_a, auc_a), (test_b, auc_b) = run_values(a, pair, method), run_values(b, pair, method)
            out.setdefault(pair, {})[method] = {
                "test_error": compare({"a": test_a, "b": test_b}, "a", "b"),
                "auc": compare({"a": auc_a, "b": auc_b}, "a", "b") if auc_a is not None and auc_b is not None else None,
                "mean_a": mean_of(test_a),
                "mean_b": mean_of(test_b),
            }
    return out


def _p(result: dict[str, Any]) -> str:
    p = verdict_p(result)
    return "–" if p is None else f"{p:.3g} ({'Wilcoxon' if result['test'] == 'wilcoxon' else 't'})"


def markdown(results: dict[str, dict[str, Any]], label_a: str, label_b: str) -> str:
    lines = [
        f"| pair | method | test error {label_a} | {label_b} | Δ ({label_a} - {label_b}) [95% CI] | p | verdict "
        f"| Δ AUC | p | verdict | seeds |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for pair, row in results.items():
        for method, r in row.items():
            t, auc = r["test_error"], r["auc"]
            ci = f" [{t['ci95'][0]:+.4f}, {t['ci95'][1]:+.4f}]" if t["ci95"] else ""
            speed = (
                "– | – | no curves (a saved record)"
                if auc is None
                else (f"{auc['mean_diff']:+.4f} | {_p(auc)} | {auc['verdict']}")
            )
            lines.append(
                f"| {pair} | {method} | {r['mean_a']:.4f} | {r['mean_b']:.4f} | {t['mean_diff']:+.4f}{ci} | "
                f"{_p(t)} | {t['verdict']} | {speed} | {t['n']} |"
            )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.paired_runs", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--a", type=Path, required=True, help="the run compared (a checkout after dvc repro, or studies/results/<name>)"
    )
    parser.add_argument("--b", type=Path, required=True, help="the reference run (the same kinds)")
    parser.add_argument("--label-a", default="a")
    parser.add_argument("--label-b", default="b")
    parser.add_argument("--methods", nargs="*", help="only these methods (default: every shared one)")
    parser.add_argument("--json", type=Path, help="also write the full comparison here")
    args = parser.parse_args(argv)
    try:
        results = compare_runs(args.a, args.b, args.methods)
    except FileNotFoundError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if not results:
        print("error: the two runs share no evaluated pair and method", file=sys.stderr)
        return 2
    print(markdown(results, args.label_a, args.label_b), end="")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
