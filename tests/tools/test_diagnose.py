"""The diagnosis helpers: slopes against a hand-computed reference, and --set overrides."""

from __future__ import annotations

import pytest
import torch

from tools.diagnose import PROBABILITIES, RESIDUALS, check_methods, loss_slopes, override, true_logit_gradients
from pipeline.learned.outputwise import OutputwiseLoss
from pipeline.learned.taylor import TaylorLoss


class OutputwiseCrossEntropy(OutputwiseLoss):
    """C * (-y log p) output-wise: the mean over the C outputs is cross-entropy, dCE/dz_true = p_true - 1."""

    def __init__(self, n_classes: int) -> None:
        super().__init__("classification")
        self.n_classes = n_classes
        self.scale = torch.nn.Parameter(torch.tensor(float(n_classes)))

    def pointwise(self, y: torch.Tensor, y_hat: torch.Tensor) -> torch.Tensor:
        return -self.scale * y * y_hat.log()


def test_slopes_of_squared_error_are_twice_the_residual():
    loss = TaylorLoss("regression", degree=2)
    loss.set_squared_error()  # l = (y_hat - y)^2 - y^2, so dl/dy_hat = 2 r
    slopes = loss_slopes(loss, "regression", y_mid=0.4)
    assert list(slopes) == [f"r={r:+g}" for r in RESIDUALS]
    assert list(slopes.values()) == pytest.approx([2 * r for r in RESIDUALS], abs=1e-5)


def test_classification_slopes_cover_both_targets():
    loss = TaylorLoss("classification", degree=2)
    loss.set_squared_error()
    slopes = loss_slopes(loss, "classification", y_mid=0.0)
    assert slopes["y=0,p=0.25"] == pytest.approx(0.5) and slopes["y=1,p=0.25"] == pytest.approx(-1.5)


def test_true_logit_gradient_of_cross_entropy_is_p_minus_one():
    grads = true_logit_gradients(OutputwiseCrossEntropy(10), n_classes=10)
    assert list(grads) == [f"{state},p={p:g}" for p in PROBABILITIES for state in ("even", "rival")]
    for name, grad in grads.items():
        p = float(name.split("p=")[1])
        assert grad == pytest.approx(p - 1, abs=1e-5), name


def test_true_logit_gradient_ignores_a_slope_shared_by_every_class():
    """Adding c * p to l for every class changes no gradient through the softmax (the probabilities sum to 1)."""
    base = TaylorLoss("classification", degree=2)
    base.set_squared_error()
    shifted = TaylorLoss("classification", degree=2)
    shifted.set_squared_error()
    with torch.no_grad():
        shifted.weights[shifted.exponents.index((0, 1))] += 5.0  # + 5 * y_hat for y = 0 and y = 1 alike
    assert loss_slopes(shifted, "classification", 0.0)["y=0,p=0.5"] == pytest.approx(6.0)  # was 1: the slope alone moves
    assert true_logit_gradients(shifted, 10) == pytest.approx(true_logit_gradients(base, 10), abs=1e-5)


def test_override_sets_nested_keys_with_yaml_values():
    raw = {"offline": {"smooth_nn": {"steps": 5}}}
    override(raw, "offline.smooth_nn.reset_interval=0")
    override(raw, "representation.loss_bias=false")
    override(raw, "offline.smooth_nn.meta_lr=1e-3")
    assert raw == {"offline": {"smooth_nn": {"steps": 5, "reset_interval": 0, "meta_lr": "1e-3"}},
                   "representation": {"loss_bias": False}}
    with pytest.raises(SystemExit, match="KEY.PATH=VALUE"):
        override(raw, "offline.smooth_nn.steps")


def test_methods_must_start_from_the_diagnosed_offline_phase():
    check_methods(["baseline", "ml3", "adalfl"], "smooth_nn")
    with pytest.raises(SystemExit, match="meta_lr starts from the learning_rate offline phase"):
        check_methods(["meta_lr"], "smooth_nn")


def test_a_regression_diagnosis_reports_where_the_learned_loss_puts_its_minimum(params_dict, prepared_root):
    from pipeline.config import parse_params
    from pipeline.data.loading import load_prepared
    from tools.diagnose import MINIMISER_TARGETS, diagnose_seed

    params_dict["methods"]["ml3"] = {}
    params = parse_params(params_dict)
    row = diagnose_seed(params, load_prepared(prepared_root / "diabetes"), "diabetes_mlp", 0, ["ml3"])
    assert len(row["minimiser_offsets"]) == len(MINIMISER_TARGETS)
    assert 0.0 < row["minimiser_slope"] < 2.0 and row["ml3"]["status"] == "finished"
