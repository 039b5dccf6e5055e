"""``embodied-stack train rl`` and ``embodied-stack eval rl``."""

from __future__ import annotations

import argparse
import time

from embodied_stack.cli import CommandRegistry


def _train_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("env_id", help="registered env id, e.g. embodied_stack/QuadrupedLocomotion-v0")
    p.add_argument("--config", required=True, help="run config YAML, e.g. config/rl/ppo_locomotion.yaml")
    p.add_argument("--timesteps", type=int, default=None, help="override the config's total env steps")
    p.add_argument("--seed", type=int, default=None, help="override the config's seed")
    p.add_argument("--out", default=None, help="output folder (default runs/<env>_<algo>_<time>)")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def _train(args: argparse.Namespace) -> int:
    from embodied_stack.rl.config import load_rl_config
    from embodied_stack.rl.train import train

    config = load_rl_config(args.config, env_id=args.env_id, timesteps=args.timesteps, seed=args.seed)
    out = args.out or (f"runs/{config.env_id.split('/')[-1]}_{config.algo}_"
                       f"{time.strftime('%Y%m%d_%H%M%S')}")
    final = train(config, out, progress_bar=not args.no_progress)
    print(f"saved {final}")
    return 0


def _eval_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--checkpoint", required=True, help="a .zip written by `embodied-stack train rl`")
    p.add_argument("--episodes", type=int, default=10)
    p.add_argument("--seed", type=int, default=0, help="episode i is reset with seed+i")
    p.add_argument("--stochastic", action="store_true", help="sample actions instead of the mean")


def _eval(args: argparse.Namespace) -> int:
    from embodied_stack.rl.evaluate import evaluate

    result = evaluate(args.checkpoint, episodes=args.episodes, seed=args.seed,
                      deterministic=not args.stochastic)
    print(result.summary())
    print(f"success rate: {result.success_rate:.1%}  mean return: {result.mean_return:.2f}")
    return 0


def register(registry: CommandRegistry) -> None:
    registry.add(("train", "rl"), configure=_train_args, run=_train,
                 help="train a stable-baselines3 agent (PPO/SAC) on a registered env from a config")
    registry.add(("eval", "rl"), configure=_eval_args, run=_eval,
                 help="evaluate a trained checkpoint over N seeded episodes")
