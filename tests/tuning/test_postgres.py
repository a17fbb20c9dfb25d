"""Two worker processes share one study on a real PostgreSQL server (loopback, started here).

Needs Debian's `postgresql` package (initdb/postgres); `.ci/run` installs it where it can.
The test starts and stops its own server in a scratch folder and installs nothing.
"""

from __future__ import annotations

import contextlib
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

# slow: a PostgreSQL server and two workers cost about 35 s; `make test-slow` (and CI) runs it
pytestmark = [pytest.mark.postgres, pytest.mark.slow]
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


@contextlib.contextmanager
def postgres_server(password: str | None = None) -> Iterator[int]:
    """A scratch server on loopback (trust auth, or scram-sha-256 with ``password`` for user lfl); yields its port."""
    binaries = server_binaries()
    if binaries is None:
        pytest.skip("no PostgreSQL server binary (initdb, postgres) found; install Debian's postgresql package")
    initdb, postgres = binaries
    prefix = as_server_user()
    folder = Path(tempfile.mkdtemp(prefix="lfl-pg-", dir="/tmp"))
    os.chmod(folder, 0o755)
    auth = ["--auth=trust"]
    if password is not None:
        (folder / "pw").write_text(password + "\n")
        auth = ["--auth=scram-sha-256", f"--pwfile={folder / 'pw'}"]
    if prefix:
        shutil.chown(folder, "postgres", "postgres")
        if password is not None:
            shutil.chown(folder / "pw", "postgres", "postgres")
    data, port = folder / "data", free_port()
    subprocess.run([*prefix, initdb, "-D", str(data), "-U", "lfl", *auth, "-E", "UTF8"], check=True, capture_output=True)
    server = subprocess.Popen([*prefix, postgres, "-D", str(data), "-h", "127.0.0.1", "-p", str(port), "-k", str(folder)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until_ready(port, password)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    with postgres_server() as port:
        yield f"postgresql+psycopg2://lfl@127.0.0.1:{port}/postgres"


def wait_until_ready(port: int, password: str | None = None, timeout: float = 30) -> None:
    import psycopg2

    deadline = time.monotonic() + timeout
    while True:
        try:
            psycopg2.connect(host="127.0.0.1", port=port, user="lfl", dbname="postgres", password=password).close()
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


SECRET = "s3cret-Xq7-pw"


def run_stage_process(folder: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "stages.tune", "--pair", PAIR, "--method", "meta_lr", *args]
    return subprocess.run(command, cwd=folder, env={**os.environ, "PYTHONPATH": str(ROOT), **env}, capture_output=True, text=True, timeout=600)


def test_the_password_stays_in_the_environment(tmp_path, prepared_root):
    """A password-protected server: the URL (with its password) comes from tune.storage_env, or the password
    from PGPASSWORD; neither params.yaml (what DVC copies into dvc.lock and `dvc exp show`), the tuning result
    nor any output line contains it; a wrong password fails in one line without echoing it."""
    with postgres_server(password=SECRET) as port:
        folder = make_folder(tmp_path, prepared_root, n_trials=2, storage_env="LFL_TEST_STORAGE")
        url = f"postgresql+psycopg2://lfl:{SECRET}@127.0.0.1:{port}/postgres"
        done = run_stage_process(folder, {"LFL_TEST_STORAGE": url})
        assert done.returncode == 0, done.stderr
        result = (folder / f"reports/tuning/{PAIR}/meta_lr/result.json").read_text()
        assert "postgresql+psycopg2://lfl:***@127.0.0.1" in result
        for text in (done.stdout, done.stderr, result, (folder / "params.yaml").read_text()):
            assert SECRET not in text

        write_params(folder, tune_params(folder / "prepared", folder / "journals", n_trials=3,
                                         storage=f"postgresql+psycopg2://lfl@127.0.0.1:{port}/postgres"))
        joined = run_stage_process(folder, {"PGPASSWORD": SECRET}, "--worker", "--n-trials", "1")
        assert joined.returncode == 0, joined.stderr
        assert SECRET not in joined.stdout + joined.stderr + (folder / "params.yaml").read_text()

        write_params(folder, tune_params(folder / "prepared", folder / "journals", n_trials=3, storage_env="LFL_TEST_STORAGE"))
        wrong = run_stage_process(folder, {"LFL_TEST_STORAGE": url.replace(SECRET, "wr0ng-Pw-9")}, "--worker")
        assert wrong.returncode == 2
        assert wrong.stderr.startswith("error: tune.storage: cannot open the study storage") and wrong.stderr.count("\n") == 1
        assert "wr0ng-Pw-9" not in wrong.stderr + wrong.stdout

        unset = run_stage_process(folder, {}, "--worker")
        assert unset.returncode == 2 and "tune.storage_env: the environment variable LFL_TEST_STORAGE is not set" in unset.stderr
