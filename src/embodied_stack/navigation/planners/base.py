"""One interface for every social navigation planner: a :class:`NavObservation` in, a body twist out.

Why a tiny ABC (SB3's ``predict``/``_predict`` split): ``act`` does the bookkeeping every planner needs —
reject a malformed observation with a clear message, clamp the command to the robot's limits — and
``_act`` does the planning. A planner is chosen by name (``social_force``, ``orca``, ``dwa``,
``learned``) in config and on the command line; :func:`make_planner` lists the names on a typo.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from embodied_stack.navigation.observation import holonomic_twist
from embodied_stack.navigation.types import NavObservation, RobotKinematics, Twist


@dataclass(frozen=True)
class ScanInput:
    """The 2D scan a planner reads as ``NavObservation.scan``: ``beams`` ranges evenly over 360 deg from
    the robot's heading, no return reading ``range`` m. ``required``: the planner cannot plan without it
    (the learned policy); otherwise it plans without one, only less safely (the DWA's check for people
    the tracker has not confirmed yet). The evaluation env and the navigation node both produce it from
    this declaration, so the scan a planner is measured with is the one it gets on the robot."""

    beams: int
    range: float
    required: bool

    def __post_init__(self) -> None:
        if self.beams < 1 or not self.range > 0:
            raise ValueError(f"scan beams={self.beams} must be >= 1 and range={self.range} m > 0")


class Planner(ABC):
    """A local planner that steers among people towards ``obs.goal``."""

    name: ClassVar[str]
    #: the scan this planner reads (None: it reads none)
    scan_input: ScanInput | None = None

    def reset(self) -> None:  # noqa: B027  (optional hook)
        """Forget per-episode state (called at every new goal or episode)."""

    def act(self, obs: NavObservation) -> Twist:
        """The command for the next ``obs.dt`` seconds, within the robot's limits."""
        if obs.people_position.shape != obs.people_velocity.shape or \
                len(obs.people_radius) != len(obs.people_position):
            raise ValueError(f"people arrays disagree: position {obs.people_position.shape}, velocity "
                             f"{obs.people_velocity.shape}, radius {obs.people_radius.shape}; give one row "
                             "per person in each")
        if not (np.all(np.isfinite(obs.robot_pose)) and np.all(np.isfinite(obs.goal))):
            raise ValueError(f"robot_pose={obs.robot_pose} and goal={obs.goal} must be finite")
        return clamp(self._act(obs), obs.kinematics)

    @abstractmethod
    def _act(self, obs: NavObservation) -> Twist:
        """Plan one command."""


def clamp(twist: Twist, k: RobotKinematics) -> Twist:
    """The command the base will actually execute: speed and yaw-rate limits, no sideways motion or
    reverse for a unicycle."""
    wz = float(np.clip(twist.wz, -k.max_angular_speed, k.max_angular_speed))
    if not k.holonomic:
        return Twist(float(np.clip(twist.vx, 0.0, k.max_speed)), 0.0, wz)
    speed = math.hypot(twist.vx, twist.vy)
    scale = k.max_speed / speed if speed > k.max_speed else 1.0
    return Twist(twist.vx * scale, twist.vy * scale, wz)


def velocity_command(world_velocity: np.ndarray, obs: NavObservation) -> Twist:
    """Track a desired world-frame velocity with the robot's kinematics.

    unicycle: turn towards it (yaw-rate limited) and drive at its speed scaled by how well aligned the
    heading is, so the robot never drives fast in a wrong direction.
    """
    k, yaw = obs.kinematics, float(obs.robot_pose[2])
    if k.holonomic:
        return holonomic_twist(np.asarray(world_velocity, dtype=np.float64), yaw, obs.dt, k)
    speed = float(np.linalg.norm(world_velocity))
    if speed < 1e-6:
        return Twist()
    error = math.remainder(math.atan2(world_velocity[1], world_velocity[0]) - yaw, 2 * math.pi)
    wz = float(np.clip(error / max(obs.dt, 1e-3), -k.max_angular_speed, k.max_angular_speed))
    return Twist(min(speed, k.max_speed) * max(math.cos(error), 0.0), 0.0, wz)


def goal_velocity(obs: NavObservation, speed: float) -> np.ndarray:
    """World velocity straight at the goal, slowing down over the last ``speed x dt`` metres."""
    offset = obs.goal - obs.robot_pose[:2]
    distance = float(np.linalg.norm(offset))
    if distance < 1e-6:
        return np.zeros(2)
    return offset / distance * min(speed, distance / max(obs.dt, 1e-3))
