"""Which methods learn a loss or an update rule to take home (``python -m tools.lfl export``), and the command.

Kept apart from ``pipeline.api`` (which imports the training stack) so that the report can
name the export commands without importing it.
"""

from __future__ import annotations

from pipeline.methods import METHODS

LOSS_KINDS = ("smooth_nn", "relu_nn", "taylor_quadratic", "taylor_cubic")
RULE_KINDS = ("learning_rate", "meta_sgd", "meta_curvature", "l2l_lstm", "meta_lstm")  # offline phases of a rule


def exports_a_loss(method: str) -> bool:
    """A method whose learned part is the loss itself (not a learning rate or an update rule)."""
    spec = METHODS.get(method)
    return spec is not None and spec.loss in LOSS_KINDS and not spec.learns_lr and spec.update == "sgd"


def exports_a_rule(method: str) -> bool:
    """A method whose learned part is an update rule (a learning rate, rates, a preconditioner, an LSTM)."""
    spec = METHODS.get(method)
    return spec is not None and spec.init in RULE_KINDS


def export_command(pair: str, method: str, seed: int) -> str:
    return (
        f"python -m tools.lfl export --pair {pair} --method {method} --seed {seed} --out {pair}-{method}-seed{seed}.pt"
    )
