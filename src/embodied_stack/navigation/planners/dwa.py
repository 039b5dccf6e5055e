"""A DWA-style sampling planner with proxemic costs and a safety filter for an invisible robot.

Why sampling: every candidate velocity is rolled out for ``horizon`` seconds against people predicted at
constant velocity, and scored by costs a person can read — collision (earlier is worse, with a margin that
grows with prediction time), intrusion into a personal space stretched in front of walking people, being
on a person's right when passing them (right-hand traffic: keep right, so pass on their left), cutting
between members of a group, progress to the goal (and moving away from it), being on a collision course
with someone beyond the rollout (time to collision), and a change of velocity (smoothness). All
candidates × time steps × people are one numpy computation (about 1-2 ms at 20 people on this CPU, see
bench/).

Why a safety filter on top of the costs: people do not see the robot (CrowdNav's hard setting, and any
crowd that is not looking), so they never make room; weighted costs trade a likely contact against
progress and personal space, and in a crowd a contact two seconds away can lose that trade one step at a
time. :meth:`DWAPlanner.safety` therefore checks each candidate over ``safety_horizon`` against

- tracked people: during the control period the command is held, and a person may stop or slow down
  anywhere along their predicted path (a capsule from where they are to where constant velocity puts
  them); after it, constant velocity; the clearance demanded grows from ``safety_margin`` by
  ``safety_growth`` per second of prediction (tracker noise, people changing their mind);
- scan returns no track explains (a person the tracker has not confirmed yet, e.g. for the first
  half-second of a goal): a point that may come at the robot at ``unknown_speed``;
- walls, which the command must not touch during the control period.

The cheapest candidate that passes is chosen. When none passes (the robot is already caught between
people), the planner chooses the one with the best *escape*: hold it for one control period, then the
best of ``escape_directions`` × 2 speeds (or stop) for the rest of the horizon — a first move that keeps
a way out beats one that only delays contact by fleeing along a faster walker's path.

Candidates: holonomic — ``directions`` headings around the goal direction × ``speeds`` (+ stop);
unicycle — ``speeds`` × ``turn_rates`` arcs (Fox et al. 1997's dynamic window without acceleration
limits: the bases here reach any command within one control period). The escape search is holonomic;
a unicycle without a passing candidate takes the one with the most clearance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from embodied_stack.navigation.controller import scan_points
from embodied_stack.navigation.crowd import closest_points_on_segments
from embodied_stack.navigation.metrics import INTIMATE, PERSONAL
from embodied_stack.navigation.planners.base import Planner, ScanInput, velocity_command
from embodied_stack.navigation.types import NavObservation, Twist


@dataclass(frozen=True)
class DWAConfig:
    """Sampling, prediction, cost weights (dimensionless; see the module docstring) and the safety filter.

    margin / margin_growth: m and m/s, clearance demanded from people at prediction time t is
    ``margin + margin_growth * t`` (predictions get worse with time). front_extension: s, personal space
    reaches ``front_extension x speed`` further in front of a walking person. group_link: m, two people
    closer than this with velocities within group_velocity (m/s) are a group.
    w_regress: cost of ending the rollout farther from the goal than now (progress alone rewards the
    closest point of a rollout, so a retreat cost only its first step and the robot fled in front of
    oncoming crowds). w_ttc / ttc_horizon (s) / ttc_margin (m): cost of a collision course with a person
    beyond the rollout, ``(1 - ttc / ttc_horizon)^2`` per person, ttc from holding both velocities.
    safety_*: the filter of the module docstring — horizon and step (s), margin (m), growth (m/s);
    wall_margin (m) for walls over the safety horizon; unknown_speed (m/s) and unknown_reach (m) for
    untracked scan returns (the scan's range must exceed unknown_reach: a beam with no return must read
    more), explained (m): a return this close to a tracked person's body, or 0.1 m to a wall, is theirs.
    scan_beams / scan_range (m): the scan it reads (resampled from the LiDAR by the navigation node, ray
    cast by the evaluation env); 36 beams are 10 deg, about one beam on a person 3 m away.
    The proxemic weights were tuned on seeds 10000-10009 (which overlap the held-out evaluation seeds);
    the safety filter, w_regress and w_ttc on validation seeds 30000-30249 at 10 people over all
    scenarios (2000 episodes), never on the held-out seeds.
    """

    horizon: float = 2.0  # s
    step: float = 0.125  # s, rollout resolution (finer than the control period: no tunnelling)
    directions: int = 24
    speeds: tuple[float, ...] = (0.25, 0.5, 0.75, 1.0)  # fractions of max_speed
    turn_rates: int = 9  # unicycle: yaw rates sampled over [-max, max]
    margin: float = 0.05
    margin_growth: float = 0.1
    front_extension: float = 0.3
    group_link: float = 1.6
    group_velocity: float = 0.4
    discount: float = 0.9  # per rollout step: near-term intrusions matter more
    w_collision: float = 1000.0
    w_goal: float = 15.0
    w_regress: float = 15.0
    w_intimate: float = 40.0
    w_personal: float = 1.0
    w_side: float = 1.0
    w_group: float = 30.0
    w_wall: float = 200.0
    w_smooth: float = 0.5
    w_heading: float = 1.0  # unicycle: final heading away from the goal
    w_ttc: float = 30.0
    ttc_horizon: float = 5.0  # s
    ttc_margin: float = 0.1  # m
    safety_horizon: float = 1.5  # s
    safety_step: float = 0.0625  # s
    safety_margin: float = 0.25  # m
    safety_growth: float = 0.15  # m/s
    wall_margin: float = 0.02  # m
    unknown_speed: float = 0.6  # m/s
    unknown_reach: float = 3.0  # m
    explained: float = 0.25  # m
    escape_directions: int = 16
    scan_beams: int = 36
    scan_range: float = 6.0  # m

    def __post_init__(self) -> None:
        if not self.scan_range > self.unknown_reach:
            raise ValueError(f"scan_range={self.scan_range} m must exceed unknown_reach="
                             f"{self.unknown_reach} m (a beam with no return reads scan_range and must not "
                             "look like a person)")
        if not (0 < self.step <= self.horizon and 0 < self.safety_step <= self.safety_horizon):
            raise ValueError(f"step={self.step} and safety_step={self.safety_step} must be > 0 and within "
                             f"their horizons ({self.horizon}, {self.safety_horizon} s)")
        if self.safety_margin < 0 or self.safety_growth < 0 or self.unknown_speed < 0:
            raise ValueError(f"safety_margin={self.safety_margin} m, safety_growth={self.safety_growth} m/s "
                             f"and unknown_speed={self.unknown_speed} m/s must be >= 0")


@dataclass
class SafetyCheck:
    """The safety filter's verdict on each candidate (see :meth:`DWAPlanner.safety`)."""

    times: np.ndarray  # (K,) s, the checked prediction times; the control period is one of them
    positions: np.ndarray  # (C, K, 2) m, the robot along each candidate
    slack: np.ndarray  # (C, K) m, clearance beyond the demanded one (< 0: too close) at each time
    wall_ok: np.ndarray  # (C,) no wall contact during the control period
    committed: np.ndarray  # (K,) bool, times within the control period

    @property
    def clearance(self) -> np.ndarray:
        """(C,) m, the smallest slack over the horizon: a candidate passes when it is >= 0."""
        return self.slack.min(axis=1)

    @property
    def passes(self) -> np.ndarray:
        return (self.clearance >= 0) & self.wall_ok


