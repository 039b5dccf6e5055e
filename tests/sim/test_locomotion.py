"""QuadrupedLocomotion-v0: API checks, determinism, reward bookkeeping, falls terminate."""

import os

os.environ.setdefault("MUJOCO_GL", "egl")

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import embodied_stack.sim.envs  # noqa: F401

ENV_ID = "embodied_stack/QuadrupedLocomotion-v0"


def test_passes_gymnasium_and_sb3_checks():
    env = gym.make(ENV_ID)
    check_env(env.unwrapped, skip_render_check=True)
    sb3_check_env(env.unwrapped, warn=False)
    env.close()


def _rollout(seed: int, steps: int = 60) -> np.ndarray:
    env = gym.make(ENV_ID)
    obs, _ = env.reset(seed=seed)
    env.action_space.seed(seed)
    out = [obs]
    for _ in range(steps):
        obs, reward, terminated, truncated, _ = env.step(env.action_space.sample())
        out.append(np.append(obs, reward))
        if terminated or truncated:
            obs, _ = env.reset()
    env.close()
    return np.concatenate(out)


def test_same_seed_same_trajectory():
    np.testing.assert_array_equal(_rollout(7), _rollout(7))
    assert not np.array_equal(_rollout(7), _rollout(8))


def test_reward_is_sum_of_terms_and_standing_tracks_zero_command():
    env = gym.make(ENV_ID)
    env.reset(seed=0, options={"command": [0.0, 0.0, 0.0]})
    for _ in range(50):
        _, reward, terminated, _, info = env.step(np.zeros(12, dtype=np.float32))
        terms = sum(v for k, v in info.items() if k.startswith("reward_"))
        assert reward == pytest.approx(terms)
    assert not terminated and info["is_success"]
    assert info["reward_tracking_lin_vel"] > 0.95
    env.close()


def test_fall_terminates_with_penalty():
    env = gym.make(ENV_ID)
    env.reset(seed=0)
    u = env.unwrapped
    u.data.qpos[3:7] = [np.cos(np.pi / 4), np.sin(np.pi / 4), 0, 0]  # rolled 90 deg onto its side
    _, _, terminated, _, info = env.step(np.zeros(12, dtype=np.float32))
    assert terminated and not info["is_success"]
    assert info["reward_termination"] < 0
    env.close()


def test_renders_rgb():
    env = gym.make(ENV_ID, render_mode="rgb_array", width=64, height=48)
    env.reset(seed=0)
    frame = env.render()
    assert frame.shape == (48, 64, 3) and frame.std() > 0
    env.close()
