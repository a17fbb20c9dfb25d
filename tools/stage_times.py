"""Where the time of a `dvc repro` goes, stage by stage (docs/performance.md).

    python -m tools.stage_times run --save studies/results/perf/after.json   # runs `dvc repro`, then prints the tables
    python -m tools.stage_times show studies/results/perf/after.json         # the tables of a saved run
    python -m tools.stage_times merge --save all.json --log killed.txt part2.json part3.json   # one run in pieces

`run` stamps every line `dvc repro` prints: a stage's wall time is the time from its
"Running stage" line to the next stage's (so it includes DVC's hashing and lock-file work
after the command), and the stages themselves log their start-up (interpreter + imports),
work and CPU time (stages/timing.py, through ``LFL_STAGE_TIMES``). Overhead is wall minus
start-up minus work: DVC's own bookkeeping around the command.

`merge` joins the pieces of one profile's run (stopped and resumed, or split over worktrees that
share DVC's run cache) into one file for its record: the rows of saved runs, and for an invocation
killed before it could save, the rows of its finished stages read off its log's ``[timing]`` lines
(wall = start-up + work: DVC's overhead there is not measured). A stage that ran in several pieces
keeps its last piece's row; a stage restored from the run cache has no "Running stage" line, so
no row, and does not hide the row of the piece that computed it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

_RUNNING = re.compile(r"Running stage '([^']+)'")
_TIMING = re.compile(r"\[timing\] (\S+): start-up (\S+) s, work (\S+) s, CPU (\S+) s")


def stamped_run(command: list[str], log: Path) -> tuple[list[tuple[float, str]], float, int]:
    """Run ``command`` with ``LFL_STAGE_TIMES=log``, echoing its output; each line with its time."""
    env = dict(os.environ, LFL_STAGE_TIMES=str(log), PYTHONUNBUFFERED="1")
    started = time.time()
    lines: list[tuple[float, str]] = []
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append((time.time() - started, line.rstrip("\n")))
            print(line, end="", flush=True)
    return lines, time.time() - started, proc.returncode


def stage_walls(lines: list[tuple[float, str]], total: float) -> dict[str, float]:
    """Each stage's wall time: from its 'Running stage' line to the next one (the last: to the end)."""
    starts = [(stamp, match.group(1)) for stamp, line in lines if (match := _RUNNING.search(line))]
    ends = [stamp for stamp, _ in starts[1:]] + [total]
    return {name: round(end - stamp, 2) for (stamp, name), end in zip(starts, ends)}


