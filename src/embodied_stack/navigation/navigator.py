"""Global + local navigation: A* on the static map for the route, a social planner to follow it.

Why the split (Nav2's planner server + controller server): rooms and doorways are a search problem the
local planner cannot solve (its goal cost would push it into the wall beside a door), and people are a
reactive problem A* cannot solve. The local planner gets the global path's carrot as its goal and the
map's walls near the robot as line obstacles.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from embodied_stack.navigation.occupancy import OccupancyGrid, astar, carrot
from embodied_stack.navigation.planners import Planner
from embodied_stack.navigation.types import NavObservation, Twist


@dataclass(frozen=True)
class NavigatorConfig:
    """lookahead: m along the path for the local goal; wall_range: m, walls farther are not passed on;
    replan_distance: m off the path before replanning."""

    lookahead: float = 2.0
    wall_range: float = 4.0
    replan_distance: float = 1.0


class Navigator:
    """Drives ``local`` along an A* path on ``grid``; ``walls`` are the map's segments (m)."""

    def __init__(self, grid: OccupancyGrid, walls: np.ndarray, local: Planner,
                 config: NavigatorConfig | None = None) -> None:
        self.grid, self.walls, self.local = grid, np.asarray(walls, dtype=np.float64).reshape(-1, 4), local
        self.config = config or NavigatorConfig()
        self.path: np.ndarray | None = None
        self.goal: np.ndarray | None = None

    def set_goal(self, start: np.ndarray, goal: np.ndarray, robot_radius: float) -> np.ndarray:
        """Plan a route (raises ``ValueError`` with the reason when there is none) and return it."""
        self.goal = np.asarray(goal, dtype=np.float64)
        self.path = astar(self.grid, np.asarray(start, dtype=np.float64)[:2], self.goal, robot_radius)
        self.local.reset()
        return self.path

    def act(self, obs: NavObservation) -> Twist:
        if self.path is None or self.goal is None:
            raise RuntimeError("call set_goal() before act()")
        p = obs.robot_pose[:2]
        if _distance_to_path(self.path, p) > self.config.replan_distance:
            self.path = astar(self.grid, p, self.goal, obs.kinematics.radius)
        local_goal = carrot(self.path, p, self.config.lookahead)
        near = self.walls[_segment_distance(p, self.walls) < self.config.wall_range] if len(self.walls) \
            else self.walls
        walls = np.vstack([obs.walls, near]) if len(obs.walls) else near
        return self.local.act(dataclasses.replace(obs, goal=local_goal, walls=walls))


def _segment_distance(p: np.ndarray, segments: np.ndarray) -> np.ndarray:
    a, e = segments[:, :2], segments[:, 2:] - segments[:, :2]
    t = np.clip(np.sum((p - a) * e, axis=1) / np.maximum(np.sum(e * e, axis=1), 1e-12), 0, 1)
    return np.linalg.norm(a + t[:, None] * e - p, axis=1)


def _distance_to_path(path: np.ndarray, p: np.ndarray) -> float:
    if len(path) < 2:
        return float(np.linalg.norm(path[0] - p))
    return float(_segment_distance(p, np.hstack([path[:-1], path[1:]])).min())
