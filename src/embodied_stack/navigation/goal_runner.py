"""One navigation goal from plan to result, ROS-free: what the navigation node runs at its control rate.

Why a state machine of its own (Nav2's behaviour tree, flattened): the node must always end a goal with
a result -- success, or an error code and a message -- and never hang or drive on stale data. Each
:meth:`GoalRunner.step` takes the latest odometry, people and scan and returns the command plus what
NavigateToPose's feedback needs:

- ``navigating``: A* path on the static map (:func:`plan_path`), the social planner following it
  (:class:`~embodied_stack.navigation.navigator.Navigator`); off the path by ``replan_distance`` -> replan;
- hard stop: a person's body comes within ``stop_gap`` m of the robot's -> zero velocity at once, held
  ``stop_hold`` s; after that the robot gives way until nobody is within the stop gap plus a margin:
  only a command moving away from every one of them passes, else it backs away (the robot yields instead
  of freezing: in a doorway, a person waiting for a frozen robot and a robot frozen by that person would
  wait for ever). A tracked "person" whose centre lies inside a wall
  or furniture of the static map (within ``clutter_margin``) is map clutter -- the LiDAR tracker takes a
  door jamb's end for a person -- and is ignored: no one stands inside a wall;
- the progress checker (Nav2's simple one) failing starts the next recovery from ``recoveries``, cycling
  (``wait``: stand still; ``reroute``: A* around the people and scan returns seen now; ``backup``: reverse
  away from the nearest person); after ``max_recoveries`` the goal fails;
- ``aligning``: at the goal position, turn in place to the goal's heading;
- command shaping: :class:`~embodied_stack.navigation.controller.MotionLimits` clamps and rate-limits
  every command except a stop.

Error codes (the ``error_code`` of NavigateToPose's result; Jazzy's action defines only ``NONE = 0``, so the
codes follow what Jazzy's bt_navigator passes up from its servers: ``1xx`` FollowPath, ``2xx``
ComputePathToPose; ``10xx`` are ours where Nav2 has no equivalent) -- see :class:`ErrorCode`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np

from embodied_stack.navigation.controller import (
    MotionLimits,
    ProgressChecker,
    body_twist,
    distance_to_path,
    people_inside,
    remaining_length,
)
from embodied_stack.navigation.navigator import Navigator
from embodied_stack.navigation.occupancy import OCCUPIED, OccupancyGrid, astar
from embodied_stack.navigation.types import NavObservation, RobotKinematics, Twist

RECOVERIES = ("wait", "reroute", "backup")
YIELD_MARGIN = 0.2  # m beyond the stop gap the robot backs away to when giving way (hysteresis)


class ErrorCode(IntEnum):
    """NavigateToPose result codes (``NONE`` on success and on a cancel)."""

    NONE = 0
    FAILED_TO_MAKE_PROGRESS = 105  # FollowPath's: blocked, every recovery tried without progress
    TIMEOUT = 107  # FollowPath's CONTROLLER_TIMED_OUT: the goal's time budget (goal_timeout_s) ran out
    TF_ERROR = 202  # ComputePathToPose's: the goal's frame is not map (or odom, through map -> odom)
    START_OUTSIDE_MAP = 203
    GOAL_OUTSIDE_MAP = 204
    START_OCCUPIED = 205  # the robot stands where its footprint overlaps the map, with no free cell near
    GOAL_OCCUPIED = 206  # the goal is within robot_radius of a wall or furniture
    NO_VALID_PATH = 208
    PERSON_TOO_CLOSE = 1001  # ours: aborted for collision risk, a person stayed inside the stop gap
    INPUT_LOST = 1002  # ours: odometry or tracked people stale for longer than input_timeout
    PREEMPTED = 1003  # ours: a newer goal replaced this one
    INVALID_GOAL = 1004  # ours: NaN/inf in the goal pose


class NavigationError(Exception):
    """A goal that cannot be pursued; ``code`` is its :class:`ErrorCode`."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class RunnerConfig:
    """Goal tolerance, safety, progress and recovery settings (m, s, rad); the node fills it from
    config/nodes/navigation.yaml, where each is documented."""

    robot_radius: float = 0.3
    person_radius: float = 0.25
    stop_gap: float = 0.3
    xy_tolerance: float = 0.25
    yaw_tolerance: float = 0.25
    yaw_gain: float = 2.0  # 1/s: turn rate per rad of heading error while aligning
    goal_timeout: float = 120.0  # 0 = none
    input_timeout: float = 5.0
    progress_radius: float = 0.3
    progress_time: float = 6.0
    recoveries: tuple[str, ...] = RECOVERIES
    max_recoveries: int = 6
    wait_time: float = 2.0
    backup_distance: float = 0.3
    backup_speed: float = 0.2
    reroute_range: float = 3.0
    start_snap: float = 0.5  # m: a start inside the inflated map plans from the nearest free cell this near
    clutter_margin: float = 0.1  # m: people closer than this to a map obstacle's inside are clutter
    stop_hold: float = 1.0  # s: a hard stop holds this long before moving away from the person is allowed

    def __post_init__(self) -> None:
        unknown = [r for r in self.recoveries if r not in RECOVERIES]
        if unknown or not self.recoveries:
            raise ValueError(f"recoveries {list(self.recoveries)}: use a non-empty list of {RECOVERIES}")
        if self.max_recoveries < 0:
            raise ValueError(f"max_recoveries={self.max_recoveries} must be >= 0")
        if not (self.robot_radius > 0 and self.xy_tolerance > 0 and self.yaw_tolerance > 0):
            raise ValueError(f"robot_radius={self.robot_radius}, xy_tolerance={self.xy_tolerance} and "
                             f"yaw_tolerance={self.yaw_tolerance} must be > 0")


