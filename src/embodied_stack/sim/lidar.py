"""A planar 2D LiDAR by MuJoCo ray casting (``mj_multiRay``), shaped like ``sensor_msgs/LaserScan``.

Why ray casting rather than a rangefinder sensor per beam: one ``mj_multiRay`` call casts all 360-720
beams in C, about 100x faster than 720 rangefinder sensors, and needs no MJCF changes when the
resolution changes.
"""

from __future__ import annotations

import mujoco
import numpy as np

from embodied_stack.hardware import LaserScanReading


class PlanarLidar:
    """Beams in the horizontal plane of site ``site`` (its x axis = angle 0), counter-clockwise.

    exclude_body: body whose geoms the beams ignore (the robot carrying the sensor).
    geomgroup: which geom groups the beams hit (6 flags); ``None`` hits every group.
    """

    def __init__(self, model: mujoco.MjModel, site: str, num_beams: int = 720,
                 range_min: float = 0.1, range_max: float = 12.0, exclude_body: str | None = None,
                 geomgroup: np.ndarray | None = None) -> None:
        if num_beams < 1:
            raise ValueError(f"num_beams={num_beams} must be >= 1")
        if not 0 <= range_min < range_max:
            raise ValueError(f"need 0 <= range_min < range_max, got {range_min}, {range_max}")
        self.model = model
        self.site = model.site(site).id
        self.num_beams = num_beams
        self.range_min, self.range_max = range_min, range_max
        self.angle_min = -np.pi
        self.angle_increment = 2 * np.pi / num_beams
        self.angles = self.angle_min + self.angle_increment * np.arange(num_beams)
        self._local = np.stack([np.cos(self.angles), np.sin(self.angles), np.zeros(num_beams)], axis=1)
        self._exclude = model.body(exclude_body).id if exclude_body else -1
        self._geomgroup = None if geomgroup is None else np.asarray(geomgroup, dtype=np.uint8)
        self._geomid = np.zeros(num_beams, dtype=np.int32)
        self._dist = np.zeros(num_beams)

    def scan(self, data: mujoco.MjData) -> LaserScanReading:
        rot = data.site_xmat[self.site].reshape(3, 3)
        directions = (self._local @ rot.T).reshape(-1)
        origin = data.site_xpos[self.site].copy()
        mujoco.mj_multiRay(self.model, data, origin, directions, self._geomgroup, 1, self._exclude,
                           self._geomid, self._dist, self.num_beams, self.range_max)
        ranges = self._dist.copy()
        ranges[(self._geomid < 0) | (ranges > self.range_max) | (ranges < self.range_min)] = np.inf
        return LaserScanReading(angle_min=float(self.angle_min), angle_increment=float(self.angle_increment),
                                range_min=self.range_min, range_max=self.range_max, ranges=ranges)
