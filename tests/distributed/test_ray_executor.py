"""The init_loss and train stages on a real two-node Ray cluster on this machine (marker `ray`).

Each node has one CPU and token authentication is on. The stages run as subprocesses in a
temporary project copy, so the driver, the nodes and the workers are separate processes, as
on a real cluster. Every output must equal the local executor's — tensors by ``torch.equal``,
the rest but wall time and node by ``==`` (one torch thread in both: results depend on the
thread count).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from pipeline.utils.runfacts import seed_facts
from pipeline.utils.paths import timings_file
from tests.distributed.ray_cluster import free_port, kill_node, start_node, token_env, wait_for_nodes, write_token
from tests.pipeline_repo import make_repo, shrunk_params
from tests.seed_outputs import assert_identical, seed_outputs

# slow: a two-node cluster costs about 100 s; `make test-slow` (and CI) runs it
pytestmark = [pytest.mark.ray, pytest.mark.slow]
ray = pytest.importorskip("ray", reason="Ray is not installed (requirements.txt installs it)")
PAIR, METHOD = "digits_logistic", "adalfl"


def stage(repo: Path, name: str, option: str, value: str, params: str, stage_env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", f"stages.{name}", "--pair", PAIR, f"--{option}", value, "--params", params],
                          cwd=repo, env=stage_env, capture_output=True, text=True, timeout=600)


def with_executor(repo: Path, name: str, **executor) -> str:
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["executor"] = {**params["executor"], "workers": 1, **executor}  # the default's 2 workers are local-only
    (repo / name).write_text(yaml.safe_dump(params, sort_keys=False))
    return name


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A head node; yields (address, environment with the token's path, folder for logs)."""
    folder = tmp_path_factory.mktemp("ray")
    node_env = token_env(write_token(folder))
    port = free_port()
    head = start_node(["--head", f"--port={port}", "--include-dashboard=false", "--disable-usage-stats",
                       f"--temp-dir={folder / 'session'}"], node_env, folder / "head.log")
    address = f"127.0.0.1:{port}"
    try:
        wait_for_nodes(address, node_env, 1)
    except TimeoutError as error:
        kill_node(head)
        pytest.skip(f"Ray cannot start here: {error}; {(folder / 'head.log').read_text()[-500:]}")
    yield address, node_env, folder
    kill_node(head)


@pytest.fixture
def worker_node(cluster):
    address, node_env, folder = cluster
    node = start_node([f"--address={address}"], node_env, folder / f"worker{time.monotonic_ns()}.log")
    wait_for_nodes(address, node_env, 2)
    yield node
    kill_node(node)
    wait_for_nodes(address, node_env, 1)


@pytest.fixture(scope="module")
def project(tmp_path_factory, cluster):
    """A project copy with the offline phase run and the local executor's training outputs kept aside."""
    params = shrunk_params(PAIR, steps=600, offline_steps=3)
    params["seeds"] = [0, 1]
    params["run"]["methods"], params["run"]["inits"] = [METHOD], ["smooth_nn"]
    params["checkpoint"] = {"every": 25, "dir": "data/checkpoints"}
    repo = make_repo(tmp_path_factory.mktemp("ray_project"), params)
    offline = subprocess.run(["dvc", "repro", f"init_loss@{PAIR}-smooth_nn"], cwd=repo, env=cluster[1], capture_output=True, text=True)
    assert offline.returncode == 0, offline.stderr[-2000:]  # one torch thread, as in the Ray tasks
    local = stage(repo, "train", "method", METHOD, "params.yaml", cluster[1])
    assert local.returncode == 0, local.stderr[-2000:]
    shutil.copytree(repo / "data/runs", repo / "local_runs")
    return repo


def assert_same_outputs(local: Path, remote: Path) -> None:
    assert_identical(seed_outputs(remote), seed_outputs(local))


def nodes_of(repo: Path, stage: str) -> dict[int, str]:
    """Seed -> the node that ran it, from the stage's run facts (reports/timings)."""
    item = f"{PAIR}-smooth_nn" if stage == "init_loss" else f"{PAIR}-{METHOD}"
    return {seed: facts["node"] for seed, facts in seed_facts(repo / timings_file(stage, item)).items()}


