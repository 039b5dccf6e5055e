"""RGB-D frame -> objects on the support plane: the geometric detector.

Stages (each timed, see :attr:`ObjectDetector.timings`): back-project a strided grid of
pixels straight into the base frame, crop to the workspace, find/reuse the support
plane, keep points above it, cluster them on a voxel grid, describe each cluster.
Only points above the plane reach the voxel grid, so the expensive stages scale with
the objects, not with the image.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from embodied_stack.perception.clustering import cluster_points
from embodied_stack.perception.config import ObjectsConfig, ValidationConfig
from embodied_stack.perception.describe import ObjectObservation, classify_colors, describe_cluster
from embodied_stack.perception.geometry import DepthProjector, Transform, select_columns
from embodied_stack.perception.plane import Plane, PlaneEstimator
from embodied_stack.perception.validation import check_intrinsics, check_rgbd


@dataclass
class RgbdFrame:
    """One registered colour + depth capture, as the core consumes it."""

    rgb: np.ndarray  # (H, W, 3) uint8
    depth: np.ndarray  # (H, W) float32 m; NaN or 0 where invalid
    intrinsics: np.ndarray  # 3x3 K
    stamp: float  # s
    camera_to_base: Transform  # pose of the optical frame in the base frame


@dataclass
class ObjectScene:
    """What the detector found in one frame."""

    objects: list[ObjectObservation]
    plane: Plane | None
    points: np.ndarray  # (N, 3) above-plane object points in base frame (for PointCloud2)
    point_labels: np.ndarray  # (N,) cluster index into ``objects`` per point


@dataclass
class AbovePlane:
    """A frame's points above the support plane, ready for clustering or box lifting."""

    plane: Plane | None
    rotation: np.ndarray  # plane frame (columns e1, e2, normal) in base
    origin: np.ndarray  # plane frame origin in base
    points: np.ndarray  # (N, 3) base frame
    uvh: np.ndarray  # (N, 3) plane frame: u, v, height above the plane
    pixels: np.ndarray  # (N,) flat pixel index of each point
    colors: np.ndarray  # (N,) index into vocab COLORS of each point's pixel


