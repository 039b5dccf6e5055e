"""Scenario generators: where the robot starts and goes, where people start, walk and regroup.

Why one module of small functions: each scenario is a few lines of geometry (CrowdNav's circle crossing,
SocNavBench-style corridor encounters, a doorway, an intersection, F-formations of people standing
together), and every one is seeded by the caller's generator so an episode is reproducible from its seed.
Robot start and goal are jittered per episode so a learned policy cannot memorise one route.

Coordinates are the world frame (m). People who reach their goal get a new one from the scenario's
``renew`` rule, so the density stays the same for the whole episode.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from embodied_stack.navigation.crowd import CrowdState

SCENARIOS = ("circle_crossing", "parallel_traffic", "head_on", "overtaking", "doorway", "intersection",
             "static_groups", "random_goals")


@dataclass(frozen=True)
class ScenarioConfig:
    """Geometry and people of the scenarios (SI).

    person_radius and speed_range follow CrowdNav (0.3 m) and the indoor world's walkers (0.7-1.3 m/s).
    group_fraction: share of walkers who walk in groups of 2-3 (side by side, same goal).
    clearance: m, no one starts this close to the robot's start or goal.
    """

    person_radius: float = 0.3
    speed_range: tuple[float, float] = (0.7, 1.3)
    slow_speed_range: tuple[float, float] = (0.3, 0.6)  # the people being overtaken
    circle_radius: float = 5.0  # m, circle crossing
    travel: float = 12.0  # m, robot start-to-goal distance in the corridor-like scenarios
    lane_half_width: float = 2.5  # m, band the corridor-like flows walk in
    door_width: float = 1.6  # m
    corridor_half_width: float = 2.0  # m, intersection
    arena_half: float = 5.0  # m, random goals / static groups area
    group_fraction: float = 0.3
    group_spacing: float = 0.75  # m between neighbours walking side by side
    clearance: float = 1.0  # m
    robot_jitter: float = 0.5  # m, uniform jitter of the robot's start and goal (lateral)
    pause_s: tuple[float, float] = (1.0, 6.0)  # s a person stands at a room's far point (doorway)

    def __post_init__(self) -> None:
        if not 0 < self.speed_range[0] <= self.speed_range[1]:
            raise ValueError(f"speed_range={self.speed_range} must be 0 < low <= high (m/s)")
        if not 0 <= self.group_fraction <= 1:
            raise ValueError(f"group_fraction={self.group_fraction} must be within [0, 1]")


@dataclass
class ScenarioLayout:
    """One episode's set-up. ``renew(anchor, rng)`` gives a walker (or its group) a new goal anchor;
    members of a group add their ``goal_offset`` to it."""

    name: str
    robot_start: np.ndarray  # x, y (m), yaw (rad)
    robot_goal: np.ndarray  # x, y (m)
    crowd: CrowdState
    goal_offset: np.ndarray  # (n, 2) m, a group member's place beside the group's goal
    walls: np.ndarray  # (m, 4) segments x1, y1, x2, y2
    bounds: np.ndarray  # xmin, ymin, xmax, ymax (m) of the area, for plots and scans
    renew: Callable[[np.ndarray, np.random.Generator], np.ndarray]
    #: seconds a walker (or group) who reached a goal at ``anchor`` stands before walking on
    pause: Callable[[np.ndarray, np.random.Generator], float] = lambda anchor, rng: 0.0


class _Placer:
    """Rejection sampling of people (and groups) apart from each other and from the robot's route ends."""

    def __init__(self, config: ScenarioConfig, rng: np.random.Generator, keep_clear: list[np.ndarray]):
        self.c, self.rng = config, rng
        self.min_sep = 2 * config.person_radius + 0.2
        self.starts: list[np.ndarray] = []
        self.goals: list[np.ndarray] = []
        self.offsets: list[np.ndarray] = []
        self.groups: list[int] = []
        self.speeds: list[float] = []
        self.static: list[bool] = []
        self.keep_clear = keep_clear
        self.check_goals = True  # flows send many people to the same end: no need to keep goals apart
        self._next_group = 0

    def _free(self, points: np.ndarray, existing: list[np.ndarray], clear: bool) -> bool:
        if existing and np.min(np.linalg.norm(np.asarray(existing)[None] - points[:, None], axis=2)) \
                < self.min_sep:
            return False
        if clear:
            for p in self.keep_clear:
                if np.min(np.linalg.norm(points - p, axis=1)) < self.c.clearance + self.c.person_radius:
                    return False
        return True

    def add(self, sample: Callable[[], tuple[np.ndarray, np.ndarray]], size: int = 1,
            speed_range: tuple[float, float] | None = None, static: bool = False,
            formation: np.ndarray | None = None, tries: int = 300) -> bool:
        """Place ``size`` people: ``sample()`` gives an anchor start and goal; members stand side by side
        (perpendicular to the walking direction) or at ``formation`` offsets. False when no room."""
        speed = float(self.rng.uniform(*(speed_range or self.c.speed_range)))
        for _ in range(tries):
            start, goal = sample()
            if formation is not None:
                offsets = formation
            else:
                d = goal - start
                side = np.array([-d[1], d[0]]) / max(float(np.linalg.norm(d)), 1e-6)
                offsets = np.outer(np.arange(size) - (size - 1) / 2, side) * self.c.group_spacing
            s, g = start + offsets, goal + offsets
            goals_ok = static or not self.check_goals or self._free(g, self.goals, clear=False)
            if self._free(s, self.starts, clear=True) and goals_ok:
                group = self._next_group if size > 1 else -1
                self._next_group += size > 1
                for k in range(size):
                    self.starts.append(s[k])
                    self.goals.append(s[k] if static else g[k])
                    self.offsets.append(offsets[k])
                    self.groups.append(group)
                    self.speeds.append(0.0 if static else speed)
                    self.static.append(static)
                return True
        return False

    def crowd(self) -> tuple[CrowdState, np.ndarray]:
        n = len(self.starts)
        start = np.asarray(self.starts, dtype=np.float64).reshape(n, 2)
        return CrowdState(
            position=start.copy(),
            velocity=np.zeros((n, 2)),
            goal=np.asarray(self.goals, dtype=np.float64).reshape(n, 2),
            speed=np.asarray(self.speeds, dtype=np.float64),
            radius=np.full(n, self.c.person_radius),
            group=np.asarray(self.groups, dtype=int),
            static=np.asarray(self.static, dtype=bool),
        ), np.asarray(self.offsets, dtype=np.float64).reshape(n, 2)


