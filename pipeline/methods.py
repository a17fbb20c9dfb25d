"""The methods the pipeline compares, and what each one learns (paper Table 1 and Appendix D).

A method combines a base-loss representation with the procedures that meta-train it;
the representations live in ``pipeline.learned`` and the procedures in ``pipeline.meta``.
Its offline phase is keyed by *what it computes* (``init``), not by the method's name:
ML3 and AdaLFL share the ``smooth_nn`` initialisation for the same pair and seed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

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


@dataclass(frozen=True)
class MethodSpec:
    loss: LossKind  # the loss the base model is trained with
    learns_lr: bool  # Meta-LR: the base learning rate is the meta-parameter
    init: InitKind  # the offline phase (Algorithm 1 or 3) it starts from; handcrafted: none
    online: bool  # has an online phase (Algorithm 2 or 4)
    description: str
    update: UpdateKind = "sgd"  # sgd: theta - lr * d; the others learn the map from d to the step

    @property
    def has_offline_phase(self) -> bool:
        return has_offline_phase(self.init)


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

NO_OFFLINE: Final = "handcrafted"  # the init of methods with no offline phase (the handcrafted loss, nothing learned)


@dataclass(frozen=True)
class InitSpec:
    """The representation an offline phase trains: its loss, whether alpha is learned, how d becomes the step."""

    loss: LossKind
    learns_lr: bool = False
    update: UpdateKind = "sgd"


INIT_SPECS: dict[str, InitSpec] = {  # keyed by InitKind; in the order dvc.yaml's run.inits lists them
    NO_OFFLINE: InitSpec("handcrafted"),
    "smooth_nn": InitSpec("smooth_nn"),
    "relu_nn": InitSpec("relu_nn"),
    "taylor_quadratic": InitSpec("taylor_quadratic"),
    "taylor_cubic": InitSpec("taylor_cubic"),
    "learning_rate": InitSpec("handcrafted", learns_lr=True),
    "meta_sgd": InitSpec("handcrafted", update="meta_sgd"),
    "meta_curvature": InitSpec("handcrafted", update="meta_curvature"),
    "l2l_lstm": InitSpec("handcrafted", update="l2l_lstm"),
    "meta_lstm": InitSpec("handcrafted", update="meta_lstm"),
}
INITS: tuple[str, ...] = tuple(INIT_SPECS)


def has_offline_phase(init: str) -> bool:
    return init != NO_OFFLINE


def init_representation(init: str) -> tuple[LossKind, bool, UpdateKind]:
    """(loss kind, learns_lr, update kind) of the representation an offline phase trains."""
    spec = INIT_SPECS[init]
    return spec.loss, spec.learns_lr, spec.update


def needed_inits(methods: list[str] | tuple[str, ...]) -> list[str]:
    """The offline phases a set of methods needs, in INITS order; a baseline-only run needs the no-op."""
    needed = {METHODS[m].init for m in methods if METHODS[m].has_offline_phase}
    return [i for i in INITS if i in needed] or [NO_OFFLINE]


def describe() -> str:
    """One line per method: name, offline phase, online phase, what it learns."""
    lines = [f"{'method':<18}{'offline phase':<18}{'online':<8}description"]
    for name, spec in METHODS.items():
        lines.append(f"{name:<18}{spec.init:<18}{'yes' if spec.online else 'no':<8}{spec.description}")
    return "\n".join(lines)


@dataclass(frozen=True)
class FewshotMethodSpec:
    """A few-shot method (seed 003): it meta-learns theta_g and the inner loop's rule of this update kind."""

    update: UpdateKind  # the inner step's rule (pipeline.learned.rules); sgd: a fixed inner learning rate
    adapts: bool  # takes inner steps at meta-training (pretrain: trains theta_g on its own loss, no step)
    description: str


FEWSHOT_METHODS: dict[str, FewshotMethodSpec] = {
    "maml": FewshotMethodSpec("sgd", True, "MAML: theta_g, inner SGD at a fixed lr"),
    "meta_sgd": FewshotMethodSpec("meta_sgd", True, "Meta-SGD: theta_g and a learning rate per parameter"),
    "meta_curvature": FewshotMethodSpec("meta_curvature", True, "Meta-Curvature: theta_g and a preconditioner"),
    "meta_lstm": FewshotMethodSpec("meta_lstm", True, "Meta-LSTM: theta_g and a gated update"),
    "pretrain": FewshotMethodSpec("sgd", False, "pretraining on the pooled tasks, fine-tuned by SGD at meta-test"),
}
