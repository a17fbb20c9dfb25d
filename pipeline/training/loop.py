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
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from pipeline.data.loading import LoadedData
from pipeline.evaluation import split_error
from pipeline.learned.rules import UpdateRule
from pipeline.learned.snapshot import loss_snapshot
from pipeline.meta.config import OnlineConfig
from pipeline.meta.step import BaseState
from pipeline.meta.stepper import OnlineSetup, make_stepper
from pipeline.training.checkpoint import load_checkpoint, save_checkpoint
from pipeline.training.config import MethodConfig, PairConfig
from pipeline.training.setup import initial_model, make_stream, sgd_config
from pipeline.utils.derive import derive_seed
from pipeline.utils.interrupt import Interrupted, stop_on_signals
from pipeline.utils.progress import Progress

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


class Recorder:
    """Collects learning curves and loss snapshots at the evaluation points."""

    def __init__(self, model: torch.nn.Module, data: LoadedData, rule: UpdateRule, watch: tuple[str, ...] = ()) -> None:
        self.model, self.data, self.rule, self.task = model, data, rule, data.task
        self.watch = watch  # further splits whose error each row records as <split>_error (tuning's holdout)
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
        for name in self.watch:
            split = self.data.splits[name]
            row[f"{name}_error"] = split_error(self.model, state.params, state.buffers, split.x, split.y, self.task)
        self.history.append(row)
        self.base_losses, self.meta_losses = [], []
        shape = loss_snapshot(self.rule.loss, self.task)
        if shape is not None:
            self.snapshots.append({"step": step, "curves": shape})
        return row

    def state_dict(self) -> dict[str, Any]:
        return {
            "history": self.history,
            "snapshots": self.snapshots,
            "base_losses": self.base_losses,
            "meta_losses": self.meta_losses,
        }

    def load_state_dict(self, saved: dict[str, Any]) -> None:
        self.history, self.snapshots = saved["history"], saved["snapshots"]
        self.base_losses, self.meta_losses = saved["base_losses"], saved["meta_losses"]


@dataclass(frozen=True)
class Checkpointing:
    """Where a run keeps its checkpoint, how often (in steps) and what run it belongs to."""

    path: Path
    every: int
    fingerprint: str


class TrainingRun:
    """One seed's training: the loop state, one step at a time, and its checkpoint form."""

    def __init__(
        self,
        data: LoadedData,
        pair: PairConfig,
        method: MethodConfig,
        rule: UpdateRule,
        seed: int,
        device: torch.device,
        watch: tuple[str, ...] = (),
    ) -> None:
        self.pair, self.rule = pair, rule
        self.model = initial_model(data, pair, seed, device)
        self.state = BaseState.from_module(self.model)
        self.stream = make_stream(data, "train", pair.batch_size, seed, "train-order", pair, device)
        self.meta_optimizer: torch.optim.Optimizer | None = None
        online: OnlineSetup | None = None
        if method.online is not None:
            meta_batch_size = method.online.meta_batch_size or pair.batch_size
            meta_stream = make_stream(
                data, method.online.meta_split, meta_batch_size, seed, "online-meta-order", pair, device
            )
            self.meta_optimizer = meta_optimizer(rule, method.online)
            online = OnlineSetup(method.online, meta_stream, self.meta_optimizer)
        self.stepper = make_stepper(self.model, rule, sgd_config(pair), data.task, self.state, online)
        self.recorder = Recorder(self.model, data, rule, watch)
        self.recorder.record(0, self.state)
        self.step, self.elapsed_s, self.status = 0, 0.0, "running"
        self.diverged_at: int | None = None

    def advance(self) -> dict[str, float | None] | None:
        """One base step (plus a meta step when due); the evaluation row where one is due."""
        self.step += 1
        outcome = self.stepper.advance(self.state, self.step, self.stream())
        self.state = outcome.state
        if outcome.meta_loss is not None:
            self.recorder.meta_losses.append(outcome.meta_loss)
        self.recorder.base_losses.append(outcome.base_loss)
        if not _finite(outcome.base_loss, self.recorder.meta_losses, self.rule, self.state):
            self.status, self.diverged_at = "diverged", self.step
            return None
        if self.step % self.pair.eval_interval == 0 or self.step == self.pair.steps:
            return self.recorder.record(self.step, self.state)
        return None

    def state_dict(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "elapsed_s": self.elapsed_s,
            "status": self.status,
            "diverged_at": self.diverged_at,
            "params": self.state.params,
            "buffers": self.state.buffers,
            "momentum": self.state.momentum,
            "rule": self.rule.meta_module().state_dict(),
            "meta_optimizer": self.meta_optimizer.state_dict() if self.meta_optimizer is not None else None,
            "stream": self.stream.state_dict(),
            "stepper": self.stepper.state_dict(),
            "recorder": self.recorder.state_dict(),
            "rng": rng_states(),
        }

    def load_state_dict(self, saved: dict[str, Any], device: torch.device) -> None:
        self.step, self.elapsed_s, self.status, self.diverged_at = (
            saved["step"],
            saved["elapsed_s"],
            saved["status"],
            saved["diverged_at"],
        )
        on_device = {key: {k: v.to(device) for k, v in saved[key].items()} for key in ("params", "buffers", "momentum")}
        self.state = BaseState(on_device["params"], on_device["buffers"], on_device["momentum"])
        self.rule.meta_module().load_state_dict(saved["rule"])
        if self.meta_optimizer is not None:
            self.meta_optimizer.load_state_dict(saved["meta_optimizer"])
        self.stream.load_state_dict(saved["stream"])
        self.stepper.load_state_dict(saved["stepper"], device)
        self.recorder.load_state_dict(saved["recorder"])
        set_rng_states(saved["rng"])

    def result(self) -> TrainResult:
        recorder = self.recorder
        return TrainResult(
            self.status, self.step, recorder.history, recorder.snapshots, self.state, self.elapsed_s, self.diverged_at
        )


