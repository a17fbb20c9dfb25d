"""The methods the pipeline compares, and what each one learns (paper Table 1 and Appendix D).

A method combines a base-loss representation with the procedures that meta-train it;
the representations live in ``pipeline.learned`` and the procedures in ``pipeline.meta``.
Its offline phase is keyed by *what it computes* (``init``), not by the method's name:
ML3 and AdaLFL share the ``smooth_nn`` initialisation for the same pair and seed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

LossKind = Literal["handcrafted", "smooth_nn", "relu_nn", "taylor_quadratic", "taylor_cubic"]
InitKind = Literal[
    "handcrafted",
    "smooth_nn",
    "relu_nn",
    "taylor_quadratic",
    "taylor_cubic",
    "learning_rate",
    "meta_sgd",
    "meta_curvature",
    "l2l_lstm",
    "meta_lstm",
]
# How the gradient becomes a step: the pair's SGD, a learned map of SGD's direction (pipeline.learned.update),
# a recurrent learned rule with a per-coordinate state (pipeline.learned.recurrent),
# or a hand-designed optimiser (torch.optim's Adam / RMSprop, SGD with Nesterov momentum; pipeline.optim).
UpdateKind = Literal["sgd", "meta_sgd", "meta_curvature", "l2l_lstm", "meta_lstm", "adam", "rmsprop", "nesterov"]
HAND_DESIGNED: tuple[str, ...] = ("adam", "rmsprop", "nesterov")
RECURRENT: tuple[str, ...] = ("l2l_lstm", "meta_lstm")  # meta-trained by truncated BPTT (pipeline.meta.truncated)


@dataclass(frozen=True)
class MethodSpec:
    loss: LossKind  # the loss the base model is trained with
    learns_lr: bool  # Meta-LR: the base learning rate is the meta-parameter
    init: InitKind  # the offline phase (Algorithm 1 or 3) it starts from; handcrafted: none
    online: bool  # has an online phase (Algorithm 2 or 4)
    description: str
    update: UpdateKind = "sgd"  # sgd: theta - lr * d; the others learn the map from d to the step


METHODS: dict[str, MethodSpec] = {
    "baseline": MethodSpec("handcrafted", False, "handcrafted", False, "handcrafted loss (CE / squared error)"),
    "ml3": MethodSpec("smooth_nn", False, "smooth_nn", False, "learned NN loss, fixed after Algorithm 1"),
    "adalfl": MethodSpec("smooth_nn", False, "smooth_nn", True, "learned NN loss, Algorithm 1 then 2"),
    "meta_lr": MethodSpec("handcrafted", True, "learning_rate", True, "learned base learning rate, Algorithms 3-4"),
    "taylor_quadratic": MethodSpec(
        "taylor_quadratic", False, "taylor_quadratic", True, "degree-2 Taylor loss, Algorithms 1-2"
    ),
    "taylor_cubic": MethodSpec("taylor_cubic", False, "taylor_cubic", True, "degree-3 Taylor loss, Algorithms 1-2"),
    "ml3_relu": MethodSpec("relu_nn", False, "relu_nn", False, "ML3's ReLU/Softplus network (Table 5 ablation)"),
    "meta_sgd": MethodSpec(
        "handcrafted", False, "meta_sgd", True, "learned per-parameter learning rates (Meta-SGD)", "meta_sgd"
    ),
    "meta_curvature": MethodSpec(
        "handcrafted",
        False,
        "meta_curvature",
        True,
        "learned gradient preconditioner (Meta-Curvature)",
        "meta_curvature",
    ),
    "l2l_lstm": MethodSpec(
        "handcrafted",
        False,
        "l2l_lstm",
        True,
        "learned coordinatewise LSTM optimiser (L2L), truncated BPTT",
        "l2l_lstm",
    ),
    "meta_lstm": MethodSpec(
        "handcrafted", False, "meta_lstm", True, "learned gated update theta' = f theta - i d (Meta-LSTM)", "meta_lstm"
    ),
    "adam": MethodSpec(
        "handcrafted", False, "handcrafted", False, "hand-designed Adam (torch defaults; lr: methods.adam.lr)", "adam"
    ),
    "rmsprop": MethodSpec(
        "handcrafted",
        False,
        "handcrafted",
        False,
        "hand-designed RMSprop (torch defaults; lr: methods.rmsprop.lr)",
        "rmsprop",
    ),
    "nesterov": MethodSpec(
        "handcrafted",
        False,
        "handcrafted",
        False,
        "SGD with Nesterov momentum 0.9 (lr: methods.nesterov.lr)",
        "nesterov",
    ),
}

INITS: tuple[str, ...] = (
    "handcrafted",
    "smooth_nn",
    "relu_nn",
    "taylor_quadratic",
    "taylor_cubic",
    "learning_rate",
    "meta_sgd",
    "meta_curvature",
    "l2l_lstm",
    "meta_lstm",
)


def init_representation(init: str) -> tuple[LossKind, bool, UpdateKind]:
    """(loss kind, learns_lr, update kind) of the representation an offline phase trains."""
    if init == "learning_rate":
        return "handcrafted", True, "sgd"
    if init in ("meta_sgd", "meta_curvature", *RECURRENT):
        return "handcrafted", False, init  # type: ignore[return-value]
    return init, False, "sgd"  # type: ignore[return-value]


def needed_inits(methods: list[str] | tuple[str, ...]) -> list[str]:
    """The offline phases a set of methods needs, in INITS order; a baseline-only run needs the no-op."""
    needed = {METHODS[m].init for m in methods if METHODS[m].init != "handcrafted"}
    return [i for i in INITS if i in needed] or ["handcrafted"]


def describe() -> str:
    """One line per method: name, offline phase, online phase, what it learns."""
    lines = [f"{'method':<18}{'offline phase':<18}{'online':<8}description"]
    for name, spec in METHODS.items():
        lines.append(f"{name:<18}{spec.init:<18}{'yes' if spec.online else 'no':<8}{spec.description}")
    return "\n".join(lines)
