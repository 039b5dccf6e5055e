"""Scripted-expert success under randomisation: ``python bench/sim_experts.py [--seeds 100]``.

Runs each tabletop env's scripted expert (``embodied_stack.sim.experts``) on seeds
0..N-1 with the default randomisation of ``config/sim/tabletop.yaml`` and prints
success rate, mean episode length (steps of 40 ms) and wall time per env.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("MUJOCO_GL", "egl")

import gymnasium as gym  # noqa: E402
import numpy as np  # noqa: E402

import embodied_stack.sim.envs  # noqa: E402,F401
from embodied_stack.sim.experts import make_expert  # noqa: E402

ENVS = ("embodied_stack/Reach-v0", "embodied_stack/Push-v0", "embodied_stack/TabletopPickPlace-v0")


def run(env_id: str, seeds: int) -> tuple[float, float, float, list[int]]:
    env = gym.make(env_id)
    expert = make_expert(env)
    wins, lengths, failed = 0, [], []
    t0 = time.perf_counter()
    for seed in range(seeds):
        env.reset(seed=seed)
        expert.reset()
        steps = 0
        while True:
            _, _, terminated, truncated, info = env.step(expert.act())
            steps += 1
            if terminated or truncated:
                break
        wins += info["is_success"]
        lengths.append(steps)
        if not info["is_success"]:
            failed.append(seed)
    env.close()
    return wins / seeds, float(np.mean(lengths)), time.perf_counter() - t0, failed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seeds", type=int, default=100)
    args = ap.parse_args()
    print(f"{'env':38s} {'success':>8s} {'mean steps':>10s} {'wall s':>7s}  failed seeds")
    for env_id in ENVS:
        rate, length, wall, failed = run(env_id, args.seeds)
        print(f"{env_id:38s} {rate:8.1%} {length:10.1f} {wall:7.1f}  {failed}")


if __name__ == "__main__":
    main()
