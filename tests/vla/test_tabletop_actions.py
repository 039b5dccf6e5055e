"""Tabletop action spaces: the expert's absolute-target labels map back to the exact env action."""

import numpy as np
import pytest

from embodied_stack.vla import tabletop_data


@pytest.fixture(scope="module")
def env(tabletop_env):
    return tabletop_env


def test_absolute_labels_commanded_as_the_driver_does_replay_the_expert_exactly(env):
    """A policy trained on absolute-target labels drives the env through ``step_command`` (the rollout
    loop, as the robot driver applies joint commands): commanding the expert's labels that way moves the
    arm exactly as the expert's native actions do."""
    from embodied_stack.hardware import JointCommand
    from embodied_stack.sim.experts import make_expert

    twin = tabletop_data.make_env("train", "en")
    try:
        env.reset(seed=3)
        twin.reset(seed=3)
        expert = make_expert(env)
        for _ in range(25):
            native = expert.act()
            label = tabletop_data.expert_label(env, native, "joint_position")
            np.testing.assert_array_equal(tabletop_data.expert_label(env, native, "native"), native)
            env.step(native)
            twin.unwrapped.step_command(JointCommand(positions=label[:5].astype(np.float64),
                                                     gripper=0.5 * (float(label[5]) + 1.0)))
            np.testing.assert_allclose(twin.unwrapped.arm.joint_positions, env.unwrapped.arm.joint_positions,
                                       atol=1e-9)
            assert twin.unwrapped.arm.gripper_opening == pytest.approx(env.unwrapped.arm.gripper_opening)
    finally:
        twin.close()


def test_step_command_applies_the_arms_safety_filter_and_none_holds(env):
    from embodied_stack.hardware import JointCommand

    env.reset(seed=4)
    arm = env.unwrapped.arm
    measured, targets = arm.joint_positions, arm.joint_targets
    env.unwrapped.step_command(JointCommand(positions=targets + 1.0, gripper=1.0))
    step = arm.joint_limits.max_step  # the driver's clamp from the measured position, not one action's
    expected = np.clip(np.minimum(targets + 1.0, arm.joint_limits.upper), measured - step, measured + step)
    np.testing.assert_allclose(arm.joint_targets, expected, atol=1e-9)
    held = arm.joint_targets
    env.unwrapped.step_command(None)  # no command this period: the targets stay
    np.testing.assert_array_equal(arm.joint_targets, held)


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
    from embodied_stack.sim.tabletop import TabletopConfig

    fps = round(1 / TabletopConfig.from_yaml().control_dt)  # what training on this world's demos stores
    ckpt = save_checkpoint(tmp_path / "ckpt", VLANet(cfg), VLAConfig(model=cfg), ["t"], extra={"fps": fps})
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
