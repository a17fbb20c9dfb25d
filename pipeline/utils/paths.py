"""Every path the stages read and write, in one place; dvc.yaml's deps and outs name the same folders.

Relative to the project root (DVC runs every stage there). The prepared data's folder is the one
path params.yaml names (``data.prepared_dir``); the others are fixed, as dvc.yaml spells them.
"""

from __future__ import annotations

from pathlib import Path

PARAMS_CHECKED = Path("data/params_checked.txt")  # the check stage's marker
CODE_DIGESTS = Path("data/code")  # the code stage: one digest of each stage module's import closure
INIT_ROOT = Path("data/init")  # init_loss@<pair>-<init>/seed<k>
RUNS_ROOT = Path("data/runs")  # train@<pair>-<method>/seed<k> (and transfer runs)
EVAL_ROOT = Path("data/eval")  # evaluate@<pair>.json
DATA_DIGESTS = Path("data/inputs/data")  # data_inputs: the prepared data each pair, family and problem reads
RUN_DIGESTS = Path("data/inputs/runs")  # run_inputs: what each train and transfer stage reads (pipeline/inputs.py)
FEWSHOT_ROOT = Path("data/fewshot")
FEWSHOT_TASKS, FEWSHOT_MODELS, FEWSHOT_RESULTS = (
    FEWSHOT_ROOT / "tasks",
    FEWSHOT_ROOT / "models",
    FEWSHOT_ROOT / "results",
)
REPORTS = Path("reports")
TIMINGS_ROOT = REPORTS / "timings"  # wall times and hosts, out of every output a stage depends on
TUNING_ROOT = REPORTS / "tuning"  # tune@<pair>-<method>: best values and the study's history
L2L_ROOT = REPORTS / "l2l"  # l2l@<problem>: table.md and curves.png


def prepared_dir(prepared_root: str | Path, dataset: str) -> Path:
    """A prepared data set's folder: ``<data.prepared_dir>/<dataset>``."""
    return Path(prepared_root) / dataset


# One DVC stage covers every seed of a (pair, init) or (pair, method): its output folder
# holds one sub-folder per seed.
def init_dir(pair: str, init: str, seed: int | None = None, root: Path = INIT_ROOT) -> Path:
    folder = root / pair / init
    return folder if seed is None else folder / f"seed{seed}"


def run_dir(pair: str, method: str, seed: int | None = None, root: Path = RUNS_ROOT) -> Path:
    folder = root / pair / method
    return folder if seed is None else folder / f"seed{seed}"


def eval_file(pair: str, root: Path = EVAL_ROOT) -> Path:
    return root / f"{pair}.json"


def tuning_dir(pair: str, method: str, root: Path = TUNING_ROOT) -> Path:
    return root / pair / method


def timings_file(stage: str, item: str, root: Path = TIMINGS_ROOT) -> Path:
    return root / f"{stage}@{item}.json"


def fewshot_model_dir(family: str, method: str, root: Path = FEWSHOT_MODELS) -> Path:
    return root / f"{family}-{method}"


def fewshot_result_file(family: str, method: str, root: Path = FEWSHOT_RESULTS) -> Path:
    return root / f"{family}-{method}.json"


def fewshot_tasks_dir(family: str, root: Path = FEWSHOT_TASKS) -> Path:
    return root / family
