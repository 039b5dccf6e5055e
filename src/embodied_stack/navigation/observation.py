"""The learning interface: a :class:`NavObservation` as fixed-size arrays, and actions as body twists.

Why a module of its own: the env encodes observations and decodes actions with these functions, and so
does the learned planner when it runs on the robot (from perception's people list), so a policy sees the
same numbers in training and deployment.

Frame of the encoding ("F"): for a holonomic robot, x points from the robot to the goal (CrowdNav's
rotated frame: the task is invariant to the absolute heading); for a unicycle, F is the body frame
(its heading matters). People are sorted nearest first and padded to ``max_people`` with a mask, so one
model serves any number of people; beyond ``max_people`` the farthest are dropped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from gymnasium import spaces

from embodied_stack.navigation.types import NavObservation, RobotKinematics, Twist

ROBOT_FEATURES = ("goal_x", "goal_y", "goal_distance", "vx", "vy")
PERSON_FEATURES = ("x", "y", "vx", "vy", "gap", "radius_sum")
MAX_DISTANCE = 20.0  # m, positions are clipped to this (farther people are irrelevant)
MAX_SPEED = 5.0  # m/s


@dataclass(frozen=True)
class ObservationLayout:
    """max_people: slots in the people set; scan_beams: 0 for no scan; scan_range: m."""

    max_people: int = 20
    scan_beams: int = 0
    scan_range: float = 6.0

    def __post_init__(self) -> None:
        if self.max_people < 1 or self.scan_beams < 0 or self.scan_range <= 0:
            raise ValueError(f"max_people={self.max_people} must be >= 1, scan_beams={self.scan_beams} "
                             f">= 0 and scan_range={self.scan_range} > 0")

    def space(self) -> spaces.Dict:
        d = MAX_DISTANCE
        parts: dict[str, spaces.Space] = {
            "robot": spaces.Box(-d, d, (len(ROBOT_FEATURES),), np.float32),
            "people": spaces.Box(-d, d, (self.max_people, len(PERSON_FEATURES)), np.float32),
            "people_mask": spaces.Box(0.0, 1.0, (self.max_people,), np.float32),
        }
        if self.scan_beams:
            parts["scan"] = spaces.Box(0.0, 1.0, (self.scan_beams,), np.float32)
        return spaces.Dict(parts)


def frame_rotation(obs: NavObservation) -> float:
    """Angle (rad) of the encoding frame F in the world frame."""
    if obs.kinematics.holonomic:
        dx, dy = obs.goal - obs.robot_pose[:2]
        return math.atan2(dy, dx)
    return float(obs.robot_pose[2])


def _rotate(v: np.ndarray, angle: float) -> np.ndarray:
    """World vectors (k, 2) into a frame rotated by ``angle``."""
    c, s = math.cos(angle), math.sin(angle)
    return v @ np.array([[c, -s], [s, c]])


def encode(obs: NavObservation, layout: ObservationLayout) -> dict[str, np.ndarray]:
    """The policy input for ``obs`` (float32 arrays matching ``layout.space()``)."""
    theta = frame_rotation(obs)
    robot_xy = obs.robot_pose[:2]
    goal = _rotate((obs.goal - robot_xy)[None], theta)[0]
    vel = _rotate(np.asarray(obs.robot_velocity, dtype=np.float64)[None], theta)[0]
    robot = np.array([goal[0], goal[1], math.hypot(*goal), vel[0], vel[1]])
    people = np.zeros((layout.max_people, len(PERSON_FEATURES)))
    mask = np.zeros(layout.max_people)
    if obs.num_people:
        rel = obs.people_position - robot_xy
        rsum = obs.people_radius + obs.kinematics.radius
        gap = np.linalg.norm(rel, axis=1) - rsum
        order = np.argsort(gap)[: layout.max_people]
        k = len(order)
        people[:k, 0:2] = _rotate(rel[order], theta)
        people[:k, 2:4] = _rotate(obs.people_velocity[order], theta)
        people[:k, 4] = gap[order]
        people[:k, 5] = rsum[order]
        mask[:k] = 1.0
    out = {
        "robot": np.clip(robot, -MAX_DISTANCE, MAX_DISTANCE).astype(np.float32),
        "people": np.clip(people, -MAX_DISTANCE, MAX_DISTANCE).astype(np.float32),
        "people_mask": mask.astype(np.float32),
    }
    if layout.scan_beams:
        scan = obs.scan
        if scan is None:  # never substitute an empty scan: the policy would drive blind into walls
            raise ValueError(f"this observation layout reads a {layout.scan_beams}-beam scan but the "
                             "observation has none; give NavObservation.scan (e.g. SocialNavEnv(scan_beams="
                             f"{layout.scan_beams}) or the LiDAR resampled to that many beams)")
        if len(scan) != layout.scan_beams:
            raise ValueError(f"scan has {len(scan)} beams but the layout expects scan_beams="
                             f"{layout.scan_beams}; resample the scan or change the layout")
        # rotate the scan so beam 0 points along F's x axis (the scan starts at the robot heading)
        shift = int(round((theta - obs.robot_pose[2]) / (2 * math.pi) * layout.scan_beams))
        out["scan"] = (np.clip(np.roll(scan, -shift), 0, layout.scan_range) / layout.scan_range
                       ).astype(np.float32)
    return out


def action_to_twist(action: np.ndarray, obs: NavObservation) -> Twist:
    """Decode a normalised action in [-1, 1]^2.

    holonomic: the velocity in F as a fraction of max_speed (norm clipped to 1); the twist turns the
    body towards its motion. unicycle: forward speed (-1 -> 0, 1 -> max_speed) and yaw rate.
    """
    k = obs.kinematics
    a = np.clip(np.asarray(action, dtype=np.float64).reshape(2), -1.0, 1.0)
    if k.holonomic:
        norm = float(np.linalg.norm(a))
        if norm > 1.0:
            a = a / norm
        theta = frame_rotation(obs)
        world = _rotate(a[None] * k.max_speed, -theta)[0]
        return holonomic_twist(world, obs.robot_pose[2], obs.dt, k)
    return Twist(vx=float((a[0] + 1) / 2 * k.max_speed), vy=0.0, wz=float(a[1] * k.max_angular_speed))


def twist_to_action(twist: Twist, obs: NavObservation) -> np.ndarray:
    """Inverse of :func:`action_to_twist` (the angular part of a holonomic twist is not an action)."""
    k = obs.kinematics
    if k.holonomic:
        world = twist.world_velocity(float(obs.robot_pose[2]))
        a = _rotate(world[None], frame_rotation(obs))[0] / k.max_speed
        norm = float(np.linalg.norm(a))
        return (a / norm if norm > 1 else a).astype(np.float32)
    return np.clip([2 * twist.vx / k.max_speed - 1, twist.wz / k.max_angular_speed], -1, 1).astype(np.float32)


def holonomic_twist(world_velocity: np.ndarray, yaw: float, dt: float, k: RobotKinematics) -> Twist:
    """Body twist that moves at ``world_velocity`` (m/s) and turns the heading towards it, rate-limited."""
    speed = float(np.linalg.norm(world_velocity))
    if speed > k.max_speed:
        world_velocity = world_velocity * k.max_speed / speed
    c, s = math.cos(yaw), math.sin(yaw)
    vx = c * world_velocity[0] + s * world_velocity[1]
    vy = -s * world_velocity[0] + c * world_velocity[1]
    wz = 0.0
    if speed > 0.05:
        error = math.remainder(math.atan2(world_velocity[1], world_velocity[0]) - yaw, 2 * math.pi)
        wz = float(np.clip(error / max(dt, 1e-3), -k.max_angular_speed, k.max_angular_speed))
    return Twist(float(vx), float(vy), wz)
