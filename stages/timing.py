"""Where a stage's time goes: start-up (interpreter and imports) against work, and CPU time.

Every stage prints one ``[timing]`` line on stderr when it ends; with ``LFL_STAGE_TIMES`` set
(``tools.stage_times`` sets it around a ``dvc repro``) it also appends the figures as one JSON
line to that file, keyed by the stage's DVC name (DVC exports it as ``DVC_STAGE``). Nothing
here touches a stage's outputs, so timing never changes a result or a hash.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from pathlib import Path

ENV_LOG = "LFL_STAGE_TIMES"


def process_start_time() -> float | None:
    """When this process started (seconds since the epoch), from /proc; None where there is no /proc."""
    try:
        fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
        boot = next(
            float(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines() if line.startswith("btime")
        )
    except (OSError, StopIteration, IndexError, ValueError):
        return None
    return boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")  # field 22 of stat: starttime in clock ticks


def cpu_seconds() -> float:
    """User + system CPU time of this process and its finished children (Ray workers excluded)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def report(
    stage: str, work_started: float, cpu_at_work_start: float, quiet: bool = False
) -> dict[str, float | str | None]:
    """Print the stage's timing line (unless ``quiet``) and, where ``LFL_STAGE_TIMES`` names a file, append it there."""
    now, started = time.time(), process_start_time()
    startup = None if started is None else round(max(work_started - started, 0.0), 2)
    record: dict[str, float | str | None] = {
        "stage": os.environ.get("DVC_STAGE", stage),
        "startup_s": startup,
        "work_s": round(now - work_started, 2),
        "startup_cpu_s": round(cpu_at_work_start, 2),
        "cpu_s": round(cpu_seconds(), 2),
        "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    if not quiet:
        print(
            f"[timing] {record['stage']}: start-up {startup} s, work {record['work_s']} s, CPU {record['cpu_s']} s",
            file=sys.stderr,
            flush=True,
        )
    log = os.environ.get(ENV_LOG)
    if log:
        with open(log, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")
    return record