def _robot_line(c: ScenarioConfig, rng: np.random.Generator, half: float) -> tuple[np.ndarray, np.ndarray]:
    """Robot start and goal on the x axis, ``2 half`` apart, jittered sideways."""
    j = c.robot_jitter
    start = np.array([-half, rng.uniform(-j, j), 0.0])
    goal = np.array([half, rng.uniform(-j, j)])
    return start, goal


def _layout(name: str, placer: _Placer, start: np.ndarray, goal: np.ndarray, walls: list[list[float]],
            bounds: list[float], renew: Callable[[np.ndarray, np.random.Generator], np.ndarray]
            ) -> ScenarioLayout:
    crowd, offsets = placer.crowd()
    walls_array = np.asarray(walls, dtype=np.float64).reshape(-1, 4)
    return ScenarioLayout(name, start, goal, crowd, offsets, walls_array,
                          np.asarray(bounds, dtype=np.float64), renew)


def circle_crossing(n: int, rng: np.random.Generator, c: ScenarioConfig) -> ScenarioLayout:
    """CrowdNav's set-up: everyone starts on a circle and walks to the opposite side; so does the robot."""
    r = c.circle_radius
    a = rng.uniform(-0.3, 0.3)
    start = np.array([r * math.sin(a), -r * math.cos(a), math.pi / 2 + a])
    goal = -start[:2]
    p = _Placer(c, rng, [start[:2], goal])

    def sample() -> tuple[np.ndarray, np.ndarray]:
        angle = rng.uniform(0, 2 * math.pi)
        s = r * np.array([math.cos(angle), math.sin(angle)]) + rng.uniform(-0.5, 0.5, 2)
        return s, -s + rng.uniform(-0.5, 0.5, 2)

    for _ in range(n):
        if not p.add(sample):
            raise RuntimeError(f"circle_crossing: no room for {n} people on a {r} m circle; "
                               "lower the number of people or raise circle_radius")

    def renew(anchor: np.ndarray, g: np.random.Generator) -> np.ndarray:
        angle = math.atan2(-anchor[1], -anchor[0]) + g.uniform(-0.5, 0.5)
        return r * np.array([math.cos(angle), math.sin(angle)])

    return _layout("circle_crossing", p, start, goal, [], [-r - 1, -r - 1, r + 1, r + 1], renew)


