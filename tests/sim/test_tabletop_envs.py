"""Every tabletop env: check_env (gymnasium and SB3), seeded determinism, spaces, rewards."""

from __future__ import annotations

import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import embodied_stack.sim.envs  # noqa: F401  (registers the envs)

TABLETOP_ENVS = ["embodied_stack/Reach-v0", "embodied_stack/Push-v0", "embodied_stack/TabletopPickPlace-v0"]


@pytest.mark.parametrize("env_id", TABLETOP_ENVS)
def test_check_env_state_mode_gymnasium_and_sb3(env_id):
    env = gym.make(env_id)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_env(env.unwrapped, skip_render_check=True)
        sb3_check_env(env.unwrapped, warn=False)
    env.close()


@pytest.mark.parametrize("env_id", TABLETOP_ENVS)
def test_check_env_images_and_instruction(env_id):
    env = gym.make(env_id, obs_mode="scene+wrist", image_size=32, instruction_in_obs=True, language="both")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_env(env.unwrapped, skip_render_check=True)
    obs, info = env.reset(seed=3)
    assert obs["scene"].shape == (32, 32, 3) and obs["wrist"].dtype == np.uint8
    assert obs["instruction"] == info["instruction"] and obs["instruction"]
    env.close()


def test_sb3_check_env_with_images():
    env = gym.make("embodied_stack/TabletopPickPlace-v0", obs_mode="scene", image_size=32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sb3_check_env(env.unwrapped, warn=False)
    env.close()


def _rollout(env_id: str, seed: int, steps: int = 25, **kwargs) -> list[np.ndarray]:
    env = gym.make(env_id, **kwargs)
    obs, info = env.reset(seed=seed)
    env.action_space.seed(seed)
    trace = [obs["state"], obs["goal"], np.frombuffer(info["instruction"].encode(), dtype=np.uint8)]
    for _ in range(steps):
        obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
        trace += [obs["state"], obs["goal"], np.array([reward])]
        if terminated or truncated:
            break
    env.close()
    return trace


@pytest.mark.parametrize("env_id", TABLETOP_ENVS)
def test_same_seed_same_trajectory(env_id):
    a, b = _rollout(env_id, seed=7), _rollout(env_id, seed=7)
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
    c = _rollout(env_id, seed=8)
    assert any(x.shape != y.shape or not np.array_equal(x, y) for x, y in zip(a, c, strict=False))


def test_same_seed_same_images():
    def first_image(seed):
        env = gym.make("embodied_stack/Reach-v0", obs_mode="scene", image_size=32)
        obs, _ = env.reset(seed=seed)
        obs, *_ = env.step(np.full(6, 0.5, dtype=np.float32))
        env.close()
        return obs["scene"]
    np.testing.assert_array_equal(first_image(1), first_image(1))


@pytest.mark.parametrize("env_id", TABLETOP_ENVS)
def test_dense_reward_is_sum_of_terms_and_sparse_is_success(env_id):
    env = gym.make(env_id)
    env.reset(seed=0)
    _, reward, _, _, info = env.step(np.zeros(6, dtype=np.float32))
    terms = {k: v for k, v in info.items() if k.startswith("reward_")}
    assert terms and reward == pytest.approx(sum(terms.values()))
    env.close()
    env = gym.make(env_id, reward_type="sparse")
    env.reset(seed=0)
    _, reward, _, _, info = env.step(np.zeros(6, dtype=np.float32))
    assert reward == float(info["is_success"])
    env.close()


def test_nan_action_is_rejected_without_moving():
    env = gym.make("embodied_stack/Reach-v0").unwrapped
    env.reset(seed=0)
    before = env.arm.joint_targets
    with pytest.raises(ValueError, match="NaN"):
        env.step(np.array([np.nan, 0, 0, 0, 0, 0], dtype=np.float32))
    np.testing.assert_array_equal(env.arm.joint_targets, before)
    env.close()


def test_bad_arguments_name_the_fix():
    with pytest.raises(ValueError, match="obs_mode"):
        gym.make("embodied_stack/Reach-v0", obs_mode="lidar")
    with pytest.raises(ValueError, match="reward_type"):
        gym.make("embodied_stack/Reach-v0", reward_type="shaped")


def test_render_rgb_array():
    env = gym.make("embodied_stack/Push-v0", render_mode="rgb_array", render_size=48)
    env.reset(seed=0)
    frame = env.render()
    assert frame.shape == (48, 48, 3) and frame.dtype == np.uint8 and frame.std() > 0
    env.close()
