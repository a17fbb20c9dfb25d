"""Use a learned loss, or AdaLFL itself, in any PyTorch training loop.

    from pipeline.api import AdaLFL, LearnedLoss

    loss = LearnedLoss.load("loss.pt")              # exported by `python -m tools.lfl export ...`
    loss(model(x), y).backward()                    # like nn.CrossEntropyLoss: mean over the batch

    adalfl = AdaLFL(model, loss, lr=0.01, meta_lr=1e-5)
    for (x, y), (x_valid, y_valid) in zip(train_batches, valid_batches):
        base_loss, meta_loss = adalfl.step(x, y, x_valid, y_valid)   # base step, then the online meta step

A file holds only tensors and plain data (read with ``torch.load(weights_only=True)``): the
learned loss's weights, the representation's config, the task kind, the number of outputs,
the format version and where it came from (pair, method, seed, commit, params digest).
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch
from torch import nn

from pipeline.learned.config import RepresentationConfig
from pipeline.learned.rules import LossRule, build_loss
from pipeline.meta.config import OnlineConfig
from pipeline.meta.forward import forward_meta_step
from pipeline.meta.step import BaseState
from pipeline.optim import SGDConfig
from pipeline.training.exports import LOSS_KINDS
from pipeline.training.loop import meta_optimizer

FORMAT = "lfl.learned_loss"
VERSION = 1
TASKS = ("classification", "regression")


class LossFileError(ValueError):
    """A file that is not a learned loss this version can read; the message is one line naming it."""


class LearnedLoss(nn.Module):
    """A learned loss ``loss(outputs, targets) -> scalar`` (logits and class indices, or predictions
    and targets of the same shape), built from its representation and weights alone."""

    def __init__(
        self,
        kind: str,
        task: str,
        n_outputs: int,
        representation: dict[str, Any] | None = None,
        state_dict: dict[str, torch.Tensor] | None = None,
        source: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        if kind not in LOSS_KINDS:
            raise ValueError(f"kind: expected one of {', '.join(LOSS_KINDS)}, got {kind!r}")
        if task not in TASKS:
            raise ValueError(f"task: expected one of {', '.join(TASKS)}, got {task!r}")
        self.kind, self.task, self.n_outputs = kind, task, int(n_outputs)
        self.representation = RepresentationConfig(**(representation or {}))
        self.source = dict(source or {})
        self.inner = build_loss(kind, task, 0, self.representation, self.n_outputs)  # type: ignore[arg-type]
        if state_dict is not None:
            self.inner.load_state_dict(state_dict)

    def forward(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return self.inner(outputs, targets)

    def to_file_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": VERSION,
            "kind": self.kind,
            "task": self.task,
            "n_outputs": self.n_outputs,
            "representation": asdict(self.representation),
            "state_dict": {k: v.detach().cpu() for k, v in self.inner.state_dict().items()},
            "source": self.source,
        }

    def save(self, path: str | Path) -> None:
        torch.save(self.to_file_dict(), path)

    @classmethod
    def load(cls, path: str | Path, map_location: str | torch.device = "cpu") -> LearnedLoss:
        """Read a file written by :meth:`save` (or the export command); one-line errors name the file."""
        saved = _read(Path(path), map_location)
        try:
            return cls(
                saved["kind"],
                saved["task"],
                saved["n_outputs"],
                saved["representation"],
                saved["state_dict"],
                saved.get("source"),
            )
        except (KeyError, TypeError, ValueError, RuntimeError) as error:
            raise LossFileError(f"{path}: not a valid learned-loss file ({str(error).splitlines()[0]})") from None


def _read(path: Path, map_location: str | torch.device) -> dict[str, Any]:
    try:
        saved = torch.load(path, map_location=map_location, weights_only=True)
    except FileNotFoundError:
        raise LossFileError(f"{path}: no such file") from None
    except Exception as error:  # truncated, corrupt, or holding objects beyond tensors and plain data
        raise LossFileError(f"{path}: cannot be read as a learned-loss file ({type(error).__name__})") from None
    if not isinstance(saved, dict) or saved.get("format") != FORMAT:
        raise LossFileError(f"{path}: not a learned-loss file (no format {FORMAT!r})")
    if saved.get("version") != VERSION:
        raise LossFileError(
            f"{path}: format version {saved.get('version')!r}, this code reads version {VERSION}; "
            f"export it again with this version"
        )
    return saved


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
