"""Replaying a recorded episode's actions on a robot (simulated or real) through its drivers.

Why through :class:`~embodied_stack.hardware.Robot`: replayed commands pass the same
safety filter (joint limits, max step per command) as live teleop and policies; the
replay reports how many commands the filter changed and how closely the robot followed
the recorded states, which is the quickest check that a dataset's actions mean what
the trainer will assume.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from embodied_stack.datasets.format import DatasetError
from embodied_stack.datasets.reader import LeRobotDataset
from embodied_stack.hardware import JointCommand, Robot


@dataclass
class ReplayResult:
    frames: int
    clamped: int  # commands the safety filter changed
    state_error_rad: np.ndarray  # per frame, max |measured - recorded state| over arm joints

    def summary(self) -> str:
        e = self.state_error_rad
        return (f"replayed {self.frames} frames, {self.clamped} clamped by the safety filter; state error "
                f"mean {e.mean():.4f} rad, max {e.max():.4f} rad")


def action_layout(ds: LeRobotDataset, robot: Robot, key: str = "action") -> tuple[list[int], int | None]:
    """Indices of the robot's arm joints (and of ``gripper``) inside feature ``key``.

    Uses the feature's ``names``; without names the first ``len(joint_names)`` values
    are the joints and the next one (if any) the gripper.
    """
    ft = ds.meta.features.get(key)
    if ft is None:
        raise DatasetError(f"{ds.root} has no feature {key!r}; available: {list(ds.meta.features)}")
    names = ft.get("names")
    joints = robot.joint_names
    size = int(np.prod(ft["shape"]))
    if names:
        missing = [j for j in joints if j not in names]
        if missing:
            raise DatasetError(f"feature {key!r} names {names} lack the robot's joints {missing}")
        return [names.index(j) for j in joints], names.index("gripper") if "gripper" in names else None
    if size < len(joints):
        raise DatasetError(f"feature {key!r} has {size} values, the robot has {len(joints)} joints")
    return list(range(len(joints))), len(joints) if size > len(joints) else None


def replay_episode(ds: LeRobotDataset, episode: int, robot: Robot, advance: Callable[[float], None],
                   action_key: str = "action", state_key: str = "observation.state") -> ReplayResult:
    """Send episode ``episode``'s actions to ``robot`` at the dataset fps.

    Args:
        advance: called with the frame period (s) after each command; steps a simulator
            or sleeps for a real robot.
    """
    joints, grip = action_layout(ds, robot, action_key)
    actions = ds.episode_column(episode, action_key).reshape(len(ds.episode_frames(episode)), -1)
    states = None
    if state_key in ds.meta.features:
        s_joints, _ = action_layout(ds, robot, state_key)
        states = ds.episode_column(episode, state_key).reshape(len(actions), -1)[:, s_joints]
    period = 1.0 / ds.meta.fps
    clamped = 0
    errors = []
    for k, a in enumerate(actions):
        gripper = None if grip is None else float(a[grip])
        cmd = JointCommand(positions=a[joints].astype(float), gripper=gripper)
        sent = robot.send_joint_command(cmd)
        if not np.allclose(sent.positions, cmd.positions, atol=1e-6):
            clamped += 1
        advance(period)
        if states is not None and k + 1 < len(states):
            measured = robot.read_state().joint_positions
            errors.append(float(np.max(np.abs(measured - states[k + 1]))))
    return ReplayResult(frames=len(actions), clamped=clamped,
                        state_error_rad=np.asarray(errors or [0.0]))
