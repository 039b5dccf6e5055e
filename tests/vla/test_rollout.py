"""The one rollout loop (``vla.rollout``): the node's PolicyRunner drives the simulated arm with the
node's clamps and staleness rules, on the simulator's clock, deterministically per seed."""

from __future__ import annotations

import numpy as np
import pytest

from embodied_stack import paths
from embodied_stack.vla import tabletop_data
from embodied_stack.vla.policy import InvalidObservation
from embodied_stack.vla.rollout import (
    RolloutTiming,
    control_rate,
    deployed_runner_config,
    policy_predict,
    rollout,
)
from embodied_stack.vla.runner import PolicyRunner

CAMERAS = ["scene", "wrist"]


class _Scripted:
    """A policy that always asks for the same absolute joint targets (the shape of the shipped one)."""

    chunk_size, action_dim, goal_dim = 8, 6, 0
    control_rate_hz = 25.0  # the tabletop world's (its demonstrations' fps)

    class cfg:  # noqa: N801 - the attribute path the runner config reads
        class model:  # noqa: N801
            action_space = "joint_position"

    def __init__(self, targets: np.ndarray, fail: bool = False) -> None:
        self.targets, self.fail = targets, fail

    def predict_chunk(self, images, state, instruction):
        if self.fail:
            raise InvalidObservation("camera frame is all NaN")
        return np.tile(np.append(self.targets, 1.0), (self.chunk_size, 1)).astype(np.float32)


@pytest.fixture(scope="module")
def env(tabletop_env):
    return tabletop_env


def test_commands_get_the_nodes_step_clamp_not_one_actions(env):
    obs, info = env.reset(seed=11)
    arm = env.unwrapped.arm
    far = arm.joint_positions + 1.0  # every joint asked 1 rad away
    policy = _Scripted(far)
    cfg = deployed_runner_config(policy)
    runner = PolicyRunner(policy_predict(policy, lambda: None), cfg)
    steps: list[tuple[np.ndarray, np.ndarray]] = []
    result = rollout(env, runner, obs, info["instruction"], CAMERAS,
                     on_step=lambda o, command: steps.append((arm.joint_positions, command.positions)))
    assert result.commands == result.steps == len(steps) > 0 and result.holds == 0
    first_measured, first_target = steps[0]
    # the robot description's max step from the measured position (0.25 rad), not the training env's
    # 0.08 rad per action, which evaluation used to add
    expected = np.clip(np.minimum(far, cfg.joint_upper), first_measured - cfg.max_step_rad,
                       first_measured + cfg.max_step_rad)
    np.testing.assert_allclose(first_target, expected, atol=1e-6)
    assert np.max(np.abs(first_target - first_measured)) > 0.2


def test_invalid_input_holds_the_arm_and_says_why(env):
    obs, info = env.reset(seed=12)
    arm = env.unwrapped.arm
    before = arm.joint_targets
    policy = _Scripted(arm.joint_positions + 0.5, fail=True)
    runner = PolicyRunner(policy_predict(policy, lambda: None), deployed_runner_config(policy))
    result = rollout(env, runner, obs, info["instruction"], CAMERAS)
    assert result.commands == 0 and result.holds == result.steps and not result.success
    assert "NaN" in result.last_hold_reason
    np.testing.assert_array_equal(arm.joint_targets, before)


def test_a_late_chunk_is_first_used_one_period_later(env):
    obs, info = env.reset(seed=13)
    policy = _Scripted(env.unwrapped.arm.joint_positions)
    runner = PolicyRunner(policy_predict(policy, lambda: None), deployed_runner_config(policy))
    result = rollout(env, runner, obs, info["instruction"], CAMERAS, RolloutTiming(latency_steps=1))
    assert result.holds == 1 and result.commands == result.steps - 1  # nothing at the first tick


def test_the_env_must_step_at_the_runners_rate(env):
    obs, info = env.reset(seed=14)
    policy = _Scripted(env.unwrapped.arm.joint_positions)
    cfg = deployed_runner_config(policy)
    cfg.control_rate_hz *= 2
    with pytest.raises(ValueError, match="wrong speed"):
        runner = PolicyRunner(policy_predict(policy, lambda: None), cfg)
        rollout(env, runner, obs, info["instruction"], CAMERAS)


def test_the_rate_comes_from_the_policy_and_a_policy_without_one_is_refused(env):
    policy = _Scripted(env.unwrapped.arm.joint_positions)
    assert control_rate(policy) == 25.0 and control_rate(policy, override_hz=10.0) == 10.0
    policy.control_rate_hz = None  # e.g. a checkpoint saved before the rate was stored
    with pytest.raises(ValueError, match="control_rate_hz"):
        deployed_runner_config(policy)


def test_the_shipped_policy_rolls_out_deterministically(env):
    ckpt = paths.checkpoints_dir() / "vla_tabletop"
    if not (ckpt / "model.safetensors").is_file():
        pytest.skip("no shipped checkpoint")
    from embodied_stack.vla.policy import VLAPolicy

    policy = VLAPolicy(str(ckpt), threads=1)
    results = []
    for _ in range(2):
        obs, info = env.reset(seed=10_000)
        goal = tabletop_data.oracle_goal(env)
        runner = PolicyRunner(policy_predict(policy, lambda g=goal: g), deployed_runner_config(policy))
        results.append(rollout(env, runner, obs, info["instruction"], list(policy.cfg.model.cameras)))
    first, second = ((r.success, r.steps, r.commands, r.holds) for r in results)
    assert first == second and results[0].commands > 0, results
