"""Replay: actions recorded on the simulated arm, played back, reproduce the recorded states."""

from __future__ import annotations

import math

import numpy as np
import pytest

from embodied_stack.cli import main
from embodied_stack.datasets import LeRobotDataset, LeRobotDatasetWriter
from embodied_stack.datasets.replay import replay_episode
from embodied_stack.hardware import JointCommand
from embodied_stack.sim import so_arm
from embodied_stack.sim.tabletop import TabletopWorld

NAMES = [*so_arm.JOINT_NAMES, "gripper"]
FPS = 10


@pytest.fixture(scope="module")
def world():
    w = TabletopWorld()
    yield w
    w.close()


def _advance(world, period):
    for _ in range(max(1, math.floor(period / world.control_dt + 0.5))):
        world.step()


def test_replay_reproduces_recorded_states(tmp_path, world):
    feats = {"observation.state": {"dtype": "float32", "shape": (6,), "names": NAMES},
             "action": {"dtype": "float32", "shape": (6,), "names": NAMES}}
    world.reset(seed=0)
    arm = world.arm
    arm.set_pose(so_arm.HOME_QPOS, 1.0)
    with LeRobotDatasetWriter.create(tmp_path / "ds", fps=FPS, features=feats, min_free_mb=1) as w:
        for k in range(20):  # a slow sweep of the shoulder and elbow
            target = so_arm.HOME_QPOS + np.array([0.3, 0.2, -0.2, 0, 0]) * math.sin(k / 19 * math.pi)
            state = np.append(arm.joint_positions, arm.gripper_opening)
            w.add_frame({"observation.state": state.astype(np.float32),
                         "action": np.append(target, 1.0).astype(np.float32)}, task="sweep")
            arm.send_joint_command(JointCommand(positions=target, gripper=1.0))
            _advance(world, 1 / FPS)
        w.save_episode()
    ds = LeRobotDataset(tmp_path / "ds")
    world.reset(seed=0)
    arm.set_pose(ds.episode_column(0, "observation.state")[0][:5], 1.0)
    result = replay_episode(ds, 0, arm, lambda p: _advance(world, p))
    assert result.frames == 20
    assert result.state_error_rad.max() < 0.02, result.summary()


def test_replay_command(tmp_path, capsys):
    feats = {"action": {"dtype": "float32", "shape": (6,), "names": NAMES}}
    with LeRobotDatasetWriter.create(tmp_path / "ds", fps=FPS, features=feats, min_free_mb=1) as w:
        for _ in range(5):
            w.add_frame({"action": np.append(so_arm.HOME_QPOS + 5.0, 1.0).astype(np.float32)}, task="x")
        w.save_episode()
    assert main(["replay", str(tmp_path / "ds"), "--episode", "0"]) == 0
    assert "replayed 5 frames, 5 clamped by the safety filter" in capsys.readouterr().out
