"""A real Ray cluster on this machine for the tests: a head and worker nodes, one CPU each, token auth on."""

from __future__ import annotations

import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.pipeline_repo import env


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def token_env(token_file: Path) -> dict[str, str]:
    """What a node or driver of the cluster needs: token auth on and the path of the token (never the token)."""
    return {**env(), "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN_PATH": str(token_file), "OMP_NUM_THREADS": "1",
            "RAY_USAGE_STATS_ENABLED": "0"}


def write_token(folder: Path) -> Path:
    token = folder / "ray_token"
    token.write_text(secrets.token_hex(32))
    token.chmod(0o600)
    return token


def ray_command() -> str:
    return str(Path(sys.executable).parent / "ray")


def start_node(args: list[str], node_env: dict[str, str], log: Path) -> subprocess.Popen:
    """`ray start ... --block` in a process group of its own, so that one killpg takes the node down."""
    with open(log, "w") as out:
        return subprocess.Popen([ray_command(), "start", "--num-cpus=1", "--block", *args], env=node_env,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def alive_nodes(address: str, node_env: dict[str, str]) -> int:
    probe = "import ray; ray.init(address=%r, log_to_driver=False); print('alive nodes:', sum(n['Alive'] for n in ray.nodes()))" % address
    done = subprocess.run([sys.executable, "-c", probe], env=node_env, capture_output=True, text=True, timeout=120)
    count = re.search(r"^alive nodes: (\d+)$", done.stdout, re.MULTILINE)  # Ray prints its own news to stdout too
    return int(count.group(1)) if done.returncode == 0 and count else 0


def wait_for_nodes(address: str, node_env: dict[str, str], count: int, timeout_s: float = 90) -> None:
    deadline = time.monotonic() + timeout_s
    while alive_nodes(address, node_env) != count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"the Ray cluster at {address} did not reach {count} live nodes in {timeout_s:.0f}s")
        time.sleep(1)


def kill_node(node: subprocess.Popen) -> None:
    if node.poll() is None:
        os.killpg(node.pid, signal.SIGKILL)
        node.wait()
