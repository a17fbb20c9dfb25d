"""The shared training loop and the offline phase on real (offline) data."""

from __future__ import annotations

import math

import pytest
import torch

from pipeline.config import MethodConfig, OfflineConfig, OnlineConfig, OptimConfig, PairConfig, RepresentationConfig
from pipeline.meta.offline import unrolled_meta_loss
from pipeline.meta.online import online_step, plain_step
from pipeline.meta.step import BaseState
from pipeline.models.registry import build_model
from pipeline.optim import SGDConfig
from pipeline.training.loop import train
from pipeline.training.offline import offline_phase
from pipeline.training.setup import fresh_rule, make_stream, sgd_config

CPU = torch.device("cpu")


def digits_pair(steps: int = 60, model: str = "mlp") -> PairConfig:
    return PairConfig(dataset="digits", model=model, optim=OptimConfig(lr=0.01), steps=steps, batch_size=64, eval_interval=20)


def one_step_validation_loss(data, pair, rule, n_inits: int = 10) -> float:
    """Mean validation task loss after one step from fresh initialisations the offline phase never saw."""
    train_stream = make_stream(data, "train", 128, 999, "check-train", pair, CPU)
    valid_stream = make_stream(data, "valid", 128, 999, "check-valid", pair, CPU)
    model = build_model(pair.model, (1, 8, 8), 10, 0)
    losses = []
    for i in range(n_inits):
        start = BaseState.from_module(build_model(pair.model, (1, 8, 8), 10, 10_000 + i))
        loss, _ = unrolled_meta_loss(model, start, rule, [train_stream()], valid_stream(), sgd_config(pair), "classification")
        losses.append(float(loss.detach()))
    return sum(losses) / len(losses)


def test_offline_phase_lowers_one_step_validation_loss(digits_data):
    pair = digits_pair()
    before = one_step_validation_loss(digits_data, pair, fresh_rule(digits_data, pair, "ml3", 0, CPU))
    literal = OfflineConfig(steps=100, meta_lr=1e-2, reset_interval=1)  # Algorithm 1 read literally: fresh inits only
    rule, history = offline_phase(digits_data, pair, "smooth_nn", literal, 0, CPU, progress=False)
    after = one_step_validation_loss(digits_data, pair, rule)
    assert len(history) == 100 and all(math.isfinite(v) for v in history)
    assert after < before - 0.05, (before, after)


def test_short_adalfl_run_lowers_validation_error_and_stays_finite(digits_data):
    pair = digits_pair(steps=100)
    method = MethodConfig(online=OnlineConfig(meta_lr=1e-5))
    rule, _ = offline_phase(digits_data, pair, "smooth_nn", OfflineConfig(steps=20, meta_lr=1e-2), 0, CPU, progress=False)
    phi_before = [p.detach().clone() for p in rule.meta_parameters()]
    result = train(digits_data, pair, method, rule, 0, CPU, progress=False)
    assert result.status == "finished"
    first, last = result.history[0], result.history[-1]
    assert last["valid_error"] < first["valid_error"] - 0.3
    assert all(math.isfinite(v) for row in result.history[1:] for v in row.values())
    assert all(math.isfinite(float(p.abs().max())) for p in result.state.params.values())
    assert any(not torch.equal(a, b) for a, b in zip(phi_before, rule.meta_parameters()))  # phi moved online
    assert len(result.snapshots) == len(result.history) and len(result.snapshots[0]["curves"]["y=0"]) == 101


def test_every_method_starts_from_the_same_weights_and_batches(digits_data):
    pair = digits_pair(steps=1)
    methods = {"baseline": MethodConfig(), "adalfl": MethodConfig(online=OnlineConfig()), "meta_lr": MethodConfig(online=OnlineConfig())}
    starts = {name: train(digits_data, pair, cfg, fresh_rule(digits_data, pair, name, 3, CPU), 3, CPU, progress=False).history[0] for name, cfg in methods.items()}
    assert starts["baseline"] == starts["adalfl"] | {"lr": starts["baseline"]["lr"]} == starts["meta_lr"] | {"lr": starts["baseline"]["lr"]}
    a = make_stream(digits_data, "train", 64, 3, "train-order", pair, CPU)
    b = make_stream(digits_data, "train", 64, 3, "train-order", pair, CPU)
    assert all(torch.equal(a()[0], b()[0]) for _ in range(30))


