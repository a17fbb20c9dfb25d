"""Diagnose a learned loss on one pair: the offline phase, the loss's slope, and the runs it feeds.

    python -m tools.diagnose --params profiles/reproduce.yaml --pair diabetes_mlp --seeds 0 1 \
        --set offline.smooth_nn.reset_interval=0 --out studies/diabetes_trajectory.json

For every seed it runs the pair's offline phase (``--init``, default ``smooth_nn``:
Algorithm 1) as the params file configures it, prints the meta-loss at its start and end,
the slope dl/dy_hat of a learned loss at a grid of residuals (regression) or
probabilities (classification) or the learned learning rate, and then trains the given
methods (default baseline, ML3 and AdaLFL) from the same initial weights and prints their
test errors. ``--set key.path=value`` overrides any params entry, so one params
file serves a whole ablation (docs/reproduction.md lists the commands and their numbers).
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
import yaml

from pipeline.config import Params, parse_params
from pipeline.data.loading import LoadedData, load_prepared
from pipeline.evaluation import split_error
from pipeline.learned.outputwise import OutputwiseLoss
from pipeline.meta.offline import offline_diverged_at
from pipeline.methods import METHODS, has_offline_phase
from pipeline.training.loop import train
from pipeline.training.offline import offline_phase
from pipeline.training.setup import fresh_rule, initial_model
from pipeline.utils.derive import resolve_device
from pipeline.utils.paths import prepared_dir
from tools.loss_minimiser import shape

RESIDUALS = (-1.0, -0.5, -0.1, 0.1, 0.5, 1.0)
PROBABILITIES = (0.05, 0.25, 0.5, 0.75, 0.95)
MINIMISER_TARGETS = (0.1, 0.3, 0.5, 0.7, 0.9)


def loss_slopes(loss: OutputwiseLoss, task: str, y_mid: float) -> dict[str, float]:
    """dl/dy_hat at fixed points: residuals around ``y_mid`` (regression), probabilities for y=0 and y=1."""
    param = next(loss.parameters())
    if task == "classification":
        points = [(float(t), p) for t in (0, 1) for p in PROBABILITIES]
        names = [f"y={t:g},p={p:g}" for t, p in points]
    else:
        points = [(y_mid, y_mid + r) for r in RESIDUALS]
        names = [f"r={r:+g}" for r in RESIDUALS]
    y = torch.tensor([t for t, _ in points], dtype=param.dtype, device=param.device)
    y_hat = torch.tensor([p for _, p in points], dtype=param.dtype, device=param.device, requires_grad=True)
    (slope,) = torch.autograd.grad(loss.pointwise(y, y_hat).sum(), y_hat)
    return dict(zip(names, slope.tolist()))


def true_logit_gradients(loss: OutputwiseLoss, n_classes: int) -> dict[str, float]:
    """dM/dz_true for one example whose true class has probability p (classification).

    The sign of dl/dp for one class alone says little: through the softmax, adding c*p to l
    changes no gradient, so only how the classes' slopes compare moves the logits. What
    matters is whether gradient descent raises the true class's logit, i.e. dM/dz_true < 0.
    Two states per p: the rest spread evenly ("even"), or 90% of the rest on one wrong
    class ("rival", a confidently confused example).
    """
    param = next(loss.parameters())
    rows = []
    for p in PROBABILITIES:
        for name, rival_share in (("even", None), ("rival", 0.9)):
            probs = torch.full((n_classes,), (1 - p) / (n_classes - 1), dtype=param.dtype)
            if rival_share is not None:
                probs[1:] = (1 - p) * (1 - rival_share) / (n_classes - 2)
                probs[1] = (1 - p) * rival_share
            probs[0] = p
            rows.append((f"{name},p={p:g}", probs))
    logits = torch.stack([probs.log() for _, probs in rows]).to(param.device).requires_grad_(True)
    target = torch.zeros(len(rows), dtype=torch.long, device=param.device)
    (grad,) = torch.autograd.grad(loss(logits, target) * len(rows), logits)  # per example, not the batch mean
    return {name: float(g) for (name, _), g in zip(rows, grad[:, 0])}


def override(raw: dict[str, Any], assignment: str) -> None:
    """Apply ``a.b.c=value`` (value parsed as YAML) to the raw params mapping."""
    key, equals, value = assignment.partition("=")
    if not equals or not key:
        raise SystemExit(f"--set {assignment!r}: expected KEY.PATH=VALUE")
    *parents, leaf = key.split(".")
    node = raw
    for part in parents:
        node = node.setdefault(part, {})
    node[leaf] = yaml.safe_load(value)


def check_methods(methods: list[str], init: str) -> None:
    """Every method must start from ``init``'s output or from no offline phase (checked before any work)."""
    for method in methods:
        needs = METHODS[method].init
        if has_offline_phase(needs) and needs != init:
            raise SystemExit(f"--methods: {method} starts from the {needs} offline phase, not --init {init}")