@dataclass
class RunnerInput:
    """The latest inputs, in the map frame. ``stale`` says why they cannot be trusted ('' = fresh)."""

    now: float  # s
    pose: np.ndarray  # x, y (m), yaw (rad)
    velocity: np.ndarray  # body vx, vy (m/s), wz (rad/s): the odometry twist
    people_position: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    people_velocity: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    scan_xy: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))  # returns (m), for re-routing
    scan_beams: np.ndarray | None = None  # ranges for planners that read a scan (learned)
    stale: str = ""


@dataclass
class RunnerOutput:
    """The command for this period and the goal's state."""

    twist: Twist
    state: str
    finished: bool = False
    succeeded: bool = False
    error_code: int = ErrorCode.NONE
    error_msg: str = ""
    distance_remaining: float = 0.0
    time_remaining: float = 0.0
    recoveries: int = 0
    hard_stop: bool = False


def _wrap(angle: float) -> float:
    return math.remainder(angle, 2 * math.pi)


def _moves_away(twist: Twist, pose: np.ndarray, people: np.ndarray) -> bool:
    """Whether ``twist`` moves the robot at ``pose`` away from every one of ``people`` (k, 2)."""
    v = twist.world_velocity(float(pose[2]))
    return bool(np.linalg.norm(v) > 1e-6 and np.all((people - pose[:2]) @ v < 0))


def nearest_free(blocked: np.ndarray, grid: OccupancyGrid, xy: np.ndarray, max_distance: float
                 ) -> np.ndarray | None:
    """Centre of the free cell nearest to ``xy`` within ``max_distance`` m, or None."""
    r0, c0 = grid.cell(xy)
    n = int(math.ceil(max_distance / grid.resolution))
    h, w = blocked.shape
    rows = np.arange(max(r0 - n, 0), min(r0 + n + 1, h))
    cols = np.arange(max(c0 - n, 0), min(c0 + n + 1, w))
    if not len(rows) or not len(cols):
        return None
    rr, cc = np.meshgrid(rows, cols, indexing="ij")
    free = ~blocked[rr, cc]
    centres = grid.origin + (np.stack([cc, rr], axis=-1) + 0.5) * grid.resolution
    d = np.where(free, np.linalg.norm(centres - np.asarray(xy)[:2], axis=-1), np.inf)
    i = np.unravel_index(int(np.argmin(d)), d.shape)
    return centres[i] if d[i] <= max_distance else None


