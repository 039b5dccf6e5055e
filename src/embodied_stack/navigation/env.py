"""``embodied_stack/SocialNav-v0``: a robot crossing a 2D crowd to a goal, fast enough for RL.

## Description
A disc robot (holonomic like a quadruped in sport mode, or a unicycle like a differential drive) must
reach its goal among 0-20 people driven by ORCA or social force (:mod:`embodied_stack.navigation.crowd`)
in one of the :data:`~embodied_stack.navigation.scenarios.SCENARIOS`. People see the robot only when
``robot_visible`` (CrowdNav's hard setting is invisible). The robot sees people *as perception reports
them* (:mod:`embodied_stack.navigation.perceived`: noise, missed detections, late confirmation), never
ground truth, and optionally a 2D scan that also shows walls.

## Action space
``Box(-1, 1, (2,), float32)``, decoded by :func:`~embodied_stack.navigation.observation.action_to_twist`:

| kinematics | a[0]                                          | a[1]                                  |
|------------|-----------------------------------------------|---------------------------------------|
| holonomic  | velocity along F-x (to the goal) / max_speed   | velocity along F-y / max_speed        |
| unicycle   | forward speed: -1 -> 0, 1 -> max_speed (m/s)   | yaw rate / max_angular_speed (rad/s)  |

(holonomic: the norm of ``a`` is clipped to 1, and the heading turns towards the motion)

## Observation space
``Dict`` (all float32, frame F: x to the goal for holonomic, the body frame for unicycle):

| key          | shape             | content                                                         |
|--------------|-------------------|-----------------------------------------------------------------|
| robot        | (5,)              | goal x, y (m), goal distance (m), robot vx, vy (m/s)             |
| people       | (max_people, 6)   | nearest first: x, y (m), vx, vy (m/s), gap (m), radius sum (m)    |
| people_mask  | (max_people,)     | 1 for a real person, 0 for padding                               |
| scan         | (scan_beams,)     | only if scan_beams > 0: ranges / scan_range, beam 0 along F-x    |

## Rewards (CrowdNav++-style; each term is in ``info["reward_<name>"]`` and they sum to the reward)
- ``progress``: ``progress_weight`` x (previous - current goal distance) (m);
- ``discomfort``: ``-discomfort_weight`` x (discomfort_distance - gap) for the closest person closer than
  ``discomfort_distance`` (the intimate zone, 0.45 m);
- ``success``: ``success_reward`` on reaching the goal; ``collision``: ``collision_penalty`` on touching a
  person or a wall; a timeout earns nothing extra.

## Starting state
The scenario's layout (seeded by ``reset(seed=...)``): robot at rest at its start, people at theirs.

## Episode end
Terminated on success (goal distance < ``goal_tolerance``) or collision (swept check over the step);
truncated when ``time_limit_s`` is reached. ``info``: ``is_success``, ``outcome``
(success / collision / timeout / None), ``collision_type`` (robot_on_person, person_on_robot, obstacle).

## Arguments
``scenario`` (a name, a list to draw from, or "mixed" for all), ``people`` (an int or [low, high]
drawn per episode), ``kinematics`` ("holonomic" / "unicycle"), ``robot_visible``, ``crowd_model``
("orca", "social_force" or "mixed"), ``max_people`` (people slots; more people than slots: the nearest
are kept), ``scan_beams`` / ``scan_range`` (m), ``perception_noise`` (False: ground truth), ``dt`` (s),
``time_limit_s``, ``goal_tolerance`` (m), ``max_speed`` (m/s; default the
:class:`~embodied_stack.navigation.types.RobotKinematics` one), the reward weights above.
``reset(options={"scenario": ..., "people": ...})`` overrides the draw for one episode.

The env truncates itself at ``time_limit_s`` (so the registration has no ``max_episode_steps`` that would
restate it). Planners drive it without the normalised action: ``nav_observation()`` ->
``Planner.act`` -> ``step_twist(twist)``; ``trajectory()`` returns the episode for the metrics.

## Version history
- v0: first version.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np

from embodied_stack.navigation.crowd import CROWD_MODELS, CrowdState, RobotBody, make_pedestrian_model
from embodied_stack.navigation.metrics import Trajectory, collision_type
from embodied_stack.navigation.observation import ObservationLayout, action_to_twist, encode
from embodied_stack.navigation.perceived import PerceivedPeople, PerceptionNoiseConfig
from embodied_stack.navigation.scan import ray_scan
from embodied_stack.navigation.scenarios import SCENARIOS, ScenarioConfig, ScenarioLayout, build_scenario
from embodied_stack.navigation.types import NavObservation, RobotKinematics, Twist

PERSON_GOAL_TOLERANCE = 0.5  # m: a walker this close to its goal gets a new one


def _min_gap_swept(p0: np.ndarray, dp: np.ndarray, q0: np.ndarray, dq: np.ndarray) -> np.ndarray:
    """(n,) smallest centre distance between a point moving p0 -> p0+dp and each moving q0 -> q0+dq."""
    r0 = q0 - p0
    dr = dq - dp
    a = np.sum(dr * dr, axis=1)
    t = np.clip(-np.sum(r0 * dr, axis=1) / np.maximum(a, 1e-12), 0.0, 1.0)
    return np.linalg.norm(r0 + t[:, None] * dr, axis=1)


def segment_distance(point: np.ndarray, walls: np.ndarray) -> np.ndarray:
    """(m,) distance from ``point`` to each wall segment."""
    a, e = walls[:, :2], walls[:, 2:] - walls[:, :2]
    t = np.clip(np.sum((point - a) * e, axis=1) / np.maximum(np.sum(e * e, axis=1), 1e-12), 0, 1)
    return np.linalg.norm(a + t[:, None] * e - point, axis=1)


class SocialNavEnv(gym.Env):
    metadata = {"render_modes": ["rgb_array"], "render_fps": 4}

    def __init__(self, scenario: str | Sequence[str] = "mixed", people: int | Sequence[int] = 10,
                 kinematics: str = "holonomic", robot_visible: bool = False, crowd_model: str = "orca",
                 max_people: int = 20, scan_beams: int = 0, scan_range: float = 6.0,
                 perception_noise: bool = True, dt: float = 0.25, time_limit_s: float = 40.0,
                 goal_tolerance: float = 0.3, progress_weight: float = 1.0, discomfort_weight: float = 1.0,
                 discomfort_distance: float = 0.45, success_reward: float = 10.0,
                 collision_penalty: float = -20.0, max_speed: float | None = None,
                 render_mode: str | None = None) -> None:
        names = list(SCENARIOS) if scenario == "mixed" else [scenario] if isinstance(scenario, str) \
            else list(scenario)
        unknown = [s for s in names if s not in SCENARIOS]
        if unknown or not names:
            raise ValueError(f"scenario={scenario!r}: unknown {unknown}; use one of {SCENARIOS} or 'mixed'")
        self.scenarios = names
        lo_hi = (people, people) if isinstance(people, int) else tuple(people)
        if len(lo_hi) != 2 or not 0 <= lo_hi[0] <= lo_hi[1]:
            raise ValueError(f"people={people!r} must be an int >= 0 or [low, high] with 0 <= low <= high")
        self.people_range = (int(lo_hi[0]), int(lo_hi[1]))
        models = list(CROWD_MODELS) if crowd_model == "mixed" else [crowd_model]
        if crowd_model != "mixed" and crowd_model not in CROWD_MODELS:
            raise ValueError(f"crowd_model={crowd_model!r}; use one of {CROWD_MODELS} or 'mixed'")
        self._models = {m: make_pedestrian_model(m) for m in models}
        if dt <= 0 or time_limit_s < dt:
            raise ValueError(f"dt={dt} must be > 0 s and time_limit_s={time_limit_s} >= dt")
        limits = {} if max_speed is None else {"max_speed": float(max_speed)}
        self.kinematics = RobotKinematics(kind=kinematics, **limits)
        self.robot_visible = bool(robot_visible)
        self.layout_spec = ObservationLayout(max_people=max_people, scan_beams=scan_beams,
                                             scan_range=scan_range)
        self.scenario_config = ScenarioConfig()
        self.dt, self.time_limit_s = float(dt), float(time_limit_s)
        self.goal_tolerance = float(goal_tolerance)
        self.weights = {"progress": progress_weight, "discomfort": discomfort_weight,
                        "success": success_reward, "collision": collision_penalty}
        self.discomfort_distance = float(discomfort_distance)
        self.perception = PerceivedPeople(PerceptionNoiseConfig(enabled=perception_noise))
        self.render_mode = render_mode
        self.observation_space = self.layout_spec.space()
        self.action_space = gym.spaces.Box(-1.0, 1.0, (2,), np.float32)
        self.layout: ScenarioLayout | None = None
        self._seen: tuple[np.ndarray, np.ndarray, np.ndarray] = (np.zeros(0, int), np.zeros((0, 2)),
                                                                  np.zeros((0, 2)))
        self._log: dict[str, list] = {}

    # --- gymnasium API -------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        options = options or {}
        rng = self.np_random
        name = options.get("scenario") or self.scenarios[int(rng.integers(len(self.scenarios)))]
        n = options.get("people")
        n = int(rng.integers(self.people_range[0], self.people_range[1] + 1)) if n is None else int(n)
        model_name = list(self._models)[int(rng.integers(len(self._models)))]
        self.model = self._models[model_name]
        self.layout = build_scenario(name, n, rng, self.scenario_config)
        self.crowd: CrowdState = self.layout.crowd
        self._standing = self.crowd.static.copy()  # people who never walk (static groups)
        self._pause = np.zeros(self.crowd.n)  # s left standing at a reached goal
        self.model.reset(self.crowd)
        self.pose = self.layout.robot_start.astype(np.float64).copy()
        self.velocity = np.zeros(2)
        self.wz = 0.0
        self.time = 0.0
        self.outcome: str | None = None
        self.collision_type = ""
        self.perception.reset(self.crowd.n)
        self._prev_distance = self._goal_distance()
        self._log = {"robot_xy": [self.pose[:2].copy()], "robot_yaw": [self.pose[2]],
                     "robot_velocity": [self.velocity.copy()], "robot_wz": [0.0],
                     "people_xy": [self.crowd.position.copy()]}
        self._perceive()
        info = {"scenario": name, "people": n, "crowd_model": model_name}
        return self._obs(), info

    def step(self, action: np.ndarray):
        if self.layout is None:
            raise RuntimeError("call reset() before step()")
        if self.outcome is not None:
            raise RuntimeError(f"the episode ended ({self.outcome}); call reset() before step()")
        twist = action_to_twist(np.asarray(action), self.nav_observation())
        return self.step_twist(twist)

    def step_twist(self, twist: Twist):
        """Step with a body-frame velocity command (what the planners return), clamped to the limits."""
        k, dt, c = self.kinematics, self.dt, self.crowd
        p0, q0 = self.pose[:2].copy(), c.position.copy()
        robot = RobotBody(p0, self.velocity.copy(), k.radius) if self.robot_visible else None
        c.static = self._standing | (self._pause > 0)
        self.model.step(c, dt, self.layout.walls, robot)  # people decide on the state at t, as the robot did
        self._pause = np.maximum(self._pause - dt, 0.0)
        self._move_robot(twist)
        self.time += dt
        self._renew_goals()
        distance = self._goal_distance()
        rewards = {"progress": self.weights["progress"] * (self._prev_distance - distance),
                   "discomfort": 0.0, "success": 0.0, "collision": 0.0}
        self._prev_distance = distance
        gaps = np.zeros(0)
        if c.n:
            gaps = _min_gap_swept(p0, self.pose[:2] - p0, q0, c.position - q0) - c.radius - k.radius
            hit = np.flatnonzero(gaps < 0)
            if len(hit):
                j = int(hit[np.argmin(gaps[hit])])
                self.outcome = "collision"
                self.collision_type = collision_type(p0, self.velocity, q0[j], c.velocity[j])
            closest = float(gaps.min())
            if closest < self.discomfort_distance:
                rewards["discomfort"] = -self.weights["discomfort"] * (self.discomfort_distance
                                                                       - max(closest, 0))
        if self.outcome is None and len(self.layout.walls) and \
                segment_distance(self.pose[:2], self.layout.walls).min() < k.radius:
            self.outcome, self.collision_type = "collision", "obstacle"
        if self.outcome is None and distance < self.goal_tolerance:
            self.outcome = "success"
        if self.outcome == "success":
            rewards["success"] = self.weights["success"]
        elif self.outcome == "collision":
            rewards["collision"] = self.weights["collision"]
        terminated = self.outcome is not None
        truncated = not terminated and self.time >= self.time_limit_s - 1e-9
        if truncated:
            self.outcome = "timeout"
        self._record()
        self._perceive()
        info: dict[str, Any] = {f"reward_{key}": value for key, value in rewards.items()}
        info.update(is_success=self.outcome == "success", outcome=self.outcome,
                    collision_type=self.collision_type,
                    min_gap=float(gaps.min()) if len(gaps) else math.inf)
        return self._obs(), float(sum(rewards.values())), terminated, truncated, info

    def render(self) -> np.ndarray | None:
        if self.render_mode != "rgb_array" or self.layout is None:
            return None
        from embodied_stack.navigation.plots import rasterize

        return rasterize(self.layout, self.pose, self.kinematics.radius, self.crowd)

    # --- planner interface ---------------------------------------------------------------
    def nav_observation(self) -> NavObservation:
        """What a planner sees now: perceived people, robot state, goal, walls (and the scan)."""
        idx, pos, vel = self._seen
        scan = None
        if self.layout_spec.scan_beams:
            scan = ray_scan(self.pose[:2], float(self.pose[2]), self.layout_spec.scan_beams,
                            self.layout_spec.scan_range, self.crowd.position, self.crowd.radius,
                            self.layout.walls)
        return NavObservation(robot_pose=self.pose.copy(), robot_velocity=self.velocity.copy(),
                              goal=self.layout.robot_goal.copy(), kinematics=self.kinematics, dt=self.dt,
                              people_position=pos, people_velocity=vel, people_radius=self.crowd.radius[idx],
                              walls=self.layout.walls, scan=scan)

    def trajectory(self) -> Trajectory:
        """The episode so far, for :func:`~embodied_stack.navigation.metrics.episode_metrics`."""
        log = self._log
        n = self.crowd.n
        return Trajectory(dt=self.dt, robot_xy=np.array(log["robot_xy"]),
                          robot_yaw=np.array(log["robot_yaw"]),
                          robot_velocity=np.array(log["robot_velocity"]), robot_wz=np.array(log["robot_wz"]),
                          robot_radius=self.kinematics.radius,
                          people_xy=np.array(log["people_xy"]).reshape(len(log["people_xy"]), n, 2),
                          people_radius=self.crowd.radius.copy(), goal=self.layout.robot_goal.copy(),
                          outcome=self.outcome or "timeout", collision_type=self.collision_type)

    # --- internals -----------------------------------------------------------------------
    def _goal_distance(self) -> float:
        return float(np.linalg.norm(self.layout.robot_goal - self.pose[:2]))

    def _move_robot(self, twist: Twist) -> None:
        k, dt = self.kinematics, self.dt
        yaw = float(self.pose[2])
        if k.holonomic:
            v = twist.world_velocity(yaw)
            speed = float(np.linalg.norm(v))
            if speed > k.max_speed:
                v *= k.max_speed / speed
            wz = float(np.clip(twist.wz, -k.max_angular_speed, k.max_angular_speed))
            self.pose[:2] += v * dt
        else:
            vx = float(np.clip(twist.vx, 0.0, k.max_speed))
            wz = float(np.clip(twist.wz, -k.max_angular_speed, k.max_angular_speed))
            mid = yaw + wz * dt / 2
            v = vx * np.array([math.cos(mid), math.sin(mid)])
            self.pose[:2] += v * dt
        self.pose[2] = math.remainder(yaw + wz * dt, 2 * math.pi)
        self.velocity, self.wz = v, wz

    def _renew_goals(self) -> None:
        c, lay = self.crowd, self.layout
        reached = (np.linalg.norm(c.goal - c.position, axis=1) < PERSON_GOAL_TOLERANCE) & ~self._standing \
            & (self._pause <= 0)
        done: set[int] = set()
        for i in np.flatnonzero(reached):
            g = int(c.group[i])
            if (g >= 0 and g in done) or (g < 0 and -1 - i in done):
                continue
            members = np.flatnonzero(c.group == g) if g >= 0 else np.array([i])
            here = c.position[members].mean(axis=0)
            self._pause[members] = lay.pause(here, self.np_random)
            anchor = lay.renew(here, self.np_random)
            c.goal[members] = anchor + lay.goal_offset[members] - lay.goal_offset[members].mean(axis=0)
            done.add(g if g >= 0 else -1 - i)

    def _perceive(self) -> None:
        self._seen = self.perception.update(self.pose[:2], self.crowd.position, self.crowd.velocity, self.dt,
                                            self.np_random)

    def _record(self) -> None:
        log = self._log
        log["robot_xy"].append(self.pose[:2].copy())
        log["robot_yaw"].append(float(self.pose[2]))
        log["robot_velocity"].append(self.velocity.copy())
        log["robot_wz"].append(self.wz)
        log["people_xy"].append(self.crowd.position.copy())

    def _obs(self) -> dict[str, np.ndarray]:
        return encode(self.nav_observation(), self.layout_spec)
