"""The digests of what each data-reading stage reads (pipeline/inputs.py): each changes with its own inputs only."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from pipeline.config import Params, load_params
from pipeline.inputs import NO_PREPARED_DATA, data_digests, run_digests, write_digests
from pipeline.utils.paths import DATA_DIGESTS, RUN_DIGESTS

ROOT = Path(__file__).resolve().parents[1]
PAIRS = ["diabetes_mlp", "digits_logistic", "digits_mlp"]
METHODS = ["baseline", "ml3", "adalfl", "taylor_cubic"]


def params_for(tmp: Path, **changes) -> Params:
    raw = yaml.safe_load((ROOT / "params.yaml").read_text())
    raw["run"].update(pairs=PAIRS, methods=METHODS, inits=["smooth_nn", "taylor_cubic"])
    raw["run_extra"] = {"pairs": [], "methods": [], "inits": []}
    raw["tune"].update(pairs=[], methods=[])
    raw["transfer"] = {"pairs": ["digits_mlp"], "methods": ["ml3"], "loss_from": ["digits_logistic"]}
    raw["l2l"]["problems"] = ["quadratic", "mlp"]
    raw["fewshot"]["families"] = ["sinusoid"]
    for key, value in changes.items():
        raw[key].update(value)
    (tmp / "params.yaml").write_text(yaml.safe_dump(raw))
    return load_params(tmp / "params.yaml")


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.fixture
def project(tmp_path, monkeypatch):
    """Prepared data sets, every pair's offline phases and one tuning result, as the stages write them."""
    monkeypatch.chdir(tmp_path)
    for dataset in ("diabetes", "digits"):
        write(tmp_path / f"data/prepared/{dataset}/train.pt", f"{dataset} train")
        write(tmp_path / f"data/prepared/{dataset}/meta.json", "{}")
    for pair in PAIRS:
        for init in ("smooth_nn", "taylor_cubic"):
            write(tmp_path / f"data/init/{pair}/{init}/seed0/loss.pt", f"{pair} {init}")
    write(tmp_path / "reports/tuning/digits_mlp/adalfl/result.json", '{"best_params": {"base_lr": 0.1}}')
    return tmp_path


def digests(params: Params) -> dict[str, str]:
    write_digests(data_digests(params), DATA_DIGESTS)
    write_digests(run_digests(params), RUN_DIGESTS)
    return {f"{d.name}/{p.stem}": p.read_text() for d in (DATA_DIGESTS, RUN_DIGESTS) for p in sorted(d.glob("*.txt"))}


def changed(before: dict[str, str], after: dict[str, str]) -> set[str]:
    assert set(before) == set(after)
    return {name for name in before if before[name] != after[name]}


def test_one_digest_per_reader_of_data_and_per_train_and_transfer_stage(project):
    found = digests(params_for(project))
    assert set(found) == {
        *(f"data/pair-{p}" for p in ("diabetes_mlp", "digits_logistic", "digits_mlp", "digits_lenet5")),
        "data/family-sinusoid", "data/problem-quadratic", "data/problem-mlp",
        *(f"runs/train-{p}-{m}" for p in PAIRS for m in METHODS),
        "runs/transfer-digits_mlp-ml3-digits_logistic",
    }
    assert found["data/family-sinusoid"] == found["data/problem-quadratic"] == NO_PREPARED_DATA + "\n"
    assert "data/prepared/digits/train.pt" in found["data/problem-mlp"]


def test_a_changed_data_set_changes_the_digests_of_its_readers_only(project):
    params = params_for(project)
    before = digests(params)
    write(project / "data/prepared/diabetes/train.pt", "diabetes, normalised otherwise")
    assert changed(before, digests(params)) == {"data/pair-diabetes_mlp", *(f"runs/train-diabetes_mlp-{m}" for m in METHODS)}


def test_a_changed_offline_phase_changes_the_trainings_that_start_from_it_only(project):
    params = params_for(project)
    before = digests(params)
    write(project / "data/init/digits_logistic/taylor_cubic/seed0/loss.pt", "another cubic")
    assert changed(before, digests(params)) == {"runs/train-digits_logistic-taylor_cubic"}
    write(project / "data/init/digits_logistic/smooth_nn/seed0/loss.pt", "another network")
    assert changed(before, digests(params)) == {
        "runs/train-digits_logistic-taylor_cubic", "runs/train-digits_logistic-ml3",
        "runs/train-digits_logistic-adalfl", "runs/transfer-digits_mlp-ml3-digits_logistic",  # it starts from that loss
    }