def _flow(n: int, rng: np.random.Generator, c: ScenarioConfig, name: str, directions: tuple[int, ...],
          x_range: tuple[float, float], half_width: float,
          speed_range: tuple[float, float] | None = None) -> ScenarioLayout:
    """People walking along x (direction +1/-1) in a band ``|y| < half_width``; the robot goes +x."""
    half = c.travel / 2
    start, goal = _robot_line(c, rng, half)
    p = _Placer(c, rng, [start[:2], goal])
    p.check_goals = False
    far = half + 3.0

    def sample() -> tuple[np.ndarray, np.ndarray]:
        direction = directions[int(rng.integers(len(directions)))]
        y = rng.uniform(-half_width, half_width)
        s = np.array([rng.uniform(*x_range), y])
        return s, np.array([direction * (far + rng.uniform(0, 3)), y + rng.uniform(-0.5, 0.5)])

    _add(p, n, sample, speed_range, name)

    def renew(anchor: np.ndarray, g: np.random.Generator) -> np.ndarray:
        # turn around at the end of the band (or keep going for a one-way flow) so the density holds
        if len(directions) == 1:
            return np.array([anchor[0] + directions[0] * c.travel, g.uniform(-half_width, half_width)])
        return np.array([-math.copysign(far, anchor[0]), g.uniform(-half_width, half_width)])

    b = far + 1
    return _layout(name, p, start, goal, [], [-b, -half_width - 2, b, half_width + 2], renew)


def _add(p: _Placer, n: int, sample: Callable[[], tuple[np.ndarray, np.ndarray]],
         speed_range: tuple[float, float] | None, name: str, groups: bool = True) -> None:
    while len(p.starts) < n:
        left = n - len(p.starts)
        size = 1
        if groups and left >= 2 and p.rng.random() < p.c.group_fraction:
            size = int(p.rng.integers(2, min(3, left) + 1))
        if not p.add(sample, size, speed_range) and not p.add(sample, 1, speed_range):
            raise RuntimeError(f"{name}: no room for {n} people (placed {len(p.starts)}); lower the number "
                               "of people or enlarge the scenario (ScenarioConfig)")


def parallel_traffic(n: int, rng: np.random.Generator, c: ScenarioConfig) -> ScenarioLayout:
    """Two-way pedestrian traffic along the robot's route (with and against it)."""
    half = c.travel / 2
    return _flow(n, rng, c, "parallel_traffic", (1, -1), (-half - 1, half + 1), c.lane_half_width)


def head_on(n: int, rng: np.random.Generator, c: ScenarioConfig) -> ScenarioLayout:
    """Everyone walks towards the robot: it must pass people on the expected side."""
    half = c.travel / 2
    return _flow(n, rng, c, "head_on", (-1,), (-half + 3, half + 2), c.lane_half_width * 0.6)


def overtaking(n: int, rng: np.random.Generator, c: ScenarioConfig) -> ScenarioLayout:
    """Slow walkers ahead of the robot going its way: it must overtake them."""
    half = c.travel / 2
    return _flow(n, rng, c, "overtaking", (1,), (-half + 2, half - 2), c.lane_half_width * 0.6,
                 speed_range=c.slow_speed_range)


