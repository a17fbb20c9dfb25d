"""AdaLFL around a user's model: one call per batch, a base step with the learned loss, then the online meta step."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from pipeline.api.loss import LearnedLoss
from pipeline.learned.rules import LossRule
from pipeline.meta.config import OnlineConfig
from pipeline.meta.forward import forward_meta_step
from pipeline.meta.step import BaseState
from pipeline.optim import SGDConfig
from pipeline.training.loop import meta_optimizer


class AdaLFL:
    """Online loss learning (Algorithm 2, forward-mode meta-gradient) around a user's model.

    Each :meth:`step` takes a base SGD step on (x, y) with the learned loss, then one Adam step
    on the loss's weights against the task loss (cross-entropy / squared error) on the
    validation batch after that step. The model's parameters and buffers are read at each step
    and written back after it, so the model can be used (and evaluated) between steps as usual.
    """

    def __init__(
        self,
        model: nn.Module,
        loss: LearnedLoss,
        lr: float,
        meta_lr: float = 1e-5,
        momentum: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
        clip_meta_grad_norm: float | None = None,
    ) -> None:
        self.model, self.loss = model, loss
        self.sgd = SGDConfig(momentum=momentum, nesterov=nesterov, weight_decay=weight_decay)
        self.rule = LossRule(loss.inner, lr)
        self.optimizer = meta_optimizer(
            self.rule, OnlineConfig(meta_lr=meta_lr, clip_meta_grad_norm=clip_meta_grad_norm)
        )
        self.momentum: dict[str, torch.Tensor] = {}

    def step(
        self, x: torch.Tensor, y: torch.Tensor, x_valid: torch.Tensor, y_valid: torch.Tensor
    ) -> tuple[float, float]:
        """One base step and one meta step; returns (the learned loss on the batch, the validation task loss)."""
        current = BaseState.from_module(self.model)
        state = BaseState(current.params, current.buffers, self.momentum)
        state, base_loss, meta_loss = forward_meta_step(
            self.model, state, self.rule, self.optimizer, (x, y), (x_valid, y_valid), self.sgd, self.loss.task
        )
        with torch.no_grad():
            for name, tensor in self.model.named_parameters():
                tensor.copy_(state.params[name])
            for name, buffer in self.model.named_buffers():
                buffer.copy_(state.buffers[name])
        self.momentum = state.momentum
        return base_loss, meta_loss

    def state_dict(self) -> dict[str, Any]:
        """The model, the loss's weights, the meta-optimiser and the momentum buffers (for checkpoints)."""
        return {
            "model": self.model.state_dict(),
            "loss": self.loss.inner.state_dict(),
            "meta_optimizer": self.optimizer.state_dict(),
            "momentum": dict(self.momentum),
        }

    def load_state_dict(self, saved: dict[str, Any]) -> None:
        self.model.load_state_dict(saved["model"])
        self.loss.inner.load_state_dict(saved["loss"])
        self.optimizer.load_state_dict(saved["meta_optimizer"])
        self.momentum = dict(saved["momentum"])
