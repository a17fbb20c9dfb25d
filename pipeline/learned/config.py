"""The ``representation:`` section: how the learned things (losses, rates, update rules) are represented."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pipeline.utils.configparse import ConfigError, positive


@dataclass(frozen=True)
class RepresentationConfig:
    """How the learned things are represented (docs/reproduction.md measures each choice).

    ``loss_form``: the neural loss alone (``plain``, the paper's) or the handcrafted loss plus the
    network, its last layer starting at zero (``residual``: learning starts from the handcrafted loss),
    or the handcrafted loss plus a term that is zero at the target and grows away from it on each
    side (``anchored``: the loss's minimum is the target for every phi; pipeline/learned/network.py).
    ``loss_bias`` / ``loss_init``: the neural loss l_phi (smooth AdaLFL and ML3 ReLU
    variants). ``false`` / ``kaiming_normal`` is the paper's Appendix B form (h = act(phi^T h),
    no biases) as its authors' code builds it; ``true`` / ``torch`` is torch's nn.Linear.
    ``lr_form``: Meta-LR's meta-parameter, alpha itself (``direct``, Algorithms 3-4) or
    log alpha (``log``: alpha stays positive, Adam moves it by relative steps).
    ``taylor_scale``: the Taylor losses start at squared error times kappa; ``match_handcrafted``
    picks kappa so that the loss's gradient on a fresh model's logits equals cross-entropy's
    (C^2 / 2 for C classes: squared error on softmax probabilities, averaged over outputs, is
    50 times weaker on Digits); 1 for regression, where squared error is the handcrafted loss.
    ``unit``: kappa = 1 everywhere (the old behaviour).
    ``rate_form``: Meta-SGD learns log alpha per parameter entry (``log``: every rate stays
    positive) or alpha itself (``direct``, the Meta-SGD paper's form).
    ``lstm_*``: the L2L optimiser on a pair (``l2l_lstm``): LSTM width and depth (the paper:
    20 and 2), the gradient preprocessing's p (the paper: 10) and the constant output scale
    (the authors' code: 0.01 for MNIST). ``meta_lstm_forget_bias``: the Meta-LSTM's initial
    forget-gate bias; sigmoid(12) = 1 - 6e-6, so it starts as SGD up to a tiny weight decay.
    ``curvature_rank``: Meta-Curvature's dense factors in full (null, the paper's) or as
    I + U W^T / n of rank r, O(r n^2) per step instead of O(n^3) (``pipeline.learned.update``).
    """

    loss_bias: bool = True
    loss_init: Literal["torch", "kaiming_normal"] = "torch"
    loss_form: Literal["plain", "residual", "anchored"] = "anchored"  # params.yaml's; every profile writes its own out
    lr_form: Literal["direct", "log"] = "direct"
    rate_form: Literal["log", "direct"] = (
        "log"  # Meta-SGD's per-parameter rates: log alpha (positive) or alpha (the paper's)
    )
    taylor_scale: Literal["match_handcrafted", "unit"] = "match_handcrafted"
    lstm_hidden: int = 20
    lstm_layers: int = 2
    lstm_p: float = 10.0
    lstm_output_scale: float = 0.01
    lstm_head_init: Literal["zero", "torch"] = "zero"  # zero: l2l_lstm starts as "no step" (torch: random, drifts)
    meta_lstm_forget_bias: float = 12.0
    curvature_rank: int | None = (
        None  # Meta-Curvature: null = full factors (the paper's); r = I + U W^T / n on dense weights
    )

    def __post_init__(self) -> None:
        if self.curvature_rank is not None and self.curvature_rank < 1:
            raise ConfigError(f"curvature_rank: expected null or an integer >= 1, got {self.curvature_rank}")
        for name in ("lstm_hidden", "lstm_layers"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name}: expected an integer >= 1, got {getattr(self, name)}")
        positive("lstm_p", self.lstm_p)
        positive("lstm_output_scale", self.lstm_output_scale)