def doorway(n: int, rng: np.random.Generator, c: ScenarioConfig) -> ScenarioLayout:
    """A wall across the route with one door; people pass through it both ways.

    People walk far point -> entrance (2 m before the door) -> exit (0.8 m past it) -> far point on the
    other side, so nobody tries to walk through the wall (ORCA and social force only steer locally).
    The stage is read from where a person stands when they reach a goal; each direction keeps to its
    right-hand half of the door (two-way traffic through a door jams otherwise, in ORCA as in life).
    """
    half, w, h = c.travel / 2 - 2, c.door_width / 2, c.arena_half
    start, goal = _robot_line(c, rng, half)
    start[1], goal[1] = start[1] * 0.3, goal[1] * 0.3  # keep the straight line well inside the door
    p = _Placer(c, rng, [start[:2], goal, np.array([0.0, 0.0])])
    p.check_goals = False
    lane = max(w - c.person_radius - 0.1, 0.0)

    def far_point(side: float, g: np.random.Generator) -> np.ndarray:
        return np.array([side * g.uniform(2.7, half + 7), g.uniform(-h + 1, h - 1)])

    def sample() -> tuple[np.ndarray, np.ndarray]:
        side = 1.0 if rng.random() < 0.5 else -1.0
        return far_point(side, rng), np.array([side * 2.0, side * rng.uniform(0.05, lane)])

    _add(p, n, sample, None, "doorway", groups=False)

    def renew(anchor: np.ndarray, g: np.random.Generator) -> np.ndarray:
        side = 1.0 if anchor[0] >= 0 else -1.0
        if abs(anchor[0]) < 1.4:  # at the exit: on into the room
            return far_point(side, g)
        if abs(anchor[0]) < 2.6:  # at the entrance: through the door, keeping to the right-hand half
            return np.array([-side * 0.8, side * g.uniform(0.05, lane)])
        return np.array([side * 2.0, side * g.uniform(0.05, lane)])  # far away: to this side's entrance

    def pause(anchor: np.ndarray, g: np.random.Generator) -> float:
        return float(g.uniform(*c.pause_s)) if abs(anchor[0]) >= 2.6 else 0.0  # at a far point

    walls = [[0.0, -3 * h, 0.0, -w], [0.0, w, 0.0, 3 * h]]  # long: nobody walks round the wall's end
    layout = _layout("doorway", p, start, goal, walls, [-half - 3, -h, half + 3, h], renew)
    layout.pause = pause
    return layout


def intersection(n: int, rng: np.random.Generator, c: ScenarioConfig) -> ScenarioLayout:
    """Two corridors cross; the robot goes along x, people along y (both ways) and some along x."""
    half, cw = c.travel / 2, c.corridor_half_width
    start, goal = _robot_line(c, rng, half)
    start[1], goal[1] = start[1] * 0.5, goal[1] * 0.5
    p = _Placer(c, rng, [start[:2], goal])
    p.check_goals = False
    far = half + 2

    def sample() -> tuple[np.ndarray, np.ndarray]:
        across = rng.uniform(-cw + 0.5, cw - 0.5)
        along = rng.uniform(-far + 1, far - 1) * (1 if rng.random() < 0.5 else -1)
        s = np.array([across, along]) if rng.random() < 0.7 else np.array([along, across])
        vertical = abs(s[0]) <= cw
        g = np.array([across, -math.copysign(far, along)]) if vertical \
            else np.array([-math.copysign(far, along), across])
        return s, g

    _add(p, n, sample, None, "intersection")

    def renew(anchor: np.ndarray, g: np.random.Generator) -> np.ndarray:
        across = g.uniform(-cw + 0.5, cw - 0.5)
        if abs(anchor[0]) <= cw and abs(anchor[1]) > cw:
            return np.array([across, -math.copysign(far, anchor[1])])
        return np.array([-math.copysign(far, anchor[0]), across])

    walls = []
    e = far + 1
    for sx in (-1, 1):
        for sy in (-1, 1):
            walls.append([sx * cw, sy * cw, sx * e, sy * cw])
            walls.append([sx * cw, sy * cw, sx * cw, sy * e])
    return _layout("intersection", p, start, goal, walls, [-e, -e, e, e], renew)


