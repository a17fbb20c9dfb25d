"""pipeline.api: a learned loss in a file of its own, and AdaLFL in a user's own loop."""

from __future__ import annotations

import copy

import pytest
import torch

from pipeline.api import VERSION, AdaLFL, LearnedLoss, LossFileError
from pipeline.config import MethodConfig, OnlineConfig, OptimConfig, PairConfig, RepresentationConfig
from pipeline.learned.rules import build_loss
from pipeline.training.setup import fresh_rule
from pipeline.training.loop import train
from pipeline.training.setup import initial_model, make_stream

CPU = torch.device("cpu")


def _perturbed(kind: str, task: str, n_outputs: int, representation: RepresentationConfig) -> torch.nn.Module:
    """A representation moved away from its initialisation, as after meta-training."""
    loss = build_loss(kind, task, 7, representation, n_outputs)  # type: ignore[arg-type]
    with torch.no_grad():
        for p in loss.parameters():
            p.add_(0.1 * torch.randn_like(p))
    return loss.double()


@pytest.mark.parametrize("kind, task, form", [("smooth_nn", "classification", "plain"), ("smooth_nn", "regression", "plain"),
                                              ("relu_nn", "classification", "residual"), ("taylor_cubic", "classification", "plain"),
                                              ("taylor_quadratic", "regression", "plain")])
