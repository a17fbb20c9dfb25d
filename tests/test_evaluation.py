"""The trivial predictor that decides whether a finished run is absurd."""

from __future__ import annotations

import pytest
import torch

from pipeline.evaluation import trivial_error


def test_classification_trivial_error_is_the_majority_class_error():
    train_y = torch.tensor([0, 1, 1, 1, 2])
    test_y = torch.tensor([1, 1, 0, 2])
    assert trivial_error("classification", train_y, test_y) == pytest.approx(0.5)


def test_regression_trivial_error_is_the_training_mean_predictor():
    train_y = torch.tensor([[0.0], [1.0]])
    test_y = torch.tensor([[0.0], [1.0], [0.5]])
    assert trivial_error("regression", train_y, test_y) == pytest.approx((0.25 + 0.25 + 0.0) / 3)
