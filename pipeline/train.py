"""The training loop every method shares (baseline, ML3, AdaLFL, Meta-LR, Taylor).

A run starts from the seed's initial weights, draws training batches from the seed's
stream, and takes a plain base step (no online phase) or a base step plus a meta step
(online phase, every ``meta_interval`` steps). It records, every ``eval_interval``
steps, the training and validation error, the mean base and meta losses, the learning
rate and (for learned losses) the loss's shape on a fixed grid.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import torch

from pipeline.config import MethodConfig, PairConfig
from pipeline.data.registry import DATASETS
from pipeline.data.loading import LoadedData
from pipeline.derive import generator
from pipeline.evaluation import split_error
from pipeline.learned.rules import UpdateRule
from pipeline.learned.snapshot import loss_snapshot
from pipeline.meta.forward import forward_meta_step
from pipeline.meta.online import online_step, plain_step
from pipeline.meta.step import BaseState
from pipeline.models.registry import build_model
from pipeline.optim import SGDConfig
from pipeline.progress import Progress
from pipeline.sampling import BatchStream

TRAIN_ERROR_SAMPLES = 500  # a fixed subset of the training split for the training-error curve


@dataclass
class TrainResult:
    status: str  # "finished" or "diverged"
    steps_done: int
    history: list[dict[str, float | None]]
    snapshots: list[dict[str, Any]]
    state: BaseState
    wall_time_s: float
    diverged_at: int | None = None
    info: dict[str, Any] = field(default_factory=dict)


def sgd_config(pair: PairConfig) -> SGDConfig:
    return SGDConfig(momentum=pair.optim.momentum, nesterov=pair.optim.nesterov, weight_decay=pair.optim.weight_decay)


def make_stream(data: LoadedData, split: str, batch_size: int, seed: int, tag: str, pair: PairConfig, device: torch.device) -> BatchStream:
    """A seeded stream; augmentation applies to training batches only."""
    part = data.splits[split]
    augment = pair.augment and split == "train"
    flip = DATASETS[data.meta["dataset"]].flip
    return BatchStream(part.x, part.y, batch_size, generator(seed, tag), augment, flip, device)


def initial_model(data: LoadedData, pair: PairConfig, seed: int, device: torch.device) -> torch.nn.Module:
    meta = data.meta
    return build_model(pair.model, tuple(meta["input_shape"]), int(meta["n_outputs"]), seed).to(device).train()


class Recorder:
    """Collects learning curves and loss snapshots at the evaluation points."""

    def __init__(self, model: torch.nn.Module, data: LoadedData, rule: UpdateRule) -> None:
        self.model, self.data, self.rule, self.task = model, data, rule, data.task
        train = data.splits["train"]
        self.train_x, self.train_y = train.x[:TRAIN_ERROR_SAMPLES], train.y[:TRAIN_ERROR_SAMPLES]
        self.history: list[dict[str, float | None]] = []
        self.snapshots: list[dict[str, Any]] = []
        self.base_losses: list[float] = []
        self.meta_losses: list[float] = []

    def record(self, step: int, state: BaseState) -> dict[str, float | None]:
        valid = self.data.splits["valid"]
        row = {
            "step": step,
            "train_error": split_error(self.model, state.params, state.buffers, self.train_x, self.train_y, self.task),
            "valid_error": split_error(self.model, state.params, state.buffers, valid.x, valid.y, self.task),
            "base_loss": _mean(self.base_losses),
            "meta_loss": _mean(self.meta_losses),
            "lr": self.rule.current_lr(),
        }
        self.history.append(row)
        self.base_losses, self.meta_losses = [], []
        shape = loss_snapshot(self.rule.loss, self.task)
        if shape is not None:
            self.snapshots.append({"step": step, "curves": shape})
        return row


def train(data: LoadedData, pair: PairConfig, method: MethodConfig, rule: UpdateRule, seed: int, device: torch.device, label: str = "train", progress: bool = True) -> TrainResult:
    started = time.monotonic()
    model = initial_model(data, pair, seed, device)
    state = BaseState.from_module(model)
    sgd = sgd_config(pair)
    stream = make_stream(data, "train", pair.batch_size, seed, "train-order", pair, device)
    online = method.online
    meta_stream = meta_optimizer = None
    if online is not None:
        meta_stream = make_stream(data, online.meta_split, online.meta_batch_size or pair.batch_size, seed, "online-meta-order", pair, device)
        meta_optimizer = torch.optim.Adam(rule.meta_parameters(), lr=online.meta_lr)
    recorder = Recorder(model, data, rule)
    recorder.record(0, state)
    bar = Progress(label, pair.steps, enabled=progress)
    for step in range(1, pair.steps + 1):
        batch = stream()
        if online is not None and meta_stream is not None and meta_optimizer is not None and step % online.meta_interval == 0:
            meta_step = forward_meta_step if online.meta_grad == "forward" else online_step
            state, base_loss, meta_loss = meta_step(model, state, rule, meta_optimizer, batch, meta_stream(), sgd, data.task)
            recorder.meta_losses.append(meta_loss)
        else:
            state, base_loss = plain_step(model, state, rule, batch, sgd)
        recorder.base_losses.append(base_loss)
        if not _finite(base_loss, recorder.meta_losses, rule):
            return TrainResult("diverged", step, recorder.history, recorder.snapshots, state, time.monotonic() - started, diverged_at=step)
        if step % pair.eval_interval == 0 or step == pair.steps:
            row = recorder.record(step, state)
            bar.update(step, valid_error=row["valid_error"], base_loss=row["base_loss"])
    return TrainResult("finished", pair.steps, recorder.history, recorder.snapshots, state, time.monotonic() - started)


def _finite(base_loss: float, meta_losses: list[float], rule: UpdateRule) -> bool:
    values = [base_loss, rule.current_lr()] + meta_losses[-1:]
    return all(math.isfinite(v) for v in values)


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None  # None (JSON null) where nothing was measured
