"""People from 2D LiDAR scans: leg/body detection and multi-target Kalman tracking.

Detection: split the scan where neighbouring returns jump apart, keep segments whose
width fits a person and which are curved like a body or a leg (a circle fit with a
plausible radius and a small residual; walls are straight, so even a short piece of
wall between two people is rejected), and merge two legs into one person.

Tracking: one constant-velocity Kalman filter per person, data association by the
Hungarian method (``scipy.optimize.linear_sum_assignment``) on the distance to each
track's prediction, tentative tracks confirmed after a few hits (a chair leg seen once
never becomes a person) and dropped after ``max_coast_s`` without a detection, so a
person hidden behind another for a moment keeps their id.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

from embodied_stack.hardware import LaserScanReading
from embodied_stack.perception.config import PeopleConfig
from embodied_stack.perception.geometry import Transform


def scan_points(scan: LaserScanReading, min_range: float, max_range: float) -> tuple[np.ndarray, np.ndarray]:
    """Beam endpoints (N, 2) in the laser frame for valid returns, and their beam indices."""
    r = np.asarray(scan.ranges, dtype=np.float64)
    idx = np.flatnonzero(
        np.isfinite(r) & (r >= max(min_range, scan.range_min)) & (r <= min(max_range, scan.range_max))
    )
    a = scan.angle_min + idx * scan.angle_increment
    return np.stack([r[idx] * np.cos(a), r[idx] * np.sin(a)], axis=1), idx


def _fit_circle(p: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Algebraic (Kasa) circle fit: centre, radius, RMS radial residual."""
    a = np.c_[2 * p, np.ones(len(p))]
    b = np.sum(p**2, axis=1)
    sol, *_ = np.linalg.lstsq(a, b, rcond=None)
    centre = sol[:2]
    radius = float(np.sqrt(max(sol[2] + centre @ centre, 0.0)))
    resid = float(np.sqrt(np.mean((np.linalg.norm(p - centre, axis=1) - radius) ** 2)))
    return centre, radius, resid


def detect_people(scan: LaserScanReading, laser_to_base: Transform, config: PeopleConfig) -> np.ndarray:
    """Person centres (K, 2) in the base frame, m."""
    c = config
    pts, idx = scan_points(scan, c.min_range_m, c.max_range_m)
    if len(pts) < c.min_points:
        return np.zeros((0, 2))
    gaps = np.linalg.norm(np.diff(pts, axis=0), axis=1)
    breaks = np.flatnonzero((gaps > c.jump_distance_m) | (np.diff(idx) > 2)) + 1
    segments = np.split(np.arange(len(pts)), breaks)
    n_beams = len(scan.ranges)
    full_circle = abs(n_beams * scan.angle_increment - 2 * np.pi) < 2 * abs(scan.angle_increment)
    if (
        full_circle
        and len(segments) > 1
        and idx[0] == 0
        and idx[-1] == n_beams - 1
        and np.linalg.norm(pts[0] - pts[-1]) <= c.jump_distance_m
    ):
        segments = [np.r_[segments[-1], segments[0]], *segments[1:-1]]  # the seam at angle_min
    centres = []
    for seg in segments:
        if len(seg) < c.min_points:
            continue
        p = pts[seg]
        width = float(np.linalg.norm(p[-1] - p[0]))
        if not c.min_width_m <= width <= c.max_width_m:
            continue
        centre, radius, resid = _fit_circle(p)
        if not (0.03 <= radius <= c.max_width_m / 2 + 0.05) or resid > c.max_circle_residual_m:
            continue  # straight (wall: huge radius) or angular (a furniture corner fits a circle badly)
        if np.linalg.norm(centre) < np.linalg.norm(p.mean(axis=0)):
            continue  # concave towards the sensor: the inside of a corner, not a body
        centres.append(centre)
    if not centres:
        return np.zeros((0, 2))
    merged = _merge_close(np.array(centres), c.leg_merge_distance_m)
    xyz = np.c_[merged, np.zeros(len(merged))]
    return laser_to_base.apply(xyz)[:, :2]


