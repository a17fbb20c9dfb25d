"""Two worker processes share one study on a real PostgreSQL server (loopback, started here).

Needs Debian's `postgresql` package (initdb/postgres); `.ci/run` installs it where it can.
The test starts and stops its own server in a scratch folder and installs nothing.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterator

import pytest

from tests.tuning.helpers import PAIR, make_folder, run_in, tune_params, write_params

pytestmark = pytest.mark.postgres
ROOT = Path(__file__).resolve().parents[2]


def server_binaries() -> tuple[str, str] | None:
    for folder in [None, *sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)]:
        initdb, postgres = shutil.which("initdb", path=folder), shutil.which("postgres", path=folder)
        if initdb and postgres:
            return initdb, postgres
    return None


def as_server_user() -> list[str]:
    """initdb and postgres refuse to run as root: use the package's `postgres` user there."""
    if os.geteuid() != 0:
        return []
    if shutil.which("runuser") is None:
        pytest.skip("running as root without runuser: cannot start PostgreSQL as an unprivileged user")
    try:
        import pwd

        pwd.getpwnam("postgres")
    except KeyError:
        pytest.skip("running as root and no 'postgres' user exists to start the server as")
    return ["runuser", "-u", "postgres", "--"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    binaries = server_binaries()
    if binaries is None:
        pytest.skip("no PostgreSQL server binary (initdb, postgres) found; install Debian's postgresql package")
    initdb, postgres = binaries
    prefix = as_server_user()
    folder = Path(tempfile.mkdtemp(prefix="lfl-pg-", dir="/tmp"))
    os.chmod(folder, 0o755)
    if prefix:
        shutil.chown(folder, "postgres", "postgres")
    data, port = folder / "data", free_port()
    subprocess.run([*prefix, initdb, "-D", str(data), "-U", "lfl", "--auth=trust", "-E", "UTF8"], check=True, capture_output=True)
    server = subprocess.Popen([*prefix, postgres, "-D", str(data), "-h", "127.0.0.1", "-p", str(port), "-k", str(folder)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"postgresql+psycopg2://lfl@127.0.0.1:{port}/postgres"
    try:
        wait_until_ready(port)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(folder, ignore_errors=True)


def wait_until_ready(port: int, timeout: float = 30) -> None:
    import psycopg2

    deadline = time.monotonic() + timeout
    while True:
        try:
            psycopg2.connect(host="127.0.0.1", port=port, user="lfl", dbname="postgres").close()
            return
        except psycopg2.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_two_workers_share_one_study(tmp_path, prepared_root, postgres_url, monkeypatch):
    folder = make_folder(tmp_path, prepared_root)
    write_params(folder, tune_params(folder / "prepared", folder / "journals", n_trials=6, storage=postgres_url))
    command = [sys.executable, "-m", "stages.tune", "--pair", PAIR, "--method", "meta_lr", "--worker", "--n-trials", "3"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    workers = [subprocess.Popen(command, cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [w.communicate(timeout=600) for w in workers]
    for worker, (out, err) in zip(workers, outputs):
        assert worker.returncode == 0, err
        assert "3 trials run by this process" in out

    import optuna
    from optuna.trial import TrialState

    study_name = outputs[0][0].split(" study ")[1].split()[0]
    study = optuna.load_study(study_name=study_name, storage=postgres_url)
    trials = study.get_trials(deepcopy=False)
    assert len(trials) == 6 and all(t.state in (TrialState.COMPLETE, TrialState.PRUNED) for t in trials)
    assert sorted(t.number for t in trials) == list(range(6))
    assert len({tuple(sorted(t.params.items())) for t in trials}) == 6, "two trials drew the same values"
    assert len({t.user_attrs["worker"] for t in trials}) == 2, "both workers ran trials"

    monkeypatch.chdir(folder)  # the stage itself finds the budget spent and writes the result
    code, out, err = run_in(folder, __import__("stages.tune", fromlist=["main"]), "--pair", PAIR, "--method", "meta_lr")
    assert code == 0, err
    assert "6 trials so far" in out and "0 trials run by this process" in out
    assert "postgresql+psycopg2://lfl@127.0.0.1" in (folder / f"reports/tuning/{PAIR}/meta_lr/result.json").read_text()
