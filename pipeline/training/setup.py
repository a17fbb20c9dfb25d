"""Run set-up: everything a run of one method on one pair starts from, built the same way by every caller.

The stages, the tuning objective, the executor's jobs and the tools build their runs here: the
method's setup (pair, method, offline phase, representation), the seeded model, the seeded batch
streams, the rule at its seeded initial value, and the fingerprint that ties a checkpoint to a run.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING

import torch

from pipeline.data.loading import LoadedData
from pipeline.data.registry import DATASETS
from pipeline.data.sampling import BatchStream
from pipeline.learned.config import RepresentationConfig
from pipeline.learned.rules import UpdateRule, build_rule
from pipeline.meta.config import OfflineConfig
from pipeline.methods import METHODS
from pipeline.models.registry import build_model
from pipeline.optim import SGDConfig
from pipeline.training.checkpoint import fingerprint, tensors_digest
from pipeline.training.config import MethodConfig, PairConfig
from pipeline.utils.derive import generator

if TYPE_CHECKING:  # the root config assembles this layer's configs; only its type is needed here
    from pipeline.config import Params


@dataclass(frozen=True)
class MethodSetup:
    """Everything a run of one method on one pair depends on (tuned or not)."""

    pair: PairConfig
    method: MethodConfig
    offline: OfflineConfig | None  # the method's offline phase; None for the handcrafted loss
    representation: RepresentationConfig = RepresentationConfig()  # how a learned loss / learning rate is built


def base_setup(params: Params, pair: str, method: str) -> MethodSetup:
    return replace(setup_without_offline(params, pair, method), offline=params.offline_for(pair, METHODS[method].init))


def setup_without_offline(params: Params, pair: str, method: str) -> MethodSetup:
    """The setup of a run that starts from an offline output made elsewhere (it reads no ``offline`` key)."""
    config, method_config = params.pairs[pair], params.methods[method]
    if method_config.lr is not None:  # the method's own base learning rate (hand-designed optimisers)
        config = replace(config, optim=replace(config.optim, lr=method_config.lr))
    return MethodSetup(config, method_config, None, params.representation)


def sgd_config(pair: PairConfig) -> SGDConfig:
    return SGDConfig(momentum=pair.optim.momentum, nesterov=pair.optim.nesterov, weight_decay=pair.optim.weight_decay)


def make_stream(
    data: LoadedData, split: str, batch_size: int, seed: int, tag: str, pair: PairConfig, device: torch.device
) -> BatchStream:
    """A seeded stream; augmentation applies to training batches only."""
    part = data.splits[split]
    augment = pair.augment and split == "train"
    flip = DATASETS[data.meta["dataset"]].flip
    return BatchStream(part.x, part.y, batch_size, generator(seed, tag), augment, flip, device)


def initial_model(data: LoadedData, pair: PairConfig, seed: int, device: torch.device) -> torch.nn.Module:
    meta = data.meta
    return build_model(pair.model, tuple(meta["input_shape"]), int(meta["n_outputs"]), seed).to(device).train()


def run_fingerprint(
    data: LoadedData, pair: PairConfig, method: MethodConfig, rule: UpdateRule, seed: int, device: torch.device
) -> str:
    """Everything that decides a run's numbers; a checkpoint of another run is never resumed."""
    return fingerprint(
        {
            "pair": asdict(pair),
            "method": asdict(method),
            "seed": seed,
            "device": str(device),
            "initial_rule": tensors_digest(rule.meta_module().state_dict()),
            "torch": torch.__version__,
            "data": data.meta,
            "checkpoint_format": 2,  # 2: the stepper's state under "stepper" (1 had "truncated" and "meta_stream")
        }
    )


def fresh_rule(
    data: LoadedData,
    pair: PairConfig,
    method: str,
    seed: int,
    device: torch.device,
    representation: RepresentationConfig = RepresentationConfig(),
) -> UpdateRule:
    """The method's representation at its seeded initial value, on ``device``."""
    rule = build_rule(
        method, data.task, pair.optim.lr, seed, representation, int(data.meta["n_outputs"]), param_shapes(data, pair)
    )
    return to_device(rule, device)


def param_shapes(data: LoadedData, pair: PairConfig) -> dict[str, torch.Size]:
    """The pair's model parameter shapes (what Meta-SGD and Meta-Curvature shape their factors by)."""
    model = build_model(pair.model, tuple(data.meta["input_shape"]), int(data.meta["n_outputs"]), 0)
    return {name: p.shape for name, p in model.named_parameters()}


def to_device(rule: UpdateRule, device: torch.device) -> UpdateRule:
    for module in rule.modules():
        module.to(device)
    return rule
