"""The typed, frozen view of ``params.yaml``.

``load_params`` is the only way stages read configuration: it rejects unknown keys,
wrong types and impossible values with one line naming the key path.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import yaml

from pipeline.configparse import ConfigError, key_path, parse_dataclass
from pipeline.distributed.config import ExecutorConfig
from pipeline.fewshot.config import FewshotConfig
from pipeline.grid import all_methods, check_run_extra, methods_on
from pipeline.l2l.config import L2LConfig
from pipeline.methods import INITS, METHODS, needed_inits
from pipeline.transfer import TransferConfig, check_transfer

MetaSplit = Literal["valid", "train"]


def _positive(name: str, value: float) -> None:
    if not value > 0:
        raise ConfigError(f"{name}: expected a positive number, got {value}")


def _non_negative(name: str, value: float) -> None:
    if value < 0:
        raise ConfigError(f"{name}: expected a number >= 0, got {value}")


@dataclass(frozen=True)
class DataConfig:
    root: str = "data/raw"  # where data sets that need a download are looked for
    prepared_dir: str = "data/prepared"
    valid_fraction: float = 0.1  # of the training instances, held out for validation
    test_fraction: float = 0.2  # only for data sets without an official test split
    split_seed: int = 0

    def __post_init__(self) -> None:
        for name in ("valid_fraction", "test_fraction"):
            value = getattr(self, name)
            if not 0 < value < 1:
                raise ConfigError(f"{name}: expected a fraction in (0, 1), got {value}")


@dataclass(frozen=True)
class OptimConfig:
    """The base optimiser: SGD exactly as ``torch.optim.SGD``."""

    lr: float
    momentum: float = 0.0
    nesterov: bool = False
    weight_decay: float = 0.0

    def __post_init__(self) -> None:
        _positive("lr", self.lr)
        _non_negative("weight_decay", self.weight_decay)
        if not 0 <= self.momentum < 1:
            raise ConfigError(f"momentum: expected a number in [0, 1), got {self.momentum}")
        if self.nesterov and self.momentum == 0:
            raise ConfigError("nesterov: Nesterov momentum needs momentum > 0")


@dataclass(frozen=True)
class PairConfig:
    """One task-model pair (paper Table 1) and its training budget."""

    dataset: str
    model: str
    optim: OptimConfig
    steps: int  # base gradient steps
    batch_size: int = 128
    eval_interval: int = 100  # steps between validation-error records
    augment: bool = False  # random crop (+ flip where the data set allows it)
    offline: dict[str, OfflineOverride] = field(default_factory=dict)  # this pair's changes to offline.<init>

    def __post_init__(self) -> None:
        from pipeline.data.registry import DATASETS
        from pipeline.models.catalog import MODEL_NEEDS as MODELS
        from pipeline.models.catalog import check_pairing

        if self.dataset not in DATASETS:
            raise ConfigError(f"dataset: unknown data set {self.dataset!r} (known: {', '.join(DATASETS)})")
        if self.model not in MODELS:
            raise ConfigError(f"model: unknown model {self.model!r} (known: {', '.join(MODELS)})")
        problem = check_pairing(self.dataset, self.model)
        if problem:
            raise ConfigError(f"model: {problem}")
        for name in ("steps", "batch_size", "eval_interval"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name}: expected an integer >= 1, got {getattr(self, name)}")


@dataclass(frozen=True)
class OfflineConfig:
    """Algorithm 1 (learned loss) or 3 (learned learning rate)."""

    steps: int = 2500  # S_init
    inner_steps: int = 1  # S_inner
    meta_lr: float = 1e-3
    meta_split: MetaSplit = "valid"
    meta_batch_size: int | None = None  # defaults to the pair's batch size
    reset_interval: int = (
        0  # fresh theta every k meta steps; 0: never (one trajectory), 1: Algorithm 1 literally (docs/reproduction.md)
    )

    def __post_init__(self) -> None:
        _non_negative("steps", self.steps)
        _non_negative("reset_interval", self.reset_interval)
        if self.inner_steps < 1:
            raise ConfigError(f"inner_steps: expected an integer >= 1, got {self.inner_steps}")
        _positive("meta_lr", self.meta_lr)
        if self.meta_batch_size is not None and self.meta_batch_size < 1:
            raise ConfigError(f"meta_batch_size: expected an integer >= 1, got {self.meta_batch_size}")


@dataclass(frozen=True)
class OfflineOverride:
    """Keys of ``offline.<init>`` that one pair sets differently (null/absent: the global value).

    The offline phase's horizon has to suit the pair's training (docs/reproduction.md: an
    episode of 10 steps teaches a loss that is too steep for LeNet-5 at lr 0.1, one of 100
    steps one that is too steep for logistic regression over 400 steps).
    """

    steps: int | None = None
    inner_steps: int | None = None
    meta_lr: float | None = None
    meta_split: MetaSplit | None = None
    meta_batch_size: int | None = None
    reset_interval: int | None = None

    def apply(self, base: OfflineConfig) -> OfflineConfig:
        return replace(base, **{name: value for name, value in vars(self).items() if value is not None})


@dataclass(frozen=True)
class OnlineConfig:
    """Algorithm 2 (learned loss) or 4 (learned learning rate)."""

    meta_lr: float = 1e-5
    meta_split: MetaSplit = "valid"
    meta_batch_size: int | None = None  # defaults to the pair's batch size
    meta_interval: int = 1  # a meta step every k base steps
    meta_grad: Literal["forward", "unrolled"] = "forward"  # exact forward-mode or unrolled second order
    clip_meta_grad_norm: float | None = None  # divergence guard: clip phi's gradient norm (off by default)

    def __post_init__(self) -> None:
        _positive("meta_lr", self.meta_lr)
        if self.clip_meta_grad_norm is not None:
            _positive("clip_meta_grad_norm", self.clip_meta_grad_norm)
        if self.meta_interval < 1:
            raise ConfigError(f"meta_interval: expected an integer >= 1, got {self.meta_interval}")
        if self.meta_batch_size is not None and self.meta_batch_size < 1:
            raise ConfigError(f"meta_batch_size: expected an integer >= 1, got {self.meta_batch_size}")


@dataclass(frozen=True)
class MethodConfig:
    online: OnlineConfig | None = None  # required exactly for methods with an online phase
    lr: float | None = None  # this method's base learning rate in place of the pair's optim.lr (Adam wants its own)

    def __post_init__(self) -> None:
        if self.lr is not None:
            _positive("lr", self.lr)


@dataclass(frozen=True)
class RepresentationConfig:
    """How the learned things are represented (docs/reproduction.md measures each choice).

    ``loss_form``: the neural loss alone (``plain``, the paper's) or the handcrafted loss plus the
    network, its last layer starting at zero (``residual``: learning starts from the handcrafted loss).
    ``loss_bias`` / ``loss_init``: the neural loss l_phi (smooth AdaLFL and ML3 ReLU
    variants). ``false`` / ``kaiming_normal`` is the paper's Appendix B form (h = act(phi^T h),
    no biases) as its authors' code builds it; ``true`` / ``torch`` is torch's nn.Linear.
    ``lr_form``: Meta-LR's meta-parameter, alpha itself (``direct``, Algorithms 3-4) or
    log alpha (``log``: alpha stays positive, Adam moves it by relative steps).
    ``taylor_scale``: the Taylor losses start at squared error times kappa; ``match_handcrafted``
    picks kappa so that the loss's gradient on a fresh model's logits equals cross-entropy's
    (C^2 / 2 for C classes: squared error on softmax probabilities, averaged over outputs, is
    50 times weaker on Digits); 1 for regression, where squared error is the handcrafted loss.
    ``unit``: kappa = 1 everywhere (the old behaviour).
    ``rate_form``: Meta-SGD learns log alpha per parameter entry (``log``: every rate stays
    positive) or alpha itself (``direct``, the Meta-SGD paper's form).
    ``lstm_*``: the L2L optimiser on a pair (``l2l_lstm``): LSTM width and depth (the paper:
    20 and 2), the gradient preprocessing's p (the paper: 10) and the constant output scale
    (the authors' code: 0.01 for MNIST). ``meta_lstm_forget_bias``: the Meta-LSTM's initial
    forget-gate bias; sigmoid(12) = 1 - 6e-6, so it starts as SGD up to a tiny weight decay.
    ``curvature_rank``: Meta-Curvature's dense factors in full (null, the paper's) or as
    I + U W^T / n of rank r, O(r n^2) per step instead of O(n^3) (``pipeline.learned.update``).
    """

    loss_bias: bool = True
    loss_init: Literal["torch", "kaiming_normal"] = "torch"
    loss_form: Literal["plain", "residual"] = "plain"
    lr_form: Literal["direct", "log"] = "direct"
    rate_form: Literal["log", "direct"] = (
        "log"  # Meta-SGD's per-parameter rates: log alpha (positive) or alpha (the paper's)
    )
    taylor_scale: Literal["match_handcrafted", "unit"] = "match_handcrafted"
    lstm_hidden: int = 20
    lstm_layers: int = 2
    lstm_p: float = 10.0
    lstm_output_scale: float = 0.01
    lstm_head_init: Literal["zero", "torch"] = "zero"  # zero: l2l_lstm starts as "no step" (torch: random, drifts)
    meta_lstm_forget_bias: float = 12.0
    curvature_rank: int | None = (
        None  # Meta-Curvature: null = full factors (the paper's); r = I + U W^T / n on dense weights
    )

    def __post_init__(self) -> None:
        if self.curvature_rank is not None and self.curvature_rank < 1:
            raise ConfigError(f"curvature_rank: expected null or an integer >= 1, got {self.curvature_rank}")
        for name in ("lstm_hidden", "lstm_layers"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name}: expected an integer >= 1, got {getattr(self, name)}")
        _positive("lstm_p", self.lstm_p)
        _positive("lstm_output_scale", self.lstm_output_scale)


@dataclass(frozen=True)
class CheckpointConfig:
    """Training checkpoints (they never change results, so no DVC stage depends on them)."""

    every: int = 50  # base steps between checkpoints; 0 turns checkpointing off
    dir: str = "data/checkpoints"  # outside every DVC output, so a re-run stage finds them

    def __post_init__(self) -> None:
        _non_negative("every", self.every)


@dataclass(frozen=True)
class SearchSpace:
    """Log-uniform ranges [low, high] of the learning rates a study tunes; null: not tuned."""

    base_lr: tuple[float, ...] | None = (1e-4, 0.3)  # the pair's SGD lr (Meta-LR: the initial alpha)
    offline_meta_lr: tuple[float, ...] | None = (1e-4, 1e-1)  # Algorithm 1/3's Adam lr
    online_meta_lr: tuple[float, ...] | None = (1e-6, 1e-2)  # Algorithm 2/4's Adam lr

    def __post_init__(self) -> None:
        for name in ("base_lr", "offline_meta_lr", "online_meta_lr"):
            bounds = getattr(self, name)
            if bounds is not None and not (len(bounds) == 2 and 0 < bounds[0] < bounds[1]):
                raise ConfigError(f"{name}: expected [low, high] with 0 < low < high, got {list(bounds)}")


@dataclass(frozen=True)
class TuneConfig:
    """The optional Optuna branch: per pair x method, tune the learning rates on validation error."""

    # One study per pair x method listed; both empty (the default): tuning off, no tune stage exists
    # and train uses params.yaml's values. The DVC matrix of the tune stage reads these lists.
    pairs: tuple[str, ...] = ()  # pairs to tune (each must be in run.pairs)
    methods: tuple[str, ...] = ()  # methods to tune (each must be in run.methods)
    n_trials: int = 20  # the study's budget: trials that completed, were pruned or failed
    timeout_s: float | None = None  # wall-clock budget of one tune stage (null: none)
    seeds: tuple[int, ...] = (0,)  # training seeds a trial averages its validation error over
    sampler_seed: int = 0  # TPE's seed
    pruning: bool = True  # median pruning on the validation errors reported during training
    startup_trials: int = 3  # trials before pruning starts
    storage: str | None = (
        None  # null: a journal file under `dir`; or sqlite:///..., postgresql://user@host/db (no password)
    )
    storage_env: str | None = (
        None  # or the name of an environment variable holding the whole URL (a password may be in it)
    )
    dir: str = "data/tuning"  # embedded journals (outside DVC outputs, so an interrupted study continues)
    space: SearchSpace = field(default_factory=SearchSpace)

    @property
    def enabled(self) -> bool:
        return bool(self.pairs and self.methods)

    def __post_init__(self) -> None:
        if bool(self.pairs) != bool(self.methods):
            empty, other = ("methods", "pairs") if self.pairs else ("pairs", "methods")
            raise ConfigError(
                f"{empty}: empty while tune.{other} is not; tuning runs one study per pair x method, "
                f"so list both (or leave both empty to turn tuning off)"
            )
        for name in ("n_trials",):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name}: expected an integer >= 1, got {getattr(self, name)}")
        _non_negative("startup_trials", self.startup_trials)
        if self.timeout_s is not None:
            _positive("timeout_s", self.timeout_s)
        if not self.seeds:
            raise ConfigError("seeds: expected at least one seed")
        if self.storage is not None and not self.storage.startswith(("sqlite:///", "postgresql", "mysql")):
            raise ConfigError(f"storage: expected null, sqlite:///PATH or postgresql://..., got {self.storage!r}")
        if self.storage is not None and urlsplit(self.storage).password is not None:
            raise ConfigError(
                "storage: the URL contains a password, which would be copied into dvc.lock and `dvc exp show`; "
                "remove it and give the password by PGPASSWORD or ~/.pgpass, or put the whole URL in an "
                "environment variable and name it in tune.storage_env"
            )
        if self.storage is not None and self.storage_env is not None:
            raise ConfigError("storage_env: set either tune.storage or tune.storage_env, not both")


@dataclass(frozen=True)
class RunConfig:
    """What `dvc repro` runs: the DVC matrix reads these lists."""

    pairs: tuple[str, ...] = ()
    methods: tuple[str, ...] = ()
    inits: tuple[str, ...] = ()  # the offline phases the methods need (checked)


@dataclass(frozen=True)
class Params:
    data: DataConfig = field(default_factory=DataConfig)
    datasets: tuple[str, ...] = ("diabetes", "digits")  # what `prepare` writes
    device: Literal["cpu", "cuda", "auto"] = "cpu"
    seeds: tuple[int, ...] = (0,)
    run: RunConfig = field(default_factory=RunConfig)
    run_extra: RunConfig = field(default_factory=RunConfig)  # a second grid on some of run.pairs (pipeline/grid.py)
    pairs: dict[str, PairConfig] = field(default_factory=dict)
    offline: dict[str, OfflineConfig] = field(default_factory=dict)  # keyed by init kind
    methods: dict[str, MethodConfig] = field(default_factory=dict)
    representation: RepresentationConfig = field(default_factory=RepresentationConfig)
    checkpoint: CheckpointConfig = field(default_factory=CheckpointConfig)
    executor: ExecutorConfig = field(default_factory=ExecutorConfig)  # where seeds run (never changes a result)
    tune: TuneConfig = field(default_factory=TuneConfig)
    l2l: L2LConfig = field(default_factory=L2LConfig)  # the L2L benchmark (seed 002); no problems: no stage
    fewshot: FewshotConfig = field(
        default_factory=FewshotConfig
    )  # few-shot meta-learning (seed 003); no families: no stage
    transfer: TransferConfig = field(default_factory=TransferConfig)  # ML3's meta-test; empty lists: no stage

    def __post_init__(self) -> None:
        from pipeline.data.registry import DATASETS

        for i, name in enumerate(self.datasets):
            if name not in DATASETS:
                raise ConfigError(f"datasets[{i}]: unknown data set {name!r} (known: {', '.join(DATASETS)})")
        _check_seeds(self.seeds)
        for name, method in self.methods.items():
            _check_method(name, method)
        for name in self.offline:
            if name not in INITS or name == "handcrafted":
                raise ConfigError(f"{key_path('offline', name)}: unknown offline phase (known: {', '.join(INITS[1:])})")
        _check_pair_offline(self)
        _check_run(self)
        check_run_extra(self)
        _check_tune(self)
        check_transfer(self)
        if any(problem != "quadratic" for problem in self.l2l.problems) and self.l2l.dataset not in self.datasets:
            raise ConfigError(
                f"l2l.dataset: {self.l2l.dataset!r} is not in datasets ({', '.join(self.datasets)}); "
                f"the MLP problems train on its prepared images"
            )
        for name in self.fewshot.families:
            dataset = self.fewshot.tasks[name].dataset
            if dataset not in (None, "omniglot") and dataset not in self.datasets:
                raise ConfigError(
                    f"fewshot.tasks.{name}.dataset: {dataset!r} is not in datasets ({', '.join(self.datasets)}); "
                    f"its tasks are drawn from the prepared images"
                )

    def offline_for(self, pair: str, init: str) -> OfflineConfig | None:
        """``offline.<init>`` with the pair's overrides applied; None for the handcrafted loss (no offline phase)."""
        base = self.offline.get(init) if init != "handcrafted" else None
        override = self.pairs[pair].offline.get(init) if pair in self.pairs else None
        return override.apply(base) if base is not None and override is not None else base


def _check_pair_offline(params: Params) -> None:
    for pair_name, pair in params.pairs.items():
        for init, override in pair.offline.items():
            path = f"{key_path('pairs', pair_name)}.offline.{init}"
            if init not in params.offline:
                raise ConfigError(
                    f"{path}: no offline.{init} to override (defined: {', '.join(params.offline) or 'none'})"
                )
            try:
                override.apply(params.offline[init])
            except ConfigError as error:
                raise ConfigError(f"{path}.{error}") from None


def _check_seeds(seeds: tuple[int, ...]) -> None:
    if not seeds:
        raise ConfigError("seeds: expected at least one seed, got []")
    for i, seed in enumerate(seeds):
        if seed < 0:
            raise ConfigError(f"seeds[{i}]: expected an integer >= 0, got {seed}")
    if len(set(seeds)) != len(seeds):
        raise ConfigError(f"seeds: seeds must be distinct, got {list(seeds)}")


def _check_method(name: str, method: MethodConfig) -> None:
    spec = METHODS.get(name)
    if spec is None:
        raise ConfigError(f"{key_path('methods', name)}: unknown method (known: {', '.join(METHODS)})")
    present = method.online is not None
    if spec.online and not present:
        raise ConfigError(f"{key_path('methods', name)}.online: missing required key ({name} has an online phase)")
    if present and not spec.online:
        raise ConfigError(f"{key_path('methods', name)}.online: unknown key ({name} has no online phase)")


def _check_tune(params: Params) -> None:
    run, tune = params.run, params.tune
    for i, name in enumerate(tune.pairs):
        if name not in run.pairs:
            raise ConfigError(f"tune.pairs[{i}]: {name!r} is not in run.pairs (run: {', '.join(run.pairs) or 'none'})")
    for i, name in enumerate(tune.methods):
        if name not in all_methods(params):
            raise ConfigError(
                f"tune.methods[{i}]: {name!r} is not in run.methods (run: {', '.join(run.methods) or 'none'})"
            )
        missing = [pair for pair in tune.pairs if name not in methods_on(params, pair)]
        if missing:
            raise ConfigError(
                f"tune.methods[{i}]: {name!r} does not train on {', '.join(missing)} (not in run.methods, "
                f"nor in run_extra.methods for that pair); every tune.pairs x tune.methods is tuned"
            )


def _check_run(params: Params) -> None:
    run = params.run
    for key, names, defined in (("pairs", run.pairs, params.pairs), ("methods", run.methods, params.methods)):
        for i, name in enumerate(names):
            if key == "methods" and name not in METHODS:
                raise ConfigError(f"run.methods[{i}]: unknown method {name!r} (known: {', '.join(METHODS)})")
            if name not in defined:
                raise ConfigError(
                    f"run.{key}[{i}]: {name!r} is not defined under {key}: (defined: {', '.join(defined) or 'none'})"
                )
        if len(set(names)) != len(names):
            raise ConfigError(f"run.{key}: entries must be distinct, got {list(names)}")
    for i, name in enumerate(run.pairs):
        dataset = params.pairs[name].dataset
        if dataset not in params.datasets:
            raise ConfigError(
                f"run.pairs[{i}]: pair {name!r} uses data set {dataset!r}, which is not in datasets: "
                f"add it there ({', '.join(params.datasets) or 'none'}) so that the prepare stage writes it"
            )
    if not run.methods:
        return
    needed = needed_inits(run.methods)
    if list(run.inits) != needed:
        raise ConfigError(
            f"run.inits: the methods {list(run.methods)} need exactly {needed}, got {list(run.inits)}; "
            f"set run.inits: [{', '.join(needed)}]"
        )
    for init in needed:
        if init != "handcrafted" and init not in params.offline:
            raise ConfigError(f"offline.{init}: missing required key (run.inits needs it)")


def parse_params(data: Any) -> Params:
    return parse_dataclass(Params, data)


def load_params(path: str | Path = "params.yaml") -> Params:
    """Read and validate a params file; raises ConfigError with the file and key path."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML ({str(error).splitlines()[0]})") from None
    try:
        return parse_params(data)
    except ConfigError as error:
        raise ConfigError(f"{path}: {error}") from None


if __name__ == "__main__":  # python -m pipeline.config check [--params FILE]
    import sys

    from pipeline.configcheck import main

    sys.exit(main())
