"""Glue between data, models and procedures: the offline phase of a method for one pair and seed."""

from __future__ import annotations

from pathlib import Path

import torch

from pipeline.data.loading import LoadedData
from pipeline.learned.config import RepresentationConfig
from pipeline.learned.rules import UpdateRule, build_init_rule
from pipeline.meta.config import OfflineConfig
from pipeline.meta.offline import learn_offline, offline_diverged_at
from pipeline.meta.step import BaseState
from pipeline.methods import METHODS, has_offline_phase
from pipeline.models.registry import build_model
from pipeline.training.artifacts import init_diverged_at, load_init
from pipeline.training.config import PairConfig
from pipeline.training.setup import fresh_rule, initial_model, make_stream, param_shapes, sgd_config, to_device
from pipeline.utils.derive import derive_seed
from pipeline.utils.progress import Progress


class OfflineDiverged(RuntimeError):
    """The offline phase a run starts from ended at a non-finite meta-loss: there is no loss to train with."""

    def __init__(self, meta_step: int, where: str) -> None:
        super().__init__(f"its offline phase ({where}) diverged at meta step {meta_step}")
        self.meta_step = meta_step


def offline_phase(
    data: LoadedData,
    pair: PairConfig,
    init: str,
    offline: OfflineConfig | None,
    seed: int,
    device: torch.device,
    label: str = "init_loss",
    progress: bool = True,
    representation: RepresentationConfig = RepresentationConfig(),
) -> tuple[UpdateRule, list[float]]:
    """Algorithm 1 (or 3) for the ``init`` representation from its seeded value; no-op without a config."""
    rule = to_device(
        build_init_rule(
            init, data.task, pair.optim.lr, seed, representation, int(data.meta["n_outputs"]), param_shapes(data, pair)
        ),
        device,
    )
    if offline is None:
        return rule, []
    model = initial_model(data, pair, seed, device)
    shape, n_out = tuple(data.meta["input_shape"]), int(data.meta["n_outputs"])

    def fresh_state(i: int) -> BaseState:  # a new base initialisation at every meta step
        return BaseState.from_module(
            build_model(pair.model, shape, n_out, derive_seed(seed, "offline-init", i)).to(device)
        )

    train_stream = make_stream(data, "train", pair.batch_size, seed, "offline-train-order", pair, device)
    meta_stream = make_stream(
        data, offline.meta_split, offline.meta_batch_size or pair.batch_size, seed, "offline-meta-order", pair, device
    )
    bar = Progress(label, offline.steps, enabled=progress)
    history = learn_offline(
        model, fresh_state, rule, train_stream, meta_stream, offline, sgd_config(pair), data.task, bar
    )
    return rule, history


def starting_rule(
    data: LoadedData,
    pair: PairConfig,
    method: str,
    seed: int,
    device: torch.device,
    init_folder: Path | None,
    offline: OfflineConfig | None = None,
    progress: bool = True,
    representation: RepresentationConfig = RepresentationConfig(),
) -> UpdateRule:
    """The rule a training run starts from.

    Normally the init_loss stage's output in ``init_folder`` (None for the handcrafted
    loss). With ``offline`` given, the method runs its own offline phase instead: tuned
    values (another base lr or offline meta lr) need an init of their own, which the
    shared init_loss output is not. Raises ``OfflineDiverged`` where that phase diverged.
    """
    init = METHODS[method].init
    if not has_offline_phase(init):
        return fresh_rule(data, pair, method, seed, device)
    if offline is not None:
        rule, history = offline_phase(
            data, pair, init, offline, seed, device, f"offline {method} seed {seed}", progress, representation
        )
        diverged_at = offline_diverged_at(history)
        if diverged_at is not None:
            raise OfflineDiverged(diverged_at, f"{init} with the tuned values, seed {seed}")
        return rule
    rule = fresh_rule(data, pair, method, seed, device, representation)
    if init_folder is None:
        raise ValueError(f"{method} needs the output of its offline phase ({init})")
    load_init(init_folder, rule)
    diverged_at = init_diverged_at(init_folder)
    if diverged_at is not None:
        raise OfflineDiverged(diverged_at, f"{init_folder}")
    return rule
