"""`python -m tools.bench [--quick]`: per-step time and peak memory of online loss learning.

Variants, on random data of each model's input shape (timing needs no real data):
``baseline`` (plain step, cross-entropy), ``adalfl_unrolled`` (second-order graph through
the model), ``adalfl_forward`` (exact forward-mode meta-gradient), ``adalfl_forward_k5``
(a forward-mode meta step every 5 base steps); on request (``--variants``)
``adalfl_forward_recompute`` (forward mode with ``torch.func.jvp``, which runs the forward
pass again, instead of the traced tangent-only graph), ``meta_sgd`` and ``meta_curvature``
(a base step and a closed-form meta step of the learned update rules; ``meta_curvature_rank16``:
its dense factors of rank 16), ``l2l_lstm`` and
``meta_lstm`` (a timing unit is one truncation of 20 base steps and its meta step,
``pipeline.meta.truncated``, reported per step). Time: median over the timed rounds after
warm-up, the variants interleaved round by round in one process so machine drift cancels;
a k5 round is 5 steps, reported per step. Peak memory: one subprocess per variant, the
peak resident-set growth over the process's size before the first step (CPU) or
``torch.cuda.max_memory_allocated`` (CUDA), measured after one warm-up unit.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import torch

from pipeline.learned.config import RepresentationConfig
from pipeline.learned.rules import build_rule
from pipeline.meta.config import OnlineConfig
from pipeline.meta.step import BaseState, Batch
from pipeline.meta.stepper import OnlineSetup, make_stepper
from pipeline.models.registry import build_model
from pipeline.optim import SGDConfig
from pipeline.utils.derive import resolve_device
from pipeline.utils.io import write_json

MODELS = {"mlp": (1, 28, 28), "lenet5": (1, 28, 28), "resnet18": (3, 32, 32)}
VARIANTS = ("baseline", "adalfl_unrolled", "adalfl_forward", "adalfl_forward_k5")
OPTIONAL_VARIANTS = (
    "adalfl_forward_recompute",
    "meta_sgd",
    "meta_curvature",
    "meta_curvature_rank16",  # closed-form meta step
    "l2l_lstm",
    "meta_lstm",
)  # recurrent rules: truncated BPTT every UNROLL steps
UNROLL = 20
SGD = SGDConfig(momentum=0.9, nesterov=True, weight_decay=5e-4)


class FixedBatches:
    """The meta batch source of a timing run: the same batch every time (no stream state to keep)."""

    def __init__(self, batch: Batch) -> None:
        self.batch = batch

    def __call__(self) -> Batch:
        return self.batch

    def state_dict(self) -> dict[str, object]:
        return {}

    def load_state_dict(self, saved: dict[str, object]) -> None:
        return None


class Runner:
    """One variant's training state and a callable that advances it by one timing unit."""

    def __init__(self, model_name: str, variant: str, batch_size: int, device: torch.device) -> None:
        if variant not in VARIANTS + OPTIONAL_VARIANTS:
            raise ValueError(f"unknown variant {variant!r}; choose from {list(VARIANTS + OPTIONAL_VARIANTS)}")
        shape = MODELS[model_name]
        self.model = build_model(model_name, shape, 10, seed=0).to(device).train()
        self.state = BaseState.from_module(self.model)
        method = "meta_curvature" if variant == "meta_curvature_rank16" else variant
        method = method if method in ("baseline", "meta_sgd", "meta_curvature", "l2l_lstm", "meta_lstm") else "adalfl"
        shapes = {k: p.shape for k, p in self.model.named_parameters()}
        representation = RepresentationConfig(curvature_rank=16 if variant == "meta_curvature_rank16" else None)
        self.rule = build_rule(
            method, "classification", 0.01, seed=0, representation=representation, param_shapes=shapes
        )
        for module in self.rule.modules():
            module.to(device)
        gen = torch.Generator().manual_seed(0)
        batches = [
            (
                torch.randn(batch_size, *shape, generator=gen).to(device),
                torch.randint(0, 10, (batch_size,), generator=gen).to(device),
            )
            for _ in range(2)
        ]
        self.batch = batches[0]
        self.steps_per_unit = UNROLL if self.rule.stateful else 5 if variant.endswith("_k5") else 1
        self.stepper = make_stepper(
            self.model, self.rule, SGD, "classification", self.state, self._online(variant, FixedBatches(batches[1]))
        )
        self.step = 0

    def _online(self, variant: str, meta_batches: FixedBatches) -> OnlineSetup | None:
        """The variant's online phase (meta lr 1e-5); none for the baseline."""
        if variant == "baseline":
            return None
        interval = UNROLL if self.rule.stateful else 5 if variant.endswith("_k5") else 1
        config = OnlineConfig(meta_lr=1e-5, meta_interval=interval, meta_grad=_meta_grad(variant))
        optimizer = torch.optim.Adam(self.rule.meta_parameters(), lr=config.meta_lr)
        return OnlineSetup(config, meta_batches, optimizer, traced=not variant.endswith("_recompute"))

    def unit(self) -> None:
        for _ in range(self.steps_per_unit):
            self.step += 1
            self.state = self.stepper.advance(self.state, self.step, self.batch).state


def _meta_grad(variant: str) -> Literal["forward", "unrolled"]:
    return "unrolled" if variant == "adalfl_unrolled" else "forward"


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def time_model(
    model_name: str,
    batch_size: int,
    warmup: int,
    rounds: int,
    device: torch.device,
    variants: tuple[str, ...] = VARIANTS,
) -> dict[str, float]:
    runners = {v: Runner(model_name, v, batch_size, device) for v in variants}
    samples: dict[str, list[float]] = {v: [] for v in variants}
    for round_ in range(warmup + rounds):
        for variant, runner in runners.items():  # interleaved: drift hits every variant alike
            _sync(device)
            start = time.perf_counter()
            runner.unit()
            _sync(device)
            if round_ >= warmup:
                samples[variant].append((time.perf_counter() - start) / runner.steps_per_unit)
    return {v: 1000 * statistics.median(s) for v, s in samples.items()}