def meta_optimizer(rule: UpdateRule, online: OnlineConfig) -> torch.optim.Optimizer:
    """Adam on the meta-parameters; with ``clip_meta_grad_norm`` (the divergence guard) clipped first."""
    optimizer = torch.optim.Adam(rule.meta_parameters(), lr=online.meta_lr)
    max_norm = online.clip_meta_grad_norm
    if max_norm is not None:
        params = rule.meta_parameters()

        def clip(*_: Any) -> None:
            torch.nn.utils.clip_grad_norm_(params, max_norm)

        optimizer.register_step_pre_hook(clip)
    return optimizer


def train(
    data: LoadedData,
    pair: PairConfig,
    method: MethodConfig,
    rule: UpdateRule,
    seed: int,
    device: torch.device,
    label: str = "train",
    progress: bool = True,
    checkpoint: Checkpointing | None = None,
    on_record: Callable[[int, dict[str, float | None]], None] | None = None,
    watch: tuple[str, ...] = (),
) -> TrainResult:
    """Train one seed to the end, resuming from (and writing) ``checkpoint`` where given.

    ``on_record(step, row)`` sees every evaluation row as it is recorded (Optuna's pruning
    hook raises from it to stop an unpromising trial); ``watch`` names further splits of ``data``
    whose error every row records as ``<split>_error`` (tuning's holdout).

    SIGTERM / SIGINT stop the run after the current step (checkpoint written first) with
    ``Interrupted``; a resumed run ends with exactly the numbers of an uninterrupted one.
    """
    with torch.random.fork_rng(devices=_rng_devices(device)), stop_on_signals() as stop:
        torch.manual_seed(derive_seed(seed, "train-global-rng"))  # dropout draws from the global RNG
        run = TrainingRun(data, pair, method, rule, seed, device, watch)
        if checkpoint is not None:
            resume(run, checkpoint, device, label)
        bar = Progress(label, pair.steps, enabled=progress)
        started = time.monotonic()
        while run.status == "running":
            row = run.advance() if run.step < pair.steps else None
            if run.status == "running" and run.step >= pair.steps:
                run.status = "finished"
            run.elapsed_s += time.monotonic() - started
            started = time.monotonic()
            periodic = checkpoint is not None and checkpoint.every > 0 and run.step % checkpoint.every == 0
            if checkpoint is not None and (periodic or stop.requested or run.status != "running"):
                save_checkpoint(checkpoint.path, run.step, checkpoint.fingerprint, run.state_dict())
            if row is not None:
                bar.update(run.step, valid_error=row["valid_error"], base_loss=row["base_loss"])
                if on_record is not None:
                    on_record(run.step, row)
            if stop.requested and run.status == "running":
                where = (
                    f"checkpoint {checkpoint.path}"
                    if checkpoint is not None
                    else "no checkpoint (checkpointing is off)"
                )
                raise Interrupted(
                    f"{label}: interrupted at step {run.step} of {pair.steps}; {where}; run it again to resume",
                    stop.signal or 15,
                )
        return run.result()


def not_trained(
    data: LoadedData, pair: PairConfig, method: MethodConfig, rule: UpdateRule, seed: int, device: torch.device
) -> TrainResult:
    """The record of a run that could not start (its offline phase diverged): step 0's evaluation,
    diverged at step 0, so that reports count it as diverged and average no error of it."""
    run = TrainingRun(data, pair, method, rule, seed, device)
    run.status, run.diverged_at = "diverged", 0
    return run.result()


def resume(run: TrainingRun, checkpoint: Checkpointing, device: torch.device, label: str) -> None:
    if checkpoint.path.is_file():
        saved = load_checkpoint(checkpoint.path, checkpoint.fingerprint)
        if saved is None:
            print(
                f"[{label}] {checkpoint.path} belongs to another configuration or code version; starting afresh",
                flush=True,
            )
            return
        run.load_state_dict(saved, device)
        print(f"[{label}] resumed from {checkpoint.path} at step {run.step} ({run.status})", flush=True)


def rng_states() -> dict[str, Any]:
    states: dict[str, Any] = {"cpu": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def set_rng_states(states: dict[str, Any]) -> None:
    torch.set_rng_state(states["cpu"])
    if "cuda" in states:
        torch.cuda.set_rng_state_all(states["cuda"])


def _rng_devices(device: torch.device) -> list[int]:
    return [device.index or 0] if device.type == "cuda" else []


def _finite(base_loss: float, meta_losses: list[float], rule: UpdateRule, state: BaseState) -> bool:
    """Loss, meta-loss, learning rate, parameters and meta-parameters all finite (one reduction for the tensors)."""
    values = [base_loss, rule.current_lr()] + meta_losses[-1:]
    tensors = [*state.params.values(), *rule.meta_parameters()]
    return all(math.isfinite(v) for v in values) and bool(
        torch.stack([t.detach().abs().amax() for t in tensors]).isfinite().all()
    )


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None  # None (JSON null) where nothing was measured
