"""Social navigation metrics of one episode, from its trajectory (HuNavSim + SocNavBench + CrowdNav sets).

Why from a recorded :class:`Trajectory` and not inside the env: the same functions score a simulated
episode, a recorded real run and a hand-made trajectory in a test, and a metric's definition lives once.

Distances to people are *gaps* between body surfaces: centre distance minus robot and person radii
(a touch is gap 0). Zones follow HuNavSim (Hall's proxemics): intimate < 0.45 m, personal 0.45-1.2 m,
social 1.2-3.6 m; a zone's percentage counts the steps with *someone* in it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

OUTCOMES = ("success", "collision", "timeout")
COLLISION_TYPES = ("robot_on_person", "person_on_robot", "obstacle")
INTIMATE, PERSONAL, SOCIAL = 0.45, 1.2, 3.6  # m, outer edges of Hall's zones
NOT_MOVING_SPEED, NOT_MOVING_TURN = 0.001, 0.01  # m/s, rad/s (HuNavSim)

#: every metric :func:`episode_metrics` returns, in table order; ``*_pct`` are percentages of time steps
METRIC_NAMES = (
    "success", "collision", "robot_on_person_collision", "person_on_robot_collision", "obstacle_collision",
    "timeout", "time_to_goal", "path_length", "path_length_ratio", "path_irregularity",
    "cumulative_heading_changes", "jerk", "min_distance_to_person", "avg_distance_to_closest_person",
    "intimate_space_pct", "personal_space_pct", "social_space_pct", "time_not_moving",
)
#: metrics defined only for successful episodes (NaN otherwise), averaged over successes
SUCCESS_ONLY = ("time_to_goal", "path_length_ratio")


@dataclass
class Trajectory:
    """One episode sampled every ``dt``: T samples, n people (index 0 is the start state)."""

    dt: float  # s
    robot_xy: np.ndarray  # (T, 2) m
    robot_yaw: np.ndarray  # (T,) rad
    robot_velocity: np.ndarray  # (T, 2) m/s, world frame
    robot_wz: np.ndarray  # (T,) rad/s
    robot_radius: float  # m
    people_xy: np.ndarray  # (T, n, 2) m
    people_radius: np.ndarray  # (n,) m
    goal: np.ndarray  # (2,) m
    outcome: str
    collision_type: str = ""

    def __post_init__(self) -> None:
        if self.outcome not in OUTCOMES:
            raise ValueError(f"outcome={self.outcome!r}; use one of {OUTCOMES}")
        if self.outcome == "collision" and self.collision_type not in COLLISION_TYPES:
            raise ValueError(f"collision_type={self.collision_type!r}; a collision needs one of "
                             f"{COLLISION_TYPES}")
        if len(self.robot_xy) < 1 or self.people_xy.shape[:1] != self.robot_xy.shape[:1]:
            raise ValueError(f"robot_xy {self.robot_xy.shape} and people_xy {self.people_xy.shape} must have "
                             "the same number T >= 1 of samples")


def closest_gaps(t: Trajectory) -> np.ndarray:
    """(T,) smallest robot-to-person gap (m) at each sample; +inf with no people."""
    if t.people_xy.shape[1] == 0:
        return np.full(len(t.robot_xy), np.inf)
    d = np.linalg.norm(t.people_xy - t.robot_xy[:, None, :], axis=2) - t.people_radius[None] - t.robot_radius
    return d.min(axis=1)


def collision_type(robot_xy: np.ndarray, robot_v: np.ndarray, person_xy: np.ndarray,
                   person_v: np.ndarray) -> str:
    """Who ran into whom: the one closing the gap faster along the line between centres (HuNavSim's
    robot-on-person vs person-on-robot split)."""
    n = person_xy - robot_xy
    n = n / max(float(np.linalg.norm(n)), 1e-9)
    return "robot_on_person" if float(robot_v @ n) >= float(-person_v @ n) else "person_on_robot"


def episode_metrics(t: Trajectory) -> dict[str, float]:
    """Every metric in :data:`METRIC_NAMES` for one episode."""
    xy, dt = t.robot_xy, t.dt
    steps = np.diff(xy, axis=0)
    path = float(np.sum(np.linalg.norm(steps, axis=1)))
    straight = float(np.linalg.norm(xy[-1] - xy[0]))  # start to where it stopped (at the goal on success)
    success = t.outcome == "success"
    to_goal = t.goal - xy
    goal_dir = np.arctan2(to_goal[:, 1], to_goal[:, 0])
    moving = np.linalg.norm(t.robot_velocity, axis=1) >= NOT_MOVING_SPEED
    irregular = np.abs(np.remainder(t.robot_yaw - goal_dir + math.pi, 2 * math.pi) - math.pi)
    heading_changes = np.abs(np.remainder(np.diff(t.robot_yaw) + math.pi, 2 * math.pi) - math.pi)
    jerk = np.diff(xy, n=3, axis=0) / dt**3 if len(xy) >= 4 else np.zeros((1, 2))
    gaps = closest_gaps(t)
    has_people = t.people_xy.shape[1] > 0
    if has_people:
        all_gaps = np.linalg.norm(t.people_xy - xy[:, None, :], axis=2) - t.people_radius[None] \
            - t.robot_radius

        def zone(lo: float, hi: float) -> float:
            return float(100.0 * np.mean(np.any((all_gaps >= lo) & (all_gaps < hi), axis=1)))
    else:
        def zone(lo: float, hi: float) -> float:
            return 0.0
    still = (~moving) & (np.abs(t.robot_wz) < NOT_MOVING_TURN)
    return {
        "success": float(success),
        "collision": float(t.outcome == "collision"),
        "robot_on_person_collision": float(t.collision_type == "robot_on_person"),
        "person_on_robot_collision": float(t.collision_type == "person_on_robot"),
        "obstacle_collision": float(t.collision_type == "obstacle"),
        "timeout": float(t.outcome == "timeout"),
        "time_to_goal": (len(xy) - 1) * dt if success else math.nan,
        "path_length": path,
        "path_length_ratio": path / straight if success and straight > 0 else math.nan,
        "path_irregularity": float(np.mean(irregular[:-1][moving[:-1]])) if np.any(moving[:-1]) else 0.0,
        "cumulative_heading_changes": float(np.sum(heading_changes)),
        "jerk": float(np.mean(np.linalg.norm(jerk, axis=1))),
        "min_distance_to_person": float(gaps.min()) if has_people else math.nan,
        "avg_distance_to_closest_person": float(gaps.mean()) if has_people else math.nan,
        "intimate_space_pct": zone(-np.inf, INTIMATE),
        "personal_space_pct": zone(INTIMATE, PERSONAL),
        "social_space_pct": zone(PERSONAL, SOCIAL),
        "time_not_moving": float(np.sum(still[1:]) * dt),
    }


def wilson_interval(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95 % Wilson score interval of a success rate (sound at 0 % and 100 %, unlike the normal one)."""
    if n == 0:
        return (math.nan, math.nan)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


def aggregate(episodes: list[dict[str, float]]) -> dict[str, float]:
    """Mean of each metric over episodes (NaN-skipping, so success-only metrics average the successes),
    plus ``episodes`` and the success rate's Wilson interval ``success_low`` / ``success_high``."""
    out: dict[str, float] = {"episodes": float(len(episodes))}
    for name in METRIC_NAMES:
        values = np.array([e[name] for e in episodes], dtype=np.float64)
        finite = values[np.isfinite(values)]
        out[name] = float(finite.mean()) if len(finite) else math.nan
    low, high = wilson_interval(int(sum(e["success"] for e in episodes)), len(episodes))
    out["success_low"], out["success_high"] = low, high
    return out
