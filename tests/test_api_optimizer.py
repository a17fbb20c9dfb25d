"""pipeline.api.LearnedOptimizer: a learned update rule in a file of its own, stepped like a torch optimiser."""

from __future__ import annotations

import copy

import pytest
import torch

from pipeline.api import VERSION, LearnedOptimizer, LossFileError
from pipeline.learned.config import RepresentationConfig
from pipeline.learned.rules import build_rule
from pipeline.meta.step import BaseState
from pipeline.meta.stepper import make_stepper
from pipeline.models.registry import build_model
from pipeline.optim import SGDConfig

METHODS = {"meta_lr": "learning_rate", "meta_sgd": "meta_sgd", "meta_curvature": "meta_curvature",
           "l2l_lstm": "l2l_lstm", "meta_lstm": "meta_lstm"}
SGD = SGDConfig(momentum=0.9, weight_decay=5e-4)


def _learned_rule(method: str, model: torch.nn.Module):
    """The method's rule moved away from its initial value, as after meta-training."""
    shapes = {k: p.shape for k, p in model.named_parameters()}
    rule = build_rule(method, "classification", 0.05, 3, RepresentationConfig(), 10, shapes)
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for p in rule.meta_parameters():
            p.add_(0.01 * torch.randn(p.shape, generator=gen))
    return rule


def _batches(n: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    gen = torch.Generator().manual_seed(2)
    return [(torch.randn(16, 1, 8, 8, generator=gen), torch.randint(0, 10, (16,), generator=gen)) for _ in range(n)]


@pytest.mark.parametrize("method", list(METHODS))
def test_an_exported_rule_steps_exactly_as_the_pipeline_s_training_loop(method, tmp_path):
    """Five steps of the pipeline's stepper (no meta step) and of the optimiser loaded from a file: equal tensors."""
    model = build_model("mlp", (1, 8, 8), 10, seed=0)
    mine = copy.deepcopy(model)
    rule = _learned_rule(method, model)
    LearnedOptimizer(model.named_parameters(), METHODS[method], 0.05, vars(SGD), None,
                     rule.meta_module().state_dict()).save(tmp_path / "rule.pt")
    optimizer = LearnedOptimizer.load(tmp_path / "rule.pt", mine.named_parameters())
    state = BaseState.from_module(model)
    stepper = make_stepper(model, rule, SGD, "classification", state, None)
    for step, (x, y) in enumerate(_batches(5), start=1):
        state = stepper.advance(state, step, (x, y)).state
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(mine(x), y)
        loss.backward()
        optimizer.step(loss=loss)
    for name, p in mine.named_parameters():
        assert torch.equal(p.detach(), state.params[name]), (method, name)
    assert not all(torch.equal(p.detach(), q) for p, q in zip(mine.parameters(), model.parameters()))  # it moved


def test_a_shaped_rule_refuses_another_architecture_and_a_coordinatewise_one_trains_resnet18(tmp_path):
    torchvision = pytest.importorskip("torchvision")
    mlp = build_model("mlp", (1, 8, 8), 10, seed=0)
    LearnedOptimizer(mlp.named_parameters(), "meta_sgd", 0.05).save(tmp_path / "rates.pt")
    resnet = torchvision.models.resnet18(num_classes=10)
    with pytest.raises(LossFileError, match=r"rates\.pt: not a usable learned-rule file \(meta_sgd was learned on"):
        LearnedOptimizer.load(tmp_path / "rates.pt", resnet.named_parameters())
    lstm = _learned_rule("l2l_lstm", mlp).meta_module().state_dict()  # a fresh one's zero head takes no step
    LearnedOptimizer(mlp.named_parameters(), "l2l_lstm", 0.05, state_dict=lstm).save(tmp_path / "lstm.pt")
    optimizer = LearnedOptimizer.load(tmp_path / "lstm.pt", resnet.named_parameters())  # coordinatewise: any model
    images, labels = torch.randn(4, 3, 32, 32), torch.randint(0, 10, (4,))
    before = [p.detach().clone() for p in resnet.parameters()]
    for _ in range(2):
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(resnet(images), labels)
        loss.backward()
        optimizer.step(loss=loss)
    assert torch.isfinite(loss) and any(not torch.equal(a, b) for a, b in zip(before, resnet.parameters()))


def test_bad_rule_files_fail_in_one_line_naming_the_file(tmp_path):
    model = build_model("logistic", (1, 8, 8), 10, seed=0)
    LearnedOptimizer(model.named_parameters(), "learning_rate", 0.1).save(tmp_path / "ok.pt")
    saved = torch.load(tmp_path / "ok.pt", weights_only=True)
    torch.save({**saved, "version": VERSION + 1}, tmp_path / "new.pt")
    (tmp_path / "cut.pt").write_bytes((tmp_path / "ok.pt").read_bytes()[:100])
    torch.save({"format": "lfl.learned_loss", "version": VERSION}, tmp_path / "loss.pt")
    for name, message in (("new.pt", "format version 2, this code reads version 1"), ("cut.pt", "cannot be read"),
                          ("loss.pt", "not a learned-rule file"), ("none.pt", "no such file")):
        with pytest.raises(LossFileError) as error:
            LearnedOptimizer.load(tmp_path / name, model.named_parameters())
        assert str(error.value).startswith(str(tmp_path / name)) and message in str(error.value)
        assert "\n" not in str(error.value)


def test_the_export_command_writes_a_rule_file(prepared_root, tmp_path, monkeypatch):
    import yaml

    from pipeline.utils.paths import run_dir
    from tests.pipeline_repo import ROOT
    from tools.lfl import main

    raw = yaml.safe_load((ROOT / "params.yaml").read_text())
    raw["data"]["prepared_dir"] = str(prepared_root)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(raw))
    model = build_model("logistic", (1, 8, 8), 10, seed=0)
    rule = _learned_rule("meta_sgd", model)
    folder = run_dir("digits_logistic", "meta_sgd", 0)
    folder.mkdir(parents=True)
    torch.save(rule.meta_module().state_dict(), folder / "learned.pt")
    assert main(["export", "--pair", "digits_logistic", "--method", "meta_sgd", "--seed", "0", "--out", "r.pt"]) == 0
    optimizer = LearnedOptimizer.load("r.pt", model.named_parameters())
    assert optimizer.kind == "meta_sgd" and optimizer.source["method"] == "meta_sgd"
    for mine, theirs in zip(optimizer.rule.meta_parameters(), rule.meta_parameters()):
        assert torch.equal(mine, theirs)
    assert main(["export", "--pair", "digits_logistic", "--method", "baseline", "--seed", "0", "--out", "x.pt"]) == 2