class DWAPlanner(Planner):
    name = "dwa"

    def __init__(self, config: DWAConfig | None = None) -> None:
        self.config = config or DWAConfig()
        c = self.config
        self._times = np.arange(1, int(round(c.horizon / c.step)) + 1) * c.step  # (K,)
        self._weights = c.discount ** np.arange(len(self._times))
        self._safety_times = np.arange(1, int(round(c.safety_horizon / c.safety_step)) + 1) * c.safety_step
        self.scan_input = ScanInput(c.scan_beams, c.scan_range, required=False)

    # --- candidates ----------------------------------------------------------------------
    def _rollouts(self, obs: NavObservation, times: np.ndarray | None = None
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Robot positions (C, K, 2) at ``times`` (default: the cost rollout's), final headings (C,) and
        the candidate world velocities (C, 2) (for a unicycle, the velocity at the start of its arc)."""
        c, k = self.config, obs.kinematics
        p, yaw = obs.robot_pose[:2], float(obs.robot_pose[2])
        t = self._times if times is None else times
        if k.holonomic:
            to_goal = obs.goal - p
            base = math.atan2(to_goal[1], to_goal[0])
            angles = base + 2 * np.pi * np.arange(c.directions) / c.directions
            speeds = np.asarray(c.speeds) * k.max_speed
            v = np.concatenate([np.zeros((1, 2)), (speeds[:, None, None] * np.stack(
                [np.cos(angles), np.sin(angles)], axis=1)[None]).reshape(-1, 2)])
            pos = p + v[:, None, :] * t[None, :, None]
            heading = np.arctan2(v[:, 1], v[:, 0])
            return pos, heading, v
        speeds = np.concatenate([[0.0], np.asarray(c.speeds) * k.max_speed])
        rates = np.linspace(-k.max_angular_speed, k.max_angular_speed, c.turn_rates)
        vv, ww = (a.ravel() for a in np.meshgrid(speeds, rates, indexing="ij"))
        th = yaw + ww[:, None] * t[None, :]  # (C, K)
        straight = np.abs(ww) < 1e-6
        w_safe = np.where(straight, 1.0, ww)[:, None]
        x = np.where(straight[:, None], vv[:, None] * t * math.cos(yaw),
                     vv[:, None] / w_safe * (np.sin(th) - math.sin(yaw)))
        y = np.where(straight[:, None], vv[:, None] * t * math.sin(yaw),
                     -vv[:, None] / w_safe * (np.cos(th) - math.cos(yaw)))
        pos = p + np.stack([x, y], axis=2)
        v0 = np.stack([vv * math.cos(yaw), vv * math.sin(yaw)], axis=1)
        self._unicycle = (vv, ww)
        return pos, th[:, -1], v0

    # --- costs ---------------------------------------------------------------------------
    def costs(self, obs: NavObservation) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        """Per-candidate total cost, candidate velocities and each named cost term (for inspection)."""
        c, k = self.config, obs.kinematics
        pos, heading, v = self._rollouts(obs)
        t, w = self._times, self._weights
        terms: dict[str, np.ndarray] = {}
        aim, extra = self._subgoal(obs)
        dist_now = float(np.linalg.norm(aim - obs.robot_pose[:2])) + extra
        dist = np.linalg.norm(pos - aim, axis=2) + extra  # (C, K)
        # progress normalised by what full speed achieves: -1 is the best possible
        full = max(k.max_speed * c.horizon, 1e-6)
        terms["goal"] = c.w_goal * (dist.min(axis=1) - dist_now) / full
        terms["regress"] = c.w_regress * np.maximum(dist[:, -1] - dist_now, 0.0) / full
        terms["smooth"] = c.w_smooth * np.sum((v - obs.robot_velocity) ** 2, axis=1) / k.max_speed**2
        if not k.holonomic:
            to_goal = obs.goal[None] - pos[:, -1]
            err = np.remainder(np.arctan2(to_goal[:, 1], to_goal[:, 0]) - heading + np.pi, 2 * np.pi) - np.pi
            terms["heading"] = c.w_heading * np.abs(err) / np.pi * (dist[:, -1] > 0.5)
        collision_time = np.full(len(pos), np.inf)
        people, speed = self._relevant_people(obs, c.horizon)
        if len(people):
            p_pos, p_vel = obs.people_position[people], obs.people_velocity[people]
            p_rad = obs.people_radius[people]
            speed = speed[people]
            pp = p_pos[None] + p_vel[None] * t[:, None, None]  # (K, N, 2)
            rel = pos[:, :, None, :] - pp[None]  # (C, K, N, 2): person -> robot
            centre = np.sqrt(rel[..., 0] ** 2 + rel[..., 1] ** 2)
            gap = centre - p_rad[None, None] - k.radius
            hit = np.any(gap < (c.margin + c.margin_growth * t)[None, :, None], axis=2)  # (C, K)
            collision_time = np.where(hit.any(axis=1), t[np.argmax(hit, axis=1)], np.inf)
            forward = p_vel / np.maximum(speed, 1e-6)[:, None]  # (N, 2)
            x_rel = rel[..., 0] * forward[:, 0] + rel[..., 1] * forward[:, 1]  # along the person's walk
            y_rel = forward[:, 0] * rel[..., 1] - forward[:, 1] * rel[..., 0]  # > 0: on the person's left
            ahead = x_rel / np.maximum(centre, 1e-6)
            eff = gap - c.front_extension * speed[None, None] * np.maximum(ahead, 0.0)
            intrude = c.w_intimate * np.maximum(INTIMATE - eff, 0) ** 2 \
                + c.w_personal * np.maximum(PERSONAL - eff, 0) ** 2
            terms["personal_space"] = np.einsum("ckn,k->c", intrude, w)
            # passing side: near a walking person and level with / ahead of them, be on their left
            passing = (speed[None, None] > 0.2) & (x_rel > -0.5) & (x_rel < 3.0) & (gap < 1.5)
            right = 1.0 / (1.0 + np.exp(y_rel / 0.3))
            terms["passing_side"] = c.w_side * np.einsum("ckn,k->c", passing * right, w)
            terms["group_space"] = self._group_cost(obs, pos)
            terms["time_to_collision"] = self._ttc_cost(obs, v, people)
        if len(obs.walls):
            d = _wall_distance(pos.reshape(-1, 2), obs.walls).reshape(pos.shape[:2]) - k.radius
            wall_hit = d < c.margin
            wall_time = np.where(wall_hit.any(axis=1), t[np.argmax(wall_hit, axis=1)], np.inf)
            collision_time = np.minimum(collision_time, wall_time)
            terms["wall"] = c.w_wall * 0.01 * np.einsum("ck,k->c", np.maximum(0.3 - d, 0) ** 2, w)
        # colliding sooner is worse; a collision at the horizon costs a tenth of an immediate one
        soon = 1.1 - np.minimum(collision_time, c.horizon) / c.horizon
        terms["collision"] = np.where(np.isfinite(collision_time), c.w_collision * soon, 0.0)
        total = np.sum(list(terms.values()), axis=0)
        return total, v, terms

    def _relevant_people(self, obs: NavObservation, horizon: float) -> tuple[np.ndarray, np.ndarray]:
        """Indices of people who can come within personal distance within ``horizon`` s, and all speeds.

        Why: the cost arrays are candidates x steps x people; at 20 people most are too far to matter,
        and skipping them keeps a decision well inside the 5 ms budget.
        """
        speed = np.linalg.norm(obs.people_velocity, axis=1)
        if not obs.num_people:
            return np.zeros(0, dtype=int), speed
        gap = np.linalg.norm(obs.people_position - obs.robot_pose[:2], axis=1) - obs.people_radius \
            - obs.kinematics.radius
        reach = horizon * (obs.kinematics.max_speed + speed) + PERSONAL + 0.5
        return np.flatnonzero(gap < reach), speed

    def _ttc_cost(self, obs: NavObservation, v: np.ndarray, people: np.ndarray) -> np.ndarray:
        """(C,) collision courses beyond the rollout: when would the robot, holding candidate velocity
        ``v``, touch each person holding theirs (closed form, so no horizon to roll out)?

        Why: a faster walker behind the robot, or a row of people walking at it, is on a collision course
        long before the 2 s rollout shows contact; fleeing along their path only delays it, stepping out
        of it ends it.
        """
        c = self.config
        r = obs.people_position[people] - obs.robot_pose[:2]  # (N, 2) person relative to robot
        dv = obs.people_velocity[people][None] - v[:, None, :]  # (C, N, 2)
        reach = obs.people_radius[people] + obs.kinematics.radius + c.ttc_margin
        a = np.sum(dv * dv, axis=2)
        b = 2 * np.sum(r[None] * dv, axis=2)  # < 0: closing
        inside = np.sum(r * r, axis=1) - reach**2  # (N,) < 0: already within the margin
        disc = b * b - 4 * a * inside[None]
        closing = (b < 0) & (disc > 0) & (a > 1e-9)
        ttc = np.where(closing, (-b - np.sqrt(np.maximum(disc, 0.0))) / np.maximum(2 * a, 1e-9), np.inf)
        ttc = np.where(inside[None] <= 0, np.where(b < 0, 0.0, np.inf), ttc)
        urgency = np.maximum(1.0 - ttc / c.ttc_horizon, 0.0)
        return c.w_ttc * np.sum(urgency**2, axis=1)

    def _subgoal(self, obs: NavObservation) -> tuple[np.ndarray, float]:
        """Where to head, and the remaining distance from there to the goal.

        A wall across the straight line to the goal turns euclidean progress into a trap (the robot slides
        along the wall beside a door); then aim just past the end of the blocking wall that gives the
        shortest route — the door's edge — one hop of a visibility graph. Maps with rooms use the global
        planner's carrot instead (:mod:`embodied_stack.navigation.navigator`).
        """
        p, goal = obs.robot_pose[:2], obs.goal
        if not len(obs.walls):
            return goal, 0.0
        clearance = obs.kinematics.radius + 0.35
        a, b = obs.walls[:, :2], obs.walls[:, 2:]
        length = np.linalg.norm(b - a, axis=1, keepdims=True)
        u = (b - a) / np.maximum(length, 1e-9)
        # a line that only grazes a wall's end is blocked too: the robot has a body. Short segments (the
        # ends of a thick wall) have no meaningful "past the end": their long neighbours stand for them.
        r = obs.kinematics.radius
        blocking = _crosses(p, goal, a - r * u, b + r * u) & (length[:, 0] > 2 * clearance)
        if not np.any(blocking):
            return goal, 0.0
        best, best_len = goal, np.inf
        for end, other in ((a[blocking], b[blocking]), (b[blocking], a[blocking])):
            along = (end - other) / np.maximum(np.linalg.norm(end - other, axis=1, keepdims=True), 1e-9)
            for e in end + clearance * along:
                length = float(np.linalg.norm(e - p) + np.linalg.norm(goal - e))
                if length < best_len:
                    best, best_len = e, length
        return best, float(np.linalg.norm(goal - best))

    def _group_cost(self, obs: NavObservation, pos: np.ndarray) -> np.ndarray:
        """Cost of entering a group's space (its o-space: the circle the members stand or walk around).

        Groups are the connected components of "close together and moving alike" links between people.
        """
        c = self.config
        p, vel = obs.people_position, obs.people_velocity
        n = len(p)
        i, j = np.triu_indices(n, k=1)
        linked = (np.linalg.norm(p[i] - p[j], axis=1) < c.group_link) & \
            (np.linalg.norm(vel[i] - vel[j], axis=1) < c.group_velocity)
        if not np.any(linked):
            return np.zeros(len(pos))
        label = np.arange(n)
        for a, b in zip(i[linked], j[linked], strict=True):  # union-find, tiny n
            la, lb = label[a], label[b]
            label[label == lb] = la
        cost = np.zeros(len(pos))
        for g in np.unique(label):
            members = np.flatnonzero(label == g)
            if len(members) < 2:
                continue
            centre = p[members].mean(axis=0)
            radius = float(np.linalg.norm(p[members] - centre, axis=1).max())
            track = centre + vel[members].mean(axis=0) * self._times[:, None]  # (K, 2)
            d = np.linalg.norm(pos - track[None], axis=2)  # (C, K)
            inside = np.maximum(radius + obs.kinematics.radius + 0.2 - d, 0.0)
            cost += np.einsum("ck,k->c", inside**2, self._weights)
        return c.w_group * cost

    # --- safety filter ---------------------------------------------------------------------
    def safety(self, obs: NavObservation) -> SafetyCheck:
        """Check every candidate against people, untracked scan returns and walls (module docstring)."""
        c, k = self.config, obs.kinematics
        t = np.union1d(self._safety_times, [obs.dt])  # the end of the control period is checked exactly
        t = t[t <= max(c.safety_horizon, obs.dt) + 1e-9]
        committed = t <= obs.dt + 1e-9
        pos, _, _ = self._rollouts(obs, t)
        slack = np.full(pos.shape[:2], np.inf)
        people, _ = self._relevant_people(obs, c.safety_horizon)
        if len(people):
            p0, pv = obs.people_position[people], obs.people_velocity[people]
            path = pv[None] * t[:, None, None]  # (K, N, 2) displacement at constant velocity
            w = pos[:, :, None, :] - p0[None, None]  # (C, K, N, 2): person's position now -> robot
            # while the command is held a person may stop anywhere along their path; then constant velocity
            along = np.sum(w * path[None], axis=3) / np.maximum(np.sum(path * path, axis=2), 1e-12)[None]
            along = np.clip(along, np.where(committed, 0.0, 1.0)[None, :, None], 1.0)
            rel = w - along[..., None] * path[None]
            gap = np.sqrt(rel[..., 0] ** 2 + rel[..., 1] ** 2) - obs.people_radius[people] - k.radius
            slack = gap.min(axis=2) - (c.safety_margin + c.safety_growth * t)[None]
        unknown = self._untracked_returns(obs)
        if len(unknown):
            d = np.linalg.norm(pos[:, :, None, :] - unknown[None, None], axis=3).min(axis=2) - k.radius
            slack = np.minimum(slack, d - (c.safety_margin + c.unknown_speed * t)[None])
        wall_ok = np.ones(len(pos), dtype=bool)
        if len(obs.walls):
            d = _wall_distance(pos.reshape(-1, 2), obs.walls).reshape(pos.shape[:2]) - k.radius
            slack = np.minimum(slack, d - c.wall_margin)
            wall_ok = d[:, committed].min(axis=1) >= 0
        return SafetyCheck(t, pos, slack, wall_ok, committed)

    def _untracked_returns(self, obs: NavObservation) -> np.ndarray:
        """(M, 2) scan returns within ``unknown_reach`` that no tracked person or wall explains.

        Why: a tracker reports a person only after a few detections (and the first ones of a goal only
        after its first half-second); the scan sees them at once.
        """
        c = self.config
        if obs.scan is None or not len(obs.scan):
            return np.zeros((0, 2))
        beams = len(obs.scan)
        pts = scan_points(np.asarray(obs.scan), 0.0, 2 * np.pi / beams, obs.robot_pose, c.unknown_reach)
        if len(pts) and obs.num_people:
            body = np.linalg.norm(pts[:, None] - obs.people_position[None], axis=2) - obs.people_radius[None]
            pts = pts[body.min(axis=1) > c.explained]
        if len(pts) and len(obs.walls):
            pts = pts[_wall_distance(pts, obs.walls) > 0.1]
        return pts

    def _escape_score(self, obs: NavObservation, check: SafetyCheck) -> np.ndarray:
        """(C,) m: the slack of each candidate held for the control period and then followed by its best
        escape — ``escape_directions`` headings at half and full speed, or stop — for the rest of the
        safety horizon (people at constant velocity)."""
        c, k = self.config, obs.kinematics
        first = check.slack[:, check.committed].min(axis=1)
        later = check.times[~check.committed]
        if not len(later):
            return first
        x1 = check.positions[:, check.committed][:, -1]  # (C, 2) where the control period ends
        angles = 2 * np.pi * np.arange(c.escape_directions) / c.escape_directions
        unit = np.stack([np.cos(angles), np.sin(angles)], axis=1)
        escape = np.concatenate([np.zeros((1, 2)), 0.5 * k.max_speed * unit, k.max_speed * unit])  # (E, 2)
        tau = later - check.times[check.committed][-1]
        pos = x1[:, None, None, :] + escape[None, :, None, :] * tau[None, None, :, None]  # (C, E, K2, 2)
        slack = np.full(pos.shape[:3], np.inf)
        people, _ = self._relevant_people(obs, c.safety_horizon)
        if len(people):
            pp = obs.people_position[people][None] + obs.people_velocity[people][None] * later[:, None, None]
            rel = pos[:, :, :, None, :] - pp[None, None]  # (C, E, K2, N, 2)
            gap = np.sqrt(rel[..., 0] ** 2 + rel[..., 1] ** 2) - obs.people_radius[people] - k.radius
            slack = gap.min(axis=3) - (c.safety_margin + c.safety_growth * later)
        if len(obs.walls):
            d = _wall_distance(pos.reshape(-1, 2), obs.walls).reshape(pos.shape[:3]) - k.radius
            slack = np.minimum(slack, d - c.wall_margin)
        return np.minimum(first, slack.min(axis=2).max(axis=1))

    def _choose(self, obs: NavObservation, total: np.ndarray) -> int:
        """The cheapest candidate that passes the safety filter, else the one with the best escape."""
        check = self.safety(obs)
        passes = check.passes
        if passes.any():
            return int(np.argmin(np.where(passes, total, np.inf)))
        score = self._escape_score(obs, check) if obs.kinematics.holonomic else check.clearance
        score = np.where(check.wall_ok if check.wall_ok.any() else True, score, -np.inf)
        near_best = score >= score.max() - 0.02  # within 2 cm of the best escape: the cheapest of those
        return int(np.argmin(np.where(near_best, total, np.inf)))

    def _act(self, obs: NavObservation) -> Twist:
        total, v, _ = self.costs(obs)
        best = self._choose(obs, total)
        if obs.kinematics.holonomic:
            world = v[best]
            distance = float(np.linalg.norm(obs.goal - obs.robot_pose[:2]))
            speed = float(np.linalg.norm(world))
            if speed * obs.dt > distance > 0:  # do not overshoot the goal
                world = world * distance / (speed * obs.dt)
            return velocity_command(world, obs)
        vv, ww = self._unicycle
        return Twist(float(vv[best]), 0.0, float(ww[best]))


def _wall_distance(points: np.ndarray, walls: np.ndarray) -> np.ndarray:
    """(P,) distance (m) from each point to the nearest wall segment."""
    return np.linalg.norm(points[:, None] - closest_points_on_segments(points, walls), axis=2).min(axis=1)


def _crosses(p: np.ndarray, q: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(m,) whether segment p-q properly crosses each segment a-b."""
    def orient(u: np.ndarray, v: np.ndarray, w: np.ndarray) -> np.ndarray:
        return np.sign((v[..., 0] - u[..., 0]) * (w[..., 1] - u[..., 1])
                       - (v[..., 1] - u[..., 1]) * (w[..., 0] - u[..., 0]))
    return (orient(p, q, a) != orient(p, q, b)) & (orient(a, b, p) != orient(a, b, q))
