"""What each data-reading stage reads besides its code and params, as one digest file DVC tracks.

DVC's templating cannot look one value up by another (``${pairs.${item.pair}.dataset}``; DVC issues
10094 and 10904), so ``train@<pair>-<method>`` cannot name the one prepared data set its pair uses,
the one offline phase its method starts from, or its own tuning result. Depending on the whole
folders instead (``data/prepared``, ``data/init/<pair>``, ``reports/tuning``) re-ran every pair when
one data set changed, the baseline when a Taylor phase did, and every training when one study did.

So two cheap stages (no torch) write, per consumer, the SHA-256 of every file it reads, as the
`code` stage does for code (pipeline/utils/digest.py):

- ``data_inputs``: ``data/inputs/data/pair-<pair>.txt`` (init_loss and evaluate of the pair),
  ``family-<family>.txt`` (fewshot_tasks) and ``problem-<problem>.txt`` (l2l): the prepared data set;
  ``tune-<pair>-<method>.txt``: the pair's data set and the ``offline.<init>`` block the study runs;
- ``run_inputs``: ``data/inputs/runs/train-<pair>-<method>.txt`` and
  ``transfer-<pair>-<method>-<source>.txt``: the pair's data digest and the offline phase's output
  the run starts from (none for the handcrafted loss); for a tuned method, instead, its study's
  result, the ``offline.<init>`` block of the offline phase it then runs itself and the ``tune``
  settings its study's name must match.

The same lookup problem holds for params: ``train`` and ``tune`` read ``offline.<their init>`` (tuned
only), which DVC cannot name per stage; the digests carry that block's values, so the stages need not
declare the whole ``offline`` section (pipeline/paramsview.py lets them read it). Likewise ``train``
reads the ``tune`` keys only where its method is tuned: its digest carries them there, so an edit of
``tune`` re-runs the tuned trainings and no other.

A digest changes only when something its consumer reads does, so only that consumer re-runs.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.methods import METHODS, has_offline_phase
from pipeline.training.grid import methods_on
from pipeline.training.transfer import transfer_runs
from pipeline.tuning.config import is_tuned
from pipeline.utils.digest import tree_lines
from pipeline.utils.paths import DATA_DIGESTS, init_dir, prepared_dir, tuning_dir

if TYPE_CHECKING:
    from pipeline.config import Params

NO_PREPARED_DATA = "# reads no prepared data set"


def pair_digest(pair: str, root: Path = DATA_DIGESTS) -> Path:
    return root / f"pair-{pair}.txt"


def offline_lines(params: Params, pair: str, method: str) -> list[str]:
    """The ``offline.<init>`` block (with the pair's overrides) a tuned method or its study runs, as one line."""
    init = METHODS[method].init
    config = params.offline_for(pair, init)
    return [] if config is None else [f"# offline.{init} on {pair}: {json.dumps(asdict(config), sort_keys=True)}"]


def study_lines(params: Params) -> list[str]:
    """The tune settings a tuned training checks its study's name against (pipeline/tuning/space.py), as one line."""
    tune = params.tune
    keys: dict[str, object] = {"space": asdict(tune.space), "seeds": list(tune.seeds)}
    keys.update(objective_split=tune.objective_split, holdout_fraction=tune.holdout_fraction)
    keys["split_seed"] = params.data.split_seed
    return [f"# tune: {json.dumps(keys, sort_keys=True)}"]


def data_digests(params: Params) -> dict[str, list[str]]:
    """Digest name -> its lines: every pair whose data set `prepare` writes, every few-shot family, every
    L2L problem and every tune stage."""
    root = params.data.prepared_dir
    found = {
        f"pair-{name}": tree_lines(prepared_dir(root, pair.dataset))
        for name, pair in params.pairs.items()
        if pair.dataset in params.datasets
    }
    for family in params.fewshot.families:  # omniglot reads its own raw folder (fewshot.tasks.<family>.root)
        dataset = params.fewshot.tasks[family].dataset
        found[f"family-{family}"] = tree_lines(prepared_dir(root, dataset)) if dataset in params.datasets else []
    images = prepared_dir(root, params.l2l.dataset)
    for problem in params.l2l.problems:  # the quadratic problem needs no images
        found[f"problem-{problem}"] = [] if problem == "quadratic" else tree_lines(images)
    for pair in params.tune.pairs:
        for method in params.tune.methods:
            found[f"tune-{pair}-{method}"] = found[f"pair-{pair}"] + offline_lines(params, pair, method)
    return {name: lines or [NO_PREPARED_DATA] for name, lines in found.items()}


@dataclass(frozen=True)
class RunInputs:
    """What one train or transfer stage reads: its pair's data digest, an offline output or a tuning result.

    The stages take the offline output from here too (``init_folder``), so the digest covers what they read."""

    data_digest: Path
    init: tuple[str, str] | None = None  # (pair, init) of the offline output the run starts from
    tuning_result: Path | None = None
    params_lines: tuple[str, ...] = ()  # the offline block a tuned method runs

    def init_folder(self, seed: int | None = None) -> Path | None:
        """The offline output the run starts from (a seed's, or the whole stage's); None: it starts from none."""
        return None if self.init is None else init_dir(*self.init, seed)

    def lines(self) -> list[str]:
        lines = self.data_digest.read_text().splitlines()
        for path in (self.init_folder(), self.tuning_result):
            if path is not None:
                lines += tree_lines(path)
        return lines + list(self.params_lines)


def train_inputs(params: Params, pair: str, method: str, data_root: Path = DATA_DIGESTS) -> RunInputs:
    init = METHODS[method].init
    if is_tuned(params.tune, pair, method):  # a tuned method runs its own offline phase (training/offline.py)
        result = tuning_dir(pair, method) / "result.json"
        lines = offline_lines(params, pair, method) + study_lines(params)
        return RunInputs(pair_digest(pair, data_root), None, result, tuple(lines))
    return RunInputs(pair_digest(pair, data_root), (pair, init) if has_offline_phase(init) else None)


def transfer_inputs(pair: str, method: str, source: str, data_root: Path = DATA_DIGESTS) -> RunInputs:
    return RunInputs(pair_digest(pair, data_root), (source, METHODS[method].init))


def run_digests(params: Params, data_root: Path = DATA_DIGESTS) -> dict[str, list[str]]:
    """Digest name -> its lines, for every train (both grids) and transfer stage."""
    wanted = {
        f"train-{pair}-{method}": train_inputs(params, pair, method, data_root)
        for pair in params.run.pairs
        for method in methods_on(params, pair)
    }
    for pair, method, source in transfer_runs(params.transfer):
        wanted[f"transfer-{pair}-{method}-{source}"] = transfer_inputs(pair, method, source, data_root)
    return {name: inputs.lines() for name, inputs in wanted.items()}


def write_digests(digests: dict[str, list[str]], out: Path) -> list[str]:
    """One ``<name>.txt`` per digest in ``out``, and none of an earlier run (a reader dropped from params
    must not keep one); returns the names."""
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.glob("*.txt"):
        stale.unlink()
    for name, lines in digests.items():
        (out / f"{name}.txt").write_text("\n".join(lines) + "\n")
    return list(digests)
