"""Checkpoint files: round trip, stale runs ignored, damage detected (in the library and through the stage)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch
import yaml

from pipeline.training.checkpoint import CheckpointError, load_checkpoint, read_header, save_checkpoint
from pipeline.config import parse_params
from pipeline.training.setup import fresh_rule
from pipeline.training.loop import Checkpointing, train
from pipeline.training.setup import run_fingerprint
from stages import train as train_stage
from stages.common import run_stage
from tests.conftest import BASE_PARAMS

pytestmark = pytest.mark.reliability
CPU = torch.device("cpu")
STATE = {"step": 7, "params": {"w": torch.arange(6.0).reshape(2, 3)}, "history": [{"step": 0, "valid_error": 0.5, "meta_loss": None}]}


def test_round_trip_and_stale_fingerprint(tmp_path):
    path = tmp_path / "run.ckpt"
    save_checkpoint(path, 7, "abc", STATE)
    assert read_header(path)["step"] == 7
    loaded = load_checkpoint(path, "abc")
    assert loaded is not None and torch.equal(loaded["params"]["w"], STATE["params"]["w"]) and loaded["history"] == STATE["history"]
    assert load_checkpoint(path, "another run") is None  # a checkpoint of another configuration is never resumed
    assert load_checkpoint(tmp_path / "missing.ckpt", "abc") is None
    assert [p.name for p in tmp_path.iterdir()] == ["run.ckpt"]  # no temporary files left behind


@pytest.mark.parametrize("damage", ["flip_payload_byte", "truncate", "garbage_header", "empty"])
def test_damaged_checkpoint_is_detected(tmp_path, damage):
    path = tmp_path / "run.ckpt"
    save_checkpoint(path, 7, "abc", STATE)
    raw = bytearray(path.read_bytes())
    if damage == "flip_payload_byte":
        raw[-20] ^= 0x01
    elif damage == "truncate":
        raw = raw[: len(raw) - 100]
    elif damage == "garbage_header":
        raw[:10] = b"\x00garbage\xff\x13"
    else:
        raw = bytearray()
    path.write_bytes(bytes(raw))
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(path, "abc")
    message = str(info.value)
    assert "\n" not in message and str(path) in message and "delete it to start this run afresh" in message


def stage_folder(tmp_path: Path, prepared_root: Path, steps: int = 30) -> tuple[Path, dict]:
    params = yaml.safe_load(yaml.safe_dump(BASE_PARAMS))
    params["data"]["prepared_dir"] = str(tmp_path / "prepared")
    params["pairs"]["digits_mlp"].update(steps=steps, eval_interval=10)
    params["run"] = {"pairs": ["digits_mlp"], "methods": ["baseline"], "inits": ["handcrafted"]}
    params["seeds"] = [0]
    params["checkpoint"] = {"every": 10, "dir": "ckpt"}
    shutil.copytree(prepared_root / "digits", tmp_path / "prepared" / "digits")
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    return tmp_path, params


def run_train_stage(folder: Path, capsys) -> tuple[int, str, str]:
    code = run_stage(train_stage.main, train_stage.build_parser(),
                     ["--params", str(folder / "params.yaml"), "--pair", "digits_mlp", "--method", "baseline"])
    captured = capsys.readouterr()
    return code, captured.out, captured.err.strip()


def test_stage_refuses_a_damaged_checkpoint_of_its_run(tmp_path, prepared_root, digits_data, monkeypatch, capsys):
    folder, raw = stage_folder(tmp_path, prepared_root)
    monkeypatch.chdir(folder)
    params = parse_params(raw)
    pair = params.pairs["digits_mlp"]
    rule = fresh_rule(digits_data, pair, "baseline", 0, CPU)
    checkpoint = Checkpointing(folder / "ckpt/digits_mlp/baseline/seed0.ckpt", 10,
                               run_fingerprint(digits_data, pair, params.methods["baseline"], rule, 0, CPU))
    train(digits_data, pair, params.methods["baseline"], rule, 0, CPU, progress=False, checkpoint=checkpoint)
    raw_bytes = bytearray(checkpoint.path.read_bytes())
    raw_bytes[-50] ^= 0xFF
    checkpoint.path.write_bytes(bytes(raw_bytes))
    code, _, err = run_train_stage(folder, capsys)
    assert code == 2 and err.count("\n") == 0 and "checksum mismatch" in err and "seed0.ckpt" in err
    assert not (folder / "data/runs/digits_mlp/baseline").exists()
    checkpoint.path.unlink()  # as the message says: delete it, and the run starts afresh
    code, out, _ = run_train_stage(folder, capsys)
    assert code == 0 and "finished after 30 steps" in out and not checkpoint.path.exists()


def test_stage_refuses_a_corrupted_prepared_file(tmp_path, prepared_root, monkeypatch, capsys):
    folder, _ = stage_folder(tmp_path, prepared_root)
    monkeypatch.chdir(folder)
    split = folder / "prepared/digits/train.pt"
    raw = bytearray(split.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    split.write_bytes(bytes(raw))
    code, _, err = run_train_stage(folder, capsys)
    assert code == 2 and err.count("\n") == 0 and "train.pt: checksum does not match" in err


def test_stale_checkpoint_of_another_configuration_is_ignored(tmp_path, prepared_root, monkeypatch, capsys):
    folder, _ = stage_folder(tmp_path, prepared_root)
    monkeypatch.chdir(folder)
    save_checkpoint(folder / "ckpt/digits_mlp/baseline/seed0.ckpt", 20, "fingerprint of an older configuration", STATE)
    code, out, _ = run_train_stage(folder, capsys)
    assert code == 0 and "belongs to another configuration" in out and "finished after 30 steps" in out
