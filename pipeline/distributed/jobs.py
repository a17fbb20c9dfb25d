"""One seed's work in the init_loss and train stages, as a picklable job.

A job writes the seed's output folder and returns the line the stage prints. It runs in
the stage's own process (executor.kind: local) or in a Ray task on any node, where
``inputs`` is a copy of the seed's input folder (its offline phase's output) and ``node``
names the node, recorded in the seed's info.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.data.loading import LoadedData
from pipeline.learned.config import RepresentationConfig
from pipeline.meta.config import OfflineConfig
from pipeline.meta.offline import meta_loss_rose, offline_diverged_at
from pipeline.training.artifacts import save_init, save_run
from pipeline.training.config import PairConfig
from pipeline.training.loop import Checkpointing, not_trained, train
from pipeline.training.offline import OfflineDiverged, offline_phase, starting_rule
from pipeline.training.setup import MethodSetup, fresh_rule, run_fingerprint
from pipeline.utils.derive import resolve_device


def _run_facts(wall_time_s: float, node: str | None) -> dict[str, Any]:
    """What varies between equal runs: kept out of the outputs (pipeline.utils.runfacts)."""
    return {"wall_time_s": wall_time_s} if node is None else {"wall_time_s": wall_time_s, "node": node}


@dataclass(frozen=True)
class OfflineSeed:
    """Algorithm 1 (or 3) for one seed: the init_loss stage's unit of work."""

    data: LoadedData
    pair_name: str
    pair: PairConfig
    init: str
    offline: OfflineConfig | None
    device: str
    representation: RepresentationConfig

    def __call__(self, seed: int, out: Path, inputs: Path | None = None, node: str | None = None) -> str:
        label = f"init_loss {self.pair_name} {self.init} seed {seed}"
        started = time.monotonic()
        rule, history = offline_phase(
            self.data,
            self.pair,
            self.init,
            self.offline,
            seed,
            resolve_device(self.device),
            label,
            representation=self.representation,
        )
        info = {
            "pair": self.pair_name,
            "init": self.init,
            "seed": seed,
            "steps": len(history),
            "meta_loss_rose": meta_loss_rose(history),
        }
        diverged_at = offline_diverged_at(history)
        if diverged_at is not None:  # the key only where it happened: other outputs stay as they were
            info["diverged_at"] = diverged_at
        facts = _run_facts(time.monotonic() - started, node)
        save_init(out, rule, history, info, facts)
        lines = (
            [f"[{label}] meta-loss {history[0]:.4f} -> {history[-1]:.4f} in {facts['wall_time_s']:.1f}s"]
            if history
            else []
        )
        if diverged_at is not None:
            lines.append(
                f"WARNING [{label}] the offline phase diverged at meta step {diverged_at} (non-finite "
                f"meta-loss) and stopped there: a training run from it is recorded as diverged before its first step"
            )
        if info["meta_loss_rose"]:
            lines.append(
                f"WARNING [{label}] the meta-loss ended higher than it started (mean of the last tenth of the "
                f"steps above the first tenth's): the offline phase made the loss worse"
            )
        return "\n".join(lines)


@dataclass(frozen=True)
class TrainSeed:
    """One seed's training from its starting rule: the train stage's unit of work."""

    data: LoadedData
    pair_name: str
    method_name: str
    setup: MethodSetup
    tuned: dict[str, float] | None  # tuned values: the method runs its own offline phase with them
    device: str
    checkpoint_dir: Path | None  # absolute; None: no checkpoints
    checkpoint_every: int
    loss_from: str | None = None  # the pair whose offline output the run starts from (transfer); None: its own

    def __call__(self, seed: int, out: Path, inputs: Path | None = None, node: str | None = None) -> str:
        device = resolve_device(self.device)
        setup = self.setup
        label = f"train {self.pair_name} {self.method_name} seed {seed}"
        info: dict[str, Any] = {"pair": self.pair_name, "method": self.method_name, "seed": seed, "tuned": self.tuned}
        if self.loss_from is not None:
            info["loss_from"] = self.loss_from
        try:
            rule = starting_rule(
                self.data,
                setup.pair,
                self.method_name,
                seed,
                device,
                inputs,
                setup.offline if self.tuned else None,
                representation=setup.representation,
            )
        except OfflineDiverged as error:  # no loss to train with: the run diverged before its first step
            rule = fresh_rule(self.data, setup.pair, self.method_name, seed, device, setup.representation)
            info["offline_diverged_at"] = error.meta_step
            save_run(
                out,
                not_trained(self.data, setup.pair, setup.method, rule, seed, device),
                rule,
                info,
                _run_facts(0.0, node),
            )
            return f"WARNING [{label}] diverged before its first step: {error}"
        # a tuned method's own offline phase is its start; the online phase below changes the rule in place
        start = (
            {k: v.detach().cpu().clone() for k, v in rule.meta_module().state_dict().items()} if self.tuned else None
        )
        checkpoint = None
        if self.checkpoint_dir is not None:  # a finished seed keeps its final checkpoint until the stage is done
            checkpoint = Checkpointing(
                self.checkpoint_dir / f"seed{seed}.ckpt",
                self.checkpoint_every,
                run_fingerprint(self.data, setup.pair, setup.method, rule, seed, device),
            )
        result = train(self.data, setup.pair, setup.method, rule, seed, device, label, checkpoint=checkpoint)
        save_run(out, result, rule, info, _run_facts(result.wall_time_s, node), start)
        last = result.history[-1]
        return (
            f"[{label}] {result.status} after {result.steps_done} steps, "
            f"valid error {last['valid_error']:.4f}, {result.wall_time_s:.1f}s"
        )
