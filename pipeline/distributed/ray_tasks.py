"""The Ray side of ``run_seeds``: connect, submit one task per seed, gather each seed's folder."""

from __future__ import annotations

import os
import socket
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import ray
import torch
from ray.exceptions import AuthenticationError, RayTaskError

import pipeline
from pipeline.distributed.config import ExecutorConfig, ExecutorError
from pipeline.distributed.job import SeedDone, SeedJob


def pack(folder: Path | None) -> dict[str, bytes] | None:
    """Every file under ``folder`` as {relative path: bytes}: what a task sends or returns instead of a shared disk."""
    if folder is None:
        return None
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: missing; run the stage that writes it first")
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


def unpack(files: dict[str, bytes], folder: Path) -> Path:
    for name, content in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(content)
    return folder


def _node_name() -> str:
    context = ray.get_runtime_context()
    address = ray.util.get_node_ip_address()
    return f"{context.get_node_id()[:12]} ({address})"


def run_seed_task(
    job: SeedJob, seed: int, input_files: dict[str, bytes] | None, threads: int
) -> tuple[str, str, dict[str, bytes]]:
    """Runs on a worker: the seed's job in a scratch folder, returned as (line, node, files)."""
    torch.set_num_threads(threads)  # one thread per CPU Ray granted the task, so tasks on a node do not contend
    with tempfile.TemporaryDirectory(prefix="lfl-seed-") as scratch:
        inputs = unpack(input_files, Path(scratch) / "inputs") if input_files is not None else None
        out = Path(scratch) / "out"
        node = _node_name()
        summary = job(seed, out, inputs, node)
        return summary, node, pack(out) or {}


def check_reachable(address: str | None, timeout_s: float = 5.0) -> None:
    """Fail in seconds on an address nothing listens at (ray.init would retry it for minutes)."""
    if address is None or address == "auto":
        return
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        raise ExecutorError(f"executor.address: expected host:port or ray://host:port, got {address!r}")
    try:
        socket.create_connection((host, int(port)), timeout=timeout_s).close()
    except OSError as error:
        raise unreachable(address, error.strerror or str(error)) from None


def unreachable(where: str, reason: str, hint: str = "") -> ExecutorError:
    return ExecutorError(
        f"executor.address: no Ray cluster reachable at {where} ({reason}); check the address and "
        f"that `ray start --head` runs there{hint}"
    )


@contextmanager
def connected(executor: ExecutorConfig) -> Iterator[None]:
    """Join the cluster (executor.address, else RAY_ADDRESS, else a local instance) with the project's code."""
    runtime_env = {"py_modules": [str(Path(pipeline.__file__).parent)]}  # workers import `pipeline` from here
    address = executor.address or os.environ.get("RAY_ADDRESS")
    where = address or "a local instance"
    check_reachable(address)
    if not sys.stdout.isatty():  # a log file (dvc repro > log) gets the workers' lines without colour codes
        os.environ.setdefault("RAY_COLOR_PREFIX", "0")
    try:
        ray.init(address=address, runtime_env=runtime_env, log_to_driver=True, configure_logging=False)
    except AuthenticationError as error:
        reason = str(error).split(". ")[0]  # Ray's first sentence: no token found, or a wrong one
        raise ExecutorError(
            f"executor: the Ray cluster at {where} refused this driver ({reason}); "
            f"set RAY_AUTH_MODE=token and give the cluster's token by RAY_AUTH_TOKEN_PATH, "
            f"RAY_AUTH_TOKEN or ~/.ray/auth_token"
        ) from None
    except ConnectionError as error:
        raise unreachable(
            where,
            str(error),
            " (a cluster with token authentication also needs RAY_AUTH_MODE=token and its token here)",
        ) from None
    try:
        yield
    finally:
        ray.shutdown()


def run_on_ray(
    job: SeedJob, seeds: tuple[int, ...], executor: ExecutorConfig, out_dir: Path, inputs: Callable[[int], Path | None]
) -> Iterator[SeedDone]:
    with connected(executor):
        task = ray.remote(run_seed_task).options(
            num_cpus=executor.cpus_per_task,
            num_gpus=executor.gpus_per_task,
            max_retries=executor.max_retries,
            retry_exceptions=False,
        )
        job_ref = ray.put(job)  # the stage's data enters the object store once, not once per seed
        threads = executor.threads
        pending = {task.remote(job_ref, seed, pack(inputs(seed)), threads): seed for seed in seeds}
        while pending:
            (ready,), _ = ray.wait(list(pending), num_returns=1)
            seed = pending.pop(ready)
            summary, node, files = _result(ready, seed, executor)
            unpack(files, out_dir / f"seed{seed}")
            yield SeedDone(seed, summary, node)


def _result(ref: ray.ObjectRef, seed: int, executor: ExecutorConfig) -> tuple[str, str, dict[str, bytes]]:
    try:
        return ray.get(ref)
    except RayTaskError as error:  # the job itself raised: the same error as a local run, never retried
        raise error.cause from None
    except ray.exceptions.RayError as error:  # a worker or node died on every try
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ExecutorError(
            f"seed {seed}: its Ray task failed {executor.max_retries + 1} times "
            f"(executor.max_retries: {executor.max_retries}); last: {type(error).__name__}: {first}"
        ) from None
