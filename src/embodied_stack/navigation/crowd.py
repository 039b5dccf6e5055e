"""Pedestrian models that move a crowd: social force with walking groups, and ORCA (navground).

Why two models: social force (Helbing & Molnar 1995, with the group terms of Moussaïd et al. 2010) gives
the bumpy, human-looking motion of people who walk in groups; ORCA (van den Berg et al. 2011) gives the
reciprocal, collision-free motion CrowdNav-family benchmarks use, so results compare with theirs. ORCA
comes from the maintained ``navground`` wheel (C++ core, MIT) rather than a reimplementation.

Both act on one :class:`CrowdState` (arrays over people) and see the robot only when it is *visible*:
an invisible robot (CrowdNav's hard setting) is ignored by everyone, so avoiding collisions is entirely
the robot's job. Walls are line segments ``x1, y1, x2, y2``. Units are SI; frames are the world frame.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass, field

import numpy as np

CROWD_MODELS = ("social_force", "orca")


@dataclass
class CrowdState:
    """Everyone's state; ``group[i] == -1`` means person ``i`` walks alone, ``static[i]`` stands still."""

    position: np.ndarray  # (n, 2) m
    velocity: np.ndarray  # (n, 2) m/s
    goal: np.ndarray  # (n, 2) m
    speed: np.ndarray  # (n,) m/s, preferred walking speed
    radius: np.ndarray  # (n,) m
    group: np.ndarray  # (n,) int
    static: np.ndarray  # (n,) bool

    @property
    def n(self) -> int:
        return len(self.position)

    @classmethod
    def empty(cls) -> CrowdState:
        return cls(np.zeros((0, 2)), np.zeros((0, 2)), np.zeros((0, 2)), np.zeros(0), np.zeros(0),
                   np.zeros(0, dtype=int), np.zeros(0, dtype=bool))


@dataclass(frozen=True)
class RobotBody:
    """The robot as people see it (only passed to the models when the robot is visible)."""

    position: np.ndarray  # (2,) m
    velocity: np.ndarray  # (2,) m/s
    radius: float  # m


def closest_points_on_segments(points: np.ndarray, segments: np.ndarray) -> np.ndarray:
    """(n, m, 2): for each point the closest point on each segment ``x1, y1, x2, y2``."""
    a, b = segments[None, :, :2], segments[None, :, 2:]
    ab = b - a
    t = np.einsum("nmk,nmk->nm", points[:, None, :] - a, np.broadcast_to(ab, (len(points), *ab.shape[1:])))
    t = np.clip(t / np.maximum(np.sum(ab * ab, axis=2), 1e-12), 0.0, 1.0)
    return a + t[:, :, None] * ab


class PedestrianModel(ABC):
    """Advances a :class:`CrowdState` by one step; static people never move."""

    @abstractmethod
    def step(self, state: CrowdState, dt: float, walls: np.ndarray, robot: RobotBody | None) -> None:
        """Update ``state.position`` and ``state.velocity`` in place over ``dt`` seconds."""

    def reset(self, state: CrowdState) -> None:  # noqa: B027  (optional hook)
        """Called when a new crowd is placed (models with per-agent objects rebuild them here)."""


@dataclass(frozen=True)
class SocialForceConfig:
    """Helbing's parameters (SI) plus Moussaïd's group cohesion; walking-adult values from the literature.

    substep: s, the internal integration step (the exponential repulsion is stiff: at CrowdNav's 0.25 s
    control period a single Euler step lets people overshoot into each other).
    anisotropy: weight of interactions behind a person (lambda; 1 = isotropic): people react to what is
    in front of them.
    """

    tau: float = 0.5  # s
    agent_strength: float = 2.1  # m/s^2 (A)
    agent_range: float = 0.3  # m (B)
    anisotropy: float = 0.35
    # walls as in the indoor world's model (embodied_stack.sim.pedestrians): a longer range makes the
    # several edges around a doorway's jambs add up to a barrier nobody walks through
    wall_strength: float = 5.0  # m/s^2
    wall_range: float = 0.1  # m
    robot_strength: float = 3.0  # m/s^2: people give a visible robot a wider berth than each other
    robot_range: float = 0.5  # m
    group_cohesion: float = 1.5  # m/s^2 towards the group's centre when farther than group_spread
    group_spread: float = 0.6  # m
    max_speed_factor: float = 1.3
    substep: float = 0.05  # s
    keep_right: float = 0.1  # rad, as OrcaConfig.keep_right: breaks symmetric head-on deadlocks