class ObjectDetector:
    """The embedded default detector: no weights, works on any RGB-D camera over a table."""

    def __init__(
        self, config: ObjectsConfig | None = None, validation: ValidationConfig | None = None, seed: int = 0
    ) -> None:
        self.config = config or ObjectsConfig()
        self.validation = validation or ValidationConfig()
        c = self.config
        self.projector = DepthProjector(c.pixel_stride)
        self.planes = PlaneEstimator(
            c.plane_iterations,
            c.plane_distance_m,
            c.plane_max_tilt_deg,
            c.plane_reuse_min_inlier_fraction,
            seed,
        )
        self._lo = np.asarray(c.workspace_min, dtype=np.float32)
        self._hi = np.asarray(c.workspace_max, dtype=np.float32)
        self._self_lo = np.asarray(c.self_filter_min, dtype=np.float32)
        self._self_hi = np.asarray(c.self_filter_max, dtype=np.float32)
        if self._lo.shape != (3,) or self._hi.shape != (3,) or np.any(self._lo >= self._hi):
            raise ValueError(
                f"objects.workspace_min {c.workspace_min} must be 3 values each below "
                f"workspace_max {c.workspace_max} (m, base frame)"
            )
        self.timings: dict[str, float] = {}  # ms per stage of the last frame

    def above_plane(self, frame: RgbdFrame) -> AbovePlane:
        """Validate the frame and return its points above the support plane (stages project,
        crop, plane). Learned detectors lift their 2-D boxes onto these points."""
        t0 = time.perf_counter()
        v = self.validation
        k = check_intrinsics(frame.intrinsics, frame.depth.shape[1], frame.depth.shape[0])
        check_rgbd(frame.rgb, frame.depth, v.min_valid_depth_fraction)
        xyz, pixels = self.projector.project(
            frame.depth, k, frame.camera_to_base, v.depth_min_m, v.depth_max_m
        )
        t1 = time.perf_counter()
        x, y, z = xyz
        lo, hi, slo, shi = self._lo, self._hi, self._self_lo, self._self_hi
        inside = (x > lo[0]) & (x < hi[0]) & (y > lo[1]) & (y < hi[1]) & (z > lo[2]) & (z < hi[2])
        inside &= ~((x > slo[0]) & (x < shi[0]) & (y > slo[1]) & (y < shi[1]) & (z > slo[2]) & (z < shi[2]))
        xyz, pixels = select_columns(xyz, inside), pixels[inside]
        t2 = time.perf_counter()
        plane = self.planes.update(xyz.T)
        t3 = time.perf_counter()
        self.timings = {"project": 1000 * (t1 - t0), "crop": 1000 * (t2 - t1), "plane": 1000 * (t3 - t2)}
        if plane is None:
            return AbovePlane(
                None,
                np.eye(3),
                np.zeros(3),
                np.zeros((0, 3), np.float32),
                np.zeros((0, 3), np.float32),
                np.zeros(0, np.int64),
                np.zeros(0, np.int64),
            )
        c = self.config
        height = plane.normal.astype(np.float32) @ xyz + np.float32(plane.offset)
        above = (height > c.min_height_above_plane_m) & (height < c.max_object_height_m)
        rot, origin = plane.frame()
        points, obj_pixels = select_columns(xyz, above).T, pixels[above]
        uvh = ((points - origin) @ rot).astype(np.float32)
        colors = classify_colors(frame.rgb.reshape(-1, 3)[obj_pixels])
        self.timings["above"] = 1000 * (time.perf_counter() - t3)
        return AbovePlane(plane, rot, origin, points, uvh, obj_pixels, colors)

    def describe(self, ap: AbovePlane, members: np.ndarray) -> ObjectObservation | None:
        """Describe the points ``members`` of ``ap`` as one object, or None if they are not one
        (too large: a wall or the arm; floating: the arm or what it holds)."""
        c = self.config
        cluster_uvh = ap.uvh[members]
        if len(members) == 0 or np.max(np.ptp(cluster_uvh[:, :2], axis=0)) > c.max_cluster_extent_m:
            return None
        if np.min(cluster_uvh[:, 2]) > c.max_bottom_height_m:
            return None
        return describe_cluster(cluster_uvh, ap.colors[members], ap.rotation, ap.origin)

    def detect(self, frame: RgbdFrame) -> ObjectScene:
        """Validate and process one frame; raises ``InputRejected`` for unusable input."""
        t_start = time.perf_counter()
        ap = self.above_plane(frame)
        t3 = time.perf_counter()
        if ap.plane is None:
            self.timings.update(cluster=0.0, describe=0.0, total=1000 * (t3 - t_start))
            return ObjectScene([], None, ap.points, np.zeros(0, np.int64))
        c = self.config
        labels = cluster_points(ap.uvh, c.voxel_size_m, c.min_cluster_voxels, c.cluster_bridge_voxels)
        t4 = time.perf_counter()
        objects: list[ObjectObservation] = []
        out_labels = np.full(len(labels), -1, dtype=np.int64)
        order = np.argsort(labels, kind="stable")
        bounds = np.searchsorted(labels[order], np.arange(labels.max(initial=-1) + 2))
        for cluster in range(len(bounds) - 1):
            for members in self._split_by_color(
                order[bounds[cluster] : bounds[cluster + 1]], ap.uvh, ap.colors
            ):
                obs = self.describe(ap, members)
                if obs is not None:
                    out_labels[members] = len(objects)
                    objects.append(obs)
        t5 = time.perf_counter()
        self.timings.update(cluster=1000 * (t4 - t3), describe=1000 * (t5 - t4), total=1000 * (t5 - t_start))
        keep = out_labels >= 0
        return ObjectScene(objects, ap.plane, ap.points[keep], out_labels[keep])

    def _split_by_color(self, members: np.ndarray, uvh: np.ndarray, colors: np.ndarray) -> list[np.ndarray]:
        """Split off touching objects of another colour (a cube against a bin's wall).

        A minority colour is split off where it forms its own cluster lying mostly outside the
        majority's footprint; minority colours inside the footprint (a container's shaded inner
        walls, highlights) stay with it.
        """
        c = self.config
        votes = np.bincount(colors[members], minlength=8)
        if np.count_nonzero(votes >= c.min_cluster_voxels * 3) < 2:
            return [members]
        major = int(np.argmax(votes))
        v = c.voxel_size_m
        cells = np.floor(uvh[members, :2] / v).astype(np.int64)
        lo = cells.min(axis=0)
        cells -= lo
        footprint = np.zeros(cells.max(axis=0) + 1, dtype=bool)
        is_major = colors[members] == major
        footprint[cells[is_major, 0], cells[is_major, 1]] = True
        footprint = ndimage.binary_dilation(footprint)
        keep = np.ones(len(members), dtype=bool)
        parts: list[np.ndarray] = []
        for k in np.flatnonzero(votes >= c.min_cluster_voxels * 3):
            if k == major:
                continue
            idx = np.flatnonzero(colors[members] == k)
            sub = cluster_points(uvh[members[idx]], v, c.min_cluster_voxels)
            for s in range(sub.max(initial=-1) + 1):
                part = idx[sub == s]
                if np.mean(footprint[cells[part, 0], cells[part, 1]]) < 0.5:
                    parts.append(members[part])
                    keep[part] = False
        return [members[keep], *parts] if parts else [members]
