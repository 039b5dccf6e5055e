"""Train an SB3 agent from an :class:`RLConfig`, writing checkpoints and CSV/TensorBoard logs.

Layout of ``out``: ``config.yaml`` (the resolved run config), ``checkpoints/<algo>_<steps>_steps.zip``,
``final_model.zip``, ``progress.csv`` and TensorBoard event files. ``evaluate`` needs only the zip: it
finds ``config.yaml`` beside it or one folder up.
"""

from __future__ import annotations

import importlib
import logging
import time
from pathlib import Path

import gymnasium as gym
import torch
from stable_baselines3 import PPO, SAC
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import CheckpointCallback
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.logger import configure
from stable_baselines3.common.vec_env import DummyVecEnv

import embodied_stack.sim.envs  # noqa: F401  (registers the embodied_stack/ envs)
from embodied_stack.rl.config import RLConfig

log = logging.getLogger(__name__)

ALGORITHMS: dict[str, type[BaseAlgorithm]] = {"ppo": PPO, "sac": SAC}
_ACTIVATIONS = {"tanh": torch.nn.Tanh, "relu": torch.nn.ReLU, "elu": torch.nn.ELU}


def make_env(config: RLConfig, seed: int):
    """The vectorised, Monitor-wrapped training env (``is_success`` goes into the episode stats)."""
    return make_vec_env(
        config.env_id,
        n_envs=config.n_envs,
        seed=seed,
        env_kwargs=config.env_kwargs,
        vec_env_cls=DummyVecEnv,
        monitor_kwargs={"info_keywords": ("is_success",)},
    )


def build_model(config: RLConfig, env) -> BaseAlgorithm:
    policy_kwargs: dict = {"net_arch": list(config.net_arch),
                           "activation_fn": _ACTIVATIONS[config.activation]}
    if config.log_std_init is not None:
        policy_kwargs["log_std_init"] = config.log_std_init
    if config.features_extractor:
        module, _, name = config.features_extractor.partition(":")
        policy_kwargs["features_extractor_class"] = getattr(importlib.import_module(module), name)
        policy_kwargs["features_extractor_kwargs"] = dict(config.features_extractor_kwargs)
    cls = ALGORITHMS[config.algo]
    return cls(config.policy, env, seed=config.seed, policy_kwargs=policy_kwargs, verbose=0,
               device="cpu", **config.algo_kwargs)


def train(config: RLConfig, out: str | Path, progress_bar: bool = True) -> Path:
    """Train and return the path of ``final_model.zip``.

    One torch thread: on the 2-core target machines the env stepping and the small MLP compete for the
    same cores, and more threads only add contention (measured, FACTS.md).
    """
    torch.set_num_threads(1)
    if config.env_id not in gym.registry:
        raise ValueError(f"unknown env_id {config.env_id!r}; registered embodied_stack envs: "
                         f"{sorted(k for k in gym.registry if k.startswith('embodied_stack/'))}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    config.dump(out / "config.yaml")
    env = make_env(config, config.seed)
    model = build_model(config, env)
    model.set_logger(configure(str(out), ["stdout", "csv", "tensorboard"]))
    checkpoints = CheckpointCallback(save_freq=max(config.checkpoint_every // config.n_envs, 1),
                                     save_path=str(out / "checkpoints"), name_prefix=config.algo)
    start = time.monotonic()
    model.learn(total_timesteps=config.timesteps, callback=checkpoints, progress_bar=progress_bar)
    final = out / "final_model.zip"
    model.save(final)
    env.close()
    log.info("trained %d steps in %.0f s -> %s", config.timesteps, time.monotonic() - start, final)
    return final
