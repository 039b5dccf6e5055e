"""Everything perception does per input, without ROS: the node's ROS-free core.

RGB-D frames -> detected, tracked objects; scans -> tracked people; phrases -> object ids.
Rejected input raises :class:`~embodied_stack.perception.validation.InputRejected` after
being counted in :attr:`PerceptionPipeline.rejections`, and leaves every track untouched.
"""

from __future__ import annotations

import time
from collections import Counter

import numpy as np

from embodied_stack.hardware import LaserScanReading
from embodied_stack.perception.config import PerceptionConfig
from embodied_stack.perception.detectors import make_detector
from embodied_stack.perception.geometry import Transform, project_to_pixels
from embodied_stack.perception.grounding import Grounder, GroundingResult
from embodied_stack.perception.objects import ObjectScene, RgbdFrame
from embodied_stack.perception.people import PeopleTracker, TrackedPersonState, detect_people
from embodied_stack.perception.tracking import ObjectTracker, TrackedObject
from embodied_stack.perception.validation import InputRejected


class PerceptionPipeline:
    def __init__(self, config: PerceptionConfig | None = None) -> None:
        self.config = config or PerceptionConfig()
        c = self.config
        self.camera_to_base = c.camera.transform()
        self.laser_to_base = c.laser.transform()
        self.detector = make_detector(c)
        self.objects = ObjectTracker(c.tracking)
        self.grounder = Grounder(c.grounding)
        self.people = PeopleTracker(c.people)
        self.rejections: Counter[str] = Counter()
        self.last_rejection = ""
        self.last_scene: ObjectScene | None = None
        self.timings: dict[str, float] = {}  # ms, last RGB-D frame (detector stages + track)
        self._last_stamp: dict[str, float] = {}

    def _check_order(self, stream: str, stamp: float) -> None:
        last = self._last_stamp.get(stream)
        if last is not None and stamp < last:
            raise InputRejected(
                "out_of_order",
                f"{stream} stamp {stamp:.6f} s is older than the last "
                f"processed {last:.6f} s (bag loop or clock jump?); dropped",
            )
        self._last_stamp[stream] = stamp

    def _reject(self, e: InputRejected) -> None:
        self.rejections[e.reason] += 1
        self.last_rejection = str(e)

    def process_rgbd(
        self,
        rgb: np.ndarray,
        depth_m: np.ndarray,
        intrinsics: np.ndarray,
        stamp: float,
        camera_to_base: Transform | None = None,
    ) -> list[TrackedObject]:
        """Detect and track objects in one registered RGB-D frame; returns confirmed tracks."""
        pose = camera_to_base or self.camera_to_base
        frame = RgbdFrame(rgb, depth_m, intrinsics, stamp, pose)
        try:
            self._check_order("rgbd", stamp)
            scene = self.detector.detect(frame)
        except InputRejected as e:
            self._reject(e)
            raise
        t0 = time.perf_counter()
        self.last_scene = scene
        tracks = self.objects.update(scene.objects, stamp, lambda p: self._in_view(p, frame))
        self.timings = {**self.detector.timings, "track": 1000 * (time.perf_counter() - t0)}
        self.timings["total"] += self.timings["track"]
        return tracks

    @staticmethod
    def _in_view(points: np.ndarray, frame: RgbdFrame, margin: float = 0.03) -> np.ndarray:
        """Remembered positions the camera should see now: inside the image and not behind
        something closer (the measured depth there is not much shorter)."""
        uv, z = project_to_pixels(points, np.asarray(frame.intrinsics, dtype=float), frame.camera_to_base)
        h, w = frame.depth.shape
        u, v = np.round(uv[:, 0]), np.round(uv[:, 1])
        inside = (z > 0) & (u >= 0) & (u < w) & (v >= 0) & (v < h)
        out = np.zeros(len(points), dtype=bool)
        for i in np.flatnonzero(inside):
            d = frame.depth[int(v[i]), int(u[i])]
            out[i] = not (np.isfinite(d) and 0 < d < z[i] - margin)
        return out

    def process_scan(
        self,
        scan: LaserScanReading,
        stamp: float,
        laser_to_base: Transform | None = None,
        base_to_fixed: Transform | None = None,
    ) -> list[TrackedPersonState]:
        """Detect people in one scan and update their tracks: in the base frame, or in a fixed
        frame (odom) when ``base_to_fixed`` gives the base's pose there -- on a moving robot the
        constant-velocity model only holds in a fixed frame."""
        r = np.asarray(scan.ranges, dtype=np.float64)
        try:
            self._check_order("scan", stamp)
            if (
                r.ndim != 1
                or len(r) < 2
                or not np.isfinite(scan.angle_increment)
                or scan.angle_increment == 0
            ):
                raise InputRejected(
                    "invalid_scan",
                    f"scan with {r.size} ranges and angle_increment "
                    f"{scan.angle_increment} cannot be used; need >= 2 ranges and a non-zero "
                    "finite increment",
                )
        except InputRejected as e:
            self._reject(e)
            raise
        laser = laser_to_base or self.laser_to_base
        if base_to_fixed is not None:
            laser = base_to_fixed.compose(laser)
        return self.people.update(detect_people(scan, laser, self.config.people), stamp)

    def ground(self, phrase: str) -> GroundingResult:
        return self.grounder.ground(phrase, self.objects.tracks)
