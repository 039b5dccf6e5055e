"""The small pieces between a local planner's twist and ``cmd_vel`` (ROS-free, unit-tested).

Why separate from the planners: whatever planner runs (``dwa``, ``learned``, ...), the command sent to the
base must respect the same rules, the way Nav2 puts its velocity smoother, collision monitor and progress
checker around any controller plugin:

- :class:`MotionLimits`: the base's velocity limits (from the robot description, never restated) and the
  acceleration limits of the navigation config; :meth:`MotionLimits.clamp` keeps the direction of a
  holonomic command while fitting it into the per-axis limits, :meth:`MotionLimits.smooth` limits how
  fast the command may change (Nav2 ``velocity_smoother``, open loop on the last command);
- :func:`people_inside`: the hard stop's test (a person's body closer than a gap to the robot's);
- :class:`ProgressChecker`: Nav2's ``simple_progress_checker`` (moved ``radius`` m within ``time_s``);
- path geometry (:func:`distance_to_path`, :func:`remaining_length`) and :func:`robot_scan` (a LiDAR
  scan as the evenly spaced beams from the robot's centre and heading that the planners read).

Units: m, s, rad; world = the ``map`` frame.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from embodied_stack.navigation.types import Twist


@dataclass(frozen=True)
class MotionLimits:
    """Body velocity limits (m/s, m/s, rad/s) and acceleration limits (m/s^2, rad/s^2).

    ``max_accel`` bounds how fast the linear command may grow, ``max_decel`` how fast it may shrink
    (braking is allowed to be harder than speeding up), ``max_angular_accel`` the yaw rate's change.
    A hard stop or a cancel bypasses :meth:`smooth`: stopping is never rate-limited.
    """

    max_vx: float
    max_vy: float
    max_wz: float
    max_accel: float = 1.5
    max_decel: float = 3.0
    max_angular_accel: float = 3.0

    def __post_init__(self) -> None:
        values = {"max_vx": self.max_vx, "max_vy": self.max_vy, "max_wz": self.max_wz,
                  "max_accel": self.max_accel, "max_decel": self.max_decel,
                  "max_angular_accel": self.max_angular_accel}
        bad = {k: v for k, v in values.items() if not (math.isfinite(v) and v > 0)}
        if bad:
            raise ValueError(f"motion limits {bad} must be finite and > 0; check the robot description's "
                             "'base' limits and the navigation acceleration parameters")

    @classmethod
    def from_base(cls, base: object, fraction: float = 1.0, max_accel: float = 1.5, max_decel: float = 3.0,
                  max_angular_accel: float = 3.0) -> MotionLimits:
        """Limits from a robot description's ``base`` (``BaseLimits``: max_vx, max_vy, max_wz), scaled by
        ``fraction`` in (0, 1] (a slower pace among people than the base can do)."""
        if not 0 < fraction <= 1:
            raise ValueError(f"speed fraction {fraction} must be in (0, 1]: the base's limits are the most "
                             "the navigation may command")
        return cls(base.max_vx * fraction, base.max_vy * fraction, base.max_wz * fraction,
                   max_accel, max_decel, max_angular_accel)

    def clamp(self, twist: Twist) -> Twist:
        """The command within the velocity limits; vx and vy are scaled together (the robot keeps its
        direction of travel, only slower), wz is clipped."""
        scale = 1.0
        if abs(twist.vx) > self.max_vx:
            scale = min(scale, self.max_vx / abs(twist.vx))
        if abs(twist.vy) > self.max_vy:
            scale = min(scale, self.max_vy / abs(twist.vy))
        wz = float(np.clip(twist.wz, -self.max_wz, self.max_wz))
        return Twist(twist.vx * scale, twist.vy * scale, wz)

    def smooth(self, target: Twist, previous: Twist, dt: float) -> Twist:
        """``target`` reached from ``previous`` within ``dt`` s of the acceleration limits: the linear change
        is limited as a vector (its direction kept), by ``max_decel`` when the speed drops and by
        ``max_accel`` otherwise."""
        if not dt > 0:
            raise ValueError(f"dt={dt} must be > 0 s")
        prev = np.array([previous.vx, previous.vy])
        want = np.array([target.vx, target.vy])
        change = want - prev
        slowing = np.linalg.norm(want) < np.linalg.norm(prev)
        step = (self.max_decel if slowing else self.max_accel) * dt
        norm = float(np.linalg.norm(change))
        if norm > step:
            change *= step / norm
        dw_max = self.max_angular_accel * dt
        dw = float(np.clip(target.wz - previous.wz, -dw_max, dw_max))
        return Twist(float(prev[0] + change[0]), float(prev[1] + change[1]), previous.wz + dw)


def people_inside(robot_xy: np.ndarray, people_xy: np.ndarray, robot_radius: float, person_radius: float,
                  gap: float) -> np.ndarray:
    """(n,) bool: whose body is closer than ``gap`` m to the robot's footprint (both as circles)."""
    people_xy = np.asarray(people_xy, dtype=np.float64).reshape(-1, 2)
    centre = np.linalg.norm(people_xy - np.asarray(robot_xy, dtype=np.float64)[:2], axis=1)
    return centre - robot_radius - person_radius < gap


