"""``fewshot:`` in params.yaml: the few-shot meta-learning branch (seed 003), its own DVC stages.

fewshot_tasks@<family> -> meta_train@<family>-<method> -> meta_test@<family>-<method> -> report. A
family is a task distribution (sinusoid regression, N-way K-shot classification on an
image data set); each has its own budget, since sinusoids cost a fraction of what images do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pipeline.methods import FEWSHOT_METHODS
from pipeline.utils.configparse import ConfigError

METHODS = tuple(FEWSHOT_METHODS)  # pipeline/methods.py: what each one meta-learns
IMAGE_DATASETS = ("digits", "mnist5k", "omniglot")


def _at_least(name: str, value: int, low: int = 1) -> None:
    if value < low:
        raise ConfigError(f"{name}: expected an integer >= {low}, got {value}")


@dataclass(frozen=True)
class MetaTrainConfig:
    """The outer loop (Adam on theta_g and the rule) and the inner loop it differentiates through."""

    iterations: int = 1000  # meta-iterations (the papers: 70k for sinusoids, 40-60k for Omniglot)
    meta_batch: int = 25  # tasks per meta-iteration
    meta_lr: float = 1e-3  # Adam's beta in the MAML paper
    inner_lr: float = 0.01  # alpha: MAML's fixed step, the others' initial value
    inner_steps: int = 1  # adaptation steps during meta-training
    first_order: bool = False  # MAML / the rules without the Hessian-vector product (FOMAML)
    valid_tasks: int = 100  # fixed meta-validation tasks, evaluated every valid_interval iterations
    valid_interval: int = 100

    def __post_init__(self) -> None:
        for name in ("iterations", "meta_batch", "inner_steps", "valid_tasks", "valid_interval"):
            _at_least(name, getattr(self, name))
        for name in ("meta_lr", "inner_lr"):
            if not getattr(self, name) > 0:
                raise ConfigError(f"{name}: expected a number > 0, got {getattr(self, name)}")


@dataclass(frozen=True)
class FamilyConfig:
    """One task distribution and its budget."""

    kind: Literal["sinusoid", "images"]
    shots: tuple[int, ...] = (5, 10, 20)  # K: one meta-training per K
    query: int = 10  # query points (sinusoid) or images per class (images) per meta-training task
    test_query: int = 100  # the same at meta-test
    hidden: int = 40  # sinusoid: the 2-layer ReLU MLP's width
    dataset: str | None = None  # images: digits | mnist5k | omniglot
    root: str = "data/raw/omniglot"  # omniglot: the folder holding images_background/ and images_evaluation/
    ways: int = 5
    rotations: tuple[int, ...] = (0, 90)  # rotated copies as extra classes (MAML's Omniglot: 0/90/180/270)
    classes: dict[str, tuple[int, ...]] = field(default_factory=dict)  # digits/mnist5k: digits per split
    filters: int = 32  # images: the 4-layer conv net's width (MAML: 64)
    train: MetaTrainConfig = field(default_factory=MetaTrainConfig)

    def __post_init__(self) -> None:
        _at_least("query", self.query)
        _at_least("test_query", self.test_query)
        if not self.shots or min(self.shots) < 1:
            raise ConfigError(f"shots: expected a non-empty list of integers >= 1, got {list(self.shots)}")
        if self.kind == "images":
            self._check_images()

    def _check_images(self) -> None:
        if self.dataset not in IMAGE_DATASETS:
            raise ConfigError(
                f"dataset: expected one of {', '.join(IMAGE_DATASETS)} for an image family, got {self.dataset!r}"
            )
        _at_least("ways", self.ways, 2)
        for i, angle in enumerate(self.rotations):
            if angle not in (0, 90, 180, 270):
                raise ConfigError(f"rotations[{i}]: expected 0, 90, 180 or 270, got {angle}")
        if self.dataset != "omniglot":
            self._check_class_split()

    def _check_class_split(self) -> None:
        if set(self.classes) != {"train", "valid", "test"}:
            raise ConfigError(f"classes: expected the keys train, valid, test, got {sorted(self.classes)}")
        seen: set[int] = set()
        for split, digits in self.classes.items():
            if set(digits) & seen or not set(digits) <= set(range(10)):
                raise ConfigError(f"classes.{split}: expected digits 0-9 not used by another split, got {list(digits)}")
            seen |= set(digits)
            if len(digits) * len(self.rotations) < self.ways:
                raise ConfigError(
                    f"classes.{split}: {len(digits)} digits x {len(self.rotations)} rotations "
                    f"give fewer classes than ways = {self.ways}"
                )


@dataclass(frozen=True)
class TestConfig:
    tasks: int = 600  # meta-test tasks (the papers: 600) for the mean and its 95% interval
    steps: int = 10  # adaptation steps at meta-test: the curve's length (the error after inner_steps is the table's)

    def __post_init__(self) -> None:
        _at_least("tasks", self.tasks, 2)
        _at_least("steps", self.steps)


@dataclass(frozen=True)
class FewshotConfig:
    families: tuple[str, ...] = ()  # which of `tasks` run; none: no few-shot stage
    methods: tuple[str, ...] = METHODS
    seed: int = 0  # fixes the split, the test tasks, theta_g's initial value and the task stream
    tasks: dict[str, FamilyConfig] = field(default_factory=dict)
    test: TestConfig = field(default_factory=TestConfig)

    def __post_init__(self) -> None:
        for i, name in enumerate(self.families):
            if name not in self.tasks:
                raise ConfigError(
                    f"families[{i}]: {name!r} is not defined under fewshot.tasks "
                    f"(defined: {', '.join(self.tasks) or 'none'})"
                )
        for i, name in enumerate(self.methods):
            if name not in METHODS:
                raise ConfigError(f"methods[{i}]: unknown method {name!r} (known: {', '.join(METHODS)})")
