"""The RL run config (``config/rl/*.yaml``) as a dataclass.

Why one flat dataclass: a run is reproducible from its YAML alone; ``train`` writes the resolved config
beside the checkpoints so ``evaluate`` rebuilds the same env without being told its id or kwargs.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from embodied_stack.config import ConfigError, from_dict, load_yaml

ALGOS = ("ppo", "sac")
ACTIVATIONS = ("tanh", "relu", "elu")


@dataclass
class RLConfig:
    """One SB3 training run.

    env_id: registered Gymnasium id, e.g. ``embodied_stack/QuadrupedLocomotion-v0``.
    algo: ``ppo`` (on-policy; locomotion) or ``sac`` (off-policy; manipulation reaching).
    timesteps: total env steps over all ``n_envs``.
    n_envs: envs stepped in one DummyVecEnv (on 2 cores it beats SubprocVecEnv, see FACTS.md).
    policy: SB3 policy name (``MlpPolicy`` for Box obs, ``MultiInputPolicy`` for Dict obs).
    net_arch: hidden layer sizes of actor and critic; activation: one of ``ACTIVATIONS``.
    algo_kwargs: passed to the SB3 algorithm (learning_rate, n_steps, batch_size, gamma, ...).
    env_kwargs: passed to ``gymnasium.make``.
    checkpoint_every: env steps between checkpoints.
    features_extractor: ``module:Class`` of an SB3 features extractor (e.g. a set encoder over people);
    empty for SB3's default. features_extractor_kwargs: its constructor arguments.
    """

    env_id: str
    algo: str = "ppo"
    timesteps: int = 100_000
    n_envs: int = 1
    seed: int = 0
    policy: str = "MlpPolicy"
    net_arch: list[int] = field(default_factory=lambda: [256, 256])
    activation: str = "tanh"
    log_std_init: float | None = None
    algo_kwargs: dict[str, Any] = field(default_factory=dict)
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    checkpoint_every: int = 50_000
    features_extractor: str = ""
    features_extractor_kwargs: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.algo not in ALGOS:
            raise ConfigError(f"algo={self.algo!r} is not supported; use one of {ALGOS}")
        if self.activation not in ACTIVATIONS:
            raise ConfigError(f"activation={self.activation!r}; use one of {ACTIVATIONS}")
        for name in ("timesteps", "n_envs", "checkpoint_every"):
            if int(getattr(self, name)) < 1:
                raise ConfigError(f"{name}={getattr(self, name)} must be >= 1")

    def dump(self, path: Path) -> None:
        path.write_text(yaml.safe_dump(dataclasses.asdict(self), sort_keys=False), encoding="utf-8")


def load_rl_config(path: str | Path, **overrides: Any) -> RLConfig:
    """Read ``path`` and apply non-None ``overrides`` (CLI flags such as ``timesteps``)."""
    data = load_yaml(path) or {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of RLConfig fields")
    data.update({k: v for k, v in overrides.items() if v is not None})
    return from_dict(RLConfig, data, source=str(path))
