"""Tabletop action spaces: the expert's absolute-target labels map back to the exact env action."""

import numpy as np
import pytest

from embodied_stack.vla import tabletop_data


@pytest.fixture(scope="module")
def env():
    env = tabletop_data.make_env("train", "en")
    yield env
    env.close()


def test_absolute_label_converts_back_to_the_native_action(env):
    """expert_label -> to_env_action is the identity on actions that stay inside the joint limits,
    so a policy trained on absolute targets commands the env exactly as the expert did."""
    from embodied_stack.sim.experts import make_expert

    env.reset(seed=3)
    expert = make_expert(env)
    checked = 0
    for _ in range(25):
        native = expert.act()
        label = tabletop_data.expert_label(env, native, "joint_position")
        np.testing.assert_allclose(tabletop_data.to_env_action(env, label, "joint_position"), native, atol=1e-5)
        np.testing.assert_array_equal(tabletop_data.expert_label(env, native, "native"), native)
        env.step(native)
        checked += 1
    assert checked == 25


def test_absolute_targets_far_away_are_clipped_to_one_native_step(env):
    env.reset(seed=4)
    far = np.append(env.unwrapped.arm.joint_targets + 1.0, 2.0)
    action = tabletop_data.to_env_action(env, far, "joint_position")
    assert np.all(action[:5] == 1.0) and action[5] == 1.0


def test_unknown_action_space_is_rejected():
    with pytest.raises(ValueError, match="action_space"):
        tabletop_data.features("ee_pose")


def test_dart_noise_records_clean_expert_actions_and_only_successes(tmp_path):
    """With execution noise the dataset still holds absolute targets (inside the joint limits)."""
    from embodied_stack.datasets import LeRobotDataset
    from embodied_stack.sim import so_arm

    n = tabletop_data.generate(str(tmp_path / "ds"), episodes=1, seed=7, noise=0.5)
    ds = LeRobotDataset(tmp_path / "ds")
    assert n == 1 and ds.meta.features["action"]["names"][0] == "shoulder_pan"
    actions = np.stack([ds[i]["action"] for i in range(len(ds))])
    assert np.all(actions[:, :5] >= so_arm.JOINT_LOWER - 1e-6) and np.all(actions[:, :5] <= so_arm.JOINT_UPPER + 1e-6)
    assert set(np.unique(actions[:, 5])) <= {-1.0, 1.0}
