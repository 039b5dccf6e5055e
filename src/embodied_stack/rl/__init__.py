"""Reinforcement learning on the sim envs with stable-baselines3: config-driven train and evaluate.

``train(config)`` and ``evaluate(checkpoint, episodes, seed)`` are the public API; ``cli.py`` exposes them
as ``embodied-stack train rl`` / ``embodied-stack eval rl``.
"""

from embodied_stack.rl.config import RLConfig, load_rl_config
from embodied_stack.rl.evaluate import EvalResult, evaluate
from embodied_stack.rl.train import train

__all__ = ["EvalResult", "RLConfig", "evaluate", "load_rl_config", "train"]
