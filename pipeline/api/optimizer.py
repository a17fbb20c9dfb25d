"""A learned update rule as a ``torch.optim.Optimizer``: ``loss.backward(); optimizer.step()``.

    from pipeline.api import LearnedOptimizer

    optimizer = LearnedOptimizer.load("rule.pt", model.named_parameters())   # `python -m tools.lfl export`
    for x, y in batches:
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step(loss=loss)      # the loss is read by the Meta-LSTM only; step() serves the others

What each rule does with the gradient is what it did in the pipeline's training loop: SGD's
direction d (the exported pair's momentum and weight decay, as ``torch.optim.SGD`` forms it),
then theta - alpha d (Meta-LR's learned alpha), theta - alpha (.) d (Meta-SGD's rate per entry),
theta - M(d) (Meta-Curvature's learned preconditioner), or the L2L LSTM's / Meta-LSTM's stateful
step. Meta-SGD and Meta-Curvature are shaped by the model they were learned on: they take that
architecture's named parameters (checked by name and shape); the other three take any model.
The rule is used as learned, not trained further.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict
from pathlib import Path
from typing import Any, cast

import torch
from torch import nn

from pipeline.api.files import VERSION, LossFileError, read_file
from pipeline.learned.config import RepresentationConfig
from pipeline.learned.handcrafted import HandcraftedLoss
from pipeline.learned.recurrent import flatten, unflatten
from pipeline.learned.rules import RULE_BUILDERS, RecurrentUpdateRule, RuleSetup, UpdateRule
from pipeline.methods import INIT_SPECS
from pipeline.optim import Params, SGDConfig, sgd_directions
from pipeline.training.exports import RULE_KINDS

FORMAT = "lfl.learned_rule"


def build_exported_rule(
    kind: str, base_lr: float, representation: RepresentationConfig, shapes: dict[str, torch.Size]
) -> UpdateRule:
    """The rule of an offline phase ``kind`` (learning_rate, meta_sgd, ...), as the pipeline builds it."""
    if kind not in RULE_KINDS:
        raise ValueError(f"kind: expected one of {', '.join(RULE_KINDS)}, got {kind!r}")
    spec = INIT_SPECS[kind]
    setup = RuleSetup(HandcraftedLoss("regression"), base_lr, 0, representation, shapes, spec.learns_lr)
    return RULE_BUILDERS[spec.update](setup)  # its loss goes unused: the user computes the gradient


class LearnedOptimizer(torch.optim.Optimizer):
    """Steps ``named_parameters`` with a learned rule (see the module's docstring)."""

    def __init__(
        self,
        named_parameters: Iterable[tuple[str, nn.Parameter]],
        kind: str,
        base_lr: float,
        sgd: dict[str, Any] | None = None,
        representation: dict[str, Any] | None = None,
        state_dict: dict[str, torch.Tensor] | None = None,
        shapes: dict[str, list[int]] | None = None,
        source: dict[str, Any] | None = None,
    ) -> None:
        named = list(named_parameters)
        self.names = [name for name, _ in named]
        super().__init__([p for _, p in named], {})
        self.kind, self.base_lr, self.source = kind, float(base_lr), dict(source or {})
        self.sgd = SGDConfig(**(sgd or {}))
        self.representation = RepresentationConfig(**(representation or {}))
        own = {name: p.shape for name, p in named}
        learned_on = {k: torch.Size(v) for k, v in shapes.items()} if shapes is not None else own
        self.rule = build_exported_rule(kind, self.base_lr, self.representation, learned_on)
        if state_dict is not None:
            self.rule.meta_module().load_state_dict(state_dict)
        self.shapes = {k: list(v) for k, v in learned_on.items()}
        if INIT_SPECS[kind].update in ("meta_sgd", "meta_curvature") and learned_on != own:
            raise ValueError(
                f"{kind} was learned on parameters {_describe(learned_on)}; this model has {_describe(own)}"
            )
        self.momentum: Params = {}
        self.rule_state: list[torch.Tensor] | None = None

    def _params(self) -> Params:
        return dict(zip(self.names, self.param_groups[0]["params"]))

    @torch.no_grad()
    def step(  # type: ignore[override]
        self, closure: Callable[[], torch.Tensor] | None = None, loss: torch.Tensor | float | None = None
    ) -> torch.Tensor | None:
        """One step from the parameters' ``.grad`` (a closure re-evaluates the loss first)."""
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        params = {k: p.detach() for k, p in self._params().items()}
        grads = {k: p.grad if p.grad is not None else torch.zeros_like(p) for k, p in self._params().items()}
        if self.rule.stateful:
            new = self._stateful_step(params, grads, loss)
        else:
            new, self.momentum = self.rule.step(params, grads, self.momentum, self.sgd, self.rule.current_lr())
        for name, p in self._params().items():
            p.copy_(new[name])
        return loss if isinstance(loss, torch.Tensor) else None

    def _stateful_step(self, params: Params, grads: Params, loss: torch.Tensor | float | None) -> Params:
        """The recurrent rule's step exactly as the training loop takes it (``TruncatedTrainer.advance``)."""
        network = cast(RecurrentUpdateRule, self.rule).network
        theta = flatten(params)
        if self.rule_state is None:
            self.rule_state = [s.detach().clone() for s in network.initial_state(theta)]
        directions, self.momentum = sgd_directions(params, grads, self.momentum, self.sgd)
        value = torch.as_tensor(0.0 if loss is None else float(loss), dtype=theta.dtype, device=theta.device)
        theta, self.rule_state = network.step_chunked(theta, flatten(directions), value, self.rule_state)
        return unflatten(theta, params)

    def to_file_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": VERSION,
            "kind": self.kind,
            "base_lr": self.base_lr,
            "sgd": asdict(self.sgd),
            "representation": asdict(self.representation),
            "state_dict": {k: v.detach().cpu() for k, v in self.rule.meta_module().state_dict().items()},
            "shapes": self.shapes,
            "source": self.source,
        }

    def save(self, path: str | Path) -> None:
        torch.save(self.to_file_dict(), path)

    @classmethod
    def load(
        cls, path: str | Path, named_parameters: Iterable[tuple[str, nn.Parameter]], map_location: str = "cpu"
    ) -> LearnedOptimizer:
        """Read a file written by :meth:`save` (or the export command); one-line errors name the file."""
        saved = read_file(Path(path), FORMAT, "learned-rule", map_location)
        try:
            return cls(
                named_parameters,
                saved["kind"],
                saved["base_lr"],
                saved["sgd"],
                saved["representation"],
                saved["state_dict"],
                saved["shapes"],
                saved.get("source"),
            )
        except (KeyError, TypeError, ValueError, RuntimeError) as error:
            raise LossFileError(f"{path}: not a usable learned-rule file ({str(error).splitlines()[0]})") from None


def _describe(shapes: dict[str, torch.Size]) -> str:
    return ", ".join(f"{k} {tuple(v)}" for k, v in list(shapes.items())[:3]) + (", ..." if len(shapes) > 3 else "")
