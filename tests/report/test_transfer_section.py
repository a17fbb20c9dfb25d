"""The report's transfer section on hand-written evaluations: the verdicts a hand computation gives."""

from __future__ import annotations

import json

from scipy import stats

from pipeline.config import parse_params
from pipeline.report.collect import collect
from pipeline.report.transfer import transfer_cells, transfer_comparisons, transfer_markdown
from tests.test_transfer import with_transfer

ERRORS = {"baseline": [0.10, 0.12, 0.11], "ml3": [0.05, 0.06, 0.05], "ml3_from_digits_logistic": [0.04, 0.05, 0.05]}


def _write_evals(root, params) -> None:
    for pair in params.run.pairs:
        methods = {m: [{"seed": s, "status": "finished", "test_error": ERRORS.get(m, [0.5] * 3)[i], "absurd": False}
                       for i, s in enumerate(params.seeds)] for m in [*params.run.methods, *ERRORS]}
        (root / f"{pair}.json").write_text(json.dumps({"pair": pair, "methods": methods}))


def test_each_transfer_is_compared_with_the_baseline_and_the_method_learned_in_place(tmp_path, params_dict):
    raw = with_transfer(params_dict)
    raw["seeds"] = [0, 1, 2]
    params = parse_params(raw)
    _write_evals(tmp_path, params)
    cells = collect(params, tmp_path, tmp_path / "timings")
    moved = transfer_cells(params, tmp_path, tmp_path / "timings")
    compared = transfer_comparisons(params, cells, moved)["digits_mlp"]["ml3_from_digits_logistic"]
    got = ERRORS["ml3_from_digits_logistic"]
    for reference in ("baseline", "ml3"):
        diffs = [a - b for a, b in zip(got, ERRORS[reference])]
        assert compared[f"vs_{reference}"]["p_t"] == stats.ttest_1samp(diffs, 0.0).pvalue
        assert abs(compared[f"vs_{reference}"]["mean_diff"] - sum(diffs) / 3) < 1e-12
    assert compared["vs_baseline"]["verdict"] == "better"
    lines = transfer_markdown(params, moved, {"digits_mlp": {"ml3_from_digits_logistic": compared}})
    row = next(line for line in lines if line.startswith("| digits_mlp | ml3 | digits_logistic |"))
    assert "**better**" in row and "0.0467" in row
