"""SocialNav-v0 is a well-formed Gymnasium env: check_env, seeded determinism, vectorisation, reward terms."""

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import embodied_stack.sim.envs  # noqa: F401  (registers embodied_stack/SocialNav-v0)
from embodied_stack.navigation.env import SocialNavEnv
from embodied_stack.navigation.types import Twist

ENV_ID = "embodied_stack/SocialNav-v0"


@pytest.mark.parametrize("kinematics", ["holonomic", "unicycle"])
def test_check_env(kinematics):
    env = gym.make(ENV_ID, kinematics=kinematics, people=[0, 20], scan_beams=16)
    check_env(env.unwrapped, skip_render_check=True)
    env.close()


def test_render_rgb_array():
    env = gym.make(ENV_ID, people=5, render_mode="rgb_array")
    env.reset(seed=0)
    frame = env.render()
    assert frame.dtype == np.uint8 and frame.ndim == 3 and frame.shape[2] == 3
    assert (frame != 255).any(), "a frame with people and a robot cannot be blank"


def _rollout(seed, model):
    env = SocialNavEnv(scenario="mixed", people=[5, 20], crowd_model=model)
    obs, info = env.reset(seed=seed)
    actions = np.random.default_rng(123).uniform(-1, 1, (30, 2))
    out = [obs["people"].copy()]
    for a in actions:
        obs, reward, terminated, truncated, info = env.step(a)
        out.append(obs["people"].copy())
        out.append(np.array([reward]))
        if terminated or truncated:
            break
    return np.concatenate([o.ravel() for o in out]), env.trajectory()


@pytest.mark.parametrize("model", ["orca", "social_force"])
def test_same_seed_same_episode(model):
    a, traj_a = _rollout(7, model)
    b, traj_b = _rollout(7, model)
    c, _ = _rollout(8, model)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(traj_a.people_xy, traj_b.people_xy)
    assert a.shape != c.shape or not np.array_equal(a, c), "a different seed must give a different episode"


def test_vectorised():
    envs = gym.make_vec(ENV_ID, num_envs=2, vectorization_mode="sync", people=[0, 10])
    obs, _ = envs.reset(seed=[1, 2])
    assert obs["people"].shape == (2, 20, 6)
    for _ in range(5):
        obs, reward, terminated, truncated, info = envs.step(envs.action_space.sample())
    assert reward.shape == (2,)
    envs.close()


def test_reward_terms_sum_to_the_reward_and_a_collision_ends_the_episode():
    env = SocialNavEnv(scenario="head_on", people=20, crowd_model="orca")
    env.reset(seed=3)
    info, total, terms = {}, 0.0, 0.0
    for _ in range(200):  # straight at the oncoming crowd, people blind to the robot
        _, reward, terminated, truncated, info = env.step(np.array([1.0, 0.0]))
        terms = sum(v for k, v in info.items() if k.startswith("reward_"))
        assert reward == pytest.approx(terms)
        total += reward
        if terminated or truncated:
            break
    assert info["outcome"] == "collision" and info["collision_type"] in ("robot_on_person", "person_on_robot")
    assert info["reward_collision"] < 0 and info["reward_discomfort"] < 0


def test_empty_scene_straight_to_goal_succeeds_with_the_success_reward():
    env = SocialNavEnv(scenario="circle_crossing", people=0)
    obs, _ = env.reset(seed=0)
    assert obs["people_mask"].sum() == 0
    for _ in range(100):
        obs, reward, terminated, truncated, info = env.step(np.array([1.0, 0.0]))  # F-x points at the goal
        if terminated or truncated:
            break
    assert info["is_success"] and info["reward_success"] == env.weights["success"]
    with pytest.raises(RuntimeError, match="call reset"):
        env.step(np.zeros(2))


def test_unicycle_cannot_move_sideways():
    env = SocialNavEnv(scenario="random_goals", people=0, kinematics="unicycle")
    env.reset(seed=0)
    yaw = env.pose[2]
    start = env.pose[:2].copy()
    env.step_twist(Twist(vx=0.0, vy=1.0, wz=0.0))
    np.testing.assert_allclose(env.pose[:2], start)
    assert env.pose[2] == pytest.approx(yaw)


def test_bad_arguments_name_the_value():
    with pytest.raises(ValueError, match="scenario='nowhere'"):
        SocialNavEnv(scenario="nowhere")
    with pytest.raises(ValueError, match="kinematics='tank'"):
        SocialNavEnv(kinematics="tank")
    with pytest.raises(ValueError, match="people="):
        SocialNavEnv(people=[5, 2])
