"""The crowd models of :mod:`embodied_stack.navigation.crowd` walking the indoor world's waypoint graph.

Why: the indoor MuJoCo world and the 2D SocialNav env must move people with the *same* models, so a
planner tuned in the fast env meets the same pedestrians in the world. :class:`RoutedCrowd` is a
drop-in for :class:`embodied_stack.sim.pedestrians.PedestrianCrowd` (same constructor, ``n``,
``position``, ``velocity``, ``reset(rng)``, ``step(dt, robot_xy)``): people walk the shortest route between
randomly chosen places, pause there, and walk on; each leg's next waypoint is the model's goal. The
robot is visible to them (in the world a person does step around a robot).
"""

from __future__ import annotations

import numpy as np

from embodied_stack.navigation.crowd import CrowdModelConfig, CrowdState, RobotBody, make_pedestrian_model
from embodied_stack.navigation.occupancy import box_segments
from embodied_stack.sim.pedestrians import SocialForceParams, WaypointGraph

WAYPOINT_TOLERANCE = 0.4  # m: a walker this close to its waypoint heads for the next


class RoutedCrowd:
    """``n`` people on ``graph`` among wall boxes ``xmin, ymin, xmax, ymax``; model: orca or social_force."""

    def __init__(self, n: int, graph: WaypointGraph, walls: np.ndarray,
                 speed_range: tuple[float, float] = (0.8, 1.3), model: str = "social_force",
                 config: CrowdModelConfig | None = None, pause_s: tuple[float, float] | None = None,
                 radius: float | None = None, robot_radius: float | None = None) -> None:
        if n < 0:
            raise ValueError(f"number of pedestrians must be >= 0, got {n}")
        if not 0 < speed_range[0] <= speed_range[1]:
            raise ValueError(f"speed_range={speed_range} must be 0 < low <= high (m/s)")
        defaults = SocialForceParams()  # the indoor world's body sizes and dwell times
        self.n, self.graph, self.speed_range = n, graph, speed_range
        self.pause_s = pause_s or defaults.pause_s
        self.radius = defaults.radius if radius is None else radius
        self.robot_radius = defaults.robot_radius if robot_radius is None else robot_radius
        self.walls = box_segments(walls)
        self.model = make_pedestrian_model(model, config)
        self.state = CrowdState.empty()
        self._at: list[str] = [""] * n
        self._route: list[list[str]] = [[] for _ in range(n)]
        self._pause = np.zeros(n)
        self._rng = np.random.default_rng(0)
        self._robot_xy: np.ndarray | None = None

    @property
    def position(self) -> np.ndarray:
        return self.state.position

    @property
    def velocity(self) -> np.ndarray:
        return self.state.velocity

    def reset(self, rng: np.random.Generator) -> None:
        """Everyone at distinct places (with jitter), about to walk off after a short random pause."""
        self._rng = rng
        places, n = self.graph.places, self.n
        position = np.zeros((n, 2))
        min_gap = 2.0 * self.radius + 0.1  # m between two people sharing a start place (they pause there)
        for i in range(n):
            start = places[i % len(places)] if i < len(places) else places[int(rng.integers(len(places)))]
            self._at[i] = start
            for _ in range(50):  # jitter, but never on top of someone already standing there
                position[i] = self.graph.nodes[start] + rng.uniform(-0.3, 0.3, 2)
                if i == 0 or np.linalg.norm(position[:i] - position[i], axis=1).min() >= min_gap:
                    break
            else:
                angle = rng.uniform(0.0, 2 * np.pi)  # a crowded place: step out of the circle
                position[i] = self.graph.nodes[start] + min_gap * np.array([np.cos(angle), np.sin(angle)])
            self._pause[i] = rng.uniform(0.0, self.pause_s[1])
        self.state = CrowdState(position=position, velocity=np.zeros((n, 2)), goal=position.copy(),
                                speed=rng.uniform(*self.speed_range, n), radius=np.full(n, self.radius),
                                group=np.full(n, -1), static=np.zeros(n, bool))
        for i in range(n):
            self._new_route(i)
        self.model.reset(self.state)
        self._robot_xy = None

    def _new_route(self, i: int) -> None:
        choices = [p for p in self.graph.places if p != self._at[i]]
        self._route[i] = self.graph.path(self._at[i], choices[int(self._rng.integers(len(choices)))])
        self.state.goal[i] = self.graph.nodes[self._route[i][0]]

    def step(self, dt: float, robot_xy: np.ndarray | None = None) -> None:
        """Advance everyone by ``dt`` seconds; ``robot_xy`` (m) is the robot people avoid."""
        if self.n == 0:
            return
        s = self.state
        for i in range(self.n):
            if self._pause[i] > 0:
                continue
            if np.linalg.norm(s.goal[i] - s.position[i]) < WAYPOINT_TOLERANCE:
                self._at[i] = self._route[i].pop(0)
                if not self._route[i]:
                    self._pause[i] = self._rng.uniform(*self.pause_s)
                    self._new_route(i)
                    continue
                s.goal[i] = self.graph.nodes[self._route[i][0]]
        s.static = self._pause > 0
        robot = None
        if robot_xy is not None:
            xy = np.asarray(robot_xy, dtype=np.float64)[:2]
            v = np.zeros(2) if self._robot_xy is None else (xy - self._robot_xy) / dt
            robot = RobotBody(xy, v, self.robot_radius)
            self._robot_xy = xy.copy()
        self.model.step(s, dt, self.walls, robot)
        self._pause = np.maximum(self._pause - dt, 0.0)
