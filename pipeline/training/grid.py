"""Which method trains on which pair: the main grid ``run`` and a second, smaller grid ``run_extra``.

DVC's matrix runs every pair x method of a list, so one grid cannot put an expensive method on a
cheap pair only. ``run_extra: {pairs, methods, inits}`` is a second grid (its own stages
``init_loss_extra@…`` and ``train_extra@…``, the same code): its pairs come from ``run.pairs`` (so
they have a baseline and an evaluation), its methods are not in ``run.methods`` (one stage per
run), and its inits are the offline phases its methods need that ``run.inits`` does not already
run. The default profile puts the update rules and hand-designed optimisers there, on one pair.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pipeline.methods import METHODS, has_offline_phase, needed_inits
from pipeline.utils.configparse import ConfigError

if TYPE_CHECKING:
    from pipeline.config import Params, RunConfig


def methods_on(params: Params, pair: str) -> tuple[str, ...]:
    """Every method trained on ``pair``: the main grid's, then the extra grid's where it lists the pair."""
    extra = params.run_extra.methods if pair in params.run_extra.pairs else ()
    return (*params.run.methods, *extra) if pair in params.run.pairs else ()


def all_methods(params: Params) -> tuple[str, ...]:
    """Every method of either grid, main grid first (the report's column order)."""
    return (*params.run.methods, *params.run_extra.methods)


def all_inits(params: Params) -> tuple[str, ...]:
    return (*params.run.inits, *params.run_extra.inits)


def extra_inits(run: RunConfig, methods: tuple[str, ...]) -> list[str]:
    """The offline phases ``methods`` need beyond those the main grid runs."""
    return [i for i in needed_inits(methods) if has_offline_phase(i) and i not in run.inits]


def check_run_extra(params: Params) -> None:
    """Raise a ConfigError naming the key of the first extra-grid entry that cannot run."""
    run, extra = params.run, params.run_extra
    if bool(extra.pairs) != bool(extra.methods):
        raise ConfigError("run_extra.pairs, run_extra.methods: list both or neither (every pair x method listed runs)")
    for i, pair in enumerate(extra.pairs):
        if pair not in run.pairs:
            raise ConfigError(
                f"run_extra.pairs[{i}]: {pair!r} is not in run.pairs ({', '.join(run.pairs) or 'none'}); "
                f"an extra run is compared with the pair's baseline and evaluated with it"
            )
    for i, method in enumerate(extra.methods):
        if method not in METHODS:
            raise ConfigError(f"run_extra.methods[{i}]: unknown method {method!r} (known: {', '.join(METHODS)})")
        if method not in params.methods:
            raise ConfigError(f"run_extra.methods[{i}]: {method!r} is not defined under methods:")
        if method in run.methods:
            raise ConfigError(
                f"run_extra.methods[{i}]: {method!r} is also in run.methods, which already runs it on "
                f"every pair of run.pairs"
            )
    for key, names in (("pairs", extra.pairs), ("methods", extra.methods)):
        if len(set(names)) != len(names):
            raise ConfigError(f"run_extra.{key}: entries must be distinct, got {list(names)}")
    needed = extra_inits(run, extra.methods)
    if list(extra.inits) != needed:
        raise ConfigError(
            f"run_extra.inits: the methods {list(extra.methods)} need exactly {needed} beyond run.inits, "
            f"got {list(extra.inits)}; set run_extra.inits: [{', '.join(needed)}]"
        )
    for init in needed:
        if init not in params.offline:
            raise ConfigError(f"offline.{init}: missing required key (run_extra.inits needs it)")
