"""The diagnosis helpers: slopes against a hand-computed reference, and --set overrides."""

from __future__ import annotations

import pytest
import torch

from pipeline.diagnose import RESIDUALS, check_methods, loss_slopes, override
from pipeline.learned.taylor import TaylorLoss


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
