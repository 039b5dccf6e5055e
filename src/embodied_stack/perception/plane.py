"""Support-plane (table) estimation with RANSAC, reused across frames.

Why reuse: a fixed camera over a table sees the same plane every frame. Checking the
last plane against a subsample costs ~0.1 ms; a full RANSAC only runs when it no longer
explains the scene (camera moved, table changed), which keeps the per-frame budget.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Plane:
    """Points p with ``normal @ p + offset == 0``; ``normal`` is unit and points up (+z side)."""

    normal: np.ndarray
    offset: float

    def distance(self, points: np.ndarray) -> np.ndarray:
        """Signed height of each point above the plane, m."""
        return points @ self.normal.astype(points.dtype) + np.asarray(self.offset, dtype=points.dtype)

    def frame(self) -> tuple[np.ndarray, np.ndarray]:
        """Rotation (columns e1, e2, normal) and origin of a frame lying in the plane, with e1
        the base x axis projected onto it: object yaw and footprints are measured there."""
        n = self.normal
        e1 = np.array([1.0, 0.0, 0.0]) - n[0] * n
        if np.linalg.norm(e1) < 1e-6:
            e1 = np.array([0.0, 1.0, 0.0]) - n[1] * n
        e1 /= np.linalg.norm(e1)
        e2 = np.cross(n, e1)
        return np.stack([e1, e2, n], axis=1), -self.offset * n


def _fit_least_squares(points: np.ndarray) -> Plane:
    centroid = points.mean(axis=0)
    _, _, vt = np.linalg.svd((points - centroid).astype(np.float64), full_matrices=False)
    n = vt[2]
    if n[2] < 0:
        n = -n
    return Plane(n, float(-n @ centroid))


def ransac_plane(
    points: np.ndarray,
    iterations: int,
    threshold: float,
    max_tilt_deg: float,
    rng: np.random.Generator,
    sample_size: int = 3000,
) -> tuple[Plane, float] | None:
    """Best upward-facing plane among ``iterations`` random hypotheses scored on a subsample.

    Returns the plane refined by least squares on its inliers and its inlier fraction,
    or None when no hypothesis within ``max_tilt_deg`` of horizontal has inliers.
    """
    if len(points) < 3:
        return None
    sub = points[rng.choice(len(points), min(sample_size, len(points)), replace=False)].astype(np.float64)
    tri = sub[rng.integers(0, len(sub), size=(iterations, 3))]
    normals = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    norms = np.linalg.norm(normals, axis=1)
    ok = norms > 1e-9
    normals = normals[ok] / norms[ok, None]
    normals *= np.sign(normals[:, 2:3] + 1e-12)
    ok2 = normals[:, 2] >= np.cos(np.deg2rad(max_tilt_deg))
    normals, anchors = normals[ok2], tri[ok][ok2, 0]
    if len(normals) == 0:
        return None
    offsets = -np.einsum("ij,ij->i", normals, anchors)
    counts = (np.abs(sub @ normals.T + offsets) < threshold).sum(axis=0)
    best = int(np.argmax(counts))
    inliers = sub[np.abs(sub @ normals[best] + offsets[best]) < threshold]
    if len(inliers) < 3:
        return None
    plane = _fit_least_squares(inliers)
    fraction = float(np.mean(np.abs(plane.distance(sub)) < threshold))
    return plane, fraction


class PlaneEstimator:
    """Keeps the support plane between frames and refits it only when it stops fitting."""

    def __init__(
        self,
        iterations: int = 60,
        threshold: float = 0.008,
        max_tilt_deg: float = 30.0,
        reuse_min_inlier_fraction: float = 0.6,
        seed: int = 0,
    ) -> None:
        self.iterations = iterations
        self.threshold = threshold
        self.max_tilt_deg = max_tilt_deg
        self.reuse_min_inlier_fraction = reuse_min_inlier_fraction
        self.rng = np.random.default_rng(seed)
        self.plane: Plane | None = None
        self._fitted_fraction = 0.0
        self.refits = 0

    def reset(self) -> None:
        self.plane = None

    def update(self, points: np.ndarray) -> Plane | None:
        """The support plane for this frame's (cropped) points, or None if there is none."""
        if self.plane is not None and len(points):
            sub = points[self.rng.integers(0, len(points), size=min(1000, len(points)))]
            fraction = float(np.mean(np.abs(self.plane.distance(sub)) < self.threshold))
            # relative to the fraction seen when fitted: objects moving in and out change it a little
            if fraction >= self.reuse_min_inlier_fraction * self._fitted_fraction:
                return self.plane
        found = ransac_plane(points, self.iterations, self.threshold, self.max_tilt_deg, self.rng)
        self.refits += 1
        if found is None:
            self.plane = None
            return None
        self.plane, self._fitted_fraction = found
        return self.plane
