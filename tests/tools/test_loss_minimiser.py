"""tools.loss_minimiser against losses whose minimiser is known by hand."""

from __future__ import annotations

import pytest
import torch

from pipeline.api import LearnedLoss
from tools.loss_minimiser import main, shape, steepness


def test_a_shrinking_loss_has_the_offsets_and_slope_worked_out_by_hand():
    def shrink(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:  # minimum at 0.5 + 0.5 (y - 0.5)
        return ((outputs - (0.25 + 0.5 * targets)) ** 2).mean()

    offsets, slope = shape(shrink, [0.1, 0.5, 0.9])
    assert offsets == pytest.approx([0.2, 0.0, -0.2], abs=1e-3)
    assert slope == pytest.approx(0.5, abs=1e-3)


def test_an_untrained_residual_loss_is_squared_error_and_puts_its_minimum_on_the_target(tmp_path, capsys):
    loss = LearnedLoss("smooth_nn", "regression", 1, representation={"loss_form": "residual"})
    offsets, slope = shape(loss, [0.1, 0.5, 0.9])
    assert offsets == pytest.approx([0.0, 0.0, 0.0], abs=1e-3) and slope == pytest.approx(1.0, abs=1e-3)
    loss.save(tmp_path / "loss.pt")
    assert main([str(tmp_path / "loss.pt"), "--targets", "0.1", "0.9"]) == 0
    assert f"{tmp_path / 'loss.pt'} | +0.000 | +0.000 | 1.00 | 0.000 | 1.0 | 1.0 | 1.0 | 1.0" in capsys.readouterr().out


def test_steepness_is_the_slope_over_squared_errors_on_each_side():
    def lopsided(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:  # 3x squared error below, 10x above
        r = outputs - targets
        return (torch.where(r < 0, 3.0, 10.0) * r**2).mean()

    assert steepness(lopsided) == pytest.approx([3.0, 3.0, 10.0, 10.0])


def test_a_classification_loss_is_refused_with_its_task(tmp_path):
    LearnedLoss("smooth_nn", "classification", 3).save(tmp_path / "ce.pt")
    with pytest.raises(SystemExit):
        main([str(tmp_path / "ce.pt")])
