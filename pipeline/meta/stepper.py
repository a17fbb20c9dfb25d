"""One stepper interface for the training loop: step t of a run, whatever the rule and its meta procedure.

* ``PlainStepper``: a base step, nothing meta-learned (baseline, ML3 after its offline phase);
* ``OnlineStepper``: a base step, plus a meta step every ``meta_interval`` steps (AdaLFL, Meta-LR,
  Meta-SGD, ...; Algorithms 2 and 4), with the forward-mode or the unrolled meta-gradient;
* ``TruncatedStepper``: a stateful rule's step, with a truncated-BPTT meta step at the end of
  every truncation (L2L LSTM, Meta-LSTM).

``make_stepper`` picks one from the rule and the method's online config; the loop only calls
``advance`` and keeps ``state_dict`` in its checkpoint.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Protocol, cast

import torch
from torch import nn

from pipeline.learned.rules import RecurrentUpdateRule, UpdateRule
from pipeline.meta.config import OnlineConfig
from pipeline.meta.forward import forward_meta_step
from pipeline.meta.online import online_step, plain_step
from pipeline.meta.step import BaseState, Batch
from pipeline.meta.truncated import TruncatedTrainer
from pipeline.optim import SGDConfig


class BatchSource(Protocol):
    """Where meta batches come from: a seeded ``BatchStream``, or fixed batches in the benchmark."""

    def __call__(self) -> Batch: ...

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, saved: dict[str, Any]) -> None: ...


@dataclass(frozen=True)
class StepOutcome:
    state: BaseState
    base_loss: float
    meta_loss: float | None  # None: no meta step this time


class Stepper(ABC):
    """Advances a base state by one step of the run; keeps whatever it carries between steps."""

    @abstractmethod
    def advance(self, state: BaseState, step: int, batch: Batch) -> StepOutcome: ...

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, saved: dict[str, Any], device: torch.device) -> None:
        return None


class PlainStepper(Stepper):
    def __init__(self, model: nn.Module, rule: UpdateRule, sgd: SGDConfig) -> None:
        self.model, self.rule, self.sgd = model, rule, sgd

    def advance(self, state: BaseState, step: int, batch: Batch) -> StepOutcome:
        next_state, base_loss = plain_step(self.model, state, self.rule, batch, self.sgd)
        return StepOutcome(next_state, base_loss, None)


class OnlineStepper(Stepper):
    """Plain steps, and every ``meta_interval``-th step a base step plus a meta step on a meta batch."""

    def __init__(
        self,
        model: nn.Module,
        rule: UpdateRule,
        sgd: SGDConfig,
        task: str,
        online: OnlineConfig,
        meta_stream: BatchSource,
        optimizer: torch.optim.Optimizer,
        traced: bool = True,
    ) -> None:
        self.model, self.rule, self.sgd, self.task, self.online = model, rule, sgd, task, online
        self.meta_stream, self.optimizer, self.traced = meta_stream, optimizer, traced
        self.plain = PlainStepper(model, rule, sgd)

    def advance(self, state: BaseState, step: int, batch: Batch) -> StepOutcome:
        if step % self.online.meta_interval != 0:
            return self.plain.advance(state, step, batch)
        meta_batch = self.meta_stream()
        if self.online.meta_grad == "forward":
            next_state, base_loss, meta_loss = forward_meta_step(
                self.model, state, self.rule, self.optimizer, batch, meta_batch, self.sgd, self.task, self.traced
            )
        else:
            next_state, base_loss, meta_loss = online_step(
                self.model, state, self.rule, self.optimizer, batch, meta_batch, self.sgd, self.task
            )
        return StepOutcome(next_state, base_loss, meta_loss)

    def state_dict(self) -> dict[str, Any]:
        return {"meta_stream": self.meta_stream.state_dict()}

    def load_state_dict(self, saved: dict[str, Any], device: torch.device) -> None:
        self.meta_stream.load_state_dict(saved["meta_stream"])


class TruncatedStepper(Stepper):
    """A stateful rule's steps; with a meta optimiser, a meta step after every truncation of ``unroll`` steps."""

    def __init__(
        self,
        trainer: TruncatedTrainer,
        start: BaseState,
        meta_stream: BatchSource | None,
    ) -> None:
        self.trainer, self.meta_stream = trainer, meta_stream
        trainer.start(start)

    def advance(self, state: BaseState, step: int, batch: Batch) -> StepOutcome:
        meta_batch = self.meta_stream() if self.meta_stream is not None else None
        next_state, base_loss, meta_loss = self.trainer.advance(state, batch, meta_batch)
        return StepOutcome(next_state, base_loss, meta_loss)

    def state_dict(self) -> dict[str, Any]:
        stream = self.meta_stream.state_dict() if self.meta_stream is not None else None
        return {"meta_stream": stream, "truncated": self.trainer.state_dict()}

    def load_state_dict(self, saved: dict[str, Any], device: torch.device) -> None:
        if self.meta_stream is not None:
            self.meta_stream.load_state_dict(saved["meta_stream"])
        self.trainer.load_state_dict(saved["truncated"], device)


@dataclass(frozen=True)
class OnlineSetup:
    """What an online phase needs besides the rule: its config, its meta batches and its meta optimiser."""

    config: OnlineConfig
    meta_stream: BatchSource
    optimizer: torch.optim.Optimizer
    traced: bool = True  # forward mode: the JVP from the traced split forward pass (False: torch.func.jvp)


def make_stepper(
    model: nn.Module, rule: UpdateRule, sgd: SGDConfig, task: str, start: BaseState, online: OnlineSetup | None
) -> Stepper:
    """The stepper of a rule: truncated for a stateful rule, online with an online phase, plain otherwise."""
    if rule.stateful:
        recurrent = cast(RecurrentUpdateRule, rule)
        unroll = online.config.meta_interval if online is not None else 1
        optimizer = online.optimizer if online is not None else None
        trainer = TruncatedTrainer(model, recurrent.network, recurrent.loss, sgd, task, unroll, optimizer)
        return TruncatedStepper(trainer, start, online.meta_stream if online is not None else None)
    if online is not None:
        return OnlineStepper(model, rule, sgd, task, online.config, online.meta_stream, online.optimizer, online.traced)
    return PlainStepper(model, rule, sgd)
