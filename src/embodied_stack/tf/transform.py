"""One rigid transform between two named frames, as TF carries it (ROS-free).

Why a value type of its own: ``geometry_msgs/TransformStamped`` is what /tf carries, but the
kinematic tree, the buffer and the ROS-free cores (perception, navigation) must compose and
invert transforms without importing ROS. This is that message's content: the pose of
``child`` in ``parent`` (``p_parent = R @ p_child + xyz``), translation in metres, quaternion
``(x, y, z, w)`` like ROS messages, and the stamp in seconds (``None``: static, valid at all times).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from embodied_stack.perception.geometry import matrix_to_quat, quat_to_matrix


@dataclass(frozen=True)
class Transform:
    """Pose of frame ``child`` in frame ``parent`` (REP-103 units: m, unit quaternion xyzw).

    Validated on construction: frame names non-empty, numbers finite, and the quaternion
    normalised (a zero or NaN one is rejected with the value and the fix). ``parent == child``
    is allowed here (an identity lookup returns one); the buffer refuses it as input.
    """

    parent: str
    child: str
    xyz: tuple[float, float, float]
    quat_xyzw: tuple[float, float, float, float]
    stamp: float | None = None  # s; None = static

    def __post_init__(self) -> None:
        for role, name in (("parent", self.parent), ("child", self.child)):
            if not isinstance(name, str) or not name:
                raise ValueError(f"transform {role} frame must be a non-empty string, got {name!r}")
        xyz = np.asarray(self.xyz, dtype=np.float64).reshape(-1)
        if xyz.shape != (3,) or not np.all(np.isfinite(xyz)):
            raise ValueError(f"transform {self.parent} -> {self.child}: xyz {xyz.tolist()} must be 3 finite "
                             "numbers (m)")
        q = np.asarray(self.quat_xyzw, dtype=np.float64).reshape(-1)
        norm = float(np.linalg.norm(q)) if q.shape == (4,) else float("nan")
        if not math.isfinite(norm) or norm < 1e-9:
            raise ValueError(f"transform {self.parent} -> {self.child}: quaternion {q.tolist()} is not a "
                             "rotation (need 4 finite numbers x, y, z, w with a non-zero norm; identity is "
                             "0, 0, 0, 1)")
        if self.stamp is not None and not math.isfinite(self.stamp):
            raise ValueError(f"transform {self.parent} -> {self.child}: stamp {self.stamp} must be finite "
                             "seconds or None (static)")
        object.__setattr__(self, "xyz", tuple(float(v) for v in xyz))
        object.__setattr__(self, "quat_xyzw", tuple(float(v) for v in q / norm))

    # --- construction ---------------------------------------------------------------------------
    @classmethod
    def identity(cls, parent: str, child: str, stamp: float | None = None) -> Transform:
        return cls(parent, child, (0.0, 0.0, 0.0), (0.0, 0.0, 0.0, 1.0), stamp)

    @classmethod
    def from_matrix(cls, parent: str, child: str, matrix: np.ndarray,
                    stamp: float | None = None) -> Transform:
        """From a 4x4 homogeneous matrix (or a 3x4 [R | t]) mapping child coordinates to parent."""
        m = np.asarray(matrix, dtype=np.float64)
        if m.shape not in ((4, 4), (3, 4)):
            raise ValueError(f"transform {parent} -> {child}: matrix shape {m.shape}; give 4x4 or 3x4")
        return cls(parent, child, tuple(m[:3, 3]), tuple(matrix_to_quat(m[:3, :3])), stamp)

    @classmethod
    def from_rotation(cls, parent: str, child: str, rotation: np.ndarray, xyz: Sequence[float],
                      stamp: float | None = None) -> Transform:
        """From a 3x3 rotation matrix and a translation (m)."""
        return cls(parent, child, tuple(xyz), tuple(matrix_to_quat(np.asarray(rotation, dtype=np.float64))),
                   stamp)

    # --- views ----------------------------------------------------------------------------------
    def rotation(self) -> np.ndarray:
        """3x3 rotation matrix (child axes in parent coordinates)."""
        return quat_to_matrix(self.quat_xyzw)

    def matrix(self) -> np.ndarray:
        """4x4 homogeneous matrix mapping child coordinates to parent coordinates."""
        m = np.eye(4)
        m[:3, :3] = self.rotation()
        m[:3, 3] = self.xyz
        return m

    # --- algebra --------------------------------------------------------------------------------
    def inverse(self) -> Transform:
        """The pose of ``parent`` in ``child`` (same stamp)."""
        rt = self.rotation().T
        return Transform.from_rotation(self.child, self.parent, rt, -rt @ np.asarray(self.xyz), self.stamp)

    def compose(self, other: Transform) -> Transform:
        """``self`` (a -> b) followed by ``other`` (b -> c) gives a -> c. The stamp is the older of
        the two (a chain is only as recent as its oldest link); static with static stays static."""
        if other.parent != self.child:
            raise ValueError(f"cannot compose {self.parent} -> {self.child} with {other.parent} -> "
                             f"{other.child}: the second must start at '{self.child}'")
        stamps = [s for s in (self.stamp, other.stamp) if s is not None]
        return Transform.from_matrix(self.parent, other.child, self.matrix() @ other.matrix(),
                                     min(stamps) if stamps else None)

    def apply(self, points: np.ndarray) -> np.ndarray:
        """Map points (3,) or (N, 3) given in ``child`` into ``parent`` coordinates."""
        p = np.asarray(points, dtype=np.float64)
        return p @ self.rotation().T + np.asarray(self.xyz)

    def with_stamp(self, stamp: float | None) -> Transform:
        return Transform(self.parent, self.child, self.xyz, self.quat_xyzw, stamp)
