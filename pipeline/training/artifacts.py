"""Where each stage writes, and how its outputs are saved and read back (atomically)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from pipeline.utils.io import atomic_path, write_json
from pipeline.utils.runfacts import write_seed_facts

if TYPE_CHECKING:  # types only: evaluate and report read outputs without importing the training stack
    from pipeline.learned.rules import UpdateRule
    from pipeline.optim import Params
    from pipeline.training.loop import TrainResult


def save_init(
    folder: Path, rule: UpdateRule, history: list[float], info: dict[str, Any], facts: dict[str, Any]
) -> None:
    """The learned representation's state (empty for the handcrafted no-op) and its meta-loss curve;
    ``facts`` (wall time, node) go to the seed's run_facts.json, which the stage moves out."""
    with atomic_path(folder) as tmp:
        tmp.mkdir()
        torch.save(rule.meta_module().state_dict(), tmp / "state.pt")
        (tmp / "history.json").write_text(json.dumps({"meta_loss": history}) + "\n")
        (tmp / "info.json").write_text(json.dumps(info, indent=2) + "\n")
        write_seed_facts(tmp, facts)


def load_init(folder: Path, rule: UpdateRule) -> None:
    path = folder / "state.pt"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: missing; run the init_loss stage first")
    rule.meta_module().load_state_dict(torch.load(path, weights_only=True, map_location="cpu"))


def init_diverged_at(folder: Path) -> int | None:
    """The meta step at which the offline phase saved in ``folder`` diverged (None: it did not;
    outputs written before the phase recorded it have no such key)."""
    info = folder / "info.json"
    return json.loads(info.read_text()).get("diverged_at") if info.is_file() else None


def save_run(
    folder: Path,
    result: TrainResult,
    rule: UpdateRule,
    info: dict[str, Any],
    facts: dict[str, Any],
    start: dict[str, torch.Tensor] | None = None,
) -> None:
    """The run's model, learned representation, curves and summary; ``start``: the representation the run
    started from where it is not the shared init_loss output (a tuned method's own offline phase), as start.pt
    (pipeline/report/movement.py measures the online phase from it)."""
    summary = {
        "status": result.status,
        "steps_done": result.steps_done,
        "diverged_at": result.diverged_at,
        "final_lr": rule.current_lr(),
        **info,
    }
    with atomic_path(folder) as tmp:
        tmp.mkdir()
        model = {
            "params": {k: v.cpu() for k, v in result.state.params.items()},
            "buffers": {k: v.cpu() for k, v in result.state.buffers.items()},
        }
        torch.save(model, tmp / "model.pt")
        torch.save(rule.meta_module().state_dict(), tmp / "learned.pt")
        if start is not None:
            torch.save(start, tmp / "start.pt")
        (tmp / "history.json").write_text(json.dumps(result.history) + "\n")
        (tmp / "snapshots.json").write_text(json.dumps(result.snapshots) + "\n")
        (tmp / "result.json").write_text(json.dumps(summary, indent=2) + "\n")
        write_seed_facts(tmp, facts)


def load_run_model(folder: Path) -> tuple[Params, Params, dict[str, Any]]:
    model = torch.load(folder / "model.pt", weights_only=True, map_location="cpu")
    return model["params"], model["buffers"], json.loads((folder / "result.json").read_text())


def save_eval(path: Path, record: dict[str, Any]) -> None:
    write_json(path, record)
