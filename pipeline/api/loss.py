"""A learned loss in a file of its own: ``LearnedLoss.load(path)``, called like ``nn.CrossEntropyLoss``."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch
from torch import nn

from pipeline.api.files import VERSION, LossFileError, read_file
from pipeline.learned.config import RepresentationConfig
from pipeline.learned.rules import build_loss
from pipeline.training.exports import LOSS_KINDS

FORMAT = "lfl.learned_loss"
TASKS = ("classification", "regression")


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
        saved = read_file(Path(path), FORMAT, "learned-loss", map_location)
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