class ProgressChecker:
    """Nav2's simple progress checker: progress means moving ``radius`` m from where the robot was when
    progress was last seen; none within ``time_s`` s is a failure. Call :meth:`reset` after a recovery."""

    def __init__(self, radius: float, time_s: float) -> None:
        if not (radius > 0 and time_s > 0):
            raise ValueError(f"progress radius={radius} m and time={time_s} s must both be > 0")
        self.radius, self.time_s = radius, time_s
        self._anchor: np.ndarray | None = None
        self._since = 0.0

    def reset(self) -> None:
        self._anchor = None

    def check(self, xy: np.ndarray, now: float) -> bool:
        """False when the robot has not moved ``radius`` m for ``time_s`` s."""
        xy = np.asarray(xy, dtype=np.float64)[:2]
        if self._anchor is None or np.linalg.norm(xy - self._anchor) > self.radius:
            self._anchor, self._since = xy.copy(), now
            return True
        return now - self._since <= self.time_s

    def stalled_for(self, now: float) -> float:
        """Seconds since progress was last seen (0 before the first check)."""
        return 0.0 if self._anchor is None else now - self._since


def _closest_on_path(path: np.ndarray, p: np.ndarray) -> tuple[int, np.ndarray, float]:
    """Index of the closest segment, the closest point on it, and its distance."""
    if len(path) < 2:
        return 0, path[0].copy(), float(np.linalg.norm(path[0] - p))
    a, ab = path[:-1], path[1:] - path[:-1]
    t = np.clip(np.sum((p - a) * ab, axis=1) / np.maximum(np.sum(ab * ab, axis=1), 1e-12), 0.0, 1.0)
    closest = a + t[:, None] * ab
    d = np.linalg.norm(closest - p, axis=1)
    i = int(np.argmin(d))
    return i, closest[i], float(d[i])


def distance_to_path(path: np.ndarray, p: np.ndarray) -> float:
    """Distance (m) from ``p`` to the polyline ``path`` (k, 2)."""
    return _closest_on_path(np.asarray(path, dtype=np.float64), np.asarray(p, dtype=np.float64)[:2])[2]


def remaining_length(path: np.ndarray, p: np.ndarray) -> float:
    """Length (m) of ``path`` from the point closest to ``p`` to its end, plus the way onto the path:
    the ``distance_remaining`` of NavigateToPose's feedback."""
    path = np.asarray(path, dtype=np.float64)
    i, closest, off = _closest_on_path(path, np.asarray(p, dtype=np.float64)[:2])
    if len(path) < 2:
        return off
    rest = np.linalg.norm(np.diff(path[i + 1:], axis=0), axis=1).sum() if i + 1 < len(path) else 0.0
    return off + float(np.linalg.norm(path[i + 1] - closest)) + float(rest)