def test_a_tuned_method_reads_its_study_not_the_shared_offline_phase(project):
    params = params_for(project, tune={"pairs": ["digits_mlp"], "methods": ["adalfl"]})
    found = digests(params)
    assert "reports/tuning/digits_mlp/adalfl/result.json" in found["runs/train-digits_mlp-adalfl"]
    assert "data/init" not in found["runs/train-digits_mlp-adalfl"]  # it runs its own offline phase
    assert "data/init/digits_mlp/smooth_nn/seed0/loss.pt" in found["runs/train-digits_mlp-ml3"]
    assert "data/init" not in found["runs/train-digits_mlp-baseline"] and "tuning" not in found["runs/train-digits_mlp-baseline"]
    write(project / "reports/tuning/digits_mlp/adalfl/result.json", '{"best_params": {"base_lr": 0.2}}')
    write(project / "reports/tuning/digits_mlp/adalfl/history.png", "not read by train")
    assert changed(found, digests(params)) == {"runs/train-digits_mlp-adalfl"}


def test_the_offline_block_a_tuned_method_runs_is_in_its_digests_and_no_other(project):
    """train and tune read offline.<init> only where tuned; DVC cannot name that key per stage, the digest does."""
    tune = {"pairs": ["digits_mlp"], "methods": ["adalfl"]}
    before = digests(params_for(project, tune=tune))
    assert "offline" not in before["data/pair-digits_mlp"]
    assert '# offline.smooth_nn on digits_mlp: ' in before["data/tune-digits_mlp-adalfl"]
    assert '"meta_lr": 0.003' in before["data/tune-digits_mlp-adalfl"]
    assert before["data/tune-digits_mlp-adalfl"].startswith(before["data/pair-digits_mlp"])
    raw_offline = yaml.safe_load((ROOT / "params.yaml").read_text())["offline"]
    for init, changes in (("taylor_cubic", {"steps": 7}), ("smooth_nn", {"meta_lr": 0.004})):
        raw_offline[init].update(changes)
        after = digests(params_for(project, tune=tune, offline=raw_offline))
        expected = set() if init == "taylor_cubic" else {"data/tune-digits_mlp-adalfl", "runs/train-digits_mlp-adalfl"}
        assert changed(before, after) == expected, init


def test_tune_settings_are_in_the_tuned_trainings_digests_and_no_other(project):
    """train reads tune.* only where its method is tuned: an edit there re-runs those trainings alone."""
    tune = {"pairs": ["digits_mlp"], "methods": ["adalfl"]}
    before = digests(params_for(project, tune=tune))
    assert '# tune: {"holdout_fraction": 0.15, "objective_split": "holdout", ' in before["runs/train-digits_mlp-adalfl"]
    assert "# tune:" not in before["runs/train-digits_mlp-ml3"]
    for edit in ({"seeds": [0, 1]}, {"objective_split": "valid"}, {"space": {"base_lr": [1e-3, 0.1]}}):
        after = digests(params_for(project, tune={**tune, **edit}))
        assert changed(before, after) == {"runs/train-digits_mlp-adalfl"}, edit
    assert changed(before, digests(params_for(project, tune=tune, data={"split_seed": 3}))) == {
        "runs/train-digits_mlp-adalfl"}  # it draws the holdout


def test_a_digest_of_a_missing_input_fails_naming_it(project):
    params = params_for(project, tune={"pairs": ["digits_logistic"], "methods": ["ml3"]})  # no study result there
    write_digests(data_digests(params), DATA_DIGESTS)
    with pytest.raises(FileNotFoundError, match="reports/tuning/digits_logistic/ml3/result.json"):
        run_digests(params)


def test_digests_of_readers_dropped_from_params_are_removed(project):
    digests(params_for(project))
    found = digests(params_for(project, run={"pairs": ["digits_logistic"]}, transfer={"pairs": [], "methods": [], "loss_from": []}))
    assert not [name for name in found if "diabetes_mlp-" in name or "transfer" in name]
