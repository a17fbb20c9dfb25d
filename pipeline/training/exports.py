"""Which methods learn a loss that can be taken home (``python -m tools.lfl export``), and the command.

Kept apart from ``pipeline.api`` (which imports the training stack) so that the report can
name the export commands without importing it.
"""

from __future__ import annotations

from pipeline.methods import METHODS

LOSS_KINDS = ("smooth_nn", "relu_nn", "taylor_quadratic", "taylor_cubic")


def exports_a_loss(method: str) -> bool:
    """A method whose learned part is the loss itself (not a learning rate or an update rule)."""
    spec = METHODS.get(method)
    return spec is not None and spec.loss in LOSS_KINDS and not spec.learns_lr and spec.update == "sgd"


def export_command(pair: str, method: str, seed: int) -> str:
    return (
        f"python -m tools.lfl export --pair {pair} --method {method} --seed {seed} --out {pair}-{method}-seed{seed}.pt"
    )
