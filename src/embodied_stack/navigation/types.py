"""The data that flows between the crowd simulator, the planners and the ROS node.

Why plain dataclasses of numpy arrays: the same :class:`NavObservation` is built by the Gymnasium env
(from simulated perception) and by the navigation node (from ``/perception/people`` and odometry), so
every planner runs unchanged in both. World frame = ``odom``/``map`` (REP-105), SI units.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

KINEMATICS = ("holonomic", "unicycle")


@dataclass(frozen=True)
class RobotKinematics:
    """Velocity limits of the base.

    holonomic: a quadruped in sport mode (moves in any direction; its heading follows its motion);
    unicycle: a differential drive (forward speed and yaw rate only, no reverse).
    Defaults are the indoor world's Go2-class base (``config/sim/indoor.yaml`` robot.max_vx / max_wz)
    and CrowdNav's robot radius.
    """

    kind: str = "holonomic"
    max_speed: float = 1.0  # m/s
    max_angular_speed: float = 1.5  # rad/s
    radius: float = 0.3  # m, footprint

    def __post_init__(self) -> None:
        if self.kind not in KINEMATICS:
            raise ValueError(f"kinematics={self.kind!r} is not supported; use one of {KINEMATICS}")
        if not (self.max_speed > 0 and self.max_angular_speed > 0 and self.radius > 0):
            raise ValueError(f"max_speed={self.max_speed}, max_angular_speed={self.max_angular_speed} and "
                             f"radius={self.radius} must all be > 0 (m/s, rad/s, m)")

    @property
    def holonomic(self) -> bool:
        return self.kind == "holonomic"


@dataclass
class Twist:
    """A body-frame velocity command, like ``geometry_msgs/Twist`` on ``/cmd_vel`` (m/s, rad/s)."""

    vx: float = 0.0
    vy: float = 0.0
    wz: float = 0.0

    def world_velocity(self, yaw: float) -> np.ndarray:
        c, s = math.cos(yaw), math.sin(yaw)
        return np.array([c * self.vx - s * self.vy, s * self.vx + c * self.vy])


@dataclass
class NavObservation:
    """What a planner sees at one control step (world frame).

    people_*: the people *as perception reports them* (noisy, possibly missing some), not ground truth.
    walls: static line obstacles ``x1, y1, x2, y2`` (m), e.g. a doorway's wall.
    """

    robot_pose: np.ndarray  # x, y (m), yaw (rad)
    robot_velocity: np.ndarray  # vx, vy (m/s), world frame
    goal: np.ndarray  # x, y (m)
    kinematics: RobotKinematics
    dt: float  # s, the control period the command will be held for
    people_position: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    people_velocity: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    people_radius: np.ndarray = field(default_factory=lambda: np.zeros(0))
    walls: np.ndarray = field(default_factory=lambda: np.zeros((0, 4)))
    scan: np.ndarray | None = None  # ranges (m), beams evenly over 360 deg from the robot heading

    @property
    def num_people(self) -> int:
        return len(self.people_position)
