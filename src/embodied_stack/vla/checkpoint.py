"""Checkpoint folders: ``model.safetensors`` (weights + normalisation stats),
``config.json`` (the full VLAConfig plus the task list) and, for resuming only,
``train_state.pt`` (optimizer, scheduler, step).

Why a folder of plain files: safetensors loads without executing code and the JSON
is readable, so a checkpoint from someone else is inspectable before it is trusted;
the optimizer state is the only pickle and is never needed to *run* a policy.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from embodied_stack.vla.config import VLAConfig, config_from_dict, config_to_dict
from embodied_stack.vla.model import VLANet

MODEL_FILE = "model.safetensors"
CONFIG_FILE = "config.json"
TRAIN_STATE_FILE = "train_state.pt"


def save_checkpoint(path: str | Path, model: VLANet, cfg: VLAConfig, tasks: list[str],
                    train_state: dict | None = None, extra: dict | None = None) -> Path:
    """Write a checkpoint folder atomically per file (a crash never leaves a half-written file)."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
    _atomic(path / MODEL_FILE, lambda tmp: save_file(tensors, str(tmp)))
    meta = {"config": config_to_dict(cfg), "tasks": tasks, **(extra or {})}
    _atomic(path / CONFIG_FILE, lambda tmp: tmp.write_text(json.dumps(meta, indent=2, ensure_ascii=False)))
    if train_state is not None:
        _atomic(path / TRAIN_STATE_FILE, lambda tmp: torch.save(train_state, tmp))
    return path


def _atomic(target: Path, write) -> None:
    tmp = target.with_suffix(target.suffix + ".tmp")
    write(tmp)
    os.replace(tmp, target)


def load_checkpoint(path: str | Path, map_location: str = "cpu") -> tuple[VLANet, VLAConfig, dict]:
    """Return (model in eval mode, config, metadata dict with 'tasks' and any extras)."""
    from embodied_stack import paths

    path = Path(paths.resolve(path))
    if not (path / MODEL_FILE).is_file() or not (path / CONFIG_FILE).is_file():
        raise FileNotFoundError(f"{path} is not a VLA checkpoint (needs {MODEL_FILE} and {CONFIG_FILE}); "
                                "train one with 'embodied-stack train vla --config config/vla/<name>.yaml'")
    meta = json.loads((path / CONFIG_FILE).read_text())
    cfg = config_from_dict(meta["config"], source=str(path / CONFIG_FILE))
    model = VLANet(cfg.model)
    model.load_state_dict(load_file(str(path / MODEL_FILE), device=map_location))
    return model.to(map_location).eval(), cfg, meta


def load_train_state(path: str | Path) -> dict | None:
    file = Path(path) / TRAIN_STATE_FILE
    return torch.load(file, map_location="cpu", weights_only=False) if file.is_file() else None
