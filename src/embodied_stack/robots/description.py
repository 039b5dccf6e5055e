"""Robot descriptions: what a robot *is*, read once from ``config/robots/<name>.yaml``.

Why a description separate from any driver: the simulator, the real drivers, the VLA
policy, teleoperation, recording and /tf all need the same joint names, limits,
gripper, cameras and base limits. Written once here (like a URDF plus the
ros2_control limits), each of them reads it instead of restating a constant, so a
limit changed in the YAML changes everywhere.

Units: rad, rad/s, m, m/s (REP-103). Camera extrinsics are the pose of the camera's
*optical* frame (z forward, x right, y down) in its parent frame.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from embodied_stack import paths
from embodied_stack.config import ConfigError, load_yaml
from embodied_stack.hardware.safety import BaseLimits, JointLimits

ROBOTS_DIR = Path("config/robots")


@dataclass(frozen=True)
class JointSpec:
    """One actuated arm joint: position range (rad) and top speed (rad/s)."""

    name: str
    lower: float
    upper: float
    max_velocity: float


@dataclass(frozen=True)
class GripperSpec:
    """The gripper, commanded and reported as an opening in [0, 1] (0 closed, 1 open) under
    joint name ``name`` in /joint_states and JointTrajectory. ``mjcf_joints`` are the finger
    joints of the kinematic model, each at ``opening * travel`` (m or rad), for /tf."""

    name: str = "gripper"
    mjcf_joints: tuple[str, ...] = ()
    travel: float = 0.0


@dataclass(frozen=True)
class CameraSpec:
    """A camera mounted on the robot (or fixed in its workspace, parent ``base_link``).

    ``frame_id`` is the optical frame its images are stamped with; ``xyz``/``quat_xyzw`` its
    pose in ``parent`` (static extrinsics, published on /tf_static) unless ``mjcf_camera`` names
    the camera in the kinematic model, whose pose then follows the joints.
    """

    name: str
    frame_id: str
    parent: str = "base_link"
    xyz: tuple[float, float, float] = (0.0, 0.0, 0.0)
    quat_xyzw: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 1.0)
    mjcf_camera: str = ""
    topic_namespace: str = ""  # '' = /<name>


@dataclass(frozen=True)
class PartSpec:
    """One robot of a composite (e.g. the arm on a quadruped's back): which description, where it
    is mounted, and which of its cameras exist on this robot (a tabletop arm's fixed scene camera
    does not ride on a dog)."""

    role: str  # "base" or "arm"
    robot: str  # a description under config/robots/
    frame: str = ""  # its root frame on /tf ('' = the part's base_frame; must differ between parts)
    parent: str = "base_link"  # the frame it is mounted on (a frame of the base part)
    xyz: tuple[float, float, float] = (0.0, 0.0, 0.0)
    quat_xyzw: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 1.0)
    cameras: tuple[str, ...] | None = None  # None = all of the part's cameras


@dataclass(frozen=True)
class RobotDescription:
    """Everything the stack needs to know about one robot type."""

    name: str
    type: str  # robot family, e.g. so101, koch, go2; chooses the implementation with the backend
    joints: tuple[JointSpec, ...] = ()
    max_step: float = 0.25  # rad: largest change one command may ask for relative to the measured position
    gripper: GripperSpec | None = None
    cameras: tuple[CameraSpec, ...] = ()
    base: BaseLimits | None = None
    base_frame: str = "base_link"
    kinematics: str = ""  # MJCF model (relative to the package share dir) used for /tf
    site_frames: dict[str, str] = field(default_factory=dict)  # MJCF site -> sensor frame on /tf
    home: tuple[float, ...] = ()  # rad, a safe ready pose
    backends: dict[str, dict[str, Any]] = field(default_factory=dict)  # backend name -> its settings
    parts: tuple[PartSpec, ...] = ()  # a composite robot (mobile manipulator): its base and arm
    source: str = ""

    @property
    def joint_names(self) -> list[str]:
        return [j.name for j in self.joints]

    @property
    def lower(self) -> np.ndarray:
        return np.array([j.lower for j in self.joints], dtype=np.float64)

    @property
    def upper(self) -> np.ndarray:
        return np.array([j.upper for j in self.joints], dtype=np.float64)

    @property
    def max_velocity(self) -> np.ndarray:
        return np.array([j.max_velocity for j in self.joints], dtype=np.float64)

    @property
    def state_names(self) -> list[str]:
        """Names of the state/action vector the policies and datasets use: joints then gripper."""
        return self.joint_names + ([self.gripper.name] if self.gripper else [])

    def joint_limits(self) -> JointLimits | None:
        if not self.joints:
            return None
        return JointLimits(names=tuple(self.joint_names), lower=self.lower, upper=self.upper,
                           max_step=self.max_step, max_velocity=self.max_velocity)

    def camera(self, name: str) -> CameraSpec:
        for cam in self.cameras:
            if cam.name == name:
                return cam
        names = [c.name for c in self.cameras]
        raise KeyError(f"robot '{self.name}' has no camera '{name}'; cameras: {names}")

    def backend(self, name: str) -> dict[str, Any]:
        if name not in self.backends:
            raise ConfigError(f"{self.source}: robot '{self.name}' has no backend '{name}'; "
                              f"available: {sorted(self.backends)}")
        return dict(self.backends[name] or {})

    def kinematics_path(self) -> Path | None:
        return paths.resolve(self.kinematics) if self.kinematics else None

    def part(self, role: str) -> PartSpec:
        for p in self.parts:
            if p.role == role:
                return p
        raise KeyError(f"robot '{self.name}' has no '{role}' part; parts: {[p.role for p in self.parts]}")

    def part_backends(self, backend: str) -> dict[str, str]:
        """A composite's backend names the backend of each part: role -> that part's backend."""
        chosen = self.backend(backend)
        missing = [p.role for p in self.parts if p.role not in chosen]
        if missing or set(chosen) - {p.role for p in self.parts}:
            raise ConfigError(f"{self.source}: backends.{backend} must name a backend for each part "
                              f"{[p.role for p in self.parts]} (e.g. {{base: unitree, arm: feetech}}); "
                              f"got {chosen}")
        return {role: str(b) for role, b in chosen.items()}


def description_path(name_or_path: str | Path) -> Path:
    """``so101`` -> ``config/robots/so101.yaml``; a path is used as given."""
    p = Path(name_or_path)
    if p.suffix in (".yaml", ".yml"):
        return paths.resolve(p)
    return paths.resolve(ROBOTS_DIR / f"{p}.yaml")


def available_robots() -> list[str]:
    return sorted(p.stem for p in paths.resolve(ROBOTS_DIR).glob("*.yaml"))


def load_description(name_or_path: str | Path) -> RobotDescription:
    """Read and validate a robot description; errors name the file, the key and the fix."""
    path = description_path(name_or_path)
    if not path.exists():
        raise ConfigError(f"no robot description '{name_or_path}' ({path}); available: {available_robots()}")
    data = load_yaml(path) or {}
    return description_from_dict(data, source=str(path))


_TOP_KEYS = {"name", "type", "arm", "gripper", "cameras", "base", "base_frame", "kinematics", "home",
             "backends", "site_frames", "parts"}
_PART_KEYS = {"robot", "frame", "parent", "xyz", "quat_xyzw", "cameras"}


def load_parts(description: RobotDescription) -> list[tuple[PartSpec, RobotDescription]]:
    """A composite's parts with their own descriptions, base first; a plain robot is its own part
    (role "base" when it only has a base, else "arm"). Cameras are filtered to the part's list."""
    if not description.parts:
        role = "base" if description.base is not None and not description.joints else "arm"
        return [(PartSpec(role=role, robot=description.name, frame=description.base_frame), description)]
    out = []
    for part in sorted(description.parts, key=lambda p: p.role != "base"):
        desc = load_description(part.robot)
        if desc.parts:
            raise ConfigError(f"{description.source}: part '{part.role}' ({part.robot}) is a composite "
                              "itself; list plain robots")
        if part.cameras is not None:
            unknown = sorted(set(part.cameras) - {c.name for c in desc.cameras})
            if unknown:
                raise ConfigError(f"{description.source}: parts.{part.role}.cameras names {unknown}, which "
                                  f"{part.robot} does not have ({[c.name for c in desc.cameras]})")
            desc = dataclasses.replace(desc, cameras=tuple(c for c in desc.cameras if c.name in part.cameras))
        out.append((part, desc))
    return out


def description_from_dict(data: dict[str, Any], source: str = "robot description") -> RobotDescription:
    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        raise ConfigError(f"{source}: unknown key(s) {unknown}; valid keys: {sorted(_TOP_KEYS)}")
    for key in ("name", "type"):
        if not data.get(key):
            raise ConfigError(f"{source}: '{key}' is required")
    arm = data.get("arm") or {}
    joints = []
    for i, j in enumerate(arm.get("joints") or []):
        try:
            spec = JointSpec(name=str(j["name"]), lower=float(j["lower"]), upper=float(j["upper"]),
                             max_velocity=float(j["max_velocity"]))
        except (KeyError, TypeError, ValueError) as e:
            raise ConfigError(f"{source}: arm.joints[{i}] needs name, lower, upper, max_velocity "
                              f"({e})") from e
        if not spec.lower < spec.upper:
            raise ConfigError(f"{source}: joint '{spec.name}' has lower {spec.lower} >= upper {spec.upper}")
        if not spec.max_velocity > 0:
            raise ConfigError(f"{source}: joint '{spec.name}' max_velocity must be > 0 rad/s")
        joints.append(spec)
    gripper = data.get("gripper")
    cameras = []
    for i, c in enumerate(data.get("cameras") or []):
        try:
            cameras.append(CameraSpec(**{**c, "xyz": tuple(c.get("xyz", (0, 0, 0))),
                                         "quat_xyzw": tuple(c.get("quat_xyzw", (0, 0, 0, 1)))}))
        except TypeError as e:
            raise ConfigError(f"{source}: cameras[{i}]: {e}") from e
    parts = []
    for role, p in (data.get("parts") or {}).items():
        if role not in ("base", "arm"):
            raise ConfigError(f"{source}: parts.{role}: a composite has a 'base' and an 'arm' part")
        p = {"robot": p} if isinstance(p, str) else dict(p or {})
        unknown_keys = sorted(set(p) - _PART_KEYS)
        if unknown_keys or "robot" not in p:
            raise ConfigError(f"{source}: parts.{role} needs 'robot' (valid keys {sorted(_PART_KEYS)}); "
                              f"unknown {unknown_keys}")
        parts.append(PartSpec(role=role, robot=str(p["robot"]), frame=str(p.get("frame", "")),
                              parent=str(p.get("parent", "base_link")),
                              xyz=tuple(float(v) for v in p.get("xyz", (0, 0, 0))),
                              quat_xyzw=tuple(float(v) for v in p.get("quat_xyzw", (0, 0, 0, 1))),
                              cameras=None if p.get("cameras") is None else tuple(p["cameras"])))
    if parts and (data.get("arm") or data.get("base") or data.get("kinematics")):
        raise ConfigError(f"{source}: a composite (parts) takes its joints, base limits and kinematics "
                          "from its parts' descriptions: remove arm/base/kinematics here")
    base = data.get("base")
    home = tuple(float(v) for v in data.get("home") or ())
    if home and len(home) != len(joints):
        raise ConfigError(f"{source}: home has {len(home)} values for {len(joints)} joints")
    try:
        base_limits = BaseLimits(**base) if base else None
    except TypeError as e:
        raise ConfigError(f"{source}: base: {e}; valid keys: max_vx, max_vy, max_wz") from e
    return RobotDescription(
        name=str(data["name"]), type=str(data["type"]), joints=tuple(joints),
        max_step=float(arm.get("max_step", 0.25)),
        gripper=_gripper(gripper, source),
        cameras=tuple(cameras), base=base_limits, base_frame=str(data.get("base_frame", "base_link")),
        kinematics=str(data.get("kinematics", "")), site_frames=dict(data.get("site_frames") or {}),
        home=home, backends=dict(data.get("backends") or {}), parts=tuple(parts),
        source=source)


def _gripper(data: Any, source: str) -> GripperSpec | None:
    if not data:
        return None
    if data is True:
        return GripperSpec()
    try:
        return GripperSpec(**{**data, "mjcf_joints": tuple(data.get("mjcf_joints", ()))})
    except TypeError as e:
        raise ConfigError(f"{source}: gripper: {e}; valid keys: name, mjcf_joints, travel") from e