def test_two_nodes_each_run_a_seed_and_match_the_local_executor(project, cluster, worker_node):
    address, node_env, _ = cluster
    params = with_executor(project, "params_ray.yaml", kind="ray", address=address)
    local_init = project / "local_init"
    shutil.copytree(project / f"data/init/{PAIR}/smooth_nn", local_init)
    offline = stage(project, "init_loss", "init", "smooth_nn", params, node_env)
    assert offline.returncode == 0, offline.stderr[-2000:]
    for seed in (0, 1):
        assert_same_outputs(local_init / f"seed{seed}", project / f"data/init/{PAIR}/smooth_nn/seed{seed}")
    assert len(set(nodes_of(project, "init_loss").values())) == 2
    done = stage(project, "train", "method", METHOD, params, node_env)
    assert done.returncode == 0, done.stderr[-2000:]
    runs = project / f"data/runs/{PAIR}/{METHOD}"
    for seed in (0, 1):
        assert_same_outputs(project / f"local_runs/{PAIR}/{METHOD}/seed{seed}", runs / f"seed{seed}")
    assert len(set(nodes_of(project, "train").values())) == 2, nodes_of(project, "train")  # one seed on each node
    assert "valid error" in done.stdout
    token = Path(node_env["RAY_AUTH_TOKEN_PATH"]).read_text().strip()
    written = [path for path in (project / "data").rglob("*") if path.is_file() and token.encode() in path.read_bytes()]
    assert token not in done.stdout + done.stderr + offline.stdout + offline.stderr and not written  # the secret stays put
    assert token not in (project / params).read_text()


def test_a_killed_node_s_seed_is_retried_and_still_matches(project, cluster, worker_node):
    address, node_env, _ = cluster
    params = with_executor(project, "params_ray.yaml", kind="ray", address=address)
    checkpoints = project / f"data/checkpoints/{PAIR}/{METHOD}"
    shutil.rmtree(checkpoints, ignore_errors=True)
    driver = subprocess.Popen([sys.executable, "-m", "stages.train", "--pair", PAIR, "--method", METHOD, "--params", params],
                              cwd=project, env=node_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 300
    while not all((checkpoints / f"seed{seed}.ckpt").exists() for seed in (0, 1)):  # both seeds under way, one per node
        assert driver.poll() is None and time.monotonic() < deadline, "the stage ended before both seeds had started"
        time.sleep(0.05)
    kill_node(worker_node)  # SIGKILL to the node's raylet and its workers, mid-seed
    output, _ = driver.communicate(timeout=600)
    assert driver.returncode == 0, output[-3000:]
    assert "will be retried" in output  # Ray saw the task die and ran it again,
    assert "resumed from" in output  # from the seed's checkpoint (the nodes share this disk)
    runs = project / f"data/runs/{PAIR}/{METHOD}"
    for seed in (0, 1):
        assert_same_outputs(project / f"local_runs/{PAIR}/{METHOD}/seed{seed}", runs / f"seed{seed}")
    assert len(set(nodes_of(project, "train").values())) == 1  # the retried seed ran on the surviving head


def test_a_wrong_address_fails_in_one_line(project, cluster):
    params = with_executor(project, "params_bad_address.yaml", kind="ray", address=f"127.0.0.1:{free_port()}")
    started = time.monotonic()
    done = stage(project, "train", "method", METHOD, params, cluster[1])
    assert done.returncode == 2 and time.monotonic() - started < 60
    assert done.stderr.strip().splitlines()[-1].startswith("error: executor.address: no Ray cluster reachable at 127.0.0.1:")


def test_a_driver_without_the_token_is_refused_in_one_line(project, cluster, tmp_path):
    address, node_env, _ = cluster
    params = with_executor(project, "params_ray.yaml", kind="ray", address=address)
    no_token = {k: v for k, v in node_env.items() if k not in ("RAY_AUTH_TOKEN_PATH", "RAY_AUTH_TOKEN")}
    done = stage(project, "train", "method", METHOD, params, {**no_token, "HOME": str(tmp_path)})  # no ~/.ray/auth_token
    assert done.returncode == 2, done.stderr[-2000:]
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith(f"error: executor: the Ray cluster at {address} refused this driver") and "RAY_AUTH_TOKEN_PATH" in last
