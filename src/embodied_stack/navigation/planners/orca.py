"""The ORCA baseline (van den Berg et al. 2011) from the maintained ``navground`` wheel.

Why navground: a C++ ORCA with Python bindings and no other dependency, rather than one more
reimplementation. The robot assumes people reciprocate, which an invisible robot never gets: that is
why ORCA fails in CrowdNav's hard setting (0.43 success at 5 people there), and a fair baseline to beat.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from embodied_stack.navigation.planners.base import Planner, velocity_command
from embodied_stack.navigation.types import NavObservation, Twist


@dataclass(frozen=True)
class OrcaPlannerConfig:
    """time_horizon: s of collision-free motion ORCA guarantees; safety_margin: m added to radii."""

    time_horizon: float = 2.0
    horizon: float = 6.0  # m, neighbours farther than this are ignored
    safety_margin: float = 0.1


class OrcaPlanner(Planner):
    name = "orca"

    def __init__(self, config: OrcaPlannerConfig | None = None) -> None:
        import navground.core as core

        self._core = core
        self.config = config or OrcaPlannerConfig()
        self._behavior = None

    def reset(self) -> None:
        self._behavior = None

    def _act(self, obs: NavObservation) -> Twist:
        core, k, c = self._core, obs.kinematics, self.config
        if self._behavior is None:
            b = core.Behavior.make_type("ORCA")
            b.kinematics = core.Kinematics.make_type("Omni")
            b.kinematics.max_speed = k.max_speed
            b.optimal_speed = k.max_speed
            b.radius = k.radius
            b.horizon = c.horizon
            b.time_horizon = c.time_horizon
            b.safety_margin = c.safety_margin
            self._behavior = b
        b = self._behavior
        v = np.asarray(obs.robot_velocity, dtype=np.float64)
        b.pose = core.Pose2(obs.robot_pose[:2], float(obs.robot_pose[2]))
        b.twist = core.Twist2(v, 0.0)
        b.target = core.Target.Point(obs.goal, 0.0)
        b.environment_state.neighbors = [
            core.Neighbor(obs.people_position[j], float(obs.people_radius[j]), obs.people_velocity[j], j)
            for j in range(obs.num_people)]
        b.environment_state.line_obstacles = [core.LineSegment(w[:2], w[2:]) for w in obs.walls]
        world = np.asarray(b.compute_cmd(obs.dt, frame=core.Frame.absolute).velocity, dtype=np.float64)
        distance = float(np.linalg.norm(obs.goal - obs.robot_pose[:2]))
        speed = float(np.linalg.norm(world))
        if speed > distance / obs.dt and speed > 0:  # do not overshoot the goal within one step
            world *= distance / obs.dt / speed
        if not math.isfinite(speed):
            world = np.zeros(2)
        return velocity_command(world, obs)