def robot_scan(points_xy: np.ndarray, pose: np.ndarray, beams: int, max_range: float,
               tolerance: float) -> np.ndarray:
    """The scan a planner reads, from LiDAR returns already in the world frame: ``beams`` rays evenly
    over 360 deg from the robot's heading, cast from the robot's centre; each reads the nearest return
    within ``tolerance`` rad of its direction (the LiDAR's angular spacing), or ``max_range`` when none is.

    Why rays from the centre: the planners are trained and evaluated on a scan cast from the robot's
    centre (``navigation.scan.ray_scan``), and the DWA turns each beam back into a point to check it
    against the map and the tracked people. A LiDAR mounted 0.15 m ahead reads walls in front 0.15 m
    short of the centre's view, and the nearest return of a whole 10 deg sector put back on the sector's
    centre line lands up to 0.26 m off a wall 3 m away: either way the DWA took walls for people the
    tracker had not confirmed yet, and would not go through a doorway."""
    if beams < 1 or not max_range > 0 or not tolerance > 0:
        raise ValueError(f"beams={beams} must be >= 1, max_range={max_range} m and tolerance={tolerance} rad "
                         "> 0")
    out = np.full(beams, float(max_range))
    pts = np.asarray(points_xy, dtype=np.float64).reshape(-1, 2)
    if not len(pts):
        return out
    rel = pts - pose[:2]
    r = np.minimum(np.hypot(rel[:, 0], rel[:, 1]), max_range)
    bearing = np.arctan2(rel[:, 1], rel[:, 0]) - pose[2]
    angles = 2 * np.pi * np.arange(beams) / beams
    off = np.abs(np.remainder(bearing[None, :] - angles[:, None] + np.pi, 2 * np.pi) - np.pi)  # (beams, N)
    hits = np.where(off <= tolerance, r[None, :], np.inf).min(axis=1)
    return np.minimum(out, hits)


def scan_points(ranges: np.ndarray, angle_min: float, angle_increment: float, pose: np.ndarray,
                max_range: float) -> np.ndarray:
    """World (x, y) of every return closer than ``max_range`` for a scan taken at ``pose`` (x, y, yaw)."""
    r = np.asarray(ranges, dtype=np.float64)
    keep = np.isfinite(r) & (r > 0) & (r < max_range)
    a = angle_min + angle_increment * np.flatnonzero(keep) + pose[2]
    return np.c_[pose[0] + r[keep] * np.cos(a), pose[1] + r[keep] * np.sin(a)]


def seen_through(people_xy: np.ndarray, laser_pose: np.ndarray, ranges: np.ndarray, angle_min: float,
                 angle_increment: float, body_radius: float, margin: float = 0.1) -> np.ndarray:
    """(n,) bool: people the LiDAR sees *through* -- every beam within ``body_radius`` m of the line to
    their centre reaches more than ``margin`` m past it, so no body stands there. Why: a tracker coasts a
    lost track (a door jamb it took for a person, someone who left) into free space; the same scan the
    tracks came from shows that space empty. An occluded person (a beam stopping short) is kept."""
    people_xy = np.asarray(people_xy, dtype=np.float64).reshape(-1, 2)
    r = np.asarray(ranges, dtype=np.float64)
    r = np.where(np.isfinite(r) & (r > 0), r, np.inf)  # no return: the beam went on
    out = np.zeros(len(people_xy), dtype=bool)
    if not len(r) or not angle_increment > 0:
        return out
    rel = people_xy - np.asarray(laser_pose, dtype=np.float64)[:2]
    distance = np.linalg.norm(rel, axis=1)
    bearing = np.arctan2(rel[:, 1], rel[:, 0]) - laser_pose[2]
    for i, (d, b) in enumerate(zip(distance, bearing, strict=True)):
        if d <= body_radius:
            continue  # on top of the sensor: no beam can tell
        half = math.asin(min(body_radius / d, 1.0))
        centre = np.remainder(b - angle_min, 2 * np.pi) / angle_increment
        span = int(math.ceil(half / angle_increment))
        index = np.round(centre + np.arange(-span, span + 1)).astype(int)
        if len(r) * angle_increment > 2 * np.pi - 1.5 * angle_increment:
            index = np.remainder(index, len(r))  # a full turn: the first beam follows the last
        index = index[(index >= 0) & (index < len(r))]
        out[i] = bool(len(index)) and float(r[index].min()) > d + margin
    return out


def body_twist(world_velocity: np.ndarray, yaw: float, wz: float = 0.0) -> Twist:
    """The body-frame twist moving at ``world_velocity`` (m/s) with heading ``yaw``."""
    c, s = math.cos(yaw), math.sin(yaw)
    vx, vy = float(world_velocity[0]), float(world_velocity[1])
    return Twist(c * vx + s * vy, -s * vx + c * vy, wz)