def static_groups(n: int, rng: np.random.Generator, c: ScenarioConfig) -> ScenarioLayout:
    """People standing in conversation circles (F-formations) between start and goal: walk around them,
    never through them."""
    half = c.travel / 2
    start, goal = _robot_line(c, rng, half)
    p = _Placer(c, rng, [start[:2], goal])
    p.min_sep = 2 * c.person_radius + 0.1
    area = (half - 1.5, c.arena_half - 1.5)

    def sample() -> tuple[np.ndarray, np.ndarray]:
        centre = np.array([rng.uniform(-area[0], area[0]), rng.uniform(-area[1], area[1])])
        return centre, centre

    while len(p.starts) < n:
        left = n - len(p.starts)
        size = int(rng.integers(2, min(4, left) + 1)) if left >= 2 else 1
        ring = 0.45 + 0.1 * size
        phase = rng.uniform(0, 2 * math.pi)
        angles = phase + 2 * math.pi * np.arange(size) / size
        formation = ring * np.c_[np.cos(angles), np.sin(angles)] if size > 1 else np.zeros((1, 2))
        if not p.add(sample, size, static=True, formation=formation, tries=500):
            raise RuntimeError(f"static_groups: no room for {n} people (placed {len(p.starts)}); lower the "
                               "number of people or raise arena_half")

    def renew(anchor: np.ndarray, g: np.random.Generator) -> np.ndarray:
        return anchor

    return _layout("static_groups", p, start, goal, [], [-half - 1, -c.arena_half, half + 1, c.arena_half],
                   renew)


def random_goals(n: int, rng: np.random.Generator, c: ScenarioConfig) -> ScenarioLayout:
    """People wander between random points of a square; the robot crosses it diagonally."""
    h = c.arena_half
    d = h * 0.8
    corner = rng.integers(4)
    signs = np.array([[1, 1], [1, -1], [-1, 1], [-1, -1]])[corner]
    start_xy = -signs * d + rng.uniform(-c.robot_jitter, c.robot_jitter, 2)
    goal = signs * d + rng.uniform(-c.robot_jitter, c.robot_jitter, 2)
    heading = goal - start_xy
    start = np.array([*start_xy, math.atan2(heading[1], heading[0])])
    p = _Placer(c, rng, [start_xy, goal])

    def sample() -> tuple[np.ndarray, np.ndarray]:
        return rng.uniform(-h, h, 2), rng.uniform(-h, h, 2)

    _add(p, n, sample, None, "random_goals")

    def renew(anchor: np.ndarray, g: np.random.Generator) -> np.ndarray:
        return g.uniform(-h, h, 2)

    return _layout("random_goals", p, start, goal, [], [-h - 1, -h - 1, h + 1, h + 1], renew)


_BUILDERS: dict[str, Callable[[int, np.random.Generator, ScenarioConfig], ScenarioLayout]] = {
    "circle_crossing": circle_crossing,
    "parallel_traffic": parallel_traffic,
    "head_on": head_on,
    "overtaking": overtaking,
    "doorway": doorway,
    "intersection": intersection,
    "static_groups": static_groups,
    "random_goals": random_goals,
}


def build_scenario(name: str, n_people: int, rng: np.random.Generator,
                   config: ScenarioConfig | None = None) -> ScenarioLayout:
    """The layout of scenario ``name`` with ``n_people`` people, drawn from ``rng``."""
    if name not in _BUILDERS:
        raise ValueError(f"scenario {name!r} is unknown; use one of {SCENARIOS}")
    if n_people < 0:
        raise ValueError(f"n_people={n_people} must be >= 0")
    return _BUILDERS[name](int(n_people), rng, config or ScenarioConfig())
