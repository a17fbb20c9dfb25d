"""ML3's meta-test as a branch: train a pair with the loss another pair learned offline.

ML3 (seed 000) meta-trains a loss on one task and uses it to train a randomly initialised model
on another, against regular training. Here ``transfer: {pairs, methods, loss_from}`` runs every
combination: ``transfer@<pair>-<method>-<source>`` trains ``pair`` with ``method`` starting from the
offline output of ``source`` (``data/init/<source>/<init>``) instead of the pair's own, with the
pair's initial weights and batches (the same as its baseline's, so the comparison is paired).
Its runs are the method ``<method>_from_<source>`` of the pair: ``data/runs/<pair>/<that name>``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pipeline.methods import METHODS
from pipeline.utils.configparse import ConfigError

if TYPE_CHECKING:
    from pipeline.config import Params

# What a learned loss or learning rate is does not depend on the model's parameter shapes, so it
# can move between pairs with the same task kind and output count; per-parameter rules cannot.
TRANSFERABLE_INITS = ("smooth_nn", "relu_nn", "taylor_quadratic", "taylor_cubic", "learning_rate")


@dataclass(frozen=True)
class TransferConfig:
    """Every pair x method x source listed runs (all three empty: no transfer stage)."""

    pairs: tuple[str, ...] = ()  # the pairs trained with a loss from elsewhere (each in run.pairs)
    methods: tuple[str, ...] = ()  # methods whose offline output moves (each in run.methods, learning a loss or lr)
    loss_from: tuple[str, ...] = ()  # the pairs whose offline output they use (each in run.pairs, none in pairs)

    @property
    def enabled(self) -> bool:
        return bool(self.pairs)


def run_name(method: str, source: str) -> str:
    """The transferred run's method name in the pair's runs, evaluation and report."""
    return f"{method}_from_{source}"


def transfer_runs(config: TransferConfig, pair: str | None = None) -> list[tuple[str, str, str]]:
    """(pair, method, source) of every transfer run, or of ``pair``'s only."""
    return [(p, m, s) for p in config.pairs if pair in (None, p) for m in config.methods for s in config.loss_from]


def check_transfer(params: Params) -> None:
    """Raise a ConfigError naming the key of the first transfer that cannot run."""
    from pipeline.data.registry import DATASETS

    config, run = params.transfer, params.run
    lists = {"pairs": config.pairs, "methods": config.methods, "loss_from": config.loss_from}
    if any(lists.values()) and not all(lists.values()):
        empty = next(key for key, names in lists.items() if not names)
        raise ConfigError(
            f"transfer.{empty}: empty while other transfer lists are not; every pair x method x "
            f"source listed runs, so list all three or none"
        )
    for key, names in lists.items():
        allowed = run.methods if key == "methods" else run.pairs
        for i, name in enumerate(names):
            if name not in allowed:
                where = "run.methods" if key == "methods" else "run.pairs"
                raise ConfigError(
                    f"transfer.{key}[{i}]: {name!r} is not in {where} ({', '.join(allowed) or 'none'}); "
                    f"the transfer is compared with the same method learned in place"
                )
            if key == "methods" and METHODS[name].init not in TRANSFERABLE_INITS:
                raise ConfigError(
                    f"transfer.methods[{i}]: {name!r} learns {METHODS[name].init}, which is shaped by its "
                    f"model; only a learned loss or learning rate moves ({', '.join(TRANSFERABLE_INITS)})"
                )
            if key == "loss_from" and name in config.pairs:
                raise ConfigError(
                    f"transfer.loss_from[{i}]: {name!r} is also in transfer.pairs; its own loss is the method itself"
                )
    for i, source in enumerate(config.loss_from):
        for pair in config.pairs:
            src, dst = DATASETS[params.pairs[source].dataset], DATASETS[params.pairs[pair].dataset]
            if (src.task, src.n_classes) != (dst.task, dst.n_classes):
                raise ConfigError(
                    f"transfer.loss_from[{i}]: {source!r} is {_kind(src.task, src.n_classes)} and {pair!r} "
                    f"is {_kind(dst.task, dst.n_classes)}; a loss moves only between pairs of the same "
                    f"task kind and output count"
                )


def _kind(task: str, n_classes: int) -> str:
    return f"{n_classes}-class classification" if task == "classification" else "regression"
