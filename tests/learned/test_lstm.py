"""The hand-written LSTM optimiser against torch's LSTM cell, and its gradient preprocessing."""

from __future__ import annotations

import math

import torch

from pipeline.learned.lstm import CoordinatewiseLSTM, HandLSTMCell, preprocess_gradient


def test_hand_cell_equals_torch_lstm_cell():
    torch.manual_seed(0)
    mine, reference = HandLSTMCell(3, 5).double(), torch.nn.LSTMCell(3, 5).double()
    reference.load_state_dict(mine.state_dict())  # same names, same gate order
    x, h, c = torch.randn(7, 3, dtype=torch.float64), torch.randn(7, 5, dtype=torch.float64), torch.randn(7, 5, dtype=torch.float64)
    h_mine, c_mine = mine(x, (h, c))
    h_ref, c_ref = reference(x, (h, c))
    torch.testing.assert_close(h_mine, h_ref, rtol=1e-13, atol=1e-14)
    torch.testing.assert_close(c_mine, c_ref, rtol=1e-13, atol=1e-14)


def test_preprocessing_is_log_and_sign_above_the_threshold_and_scaled_below():
    p = 10.0
    g = torch.tensor([0.5, -2.0, 1e-6, -1e-6, 0.0], dtype=torch.float64)
    out = preprocess_gradient(g, p)
    torch.testing.assert_close(out[:2, 0], torch.log(g[:2].abs()) / p)
    assert out[:2, 1].tolist() == [1.0, -1.0]
    assert out[2:, 0].tolist() == [-1.0, -1.0, -1.0]  # e^-10 ~ 4.5e-5 > 1e-6: the small branch
    torch.testing.assert_close(out[2:, 1], math.exp(p) * g[2:])


def test_optimiser_is_coordinatewise_and_scaled():
    """Each coordinate's update depends on its own gradient only; the output scale multiplies it."""
    torch.manual_seed(0)
    net = CoordinatewiseLSTM(hidden=4, layers=2, output_scale=0.5).double()
    g = torch.randn(6, dtype=torch.float64)
    update, state = net(g, net.initial_state(6, g))
    single, _ = net(g[2:3], net.initial_state(1, g))
    torch.testing.assert_close(update[2:3], single)
    assert len(state) == 2 and state[0][0].shape == (6, 4)
    net.output_scale = 1.0
    torch.testing.assert_close(net(g, net.initial_state(6, g))[0], 2 * update)
