"""Scripted experts solve their tasks under randomisation (a small sample; the
100-seed figure comes from ``python bench/sim_experts.py``)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import embodied_stack.sim.envs  # noqa: F401
from embodied_stack.sim.experts import make_expert


def _success_rate(env_id: str, seeds: range) -> float:
    env = gym.make(env_id)
    expert = make_expert(env)
    wins = 0
    for seed in seeds:
        env.reset(seed=seed)
        expert.reset()
        while True:
            action = expert.act()
            assert env.action_space.contains(action)
            _, _, terminated, truncated, info = env.step(action)
            if terminated or truncated:
                break
        wins += info["is_success"]
    env.close()
    return wins / len(seeds)


@pytest.mark.parametrize("env_id, n", [("embodied_stack/Reach-v0", 5), ("embodied_stack/Push-v0", 5),
                                       ("embodied_stack/TabletopPickPlace-v0", 5)])
def test_expert_succeeds(env_id, n):
    assert _success_rate(env_id, range(1000, 1000 + n)) == 1.0


def test_make_expert_rejects_other_envs():
    env = gym.make("CartPole-v1")
    with pytest.raises(ValueError, match="no scripted expert"):
        make_expert(env)
    env.close()


def test_pick_place_success_means_object_in_container():
    env = gym.make("embodied_stack/TabletopPickPlace-v0")
    expert = make_expert(env)
    env.reset(seed=5)
    expert.reset()
    info = {}
    for _ in range(200):
        _, _, terminated, truncated, info = env.step(expert.act())
        if terminated or truncated:
            break
    u = env.unwrapped
    assert info["is_success"]
    obj, box = u.world.object_position(u.target_object), u.world.object_position(u.container)
    assert np.linalg.norm(obj[:2] - box[:2]) < 0.06
    env.close()