def diagnose_seed(
    params: Params,
    data: LoadedData,
    pair_name: str,
    seed: int,
    methods: list[str],
    on_progress: Callable[[dict[str, Any]], None] | None = None,
    init: str = "smooth_nn",
) -> dict[str, Any]:
    pair, device = params.pairs[pair_name], resolve_device(params.device)
    started = time.monotonic()
    rule, history = offline_phase(
        data,
        pair,
        init,
        params.offline_for(pair_name, init),
        seed,
        device,
        progress=False,
        representation=params.representation,
    )
    y_mid = float(data.splits["train"].y.float().mean()) if data.task == "regression" else 0.0
    row: dict[str, Any] = {
        "seed": seed,
        "init": init,
        "offline_meta_loss": [history[0], history[-1]] if history else None,
        "offline_diverged_at": offline_diverged_at(history),  # None: it did not (the phase stops where it does)
        "offline_s": time.monotonic() - started,
        "learning_rate": rule.current_lr(),
    }
    if isinstance(rule.loss, OutputwiseLoss):
        row["slopes"] = loss_slopes(rule.loss, data.task, y_mid)
        if data.task == "regression":  # where the loss puts its minimum (1: unbiased; below 1: it shrinks)
            row["minimiser_offsets"], row["minimiser_slope"] = shape(rule.loss, list(MINIMISER_TARGETS))
        if data.task == "classification":
            row["true_logit_gradient"] = true_logit_gradients(rule.loss, int(data.meta["n_outputs"]))
    if on_progress:
        on_progress(row)
    init_state = {k: v.clone() for k, v in rule.meta_module().state_dict().items()}
    test = data.splits["test"]
    for method in methods:
        method_rule = fresh_rule(data, pair, method, seed, device, params.representation)
        if METHODS[method].init == init:
            if row["offline_diverged_at"] is not None:  # as the train stage: no run from a diverged phase
                row[method] = {"status": "diverged", "diverged_at": 0, "test_error": None, "offline_diverged": True}
                continue
            method_rule.meta_module().load_state_dict(init_state)
        result = train(data, pair, params.methods[method], method_rule, seed, device, progress=False)
        row.setdefault("final_learning_rate", {})[method] = method_rule.current_lr()
        model = initial_model(data, pair, seed, device)  # the architecture to evaluate the trained weights in
        error = (
            split_error(model, result.state.params, result.state.buffers, test.x, test.y, data.task)
            if result.status == "finished"
            else None
        )
        row[method] = {
            "status": result.status,
            "diverged_at": result.diverged_at,
            "test_error": error,
            "wall_s": result.wall_time_s,
            "valid_curve": [(r["step"], r["valid_error"]) for r in result.history],
        }
        if on_progress:
            on_progress(row)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--pair", required=True)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument(
        "--methods",
        nargs="+",
        default=["baseline", "ml3", "adalfl"],
        help="methods trained after the offline phase (they must use --init's output, or none)",
    )
    parser.add_argument(
        "--init", default="smooth_nn", help="the offline phase to run (smooth_nn, relu_nn, taylor_*, learning_rate)"
    )
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--out", type=Path, help="write the rows as JSON here")
    args = parser.parse_args()
    check_methods(args.methods, args.init)
    raw = yaml.safe_load(Path(args.params).read_text())
    for assignment in args.overrides:
        override(raw, assignment)
    params = parse_params(raw)
    data = load_prepared(prepared_dir(params.data.prepared_dir, params.pairs[args.pair].dataset))
    rows: list[dict[str, Any]] = []

    def save(row: dict[str, Any]) -> None:  # after every phase, so a killed sweep keeps what it measured
        print(json.dumps(row), flush=True)
        if args.out:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(
                json.dumps(
                    {"params": args.params, "set": args.overrides, "pair": args.pair, "rows": rows + [row]}, indent=1
                )
                + "\n"
            )

    for seed in args.seeds:
        rows.append(diagnose_seed(params, data, args.pair, seed, args.methods, save, args.init))


if __name__ == "__main__":
    main()
