"""Every stage computes with the executor's torch thread count, whatever the machine's core count."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]

# A stage entry point in miniature: torch imported before run_stage (as the stages that import it at
# module level do) or only inside main (as the lazy ones do); main prints the thread count it computes with.
PROBE = """
import sys
if sys.argv[2] == "early":
    import torch
from stages.common import run_stage, stage_parser

def main(args, params):
    import torch
    print("threads", torch.get_num_threads())

sys.exit(run_stage(main, stage_parser("probe"), ["--params", sys.argv[1]]))
"""


def probe_threads(folder: Path, cpus_per_task: int, when: str) -> int:
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["executor"] = {**params["executor"], "cpus_per_task": cpus_per_task}
    (folder / "params.yaml").write_text(yaml.safe_dump(params))
    env = {key: value for key, value in os.environ.items() if key not in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(folder / "params.yaml"), when],
        cwd=folder, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return int(done.stdout.split("threads")[-1])


@pytest.mark.parametrize("when", ["early", "late"])
def test_a_stage_computes_with_the_executor_threads(tmp_path: Path, when: str) -> None:
    assert probe_threads(tmp_path, 1, when) == 1
    if (os.cpu_count() or 1) >= 2:  # and with two, where the machine has them: the setting is what counts
        assert probe_threads(tmp_path, 2, when) == 2