class SocialForceModel(PedestrianModel):
    """a = (v0 e_goal - v)/tau + people + walls + visible robot + group cohesion (vectorised numpy)."""

    def __init__(self, config: SocialForceConfig | None = None) -> None:
        self.config = config or SocialForceConfig()

    def step(self, state: CrowdState, dt: float, walls: np.ndarray, robot: RobotBody | None) -> None:
        if state.n == 0:
            return
        n_sub = max(1, math.ceil(dt / self.config.substep - 1e-9))
        h = dt / n_sub
        for _ in range(n_sub):
            self._substep(state, h, walls, robot)

    def _substep(self, s: CrowdState, h: float, walls: np.ndarray, robot: RobotBody | None) -> None:
        c = self.config
        to_goal = s.goal - s.position
        dist = np.linalg.norm(to_goal, axis=1, keepdims=True)
        cr, sr = math.cos(-c.keep_right), math.sin(-c.keep_right)
        aim = np.where(dist > 1.0, to_goal @ np.array([[cr, sr], [-sr, cr]]), to_goal)
        desired = s.speed[:, None] * aim / np.maximum(dist, 1e-6)
        desired = np.where(dist < 0.3, desired * dist / 0.3, desired)  # slow down onto the goal
        force = (desired - s.velocity) / c.tau
        heading = s.velocity / np.maximum(np.linalg.norm(s.velocity, axis=1, keepdims=True), 1e-6)
        if s.n > 1:
            diff = s.position[:, None, :] - s.position[None, :, :]
            d = np.linalg.norm(diff, axis=2)
            np.fill_diagonal(d, np.inf)
            normal = diff / np.maximum(d, 1e-6)[:, :, None]
            mag = c.agent_strength * np.exp((s.radius[:, None] + s.radius[None, :] - d) / c.agent_range)
            cos_phi = -np.einsum("ik,ijk->ij", heading, normal)  # >0: j is in front of i
            mag *= c.anisotropy + (1 - c.anisotropy) * (1 + cos_phi) / 2
            force += np.sum(mag[:, :, None] * normal, axis=1)
            force += self._group_force(s)
        if len(walls):
            closest = closest_points_on_segments(s.position, walls)
            diff = s.position[:, None, :] - closest
            d = np.linalg.norm(diff, axis=2)
            mag = c.wall_strength * np.exp((s.radius[:, None] - d) / c.wall_range)
            force += np.sum(mag[:, :, None] * diff / np.maximum(d, 1e-6)[:, :, None], axis=1)
        if robot is not None:
            diff = s.position - robot.position
            d = np.linalg.norm(diff, axis=1)
            mag = c.robot_strength * np.exp((s.radius + robot.radius - d) / c.robot_range)
            force += mag[:, None] * diff / np.maximum(d, 1e-6)[:, None]
        velocity = s.velocity + h * force
        speed = np.linalg.norm(velocity, axis=1, keepdims=True)
        cap = (c.max_speed_factor * s.speed)[:, None]
        velocity = np.where(speed > cap, velocity * cap / np.maximum(speed, 1e-9), velocity)
        velocity[s.static] = 0.0
        s.velocity = velocity
        s.position = s.position + h * velocity

    def _group_force(self, s: CrowdState) -> np.ndarray:
        force = np.zeros_like(s.position)
        for g in np.unique(s.group[(s.group >= 0) & ~s.static]):
            members = np.flatnonzero(s.group == g)
            if len(members) < 2:
                continue
            offset = s.position[members].mean(axis=0) - s.position[members]
            d = np.linalg.norm(offset, axis=1, keepdims=True)
            force[members] += np.where(d > self.config.group_spread,
                                       self.config.group_cohesion * offset / np.maximum(d, 1e-6), 0.0)
        return force


