"""The L2L benchmark: meta-train the LSTM optimiser, tune the hand-designed ones, compare curves.

The LSTM is meta-trained on ``meta_epochs`` fresh instances (truncated BPTT, Adam on phi); the
MLP variants (40 units, two layers, ReLU) use the LSTM meta-trained on the base MLP, as the
paper's generalisation checks do; each hand-designed optimiser (SGD, Nesterov, RMSprop, Adam)
gets the learning rate of ``lr_grid`` with the lowest mean final loss on the ``tune_seeds``
instances (the paper compares against tuned optimisers); then every optimiser runs
``eval_steps`` steps on the evaluation instances ``seeds``, which neither phase saw."""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable
from typing import Any

import torch

from pipeline.l2l.config import L2LConfig
from pipeline.l2l.problems import Instance, mlp_instance, optimiser_defaults, quadratic_instance
from pipeline.learned.lstm import CoordinatewiseLSTM
from pipeline.meta.unroll import meta_train_episode, run_learned
from pipeline.optim import hand_designed_step
from pipeline.utils.derive import derive_seed
from pipeline.utils.progress import Progress

HAND_DESIGNED = ("sgd", "nesterov", "rmsprop", "adam")
InstanceFactory = Callable[[int], Instance]


def instance_factory(
    problem: str, cfg: L2LConfig, images: tuple[torch.Tensor, torch.Tensor, int] | None
) -> InstanceFactory:
    if problem == "quadratic":
        return quadratic_instance
    if images is None:
        raise ValueError(f"problem {problem!r} needs training images")
    x, y, n_classes = images
    return lambda seed: mlp_instance(problem, seed, x, y, n_classes, cfg.batch_size)


def meta_training_problem(problem: str) -> str:
    """The MLP variants are the paper's generalisation checks: the LSTM meta-trained on ``mlp`` runs them."""
    return "quadratic" if problem == "quadratic" else "mlp"


def build_optimiser(problem: str, cfg: L2LConfig, seed: int) -> CoordinatewiseLSTM:
    preprocess, p, scale = optimiser_defaults(problem)
    o = cfg.optimiser
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(derive_seed(seed, "l2l-lstm", problem))
        return CoordinatewiseLSTM(o.hidden, o.layers, o.preprocess or preprocess, o.p or p, o.output_scale or scale)


def meta_train(
    net: CoordinatewiseLSTM, make: InstanceFactory, cfg: L2LConfig, label: str, progress: bool = True
) -> list[float]:
    """Mean training loss of every meta-training run (one fresh instance each)."""
    optimizer = torch.optim.Adam(net.parameters(), lr=cfg.meta_lr)
    bar = Progress(label, cfg.meta_epochs, enabled=progress)
    history = []
    for epoch in range(cfg.meta_epochs):
        instance = make(derive_seed(epoch, "l2l-meta-train"))
        losses = meta_train_episode(
            net, optimizer, instance.objective, instance.theta0, instance.next_batch, cfg.steps, cfg.unroll
        )
        history.append(sum(losses) / len(losses))
        bar.update(epoch + 1, mean_loss=history[-1])
    return history


def run_hand_designed(kind: str, lr: float, instance: Instance, steps: int) -> list[float]:
    """f(theta_t), t = 0..steps, under one hand-designed optimiser (pipeline.optim, equal to torch.optim)."""
    params, losses = {"theta": instance.theta0.clone()}, []
    state: dict[str, torch.Tensor] = {}
    for _ in range(steps):
        theta = params["theta"].requires_grad_()
        loss = instance.objective(theta, instance.next_batch())
        grads = {"theta": torch.autograd.grad(loss, theta)[0]}
        losses.append(float(loss.detach()))
        with torch.no_grad():
            params, state = hand_designed_step(kind, {"theta": theta.detach()}, grads, state, lr)
    losses.append(float(instance.objective(params["theta"], instance.next_batch()).detach()))
    return losses


def _run_lstm(net: CoordinatewiseLSTM, instance: Instance, steps: int) -> list[float]:
    return run_learned(net, instance.objective, instance.theta0, instance.next_batch, steps)


def tune_lr(kind: str, make: InstanceFactory, cfg: L2LConfig) -> float:
    """The grid's learning rate with the lowest mean final loss on the tuning instances (diverged runs lose)."""

    def final(lr: float) -> float:
        values = [run_hand_designed(kind, lr, make(seed), cfg.eval_steps)[-1] for seed in cfg.tune_seeds]
        mean = sum(values) / len(values)
        return mean if math.isfinite(mean) else math.inf

    return min(cfg.lr_grid, key=final)


def curves_summary(curves: list[list[float]]) -> dict[str, Any]:
    """Mean and standard deviation over instances at every step, and the final losses."""
    steps = list(zip(*curves))
    finals = [c[-1] for c in curves]
    return {
        "mean": [statistics.fmean(s) for s in steps],
        "std": [statistics.pstdev(s) for s in steps],
        "final": finals,
        "final_mean": statistics.fmean(finals),
        "final_std": statistics.stdev(finals) if len(finals) > 1 else 0.0,
    }


def run_benchmark(
    problem: str, cfg: L2LConfig, images: tuple[torch.Tensor, torch.Tensor, int] | None, progress: bool = True
) -> dict[str, Any]:
    make = instance_factory(problem, cfg, images)
    trained_on = meta_training_problem(problem)
    net = build_optimiser(trained_on, cfg, seed=0)
    meta_history = meta_train(
        net, instance_factory(trained_on, cfg, images), cfg, f"l2l {problem} meta-train on {trained_on}", progress
    )
    tuned = {kind: tune_lr(kind, make, cfg) for kind in HAND_DESIGNED}
    methods: dict[str, Any] = {"lstm": curves_summary([_run_lstm(net, make(s), cfg.eval_steps) for s in cfg.seeds])}
    for kind, lr in tuned.items():
        methods[kind] = curves_summary([run_hand_designed(kind, lr, make(s), cfg.eval_steps) for s in cfg.seeds])
    return {
        "problem": problem,
        "trained_on": trained_on,
        "methods": methods,
        "tuned_lr": tuned,
        "meta_history": meta_history,
        "seeds": list(cfg.seeds),
        "steps": cfg.eval_steps,
    }
