"""Tabletop env step rate with and without cameras: ``python bench/sim_speed.py [--steps 500]``.

Random actions, auto-reset, single process, one torch-free thread. Rows: state-only
observations (what RL trains on), scene camera, scene + wrist cameras, at 96x96 and
128x128 RGB (shadows/reflections off, EGL on CPU), plus raw ``TabletopWorld.step``.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("MUJOCO_GL", "egl")
os.environ.setdefault("XDG_CACHE_HOME", "/tmp/xdg-cache")

import gymnasium as gym  # noqa: E402

import embodied_stack.sim.envs  # noqa: E402,F401
from embodied_stack.sim.tabletop import TabletopWorld  # noqa: E402

CONFIGS = (
    ("state", {}),
    ("scene 96x96", {"obs_mode": "scene", "image_size": 96}),
    ("scene+wrist 96x96", {"obs_mode": "scene+wrist", "image_size": 96}),
    ("scene 128x128", {"obs_mode": "scene", "image_size": 128}),
    ("scene+wrist 128x128", {"obs_mode": "scene+wrist", "image_size": 128}),
)


def env_rate(env_id: str, kwargs: dict, steps: int) -> float:
    env = gym.make(env_id, **kwargs)
    env.reset(seed=0)
    env.action_space.seed(0)
    for _ in range(20):  # warm-up: first renders compile shaders
        env.step(env.action_space.sample())
    t0 = time.perf_counter()
    for _ in range(steps):
        _, _, terminated, truncated, _ = env.step(env.action_space.sample())
        if terminated or truncated:
            env.reset()
    rate = steps / (time.perf_counter() - t0)
    env.close()
    return rate


def world_rate(steps: int) -> float:
    world = TabletopWorld()
    t0 = time.perf_counter()
    for _ in range(steps):
        world.step()
    rate = steps / (time.perf_counter() - t0)
    world.close()
    return rate


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--steps", type=int, default=500)
    ap.add_argument("--env", default="embodied_stack/TabletopPickPlace-v0")
    args = ap.parse_args()
    print(f"{args.env}: control steps/s (1 step = 40 ms sim = 20 physics steps)")
    print(f"{'observation':22s} {'steps/s':>8s} {'x real time':>11s}")
    raw = world_rate(args.steps)
    print(f"{'(TabletopWorld.step)':22s} {raw:8.0f} {raw * 0.04:11.1f}")
    for name, kwargs in CONFIGS:
        rate = env_rate(args.env, kwargs, args.steps)
        print(f"{name:22s} {rate:8.0f} {rate * 0.04:11.1f}")


if __name__ == "__main__":
    main()
