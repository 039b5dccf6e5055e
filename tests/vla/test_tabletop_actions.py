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
        back = tabletop_data.to_env_action(env, label, "joint_position")
        np.testing.assert_allclose(back, native, atol=1e-5)
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
    assert np.all(actions[:, :5] >= so_arm.JOINT_LOWER - 1e-6)
    assert np.all(actions[:, :5] <= so_arm.JOINT_UPPER + 1e-6)
    assert set(np.unique(actions[:, 5])) <= {-1.0, 1.0}


def test_dagger_keeps_the_policy_driven_episode_with_expert_labels(tmp_path, tiny_model):
    """With a (random, failing) policy driving, the episode is still recorded, labelled by the expert."""
    from embodied_stack.datasets import LeRobotDataset
    from embodied_stack.vla.checkpoint import save_checkpoint
    from embodied_stack.vla.config import VLAConfig
    from embodied_stack.vla.model import VLANet
    from embodied_stack.vla.policy import VLAPolicy

    cfg = tiny_model
    cfg.cameras, cfg.state_dim, cfg.action_dim = list(tabletop_data.CAMERAS), 6, 6
    cfg.action_space, cfg.relative_dims = "joint_position", 5
    ckpt = save_checkpoint(tmp_path / "ckpt", VLANet(cfg), VLAConfig(model=cfg), ["t"])
    policy = VLAPolicy(str(ckpt), threads=1)
    n = tabletop_data.generate(str(tmp_path / "ds"), episodes=1, seed=11, policy=policy)
    ds = LeRobotDataset(tmp_path / "ds")
    assert n == 1 and len(ds) > 0
    first = ds[0]["action"]
    # the expert's first label opens the gripper and moves from the home pose by at most one step
    assert first[5] == 1.0 and np.all(np.abs(first[:5] - ds[0]["observation.state"][:5]) < 0.2)


def test_training_runs_periodic_closed_loop_evaluation(tmp_path, tiny_model):
    """train.eval_every: the trainer evaluates its own checkpoint in the simulator and logs it."""
    import json

    from embodied_stack.vla.config import DataConfig, TrainConfig, VLAConfig
    from embodied_stack.vla.train import train

    assert tabletop_data.generate(str(tmp_path / "ds"), episodes=1, seed=21) == 1
    cfg = tiny_model
    cfg.cameras, cfg.state_dim, cfg.action_dim = list(tabletop_data.CAMERAS), 6, 6
    cfg.action_space, cfg.relative_dims, cfg.goal_dim = "joint_position", 5, 4
    config = VLAConfig(
        model=cfg,
        data=DataConfig(datasets=[str(tmp_path / "ds")], paraphrases=0,
                        goal_features=["privileged.target_position[0:2]", "privileged.place_position[0:2]"]),
        train=TrainConfig(output_dir=str(tmp_path / "run"), steps=2, batch_size=4, warmup_steps=1, threads=1,
                          eval_every=2, eval_episodes=1, eval_suite="tabletop"))
    train(config, progress=False)
    evals = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()
             if "eval" in line]
    assert len(evals) == 1 and evals[0]["eval"] == "tabletop" and 0.0 <= evals[0]["success"] <= 1.0
