"""The methods the pipeline compares, and what each one learns (paper Table 1 and Appendix D).

A method is a *combination* of a base-loss representation and the procedures that
meta-train it; the representations live in ``pipeline.losses`` and the procedures in
``pipeline.meta``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

LossKind = Literal["handcrafted", "smooth_nn", "relu_nn", "taylor_quadratic", "taylor_cubic"]


@dataclass(frozen=True)
class MethodSpec:
    loss: LossKind  # the loss the base model is trained with
    learns_lr: bool  # Meta-LR: the base learning rate is the meta-parameter
    offline: bool  # has an offline phase (Algorithm 1 or 3)
    online: bool  # has an online phase (Algorithm 2 or 4)
    description: str


METHODS: dict[str, MethodSpec] = {
    "baseline": MethodSpec("handcrafted", False, False, False, "handcrafted loss (CE / squared error)"),
    "ml3": MethodSpec("smooth_nn", False, True, False, "learned NN loss, fixed after Algorithm 1"),
    "adalfl": MethodSpec("smooth_nn", False, True, True, "learned NN loss, Algorithm 1 then 2"),
    "meta_lr": MethodSpec("handcrafted", True, True, True, "learned base learning rate, Algorithms 3-4"),
    "taylor_quadratic": MethodSpec("taylor_quadratic", False, True, True, "degree-2 Taylor loss"),
    "taylor_cubic": MethodSpec("taylor_cubic", False, True, True, "degree-3 Taylor loss"),
    "ml3_relu": MethodSpec("relu_nn", False, True, False, "ML3's ReLU/Softplus network (Table 5)"),
}
