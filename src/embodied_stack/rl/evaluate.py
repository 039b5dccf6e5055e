"""Roll out a saved SB3 policy for N seeded episodes and report success rate and return."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch

import embodied_stack.sim.envs  # noqa: F401  (registers the embodied_stack/ envs)
from embodied_stack.config import ConfigError
from embodied_stack.rl.config import RLConfig, load_rl_config
from embodied_stack.rl.train import ALGORITHMS


@dataclass
class EvalResult:
    episodes: int
    success_rate: float
    mean_return: float
    std_return: float
    mean_length: float
    #: mean over episodes of every numeric entry of the final step's info (e.g. mean_tracking_error)
    final_info_means: dict[str, float] = field(default_factory=dict)

    def summary(self) -> str:
        return (f"episodes={self.episodes} success_rate={self.success_rate:.3f} "
                f"mean_return={self.mean_return:.2f} (std {self.std_return:.2f}) "
                f"mean_length={self.mean_length:.1f}")


def find_run_config(checkpoint: Path) -> RLConfig:
    """``config.yaml`` beside the checkpoint (final model) or one folder up (``checkpoints/``)."""
    for folder in (checkpoint.parent, checkpoint.parent.parent):
        if (folder / "config.yaml").is_file():
            return load_rl_config(folder / "config.yaml")
    raise ConfigError(f"no config.yaml beside {checkpoint} or in its parent folder; "
                      "evaluate a checkpoint written by `embodied-stack train rl`")


def evaluate(checkpoint: str | Path, episodes: int = 10, seed: int = 0,
             deterministic: bool = True) -> EvalResult:
    """Episode ``i`` is reset with seed ``seed + i``, so a result is reproducible from its arguments."""
    if episodes < 1:
        raise ValueError(f"episodes={episodes} must be >= 1")
    torch.set_num_threads(1)
    checkpoint = Path(checkpoint)
    if not checkpoint.is_file():
        raise FileNotFoundError(f"checkpoint {checkpoint} does not exist")
    config = find_run_config(checkpoint)
    model = ALGORITHMS[config.algo].load(checkpoint, device="cpu")
    env = gym.make(config.env_id, **config.env_kwargs)
    returns, lengths, successes = [], [], []
    finals: dict[str, list[float]] = {}
    try:
        for i in range(episodes):
            obs, info = env.reset(seed=seed + i)
            total, n, done = 0.0, 0, False
            while not done:
                action, _ = model.predict(obs, deterministic=deterministic)
                obs, reward, terminated, truncated, info = env.step(action)
                total += float(reward)
                n += 1
                done = terminated or truncated
            returns.append(total)
            lengths.append(n)
            successes.append(bool(info.get("is_success", False)))
            for key, value in info.items():
                if isinstance(value, int | float | np.floating) and not isinstance(value, bool):
                    finals.setdefault(key, []).append(float(value))
    finally:
        env.close()
    return EvalResult(
        episodes=episodes,
        success_rate=float(np.mean(successes)),
        mean_return=float(np.mean(returns)),
        std_return=float(np.std(returns)),
        mean_length=float(np.mean(lengths)),
        final_info_means={k: float(np.mean(v)) for k, v in finals.items()},
    )