def _merge_close(points: np.ndarray, distance: float) -> np.ndarray:
    """Greedy merge of points closer than ``distance`` (two legs -> one person)."""
    out: list[np.ndarray] = []
    used = np.zeros(len(points), bool)
    for i in range(len(points)):
        if used[i]:
            continue
        close = ~used & (np.linalg.norm(points - points[i], axis=1) < distance)
        used |= close
        out.append(points[close].mean(axis=0))
    return np.array(out)


@dataclass
class TrackedPersonState:
    id: int
    position: np.ndarray  # x, y (m)
    velocity: np.ndarray  # vx, vy (m/s)
    covariance: float  # m^2, mean of the two position variances
    confidence: float  # 0..1, from the hit ratio
    confirmed: bool


class _Track:
    def __init__(self, tid: int, z: np.ndarray, stamp: float, pos_var: float) -> None:
        self.id = tid
        self.x = np.array([z[0], z[1], 0.0, 0.0])
        self.p = np.diag([pos_var, pos_var, 1.0, 1.0])
        self.last_update = stamp
        self.hits = 1
        self.age = 1

    def predict(self, dt: float, accel_std: float) -> None:
        f = np.eye(4)
        f[0, 2] = f[1, 3] = dt
        g = np.array([[dt * dt / 2, 0], [0, dt * dt / 2], [dt, 0], [0, dt]])
        self.x = f @ self.x
        self.p = f @ self.p @ f.T + (accel_std**2) * g @ g.T
        self.age += 1

    def correct(self, z: np.ndarray, r_var: float, stamp: float) -> None:
        h = np.zeros((2, 4))
        h[0, 0] = h[1, 1] = 1.0
        s = h @ self.p @ h.T + r_var * np.eye(2)
        k = self.p @ h.T @ np.linalg.inv(s)
        self.x = self.x + k @ (z - h @ self.x)
        self.p = (np.eye(4) - k @ h) @ self.p
        self.last_update = stamp
        self.hits += 1


class PeopleTracker:
    """Multi-target tracker; ``update`` takes detections in one fixed frame (odom while the robot
    moves, else base) and returns the tracks in that frame."""

    def __init__(self, config: PeopleConfig | None = None) -> None:
        self.config = config or PeopleConfig()
        self._tracks: list[_Track] = []
        self._next_id = 1
        self._stamp: float | None = None

    def reset(self) -> None:
        self._tracks.clear()
        self._next_id = 1
        self._stamp = None

    def update(self, detections: np.ndarray, stamp: float) -> list[TrackedPersonState]:
        c = self.config
        dt = 0.0 if self._stamp is None else max(stamp - self._stamp, 0.0)
        self._stamp = stamp
        for t in self._tracks:
            t.predict(dt, c.process_accel_std)
        det = np.asarray(detections, dtype=np.float64).reshape(-1, 2)
        r_var = c.measurement_std_m**2
        matched_det: set[int] = set()
        if self._tracks and len(det):
            pred = np.array([t.x[:2] for t in self._tracks])
            cost = np.linalg.norm(pred[:, None, :] - det[None, :, :], axis=2)
            rows, cols = linear_sum_assignment(cost)
            for i, j in zip(rows, cols, strict=True):
                if cost[i, j] <= c.gate_m:
                    self._tracks[i].correct(det[j], r_var, stamp)
                    matched_det.add(int(j))
        self._tracks = [
            t
            for t in self._tracks
            if stamp - t.last_update <= (c.max_coast_s if t.hits >= c.confirm_hits else 0.0)
        ]
        for j in range(len(det)):
            if j not in matched_det:
                self._tracks.append(_Track(self._next_id, det[j], stamp, r_var))
                self._next_id += 1
        return [self._state(t) for t in self._tracks if t.hits >= c.confirm_hits]

    def _state(self, t: _Track) -> TrackedPersonState:
        return TrackedPersonState(
            id=t.id,
            position=t.x[:2].copy(),
            velocity=t.x[2:].copy(),
            covariance=float((t.p[0, 0] + t.p[1, 1]) / 2),
            confidence=float(min(1.0, t.hits / max(t.age, 1))),
            confirmed=t.hits >= self.config.confirm_hits,
        )
