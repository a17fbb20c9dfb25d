"""``executor:`` parsing, the local executor and the folder transport of the Ray one (no cluster needed)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from pipeline.config import parse_params
from pipeline.utils.configparse import ConfigError
from pipeline.distributed.seeds import ExecutorError, SeedDone, run_seeds
from pipeline.distributed.config import ExecutorConfig

ROOT = Path(__file__).resolve().parents[2]


def real_params_with(**executor) -> dict:
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["executor"] = {**params["executor"], "workers": 1, **executor}  # the default's 2 workers are local-only
    return params


@pytest.mark.parametrize("executor, message", [
    ({"kind": "spark"}, "executor.kind: expected one of"),
    ({"address": "10.0.0.1:6379"}, "executor.address: only used with executor.kind: ray"),
    ({"kind": "ray", "address": "admin:secret@10.0.0.1:6379"}, "executor.address: contains credentials"),
    ({"cpus_per_task": 0}, "executor.cpus_per_task: expected a positive number"),
    ({"max_retries": -1}, "executor.max_retries: expected an integer >= 0"),
    ({"token": "abc"}, "executor.token: unknown key"),
])
def test_bad_executor_params_fail_with_the_key_path(executor, message):
    with pytest.raises(ConfigError, match=message.replace(".", r"\.").replace("(", r"\(")):
        parse_params(real_params_with(**executor))


def test_the_default_is_local_on_two_workers():
    assert parse_params(yaml.safe_load((ROOT / "params.yaml").read_text())).executor == ExecutorConfig(workers=2)


class RecordingJob:
    def __init__(self) -> None:
        self.calls: list[tuple[int, Path, Path | None, str | None]] = []

    def __call__(self, seed: int, out: Path, inputs: Path | None = None, node: str | None = None) -> str:
        self.calls.append((seed, out, inputs, node))
        out.mkdir()
        (out / "seed.txt").write_text(str(seed))
        return f"seed {seed} done"


def test_local_runs_the_seeds_in_order_here_with_their_inputs(tmp_path):
    job = RecordingJob()
    done = list(run_seeds(job, (2, 0, 1), ExecutorConfig(), tmp_path, inputs=lambda seed: tmp_path / f"in{seed}"))
    assert done == [SeedDone(s, f"seed {s} done", None) for s in (2, 0, 1)]
    assert job.calls == [(s, tmp_path / f"seed{s}", tmp_path / f"in{s}", None) for s in (2, 0, 1)]
    assert (tmp_path / "seed1" / "seed.txt").read_text() == "1"


def test_the_local_executor_never_imports_ray(tmp_path):
    script = ("import sys; from pathlib import Path; from pipeline.distributed.seeds import run_seeds; "
              "from pipeline.distributed.config import ExecutorConfig; import stages.train, stages.init_loss; "
              f"list(run_seeds(lambda seed, out, inputs=None, node=None: str(seed), (0, 1), ExecutorConfig(), Path({str(tmp_path)!r}))); "
              "print('ray' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def test_a_seed_folder_travels_as_bytes_and_back(tmp_path):
    ray_tasks = pytest.importorskip("pipeline.distributed.ray_tasks", reason="Ray is not installed")
    source = tmp_path / "source"
    (source / "sub").mkdir(parents=True)
    (source / "state.pt").write_bytes(bytes(range(256)))
    (source / "sub" / "info.json").write_text('{"seed": 0}')
    files = ray_tasks.pack(source)
    assert set(files) == {"state.pt", "sub/info.json"} and ray_tasks.pack(None) is None
    copy = ray_tasks.unpack(files, tmp_path / "copy")
    assert (copy / "state.pt").read_bytes() == bytes(range(256)) and (copy / "sub" / "info.json").read_text() == '{"seed": 0}'
    with pytest.raises(FileNotFoundError, match="missing; run the stage that writes it first"):
        ray_tasks.pack(tmp_path / "no_init")  # a seed's init folder that init_loss never wrote: said on the driver


@pytest.mark.parametrize("address", ["no-port", "ray://host:port"])
def test_a_malformed_address_fails_before_ray_starts(address):
    ray_tasks = pytest.importorskip("pipeline.distributed.ray_tasks", reason="Ray is not installed")
    with pytest.raises(ExecutorError, match="expected host:port or ray://host:port"):
        ray_tasks.check_reachable(address)
