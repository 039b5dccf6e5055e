"""Playing a joint trajectory (an action chunk) out over time, ROS-free.

Why here: the sim bridge and real arm drivers accept the same
``trajectory_msgs/JointTrajectory`` (what the VLA node and teleop publish), so the
interpretation -- times, interpolation, validation, what "stale" means -- must be
one piece of code below both.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from embodied_stack.hardware.robot import JointCommand
from embodied_stack.hardware.safety import CommandRejected

GRIPPER_JOINT = "gripper"  # joint name carrying the gripper opening (0 closed .. 1 open)


@dataclass
class TrajectoryPoint:
    time: float  # s, absolute, on the follower's clock
    positions: np.ndarray  # rad, in the robot's joint order
    gripper: float | None = None


class TrajectoryFollower:
    """Holds the active trajectory and samples it by linear interpolation.

    A new trajectory replaces the old one (like ros2_control's joint trajectory
    controller with a fresh goal). Before its first point the arm moves from where
    it was when the trajectory arrived; after the last point it holds the last one.
    """

    def __init__(self, joint_names: Sequence[str], stale_after_s: float = 0.5) -> None:
        self.joint_names = list(joint_names)
        self.stale_after_s = stale_after_s
        self._points: list[TrajectoryPoint] = []

    @property
    def active(self) -> bool:
        return bool(self._points)

    @property
    def end_time(self) -> float | None:
        return self._points[-1].time if self._points else None

    def order(self, names: Sequence[str], values: Sequence[float]) -> tuple[np.ndarray, float | None]:
        """Reorder ``values`` given for ``names`` into the robot's joint order; the
        gripper may be included under :data:`GRIPPER_JOINT`."""
        if len(names) != len(values):
            raise CommandRejected(f"{len(names)} joint names but {len(values)} positions")
        by_name = dict(zip(names, values, strict=True))
        unknown = sorted(set(by_name) - set(self.joint_names) - {GRIPPER_JOINT})
        missing = [j for j in self.joint_names if j not in by_name]
        if unknown or missing:
            raise CommandRejected(f"trajectory joints must be {self.joint_names} "
                                  f"(+ optional '{GRIPPER_JOINT}'); "
                                  f"unknown {unknown}, missing {missing}")
        positions = np.array([by_name[j] for j in self.joint_names], dtype=np.float64)
        gripper = by_name.get(GRIPPER_JOINT)
        if not np.all(np.isfinite(positions)) or (gripper is not None and not np.isfinite(gripper)):
            raise CommandRejected(f"trajectory point contains NaN/inf: {list(values)}")
        return positions, None if gripper is None else float(gripper)

    def set(self, points: list[TrajectoryPoint], now: float, current: np.ndarray,
            current_gripper: float | None) -> None:
        """Replace the trajectory. Raises ``CommandRejected`` (and keeps the old one) if
        times are not increasing or the whole trajectory already lies in the past."""
        if not points:
            raise CommandRejected("empty trajectory")
        times = [p.time for p in points]
        if any(b <= a for a, b in pairwise(times)):
            raise CommandRejected(f"trajectory times must increase strictly, got {times}")
        if times[-1] < now - self.stale_after_s:
            raise CommandRejected(f"stale trajectory: it ended {now - times[-1]:.3f} s ago "
                                  f"(limit {self.stale_after_s} s); check the sender's clock")
        start = TrajectoryPoint(now, np.asarray(current, dtype=np.float64).copy(), current_gripper)
        future = [p for p in points if p.time > now]
        if not future:  # the whole trajectory is (just) past: go to its last point
            future = [TrajectoryPoint(now, points[-1].positions, points[-1].gripper)]
            start = None
        self._points = ([start] if start is not None else []) + future

    def clear(self) -> None:
        self._points = []

    def sample(self, t: float) -> JointCommand | None:
        """The command for time ``t``, or None when no trajectory is active."""
        pts = self._points
        if not pts:
            return None
        if t <= pts[0].time:
            p = pts[0]
            return JointCommand(p.positions.copy(), p.gripper)
        for a, b in pairwise(pts):
            if t <= b.time:
                w = (t - a.time) / (b.time - a.time)
                grip = (b.gripper if a.gripper is None or b.gripper is None
                        else (1 - w) * a.gripper + w * b.gripper)
                return JointCommand((1 - w) * a.positions + w * b.positions, grip)
        last = pts[-1]
        return JointCommand(last.positions.copy(), last.gripper)