def test_meta_step_leaves_running_statistics_as_a_plain_step_does(digits_data):
    pair = PairConfig(dataset="digits", model="lenet5", optim=OptimConfig(lr=0.01), steps=1)
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.BatchNorm2d(4), torch.nn.Flatten(), torch.nn.Linear(4 * 36, 10))
    rule = fresh_rule(digits_data, pair, "adalfl", 0, CPU)
    batch = (digits_data.splits["train"].x[:32], digits_data.splits["train"].y[:32])
    meta_batch = (digits_data.splits["valid"].x[:32] * 3 + 1, digits_data.splits["valid"].y[:32])  # very different statistics
    plain_state = BaseState.from_module(model)
    meta_state = BaseState.from_module(model)
    plain_after, _ = plain_step(model, plain_state, rule, batch, SGDConfig())
    meta_after, _, _ = online_step(model, meta_state, rule, torch.optim.Adam(rule.meta_parameters(), 1e-5), batch, meta_batch, SGDConfig(), "classification")
    for name in plain_after.buffers:
        assert torch.equal(plain_after.buffers[name], meta_after.buffers[name]), name
    assert int(meta_after.buffers["1.num_batches_tracked"]) == 1


@pytest.mark.parametrize("form", ["direct", "log"])
def test_meta_lr_adapts_the_learning_rate_online(diabetes_data, form):
    """Both forms move alpha offline and online; only the log form is kept positive by construction."""
    pair = PairConfig(dataset="diabetes", model="mlp", optim=OptimConfig(lr=0.001), steps=40, eval_interval=10)
    method = MethodConfig(online=OnlineConfig(meta_lr=1e-3 if form == "direct" else 1e-2))
    rule, history = offline_phase(diabetes_data, pair, "learning_rate", OfflineConfig(steps=10, meta_lr=1e-2), 0, CPU,
                                  progress=False, representation=RepresentationConfig(lr_form=form))
    lr_after_offline = rule.current_lr()
    assert lr_after_offline != 0.001 and len(history) == 10
    result = train(diabetes_data, pair, method, rule, 0, CPU, progress=False)
    lrs = [row["lr"] for row in result.history]
    assert result.status == "finished" and lrs[0] == lr_after_offline and lrs[-1] != lrs[0]
    if form == "log":
        assert all(lr > 0 for lr in lrs)


def test_diverging_run_stops_with_its_step(diabetes_data):
    pair = PairConfig(dataset="diabetes", model="mlp", optim=OptimConfig(lr=50.0), steps=200, eval_interval=50)
    result = train(diabetes_data, pair, MethodConfig(), fresh_rule(diabetes_data, pair, "baseline", 0, CPU), 0, CPU, progress=False)
    assert result.status == "diverged" and result.diverged_at is not None and result.diverged_at < 200


def test_forward_and_unrolled_meta_gradients_train_the_same(digits_data):
    pair = digits_pair(steps=30)
    results = {}
    for mode in ("forward", "unrolled"):
        rule = fresh_rule(digits_data, pair, "adalfl", 0, CPU)
        method = MethodConfig(online=OnlineConfig(meta_lr=1e-3, meta_grad=mode))
        results[mode] = (train(digits_data, pair, method, rule, 0, CPU, progress=False), rule)
    (fwd, rule_f), (unr, rule_u) = results["forward"], results["unrolled"]
    for a, b in zip(rule_f.meta_parameters(), rule_u.meta_parameters()):
        torch.testing.assert_close(a, b, rtol=1e-3, atol=1e-5)
    assert abs(fwd.history[-1]["valid_error"] - unr.history[-1]["valid_error"]) < 0.02