def with_obstacles(grid: OccupancyGrid, points: np.ndarray, radius: float) -> OccupancyGrid:
    """A copy of ``grid`` with discs of ``radius`` m around ``points`` marked occupied."""
    data = grid.data.copy()
    h, w = data.shape
    n = int(math.ceil(radius / grid.resolution))
    for x, y in np.asarray(points, dtype=np.float64).reshape(-1, 2):
        r, c = grid.cell([x, y])
        for dr in range(-n, n + 1):
            for dc in range(-n, n + 1):
                if 0 <= r + dr < h and 0 <= c + dc < w and (dr * dr + dc * dc) * grid.resolution**2 <= \
                        radius**2 + 1e-9:
                    data[r + dr, c + dc] = OCCUPIED
    return OccupancyGrid(data, grid.resolution, grid.origin)


def plan_path(grid: OccupancyGrid, start: np.ndarray, goal: np.ndarray, robot_radius: float,
              start_snap: float = 0.5) -> np.ndarray:
    """A* from ``start`` to ``goal`` (m) keeping ``robot_radius`` from obstacles; raises
    :class:`NavigationError` with the Nav2 code naming what is wrong. A start squeezed against a wall
    (inside the inflation) plans from the nearest free cell within ``start_snap`` m."""
    start, goal = np.asarray(start, dtype=np.float64)[:2], np.asarray(goal, dtype=np.float64)[:2]
    h, w = grid.shape
    blocked = grid.inflated(robot_radius)
    for name, xy, outside in (("goal", goal, ErrorCode.GOAL_OUTSIDE_MAP),
                              ("start", start, ErrorCode.START_OUTSIDE_MAP)):
        r, c = grid.cell(xy)
        where = np.round(xy, 2).tolist()
        if not (0 <= r < h and 0 <= c < w):
            lo, hi = grid.origin, grid.origin + np.array([w, h]) * grid.resolution
            raise NavigationError(outside, f"{name} {where} is outside the map (x {lo[0]:.2f}..{hi[0]:.2f}, "
                                           f"y {lo[1]:.2f}..{hi[1]:.2f} m); give a {name} on the map")
        if blocked[r, c] and name == "goal":
            raise NavigationError(ErrorCode.GOAL_OCCUPIED, f"goal {where} is within {robot_radius} m of an "
                                                           "obstacle on the map; choose a goal in free space")
    prefix = [start]
    if blocked[grid.cell(start)]:
        snapped = nearest_free(blocked, grid, start, start_snap)
        if snapped is None:
            raise NavigationError(ErrorCode.START_OCCUPIED,
                                  f"start {np.round(start, 2).tolist()} is within {robot_radius} m of an "
                                  f"obstacle with no free cell within {start_snap} m; move the robot clear")
        start = snapped
    try:
        path = astar(grid, start, goal, robot_radius)
    except ValueError as e:
        raise NavigationError(ErrorCode.NO_VALID_PATH, str(e)) from None
    return np.vstack([prefix, path]) if not np.allclose(prefix[0], path[0]) else path


