"""Reinforcement learning on the sim envs with stable-baselines3: config-driven train and evaluate.

``train(config)`` and ``evaluate(checkpoint, episodes, seed)`` are the public API; ``cli.py`` exposes them
as ``embodied-stack train rl`` / ``embodied-stack eval rl``. Attributes load lazily so that importing
``embodied_stack.rl.cli`` (every ``embodied-stack`` invocation does) does not import torch and SB3.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "RLConfig": "embodied_stack.rl.config",
    "load_rl_config": "embodied_stack.rl.config",
    "EvalResult": "embodied_stack.rl.evaluate",
    "evaluate": "embodied_stack.rl.evaluate",
    "train": "embodied_stack.rl.train",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value  # replaces the submodule of the same name (rl.train) on the package
        return value
    raise AttributeError(f"module 'embodied_stack.rl' has no attribute '{name}'")