@pytest.mark.parametrize("method", ["meta_sgd", "meta_curvature", "adam", "nesterov"])
def test_update_rules_train_and_resume_bit_identically(digits_data, method):
    """The update rules and hand-designed optimisers train (validation error falls, the meta-parameters of the
    learned ones move online) and a run restored from its state dict mid-way ends bit-identical to one that was not."""
    from pipeline.training.loop import TrainingRun

    online = MethodConfig(online=OnlineConfig(meta_lr=1e-3)) if method.startswith("meta_") else MethodConfig()
    lr = {"adam": 1e-3}.get(method, 0.05)
    pair = PairConfig(dataset="digits", model="lenet5", optim=OptimConfig(lr=lr), steps=40, batch_size=64, eval_interval=20)
    whole = TrainingRun(digits_data, pair, online, fresh_rule(digits_data, pair, method, 0, CPU), 0, CPU)
    before = [p.detach().clone() for p in whole.rule.meta_parameters()]
    halves = TrainingRun(digits_data, pair, online, fresh_rule(digits_data, pair, method, 0, CPU), 0, CPU)
    for _ in range(20):
        whole.advance()
        halves.advance()
    saved = halves.state_dict()
    resumed = TrainingRun(digits_data, pair, online, fresh_rule(digits_data, pair, method, 0, CPU), 0, CPU)
    resumed.load_state_dict(saved, CPU)
    for _ in range(20):
        whole.advance()
        resumed.advance()
    for name, value in whole.state.params.items():
        assert torch.equal(value, resumed.state.params[name])
    assert whole.recorder.history[-1]["valid_error"] < whole.recorder.history[0]["valid_error"] - 0.1
    if method.startswith("meta_"):
        assert any(not torch.equal(a, b) for a, b in zip(before, whole.rule.meta_parameters()))
    else:
        assert set(whole.state.momentum)  # the optimiser's state is carried between steps (and checkpointed)


@pytest.mark.parametrize("method", ["l2l_lstm", "meta_lstm"])
def test_recurrent_rules_train_and_resume_bit_identically_mid_truncation(digits_data, method):
    """A run restored mid-truncation (its rule state and window in the state dict) ends bit-identical to one that
    was not; the rule's weights move at every truncation's end; the Meta-LSTM, which starts as SGD, learns."""
    from pipeline.training.loop import TrainingRun

    online = MethodConfig(online=OnlineConfig(meta_lr=1e-3, meta_interval=7))
    pair = PairConfig(dataset="digits", model="logistic", optim=OptimConfig(lr=0.05), steps=30, batch_size=64, eval_interval=15)
    runs = [TrainingRun(digits_data, pair, online, fresh_rule(digits_data, pair, method, 0, CPU), 0, CPU) for _ in range(2)]
    whole, halves = runs
    before = [p.detach().clone() for p in whole.rule.meta_parameters()]
    for _ in range(10):  # 10 = one truncation of 7 and 3 steps into the next
        whole.advance()
        halves.advance()
    resumed = TrainingRun(digits_data, pair, online, fresh_rule(digits_data, pair, method, 0, CPU), 0, CPU)
    resumed.load_state_dict(halves.state_dict(), CPU)
    for _ in range(20):
        whole.advance()
        resumed.advance()
    for name, value in whole.state.params.items():
        assert torch.equal(value, resumed.state.params[name])
    for a, b in zip(whole.rule.meta_parameters(), resumed.rule.meta_parameters()):
        assert torch.equal(a, b)
    assert all(not torch.equal(a, b) for a, b in zip(before, whole.rule.meta_parameters()))
    if method == "meta_lstm":
        assert whole.recorder.history[-1]["valid_error"] < whole.recorder.history[0]["valid_error"] - 0.3
