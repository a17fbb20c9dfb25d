"""Meta-training and meta-testing of one method on one family and shot count.

Meta-training: Adam on theta_g and the rule, the mean query loss over ``meta_batch`` tasks
from the seeded stream (the same stream for every method), the fixed meta-validation tasks
scored every ``valid_interval`` iterations. Meta-test: every fixed test task adapted for
0..``test.steps`` steps; the table reports the error after ``inner_steps`` steps (what the
method was meta-trained for), with a 95% interval over tasks (1.96 standard errors).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from pipeline.fewshot.config import FamilyConfig
from pipeline.fewshot.learners import FewShotLearner, Loss
from pipeline.fewshot.tasks import ClassPool, TaskBatch, draw_tasks
from pipeline.utils.derive import generator
from pipeline.utils.progress import Progress

EVAL_CHUNK = 100  # tasks per vmapped evaluation call (bounds memory)


@dataclass(frozen=True)
class Objective:
    """The family's training loss and the metric its table reports (MSE, or accuracy in %)."""

    loss: Loss
    metric: Loss
    name: str
    lower_is_better: bool


def objective_for(family: FamilyConfig) -> Objective:
    if family.kind == "sinusoid":
        mse: Loss = lambda out, y: ((out - y) ** 2).mean()  # noqa: E731
        return Objective(mse, mse, "MSE", True)
    accuracy: Loss = lambda out, y: 100.0 * (out.argmax(-1) == y).float().mean()  # noqa: E731
    return Objective(F.cross_entropy, accuracy, "accuracy (%)", False)


def fixed_tasks(
    family: FamilyConfig, pool: ClassPool | None, n_tasks: int, shots: int, seed: int, tag: str
) -> TaskBatch:
    """The meta-validation or meta-test tasks (``tag`` names the family and split): the same for every method."""
    return draw_tasks(family, pool, n_tasks, shots, family.test_query, generator(seed, tag, shots))


def curves(learner: FewShotLearner, tasks: TaskBatch, steps: int, objective: Objective) -> torch.Tensor:
    """(T, steps + 1) query metric per task, evaluated EVAL_CHUNK tasks at a time, no meta-graph."""
    parts = []
    for start in range(0, len(tasks), EVAL_CHUNK):
        chunk = tasks.part(start, start + EVAL_CHUNK)
        parts.append(learner.query_curves(chunk, steps, objective.loss, objective.metric, meta_graph=False))
    return torch.cat(parts)


def summary(values: torch.Tensor) -> dict[str, Any]:
    """Mean and 95% half-interval over tasks; non-finite values (a diverged adaptation) are counted, not averaged."""
    finite = values[torch.isfinite(values)]
    n = int(finite.numel())
    mean = float(finite.mean()) if n else None
    half = 1.96 * float(finite.std()) / math.sqrt(n) if n > 1 else None
    return {"mean": mean, "ci95": half, "tasks": int(values.numel()), "diverged_tasks": int(values.numel()) - n}


def meta_train(
    learner: FewShotLearner,
    family_name: str,
    family: FamilyConfig,
    train_pool: ClassPool | None,
    valid: TaskBatch,
    shots: int,
    seed: int,
    label: str,
    progress: bool = True,
) -> dict[str, Any]:
    """Train ``learner`` in place; returns the training and validation curves and the wall time."""
    cfg, objective = family.train, objective_for(family)
    optimizer = torch.optim.Adam(learner.parameters(), lr=cfg.meta_lr)
    stream = generator(seed, "fewshot-train", family_name, shots)  # the same task stream for every method
    bar = Progress(label, cfg.iterations, enabled=progress)
    history: dict[str, list[float]] = {"iteration": [], "train_loss": [], "valid_metric": []}
    started, losses = time.monotonic(), []
    for it in range(1, cfg.iterations + 1):
        tasks = draw_tasks(family, train_pool, cfg.meta_batch, shots, family.query, stream).to(valid.support_x.device)
        loss = learner.meta_loss(tasks, cfg.inner_steps, objective.loss)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
        if it % cfg.valid_interval == 0 or it == cfg.iterations:
            score = summary(curves(learner, valid, cfg.inner_steps, objective)[:, -1])["mean"]
            history["iteration"].append(it)
            history["train_loss"].append(sum(losses) / len(losses))
            history["valid_metric"].append(score)
            losses = []
            bar.update(it, train_loss=history["train_loss"][-1], valid=score if score is not None else math.nan)
    return {"history": history, "wall_time_s": time.monotonic() - started}
