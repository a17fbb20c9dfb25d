"""Save a finished run as a study record, ``studies/results/<name>/``, with everything a reader needs.

    python -m tools.save_study --run ../wt_tuned --name tuned [--stage-times ../wt_tuned/stage_times.json]

Copies from the run's checkout: the report (``results.md``, ``metrics.json``, ``metrics_detail.json``,
``convergence.json``, ``plots/``), every evaluation record (``data/eval`` -> ``eval/``), every study
(``reports/tuning`` -> ``tuning/``), the params the run used (``params.yaml``) and, where given, the
stage times. DVC's ``.gitignore`` files are left behind: copied along, they kept files of two earlier
records out of git (tests/test_studies.py). An existing record is refused rather than overwritten.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

REPORT_FILES = ("results.md", "metrics.json", "metrics_detail.json", "convergence.json")
FOLDERS = {"reports/plots": "plots", "data/eval": "eval", "reports/tuning": "tuning"}


def save_study(run: Path, out: Path, stage_times: Path | None = None) -> list[Path]:
    """Copy the run's record into ``out`` (which must not exist); the files written."""
    if out.exists():
        raise FileExistsError(f"{out} exists; choose another name or remove it first")
    missing = [name for name in ("reports/results.md", "data/eval") if not (run / name).exists()]
    if missing:
        raise FileNotFoundError(f"{run}: no {', '.join(missing)}; run dvc repro there first")
    out.mkdir(parents=True)
    for name in REPORT_FILES:
        if (run / "reports" / name).is_file():
            shutil.copy2(run / "reports" / name, out / name)
    for source, target in FOLDERS.items():
        if source == "reports/tuning" and not any((run / source).rglob("result.json")):
            continue  # the run tuned nothing: the checkout's README and empty folders are not its studies
        if (run / source).is_dir():
            shutil.copytree(run / source, out / target, ignore=shutil.ignore_patterns(".gitignore"))
    shutil.copy2(run / "params.yaml", out / "params.yaml")
    if stage_times is not None:
        shutil.copy2(stage_times, out / "stage_times.json")
    return sorted(p for p in out.rglob("*") if p.is_file())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.save_study", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--run", type=Path, required=True, help="the checkout the profile ran in")
    parser.add_argument("--name", required=True, help="the record's folder under studies/results/")
    parser.add_argument("--stage-times", type=Path, help="python -m tools.stage_times run --save's file")
    parser.add_argument("--root", type=Path, default=Path("studies/results"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        files = save_study(args.run, args.root / args.name, args.stage_times)
    except (FileExistsError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"{args.root / args.name}: {len(files)} files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
