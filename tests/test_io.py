"""Atomic outputs: a writer killed at any moment leaves the old file or the new one, whole."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline.utils.io import atomic_path, write_json

pytestmark = pytest.mark.reliability
ROOT = Path(__file__).resolve().parents[1]

# Rewrites metrics.json forever, alternating two large versions; each is checked whole afterwards.
WRITER = """
import sys
from pipeline.utils.io import write_json
path, i = sys.argv[1], 0
while True:
    write_json(path, {"version": i % 2, "rows": [[i % 2] * 50 for _ in range(2000)]})
    i += 1
"""


def test_writer_killed_at_random_moments_never_leaves_a_partial_file(tmp_path):
    target = tmp_path / "metrics.json"
    write_json(target, {"version": "initial", "rows": []})
    rng, versions = random.Random(0), set()
    for _ in range(6):
        process = subprocess.Popen([sys.executable, "-c", WRITER, str(target)], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
        time.sleep(0.3 + rng.random() * 0.3)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        data = json.loads(target.read_text())  # a torn file would not parse
        assert data["version"] == "initial" or len(data["rows"]) == 2000 and {v for row in data["rows"] for v in row} == {data["version"]}
        versions.add(data["version"])
    assert versions - {"initial"}, "the writer never got to replace the file: the test checked nothing"
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "metrics.json"]
    assert all(name.startswith(".metrics.json.") for name in leftovers)  # only hidden temporaries, never the target name


def test_failure_inside_atomic_path_keeps_the_previous_folder(tmp_path):
    target = tmp_path / "split"
    target.mkdir()
    (target / "train.pt").write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.mkdir()
            (tmp / "train.pt").write_text("half")
            raise RuntimeError("killed mid-write")
    assert (target / "train.pt").read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["split"]