def peak_memory_mb(model_name: str, variant: str, batch_size: int, device: torch.device, steps: int = 3) -> float:
    """Run a few units in this process (called in a fresh subprocess) and return the peak growth."""
    runner = Runner(model_name, variant, batch_size, device)
    runner.unit()  # allocator caches and lazily built kernels are not the step's memory
    if device.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        before = torch.cuda.memory_allocated()
    else:
        Path("/proc/self/clear_refs").write_text("5")  # resets the peak RSS (VmHWM) to the current RSS
        before = _status_kb("VmRSS")
    for _ in range(steps):
        runner.unit()
    if device.type == "cuda":
        return (torch.cuda.max_memory_allocated() - before) / 2**20
    return (_status_kb("VmHWM") - before) / 1024


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {field}")


def _memory_in_subprocess(model_name: str, variant: str, batch_size: int, device: str) -> float:
    cmd = [
        sys.executable,
        "-m",
        "tools.bench",
        "--memory-probe",
        model_name,
        variant,
        "--batch-size",
        str(batch_size),
        "--device",
        device,
    ]
    return float(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1])


def batch_sizes(spec: str | None) -> dict[str, int]:
    """``"64"`` (every model) or ``"resnet18=16,mlp=64"`` (per model); an empty spec gives {}."""
    if not spec:
        return {}
    if "=" not in spec:
        spec = ",".join(f"{name}={spec}" for name in MODELS)
    sizes = {}
    for item in spec.split(","):
        name, _, value = item.partition("=")
        if name not in MODELS or not value.isdigit() or int(value) < 1:
            raise ValueError(f"bad batch size {item!r}: expected N or MODEL=N with MODEL in {list(MODELS)} and N >= 1")
        sizes[name] = int(value)
    return sizes


def run(
    models: list[str],
    quick: bool,
    device_name: str,
    batch: dict[str, int] | None = None,
    rounds_full: int = 20,
    progress: Callable[[str], None] = print,
    variants: tuple[str, ...] = VARIANTS,
) -> dict[str, dict[str, dict[str, float]]]:
    device = resolve_device(device_name)
    results: dict[str, dict[str, dict[str, float]]] = {}
    for name in models:
        batch_size = (batch or {}).get(name) or ((8 if name == "resnet18" else 32) if quick else 128)
        warmup, rounds = (1, 5) if quick else (3, rounds_full)
        progress(f"bench {name}: batch {batch_size}, {rounds} timed rounds after {warmup} warm-up")
        times = time_model(name, batch_size, warmup, rounds, device, variants)
        results[name] = {}
        for variant in variants:
            peak = _memory_in_subprocess(name, variant, batch_size, device_name)
            results[name][variant] = {
                "ms_per_step": times[variant],
                "ratio_to_baseline": times[variant] / times["baseline"],
                "peak_mb": peak,
                "batch_size": batch_size,
                "timed_rounds": rounds,
            }
        progress(markdown_table({name: results[name]}))
    return results


def markdown_table(results: dict[str, dict[str, dict[str, float]]]) -> str:
    lines = ["| model | batch | variant | ms/step | × baseline | peak MB |", "|---|---|---|---|---|---|"]
    for model, variants in results.items():
        for variant, r in variants.items():
            lines.append(
                f"| {model} | {r['batch_size']} | {variant} | {r['ms_per_step']:.1f} | "
                f"{r['ratio_to_baseline']:.2f} | {r['peak_mb']:.1f} |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--quick", action="store_true", help="small batches and 5 timed rounds (a smoke run, under 3 minutes)"
    )
    parser.add_argument("--models", default=",".join(MODELS), help="comma-separated subset of " + ", ".join(MODELS))
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda", "auto"])
    parser.add_argument("--out", default="reports/bench.json")
    parser.add_argument(
        "--batch-size", default=None, help="N for every model or MODEL=N,... (default 128; --quick: 32, ResNet-18 8)"
    )
    parser.add_argument(
        "--rounds", type=int, default=20, help="timed rounds in full mode (at least 20 for reported figures)"
    )
    parser.add_argument(
        "--variants",
        default=",".join(VARIANTS),
        help=f"comma-separated; baseline is always timed; also available: {', '.join(OPTIONAL_VARIANTS)}",
    )
    parser.add_argument("--memory-probe", nargs=2, metavar=("MODEL", "VARIANT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_probe:
        model_name, variant = args.memory_probe
        print(
            peak_memory_mb(
                model_name, variant, batch_sizes(args.batch_size).get(model_name, 128), resolve_device(args.device)
            )
        )
        return
    models = [m for m in args.models.split(",") if m]
    unknown = [m for m in models if m not in MODELS]
    if unknown:
        parser.error(f"unknown model(s) {unknown}; choose from {list(MODELS)}")
    variants = tuple(dict.fromkeys(["baseline"] + [v for v in args.variants.split(",") if v]))
    unknown = [v for v in variants if v not in VARIANTS + OPTIONAL_VARIANTS]
    if unknown:
        parser.error(f"unknown variant(s) {unknown}; choose from {list(VARIANTS + OPTIONAL_VARIANTS)}")
    try:
        sizes = batch_sizes(args.batch_size)
    except ValueError as error:
        parser.error(str(error))
    results = run(models, args.quick, args.device, sizes, args.rounds, variants=variants)
    write_json(args.out, results)
    print(f"wrote {args.out}\n" + markdown_table(results))


if __name__ == "__main__":
    main()