class GoalRunner:
    """Pursues one goal at a time on ``navigator``'s map with its local planner (see the module doc).

    ``walls`` come with the navigator; ``limits`` are the base's; the robot is holonomic (sport mode).
    """

    def __init__(self, navigator: Navigator, limits: MotionLimits, config: RunnerConfig | None = None,
                 control_period: float = 0.05) -> None:
        self.nav, self.limits = navigator, limits
        self.config = config or RunnerConfig()
        self.period = control_period
        self.kinematics = RobotKinematics("holonomic", max_speed=limits.max_vx,
                                          max_angular_speed=limits.max_wz, radius=self.config.robot_radius)
        self._backup_blocked = navigator.grid.inflated(0.75 * self.config.robot_radius)
        self._clutter = navigator.grid.inflated(self.config.clutter_margin)
        self.ignored_people = 0  # tracked people dropped as map clutter (cumulative, for diagnostics)
        self.hard_stops = 0
        self.goal: np.ndarray | None = None
        self.goal_yaw: float | None = None
        self.t0 = 0.0
        self.finished = True
        self._reset_goal_state()

    def _reset_goal_state(self) -> None:
        c = self.config
        self.state = "idle"
        self.recoveries = 0
        self.progress = ProgressChecker(c.progress_radius, c.progress_time)
        self._until = 0.0
        self._backup_dir = np.zeros(2)
        self._previous = Twist()
        self._last_now: float | None = None
        self._stale_since: float | None = None
        self._in_hard_stop = False
        self._stop_until = -math.inf
        self._was_inside = False
        self._yielding = False
        self._speed = 0.5 * self.limits.max_vx
        self.result: RunnerOutput | None = None

    # --- goal ----------------------------------------------------------------------------------------
    def start(self, goal: np.ndarray, goal_yaw: float | None, pose: np.ndarray, now: float) -> np.ndarray:
        """Plan to ``goal`` (x, y in the map frame) from ``pose``; ``goal_yaw`` None = any heading.
        Returns the path; raises :class:`NavigationError` (nothing changes then)."""
        goal = np.asarray(goal, dtype=np.float64)[:2]
        if not (np.all(np.isfinite(goal)) and (goal_yaw is None or math.isfinite(goal_yaw))):
            raise NavigationError(ErrorCode.INVALID_GOAL,
                                  f"goal {goal.tolist()} yaw {goal_yaw} is not finite; send a finite pose")
        path = plan_path(self.nav.grid, pose, goal, self.config.robot_radius, self.config.start_snap)
        self._reset_goal_state()
        self._pose = np.asarray(pose, dtype=np.float64)
        self.goal, self.goal_yaw, self.t0 = goal, goal_yaw, now
        self.nav.goal, self.nav.path = goal, path
        self.nav.local.reset()
        self.finished = False
        self.state = "navigating"
        return path

    @property
    def path(self) -> np.ndarray | None:
        return self.nav.path

    def stop(self, code: ErrorCode = ErrorCode.NONE, message: str = "cancelled") -> RunnerOutput:
        """End the goal now (a cancel, a preemption) with a zero command."""
        out = self._finish(code, message, succeeded=False)
        self.state = out.state = "canceled" if code == ErrorCode.NONE else "failed"
        return out

    # --- control -------------------------------------------------------------------------------------
    def step(self, inp: RunnerInput) -> RunnerOutput:
        """The command for the next period. Once finished, keeps returning the final result (zero)."""
        if self.finished or self.goal is None:
            return self.result or RunnerOutput(Twist(), "idle", finished=True)
        c = self.config
        dt = self.period if self._last_now is None else float(np.clip(inp.now - self._last_now, 1e-3, 0.5))
        self._last_now = inp.now
        if c.goal_timeout > 0 and inp.now - self.t0 > c.goal_timeout:
            return self._finish(ErrorCode.TIMEOUT, f"goal not reached within goal_timeout_s={c.goal_timeout} "
                                                   f"s ({self._remaining(inp.pose):.2f} m left)")
        if inp.stale:
            self._stale_since = inp.now if self._stale_since is None else self._stale_since
            if inp.now - self._stale_since > c.input_timeout:
                return self._finish(ErrorCode.INPUT_LOST,
                                    f"{inp.stale} for more than input_timeout_s={c.input_timeout} s; "
                                    "check the base driver and perception")
            return self._output(self._command(Twist(), inp, dt, hard=True), "waiting_for_input", self._pose)
        self._stale_since = None
        inp = self._without_clutter(inp)
        pose = self._pose = np.asarray(inp.pose, dtype=np.float64)
        p = pose[:2]
        speed = float(np.hypot(inp.velocity[0], inp.velocity[1]))
        if speed > 0.05:
            self._speed = 0.9 * self._speed + 0.1 * speed
        inside = people_inside(p, inp.people_position, c.robot_radius, c.person_radius, c.stop_gap)
        if np.linalg.norm(self.goal - p) <= c.xy_tolerance and self.state not in ("wait", "backup"):
            error = 0.0 if self.goal_yaw is None else _wrap(self.goal_yaw - pose[2])
            if abs(error) <= c.yaw_tolerance:
                return self._finish(ErrorCode.NONE, "goal reached", succeeded=True, pose=pose)
            self.state = "aligning"
            wz = float(np.clip(c.yaw_gain * error, -self.limits.max_wz, self.limits.max_wz))
            twist = Twist(0.0, 0.0, wz)
        elif self.state in ("wait", "backup"):
            twist = self._recover(inp, pose)
        else:
            self.state = "navigating"
            twist = self._navigate(inp, pose, dt)
        if inside.any() and not self._was_inside:
            self._stop_until = inp.now + c.stop_hold
        self._was_inside = bool(inside.any())
        near = people_inside(p, inp.people_position, c.robot_radius, c.person_radius,
                             c.stop_gap + YIELD_MARGIN)
        if self.state in ("navigating", "aligning") and not self.progress.check(p, inp.now):
            ended = self._next_recovery(inp, pose, person_blocking=bool(inside.any()))
            if ended is not None:
                return ended
            if self.state in ("wait", "backup"):
                twist = self._recover(inp, pose)
        twist, hard, yielding = self._safety(twist, pose, inp, inside, near)
        if hard and not self._in_hard_stop:
            self.hard_stops += 1
        self._in_hard_stop = hard
        state = "yielding" if yielding else self.state
        return self._output(self._command(twist, inp, dt, hard=hard), state, pose, hard)

    def _safety(self, twist: Twist, pose: np.ndarray, inp: RunnerInput, inside: np.ndarray,
                near: np.ndarray) -> tuple[Twist, bool, bool]:
        """The hard stop and giving way: (command, stopped, yielding). Someone inside the stop gap stops the
        robot for ``stop_hold`` s; then the robot gives way until nobody is within the gap plus
        YIELD_MARGIN (hysteresis): the planner's command while it moves away from everyone that near,
        else backing away at ``backup_speed``. (A planner that steps away on its own, as the DWA's safety
        filter does, would otherwise skirt round the person just outside the stop gap.)"""
        people = np.asarray(inp.people_position, dtype=np.float64).reshape(-1, 2)
        if not near.any():
            self._yielding = False
        if not self._hard_stop(inside, twist, pose, people, inp.now):
            if not (self._yielding and self.state == "navigating"):
                self._yielding = bool(inside.any()) and self.state == "navigating"
                return twist, False, self._yielding
            if _moves_away(twist, pose, people[near]):
                return twist, False, True
        elif inp.now < self._stop_until or self.state not in ("navigating", "aligning"):
            return Twist(), True, False
        self._yielding = True
        away = self._away(pose, people[near])
        ahead = pose[:2] + away * self.config.backup_speed * 0.5
        r, c = self.nav.grid.cell(ahead)
        h, w = self._backup_blocked.shape
        if not (0 <= r < h and 0 <= c < w) or self._backup_blocked[r, c]:
            return Twist(), True, True  # a wall behind: stay stopped
        return body_twist(away * self.config.backup_speed, float(pose[2])), False, True

    def _navigate(self, inp: RunnerInput, pose: np.ndarray, dt: float) -> Twist:
        p = pose[:2]
        if self.nav.path is None or distance_to_path(self.nav.path, p) > self.nav.config.replan_distance:
            # no new path: keep following the old one; the progress checker decides if that fails
            with contextlib.suppress(NavigationError):
                self.nav.path = plan_path(self.nav.grid, p, self.goal, self.config.robot_radius,
                                          self.config.start_snap)
        yaw = float(pose[2])
        c, s = math.cos(yaw), math.sin(yaw)
        v = inp.velocity
        n = len(inp.people_position)
        obs = NavObservation(robot_pose=pose.copy(), robot_velocity=np.array([c * v[0] - s * v[1],
                                                                              s * v[0] + c * v[1]]),
                             goal=self.goal.copy(), kinematics=self.kinematics, dt=self.period,
                             people_position=np.asarray(inp.people_position, dtype=np.float64).reshape(-1, 2),
                             people_velocity=np.asarray(inp.people_velocity, dtype=np.float64).reshape(-1, 2),
                             people_radius=np.full(n, self.config.person_radius), scan=inp.scan_beams)
        return self.nav.act(obs)

    def _without_clutter(self, inp: RunnerInput) -> RunnerInput:
        """``inp`` without the people whose centre is inside a static obstacle (see the module doc)."""
        xy = np.asarray(inp.people_position, dtype=np.float64).reshape(-1, 2)
        if not len(xy):
            return inp
        cells = np.floor((xy - self.nav.grid.origin) / self.nav.grid.resolution).astype(int)
        h, w = self._clutter.shape
        inside = (cells[:, 0] >= 0) & (cells[:, 0] < w) & (cells[:, 1] >= 0) & (cells[:, 1] < h)
        clutter = np.zeros(len(xy), dtype=bool)
        clutter[inside] = self._clutter[cells[inside, 1], cells[inside, 0]]
        if not clutter.any():
            return inp
        self.ignored_people += int(clutter.sum())
        v = np.asarray(inp.people_velocity, dtype=np.float64).reshape(-1, 2)
        return dataclasses.replace(inp, people_position=xy[~clutter], people_velocity=v[~clutter])

    # --- recoveries ----------------------------------------------------------------------------------
    def _next_recovery(self, inp: RunnerInput, pose: np.ndarray,
                       person_blocking: bool) -> RunnerOutput | None:
        c = self.config
        if self.recoveries >= c.max_recoveries:
            if person_blocking:
                people = np.asarray(inp.people_position, dtype=np.float64).reshape(-1, 2)
                nearest = people[np.argmin(np.linalg.norm(people - pose[:2], axis=1))]
                where = f"at {np.round(nearest, 2).tolist()}, robot at {np.round(pose[:2], 2).tolist()}"
                return self._finish(ErrorCode.PERSON_TOO_CLOSE,
                                    f"a person ({where}) stayed within stop_gap_m={c.stop_gap} m through "
                                    f"{self.recoveries} recoveries; aborted for collision risk", pose=pose)
            return self._finish(ErrorCode.FAILED_TO_MAKE_PROGRESS,
                                f"no progress ({c.progress_radius} m in {c.progress_time} s) after "
                                f"{self.recoveries} recoveries; the way is blocked", pose=pose)
        kind = c.recoveries[self.recoveries % len(c.recoveries)]
        self.recoveries += 1
        if kind == "wait":
            self.state, self._until = "wait", inp.now + c.wait_time
        elif kind == "backup":
            self.state, self._until = "backup", inp.now + c.backup_distance / c.backup_speed
            self._backup_dir = self._away(pose, inp.people_position)
        else:
            self._reroute(inp, pose)
            self.progress.reset()
        return None

    def _recover(self, inp: RunnerInput, pose: np.ndarray) -> Twist:
        if inp.now >= self._until:
            self.state = "navigating"
            self.progress.reset()
            return Twist()
        if self.state == "wait":
            return Twist()
        v = self._backup_dir * self.config.backup_speed
        ahead = pose[:2] + v * 0.5
        r, c = self.nav.grid.cell(ahead)
        h, w = self._backup_blocked.shape
        if not (0 <= r < h and 0 <= c < w) or self._backup_blocked[r, c]:
            self._until = inp.now  # a wall behind: the back-up ends here
            return Twist()
        return body_twist(v, float(pose[2]))

    def _away(self, pose: np.ndarray, people: np.ndarray) -> np.ndarray:
        """Unit world direction away from the people within 2 m (nearest weigh most), else backwards."""
        people = np.asarray(people, dtype=np.float64).reshape(-1, 2)
        rel = pose[:2] - people
        d = np.linalg.norm(rel, axis=1)
        near = d < 2.0
        if near.any():
            push = np.sum(rel[near] / np.maximum(d[near], 1e-3)[:, None] ** 2, axis=0)
            if np.linalg.norm(push) > 1e-6:
                return push / np.linalg.norm(push)
        return -np.array([math.cos(pose[2]), math.sin(pose[2])])

    def _reroute(self, inp: RunnerInput, pose: np.ndarray) -> None:
        """Plan around what blocks the way now: people and scan returns within ``reroute_range``."""
        c, p = self.config, pose[:2]
        people = np.asarray(inp.people_position, dtype=np.float64).reshape(-1, 2)
        scan = np.asarray(inp.scan_xy, dtype=np.float64).reshape(-1, 2)
        people = people[np.linalg.norm(people - p, axis=1) < c.reroute_range]
        scan = scan[np.linalg.norm(scan - p, axis=1) < c.reroute_range]
        grid = with_obstacles(with_obstacles(self.nav.grid, people, c.person_radius), scan, 0.0)
        with contextlib.suppress(NavigationError):  # no way around: keep the static route
            self.nav.path = plan_path(grid, p, self.goal, c.robot_radius, c.start_snap)

    def _hard_stop(self, inside: np.ndarray, twist: Twist, pose: np.ndarray, people: np.ndarray,
                   now: float) -> bool:
        """Whether to stop: someone is inside the stop gap and either the stop is younger than
        ``stop_hold`` or ``twist`` does not move the robot away from every one of them."""
        if not inside.any():
            return False
        if now < self._stop_until:
            return True
        return not _moves_away(twist, pose, np.asarray(people, dtype=np.float64).reshape(-1, 2)[inside])

    # --- output --------------------------------------------------------------------------------------
    def _command(self, twist: Twist, inp: RunnerInput, dt: float, hard: bool) -> Twist:
        """A stop is sent as is; anything else clamped to the velocity limits and rate-limited."""
        out = Twist() if hard else self.limits.smooth(self.limits.clamp(twist), self._previous, dt)
        self._previous = out
        return out

    def _remaining(self, pose: np.ndarray) -> float:
        if self.nav.path is None:
            return 0.0
        return remaining_length(self.nav.path, np.asarray(pose, dtype=np.float64)[:2])

    def _output(self, twist: Twist, state: str, pose: np.ndarray, hard: bool = False) -> RunnerOutput:
        distance = self._remaining(pose)
        return RunnerOutput(twist, state, distance_remaining=distance,
                            time_remaining=distance / max(self._speed, 0.1), recoveries=self.recoveries,
                            hard_stop=hard)

    def _finish(self, code: ErrorCode, message: str, succeeded: bool = False,
                pose: np.ndarray | None = None) -> RunnerOutput:
        self.finished = True
        self.state = "succeeded" if succeeded else "failed"
        self._previous = Twist()
        distance = self._remaining(pose) if pose is not None else 0.0
        self.result = RunnerOutput(Twist(), self.state, finished=True, succeeded=succeeded,
                                   error_code=int(code), error_msg=message, distance_remaining=distance,
                                   recoveries=self.recoveries)
        return self.result