def join(walls: dict[str, float], records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per stage that ran: DVC's wall time with the stage's own figures, overhead derived."""
    own = {record["stage"]: record for record in records}
    rows = []
    for name, wall in walls.items():
        row: dict[str, Any] = {
            "stage": name,
            "wall_s": wall,
            **{k: v for k, v in own.get(name, {}).items() if k != "stage"},
        }
        if "work_s" in row and row.get("startup_s") is not None:
            row["overhead_s"] = round(wall - row["startup_s"] - row["work_s"], 2)
        rows.append(row)
    return rows


def family(stage: str) -> str:
    return stage.split("@", 1)[0]


def _sum(rows: list[dict[str, Any]], key: str) -> float:
    return round(sum(row.get(key) or 0.0 for row in rows), 1)


_COLUMNS = ("wall_s", "startup_s", "work_s", "overhead_s", "cpu_s")
_HEADER = "| wall s | start-up s | work s | DVC overhead s | CPU s |"


def family_table(rows: list[dict[str, Any]], total: float) -> str:
    """Stages grouped by their dvc.yaml entry (train@… -> train), slowest group first."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(family(row["stage"]), []).append(row)
    lines = ["| stage | runs " + _HEADER, "|---|---:|---:|---:|---:|---:|---:|"]
    for name, members in sorted(groups.items(), key=lambda item: -_sum(item[1], "wall_s")):
        lines.append(f"| {name} | {len(members)} | " + " | ".join(f"{_sum(members, c):g}" for c in _COLUMNS) + " |")
    lines.append(f"| **all** | {len(rows)} | " + " | ".join(f"{_sum(rows, c):g}" for c in _COLUMNS) + " |")
    rest = round(total - _sum(rows, "wall_s"), 1)
    lines.append(f"\n`dvc repro` took {total:.0f} s in all; {rest:g} s of it before the first stage ran.")
    return "\n".join(lines)


def slowest_table(rows: list[dict[str, Any]], count: int) -> str:
    lines = ["| stage " + _HEADER, "|---|---:|---:|---:|---:|---:|"]
    for row in sorted(rows, key=lambda r: -r["wall_s"])[:count]:
        lines.append(f"| {row['stage']} | " + " | ".join(f"{row.get(c, '')}" for c in _COLUMNS) + " |")
    return "\n".join(lines)


def tables(saved: dict[str, Any], count: int = 15) -> str:
    return (
        f"{family_table(saved['rows'], saved['total_s'])}\n\nThe {count} slowest stages:\n\n"
        f"{slowest_table(saved['rows'], count)}\n"
    )


def run(command: list[str], save: Path | None) -> int:
    with tempfile.TemporaryDirectory() as scratch:
        log = Path(scratch) / "times.jsonl"
        lines, total, code = stamped_run(command, log)
        records = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    saved = {
        "command": command,
        "total_s": round(total, 1),
        "exit_code": code,
        "rows": join(stage_walls(lines, total), records),
    }
    if save is not None:
        save.parent.mkdir(parents=True, exist_ok=True)
        save.write_text(json.dumps(saved, indent=1) + "\n")
    print("\n" + tables(saved))
    return code


def _seconds(text: str) -> float | None:
    return None if text == "None" else float(text)


def rows_from_log(text: str) -> list[dict[str, Any]]:
    """Rows of the stages that finished in a log of `dvc repro` (their ``[timing]`` lines); wall = start-up + work."""
    rows = []
    for match in _TIMING.finditer(text):
        startup, work, cpu = (_seconds(match.group(i)) for i in (2, 3, 4))
        assert work is not None, match.group(0)
        wall = round((startup or 0.0) + work, 2)
        rows.append({"stage": match.group(1), "wall_s": wall, "startup_s": startup, "work_s": work, "cpu_s": cpu})
    return rows


def merge(saved_runs: list[Path], logs: list[Path]) -> dict[str, Any]:
    """One saved run from pieces: the logs' rows first, then each saved run's in order (a later row wins)."""
    if not saved_runs and not logs:
        raise ValueError("nothing to merge: name saved runs and/or --log files")
    rows: dict[str, dict[str, Any]] = {}
    for log in logs:
        rows.update((row["stage"], row) for row in rows_from_log(log.read_text()))
    commands = [f"(killed, from its log {log.name})" for log in logs]
    for path in saved_runs:
        saved = json.loads(path.read_text())
        rows.update((row["stage"], row) for row in saved["rows"])
        failed = "" if saved["exit_code"] == 0 else f" (exit {saved['exit_code']})"
        commands.append(" ".join(saved["command"]) + failed)
    merged = list(rows.values())
    return {
        "command": ["dvc", "repro"],
        "total_s": _sum(merged, "wall_s"),
        "exit_code": 0,
        "rows": merged,
        "note": f"Merged by tools.stage_times from {len(commands)} invocations: "
        + "; ".join(commands)
        + ". total_s is the sum of the stages' walls (time between stages and before the first not counted).",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="what", required=True)
    run_parser = sub.add_parser("run", help="run a command (default: dvc repro) and time its stages")
    run_parser.add_argument("--save", type=Path, help="write the rows as JSON here")
    run_parser.add_argument("command", nargs="*", default=["dvc", "repro"])
    show_parser = sub.add_parser("show", help="print the tables of a saved run")
    show_parser.add_argument("saved", type=Path)
    show_parser.add_argument("--slowest", type=int, default=15)
    merge_parser = sub.add_parser("merge", help="join the pieces of one run into one saved file")
    merge_parser.add_argument("saved", type=Path, nargs="*", help="saved runs, earliest first")
    merge_parser.add_argument("--log", type=Path, action="append", default=[], help="log of a killed invocation")
    merge_parser.add_argument("--save", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.what == "show":
        print(tables(json.loads(args.saved.read_text()), args.slowest))
        return 0
    if args.what == "merge":
        try:
            merged = merge(args.saved, args.log)
        except (OSError, ValueError, KeyError) as error:
            parser.error(str(error))
        args.save.write_text(json.dumps(merged, indent=1) + "\n")
        print(tables(merged))
        return 0
    return run(args.command or ["dvc", "repro"], args.save)


if __name__ == "__main__":
    sys.exit(main())
