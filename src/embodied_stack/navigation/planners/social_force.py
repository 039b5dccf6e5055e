"""The social-force baseline for the robot: attracted by the goal, repelled by people and walls.

Why this baseline: it is the classic reactive model (Helbing & Molnar 1995) CrowdNav++ reports (0.34
success at 20 people); the robot uses the same force law the simulated people use.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from embodied_stack.navigation.crowd import closest_points_on_segments
from embodied_stack.navigation.planners.base import Planner, goal_velocity, velocity_command
from embodied_stack.navigation.types import NavObservation, Twist


@dataclass(frozen=True)
class SocialForcePlannerConfig:
    """tau: s to reach the desired velocity; strength (m/s^2) and range (m) of the person and wall
    repulsion (stronger than between people: a robot should keep more distance than a pedestrian)."""

    tau: float = 0.5
    person_strength: float = 4.0
    person_range: float = 0.5
    wall_strength: float = 6.0
    wall_range: float = 0.2


class SocialForcePlanner(Planner):
    name = "social_force"

    def __init__(self, config: SocialForcePlannerConfig | None = None) -> None:
        self.config = config or SocialForcePlannerConfig()

    def _act(self, obs: NavObservation) -> Twist:
        c, k = self.config, obs.kinematics
        p, v = obs.robot_pose[:2], np.asarray(obs.robot_velocity, dtype=np.float64)
        force = (goal_velocity(obs, k.max_speed) - v) / c.tau
        if obs.num_people:
            diff = p - obs.people_position
            d = np.linalg.norm(diff, axis=1)
            mag = c.person_strength * np.exp((obs.people_radius + k.radius - d) / c.person_range)
            force += np.sum(mag[:, None] * diff / np.maximum(d, 1e-6)[:, None], axis=0)
        if len(obs.walls):
            diff = p - closest_points_on_segments(p[None], obs.walls)[0]
            d = np.linalg.norm(diff, axis=1)
            mag = c.wall_strength * np.exp((k.radius - d) / c.wall_range)
            force += np.sum(mag[:, None] * diff / np.maximum(d, 1e-6)[:, None], axis=0)
        return velocity_command(v + obs.dt * force, obs)