def test_exported_loss_gives_the_representation_s_value_and_gradient(kind, task, form, tmp_path):
    n_outputs = 10 if task == "classification" else 1
    representation = RepresentationConfig(loss_form=form)
    original = _perturbed(kind, task, n_outputs, representation)
    path = tmp_path / "loss.pt"
    LearnedLoss(kind, task, n_outputs, vars(representation), {k: v.float() for k, v in original.state_dict().items()}).save(path)
    loaded = LearnedLoss.load(path).double()
    original.load_state_dict({k: v.float().double() for k, v in original.state_dict().items()})  # the file keeps float32
    torch.manual_seed(1)
    for _ in range(3):
        outputs = torch.randn(8, n_outputs, dtype=torch.float64, requires_grad=True)
        targets = torch.randint(0, n_outputs, (8,)) if task == "classification" else torch.rand(8, 1, dtype=torch.float64)
        expected, got = original(outputs, targets), loaded(outputs, targets)
        torch.testing.assert_close(got, expected, rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(torch.autograd.grad(got, outputs)[0], torch.autograd.grad(expected, outputs)[0],
                                   rtol=1e-12, atol=1e-12)


def test_adalfl_step_in_a_plain_loop_reproduces_the_pipeline_s_training_exactly(digits_data):
    pair = PairConfig(dataset="digits", model="logistic", optim=OptimConfig(lr=0.05), steps=12, batch_size=32,
                      eval_interval=6)
    method = MethodConfig(online=OnlineConfig(meta_lr=1e-3))
    seed = 3
    rule = fresh_rule(digits_data, pair, "adalfl", seed, CPU)
    start = copy.deepcopy(rule.loss.state_dict())
    result = train(digits_data, pair, method, rule, seed, CPU, progress=False)

    model = initial_model(digits_data, pair, seed, CPU)
    stream = make_stream(digits_data, "train", pair.batch_size, seed, "train-order", pair, CPU)
    meta_stream = make_stream(digits_data, "valid", pair.batch_size, seed, "online-meta-order", pair, CPU)
    loss = LearnedLoss("smooth_nn", "classification", 10, state_dict=start)
    adalfl = AdaLFL(model, loss, lr=0.05, meta_lr=1e-3)
    for _ in range(pair.steps):  # the user's loop: one call per batch
        x, y = stream()
        x_valid, y_valid = meta_stream()
        adalfl.step(x, y, x_valid, y_valid)
    for name, tensor in model.named_parameters():
        assert torch.equal(tensor, result.state.params[name]), name
    for name, tensor in loss.inner.state_dict().items():
        assert torch.equal(tensor, rule.loss.state_dict()[name]), name


def test_adalfl_checkpoint_resumes_bit_for_bit():
    torch.manual_seed(0)
    x, y = torch.randn(16, 5), torch.randint(0, 3, (16,))

    def fresh() -> AdaLFL:
        torch.manual_seed(1)
        return AdaLFL(torch.nn.Linear(5, 3), LearnedLoss("smooth_nn", "classification", 3), lr=0.1, meta_lr=1e-3, momentum=0.9)

    straight, resumed = fresh(), fresh()
    for _ in range(2):
        straight.step(x, y, x, y)
        resumed.step(x, y, x, y)
    saved = copy.deepcopy(resumed.state_dict())
    resumed = fresh()
    resumed.load_state_dict(saved)
    straight.step(x, y, x, y)
    resumed.step(x, y, x, y)
    for a, b in zip(straight.model.parameters(), resumed.model.parameters()):
        assert torch.equal(a, b)


def test_a_torchvision_model_trains_with_an_exported_loss_and_with_adalfl(tmp_path):
    torchvision = pytest.importorskip("torchvision")
    torch.manual_seed(0)
    path = tmp_path / "loss.pt"
    LearnedLoss("smooth_nn", "classification", 10).save(path)
    loss = LearnedLoss.load(path)
    model = torchvision.models.resnet18(num_classes=10).train()
    images, labels = torch.randn(4, 3, 32, 32), torch.randint(0, 10, (4,))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    for _ in range(2):
        optimizer.zero_grad()
        value = loss(model(images), labels)
        value.backward()
        optimizer.step()
        assert torch.isfinite(value)
    adalfl = AdaLFL(model, loss, lr=0.01, meta_lr=1e-5)
    for _ in range(2):
        base_loss, meta_loss = adalfl.step(images, labels, images, labels)
        assert torch.isfinite(torch.tensor([base_loss, meta_loss])).all()


def test_bad_files_fail_in_one_line_naming_the_file(tmp_path):
    good = tmp_path / "good.pt"
    LearnedLoss("smooth_nn", "regression", 1).save(good)
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(good.read_bytes()[:200])
    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(b"not a torch file at all")
    old = tmp_path / "old.pt"
    saved = torch.load(good, weights_only=True)
    torch.save({**saved, "version": VERSION + 1}, old)
    pickled = tmp_path / "pickled.pt"
    torch.save({"format": "lfl.learned_loss", "payload": torch.nn.Linear(1, 1)}, pickled)  # a module: not weights-only
    for path, message in ((truncated, "cannot be read"), (corrupt, "cannot be read"), (old, "format version"),
                          (pickled, "cannot be read"), (tmp_path / "missing.pt", "no such file")):
        with pytest.raises(LossFileError, match=message) as caught:
            LearnedLoss.load(path)
        assert str(path) in str(caught.value) and "\n" not in str(caught.value)


def test_export_command_writes_a_file_that_loads_without_the_pipeline(prepared_root, tmp_path, monkeypatch):
    import yaml

    from pipeline.utils.paths import run_dir
    from tests.pipeline_repo import ROOT
    from tools.lfl import main

    raw = yaml.safe_load((ROOT / "params.yaml").read_text())
    raw["data"]["prepared_dir"] = str(prepared_root)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(raw))
    from pipeline.config import parse_params

    representation = parse_params(raw).representation  # the default's form (residual), as the export reads it
    trained = _perturbed("smooth_nn", "classification", 10, representation).float()
    folder = run_dir("digits_mlp", "adalfl", 0)
    folder.mkdir(parents=True)
    torch.save(trained.state_dict(), folder / "learned.pt")
    assert main(["export", "--pair", "digits_mlp", "--method", "adalfl", "--seed", "0", "--out", "loss.pt"]) == 0
    loss = LearnedLoss.load("loss.pt")
    assert (loss.kind, loss.task, loss.n_outputs) == ("smooth_nn", "classification", 10)
    assert loss.source["pair"] == "digits_mlp" and len(loss.source["params_sha256"]) == 12
    outputs, targets = torch.randn(5, 10), torch.randint(0, 10, (5,))
    assert torch.equal(loss(outputs, targets), trained(outputs, targets))
    assert main(["export", "--pair", "digits_mlp", "--method", "baseline", "--seed", "0", "--out", "x.pt"]) == 2
    assert main(["export", "--pair", "digits_mlp", "--method", "adalfl", "--seed", "5", "--out", "x.pt"]) == 2


def test_the_readme_example_runs_as_written(tmp_path, monkeypatch):
    from tests.pipeline_repo import ROOT

    text = (ROOT / "README.md").read_text()
    block = text.split("<!-- api-example -->")[1].split("<!-- /api-example -->")[0]
    code = block.split("```python\n")[1].split("```")[0]
    monkeypatch.chdir(tmp_path)
    LearnedLoss("smooth_nn", "classification", 10).save(tmp_path / "loss.pt")
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102 - our own README's example
    assert (tmp_path / "checkpoint.pt").is_file() and torch.isfinite(torch.tensor(namespace["meta_loss"]))