@dataclass(frozen=True)
class OrcaConfig:
    """ORCA parameters; CrowdNav's human policy uses time_horizon 5 s, which makes people very timid
    around each other; 2 s keeps them walking in a 20-person crowd."""

    time_horizon: float = 2.0  # s
    horizon: float = 5.0  # m, neighbours farther than this are ignored
    safety_margin: float = 0.05  # m
    max_speed_factor: float = 1.0  # max speed = factor x preferred speed
    # rad: everyone aims this much to the right of their goal (while > 1 m away): it breaks ORCA's
    # symmetric deadlocks (people meeting exactly head-on stop dead) the way people do, by keeping right
    keep_right: float = 0.1


class OrcaModel(PedestrianModel):
    """One navground ``ORCA`` behaviour per person (omnidirectional kinematics)."""

    def __init__(self, config: OrcaConfig | None = None) -> None:
        import navground.core as core  # the C++ wheel loads only when ORCA people are used

        self._core = core
        self.config = config or OrcaConfig()
        self._behaviors: list = []

    def reset(self, state: CrowdState) -> None:
        core, c = self._core, self.config
        self._behaviors = []
        for i in range(state.n):
            b = core.Behavior.make_type("ORCA")
            b.kinematics = core.Kinematics.make_type("Omni")
            b.kinematics.max_speed = float(max(state.speed[i], 1e-3) * c.max_speed_factor)
            b.radius = float(state.radius[i])
            b.optimal_speed = float(max(state.speed[i], 1e-3))
            b.horizon = c.horizon
            b.time_horizon = c.time_horizon
            b.safety_margin = c.safety_margin
            self._behaviors.append(b)

    def step(self, state: CrowdState, dt: float, walls: np.ndarray, robot: RobotBody | None) -> None:
        core = self._core
        if len(self._behaviors) != state.n:
            self.reset(state)
        lines = [core.LineSegment(w[:2], w[2:]) for w in walls]
        others = [core.Neighbor(state.position[j], float(state.radius[j]), state.velocity[j], j)
                  for j in range(state.n)]
        if robot is not None:
            others.append(core.Neighbor(robot.position, robot.radius, robot.velocity, -1))
        points = np.vstack([state.position, robot.position[None]]) if robot is not None else state.position
        near_mask = np.sum((points[None, :, :] - state.position[:, None, :]) ** 2, axis=2) \
            < (self.config.horizon + 1.0) ** 2
        velocity = np.zeros_like(state.velocity)
        for i, b in enumerate(self._behaviors):
            if state.static[i]:
                continue
            p = state.position[i]
            b.pose = core.Pose2(p, math.atan2(state.velocity[i, 1], state.velocity[i, 0]))
            b.twist = core.Twist2(state.velocity[i], 0.0)
            b.target = core.Target.Point(self._aim(p, state.goal[i]), 0.05)
            near_mask[i, i] = False
            near = [others[j] for j in np.flatnonzero(near_mask[i])]
            b.environment_state.neighbors = near
            b.environment_state.line_obstacles = lines
            velocity[i] = b.compute_cmd(dt, frame=core.Frame.absolute).velocity
        state.velocity = velocity
        state.position = state.position + dt * velocity

    def _aim(self, p: np.ndarray, goal: np.ndarray) -> np.ndarray:
        offset = goal - p
        if float(offset @ offset) < 1.0:
            return goal
        c, s = math.cos(-self.config.keep_right), math.sin(-self.config.keep_right)
        return p + np.array([c * offset[0] - s * offset[1], s * offset[0] + c * offset[1]])


@dataclass(frozen=True)
class CrowdModelConfig:
    """Which model drives the people, with each model's parameters."""

    model: str = "orca"
    social_force: SocialForceConfig = field(default_factory=SocialForceConfig)
    orca: OrcaConfig = field(default_factory=OrcaConfig)


def make_pedestrian_model(name: str, config: CrowdModelConfig | None = None) -> PedestrianModel:
    """The model called ``name`` (one of :data:`CROWD_MODELS`)."""
    config = config or CrowdModelConfig()
    if name == "social_force":
        return SocialForceModel(config.social_force)
    if name == "orca":
        return OrcaModel(config.orca)
    raise ValueError(f"crowd model {name!r} is unknown; use one of {CROWD_MODELS}")
