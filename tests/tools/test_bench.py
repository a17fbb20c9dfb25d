"""The benchmark's machinery on a tiny configuration (the figures themselves come from `python -m tools.bench`)."""

from __future__ import annotations

import pytest
import torch

from tools.bench import OPTIONAL_VARIANTS, VARIANTS, Runner, batch_sizes, markdown_table, peak_memory_mb, time_model

CPU = torch.device("cpu")


def test_time_model_reports_every_variant():
    times = time_model("mlp", batch_size=4, warmup=0, rounds=2, device=CPU)
    assert set(times) == set(VARIANTS) and all(t > 0 for t in times.values())


def test_optional_variants_are_timed_on_request():
    """The recompute JVP and the update rules (Meta-SGD, Meta-Curvature, the recurrent rules), whose meta step moves
    their factors (a recurrent rule's unit is one truncation, so its one meta step falls inside it)."""
    times = time_model("lenet5", batch_size=2, warmup=0, rounds=1, device=CPU, variants=("baseline",) + OPTIONAL_VARIANTS)
    assert set(times) == {"baseline", "adalfl_forward_recompute", "meta_sgd", "meta_curvature", "meta_curvature_rank16",
                          "l2l_lstm", "meta_lstm"}
    assert all(t > 0 for t in times.values())
    for rule in ("meta_sgd", "meta_curvature", "meta_curvature_rank16", "l2l_lstm", "meta_lstm"):
        runner = Runner("lenet5", rule, batch_size=2, device=CPU)
        before = [p.detach().clone() for p in runner.rule.meta_parameters()]
        runner.unit()
        assert any(not torch.equal(a, b) for a, b in zip(before, runner.rule.meta_parameters()))
    with pytest.raises(ValueError, match="unknown variant"):
        Runner("mlp", "adalfl_forwards", batch_size=2, device=CPU)


def test_batch_sizes_for_every_model_or_per_model():
    assert batch_sizes(None) == {} and batch_sizes("64")["resnet18"] == 64
    assert batch_sizes("resnet18=16,mlp=8") == {"resnet18": 16, "mlp": 8}
    for bad in ("resnet=16", "mlp=0", "mlp=x", "0", "big"):
        with pytest.raises(ValueError, match="bad batch size"):
            batch_sizes(bad)


def test_k5_variant_takes_one_meta_step_in_five():
    runner = Runner("mlp", "adalfl_forward_k5", batch_size=4, device=CPU)
    before = [p.detach().clone() for p in runner.rule.meta_parameters()]
    runner.unit()
    assert runner.steps_per_unit == 5
    assert any(not torch.equal(a, b) for a, b in zip(before, runner.rule.meta_parameters()))


def test_peak_memory_probe_and_table():
    assert peak_memory_mb("mlp", "baseline", 4, CPU) >= 0
    row = {"ms_per_step": 2.0, "ratio_to_baseline": 1.0, "peak_mb": 3.0, "batch_size": 4, "timed_rounds": 2}
    assert "| mlp | 4 | baseline | 2.0 | 1.00 | 3.0 |" in markdown_table({"mlp": {"baseline": row}})


@pytest.mark.slow
def test_quick_benchmark_end_to_end(tmp_path):
    """`python -m tools.bench --quick` on the two small models writes a complete bench.json."""
    import json
    import subprocess
    import sys

    out = tmp_path / "bench.json"
    subprocess.run([sys.executable, "-m", "tools.bench", "--quick", "--models", "mlp,lenet5", "--out", str(out)], check=True, capture_output=True)
    results = json.loads(out.read_text())
    assert set(results) == {"mlp", "lenet5"}
    for variants in results.values():
        assert set(variants) == set(VARIANTS) and variants["baseline"]["ratio_to_baseline"] == 1.0
        assert all(v["ms_per_step"] > 0 and v["peak_mb"] >= 0 for v in variants.values())
