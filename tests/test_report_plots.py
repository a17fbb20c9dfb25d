"""Report figures stay readable when a run diverges or errors span decades."""

from __future__ import annotations

from pipeline.report.plots import learning_curves


def history(values: list[float]) -> list[dict]:
    return [{"step": 10 * i, "valid_error": v} for i, v in enumerate(values)]


def test_a_diverged_run_does_not_set_the_y_range(tmp_path):
    runs = {"baseline": [history([0.9, 0.3, 0.1, 0.05]), history([0.9, 0.35, 0.12, 0.06])],
            "adalfl": [history([0.9, 0.4, 5e6, 4e14]), history([0.9, 0.3, 0.09, 0.04])]}
    bottom, top, scale = learning_curves(tmp_path / "c.png", "p", runs, "MSE", (0, 1), {"baseline": set(), "adalfl": {0}})
    assert (tmp_path / "c.png").stat().st_size > 1000
    assert scale == "linear" and bottom == 0 and top < 1  # set by the finished runs (98th percentile), not by 4e14


def test_errors_spanning_decades_get_a_log_axis(tmp_path):
    runs = {"baseline": [history([0.5, 0.05, 0.005, 0.0005])], "ml3": [history([0.5, 0.1, 0.01, 0.001])]}
    bottom, top, scale = learning_curves(tmp_path / "c.png", "p", runs, "MSE", (0,), {"baseline": set(), "ml3": set()})
    assert scale == "log" and bottom < 0.0005 and top > 0.1
