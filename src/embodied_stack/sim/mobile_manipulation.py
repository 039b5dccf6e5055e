"""The mobile-manipulation world: the indoor world with the SO-arm riding on the quadruped's back.

Two robots act in one MuJoCo model, as on a real Go2 carrying an SO-101 where two drivers run side by
side: :class:`~embodied_stack.sim.indoor.SimQuadrupedBase` (``cmd_vel`` in; odometry, IMU, LiDAR and the
front RGB-D camera out) and :class:`~embodied_stack.sim.tabletop.SimArm` (joint targets and gripper in;
joint states and the wrist RGB-D camera out). The MJCF (``sim/worlds/mobile_manipulation.xml``) attaches
the arm with the name prefix ``arm_``; the arm reports unprefixed names, so its topics are the tabletop's.

Why a subclass of :class:`~embodied_stack.sim.indoor.IndoorWorld`: rooms, pedestrians, the base's
velocity servo, LiDAR and seeding are all the indoor world's; this class only adds the arm and puts its
mount back on the base at every reset.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import mujoco
import numpy as np

from embodied_stack.config import from_dict, load_yaml
from embodied_stack.hardware import Robot
from embodied_stack.sim import so_arm
from embodied_stack.sim.indoor import BASE_BODY, CameraConfig, IndoorConfig, IndoorWorld
from embodied_stack.sim.tabletop import SimArm

DEFAULT_CONFIG = "config/sim/mobile_manipulation.yaml"
INDOOR_CONFIG = "config/sim/indoor.yaml"
ARM_PREFIX = "arm_"  # the <attach prefix> in mobile_manipulation.xml
ARM_MOUNT = "arm_mount"  # carrier body (and its free joint) welded to base_link


@dataclass
class MobileManipulationConfig:
    """The indoor world's config (rooms, base, LiDAR, front camera, pedestrians) plus the wrist camera."""

    indoor: IndoorConfig
    wrist_camera: CameraConfig = field(default_factory=lambda: CameraConfig(width=128, height=128))

    @classmethod
    def from_yaml(cls, path: str | Path = DEFAULT_CONFIG) -> MobileManipulationConfig:
        """Read ``path``: ``base`` names the indoor YAML it extends (default ``config/sim/indoor.yaml``),
        ``wrist_camera`` sizes the arm's camera, every other key replaces that key of the indoor YAML."""
        data = dict(load_yaml(path) or {})
        base = data.pop("base", INDOOR_CONFIG)
        wrist = from_dict(CameraConfig, data.pop("wrist_camera", None) or {}, source=f"{path}: wrist_camera")
        indoor = IndoorConfig.from_dict({**(load_yaml(base) or {}), **data}, source=f"{path} (base {base})")
        return cls(indoor=indoor, wrist_camera=wrist)


class MobileManipulationWorld(IndoorWorld):
    """:class:`IndoorWorld` plus a :class:`SimArm` (``arm``) on the base; ``robots`` holds both.

    Deterministic like the indoor world: the same seed and commands give the same trajectories.

    Args:
        config: a :class:`MobileManipulationConfig`, a path to its YAML, or None for
            ``config/sim/mobile_manipulation.yaml``.
    """

    name = "mobile_manipulation"

    def __init__(self, config: MobileManipulationConfig | str | Path | None = None) -> None:
        if config is None or isinstance(config, str | Path):
            config = MobileManipulationConfig.from_yaml(config or DEFAULT_CONFIG)
        self.mm_config = config
        super().__init__(config.indoor)

    @cached_property
    def arm(self) -> SimArm:
        """Built on first use, which is the first :meth:`reset`, inside ``IndoorWorld.__init__``."""
        cam = self.mm_config.wrist_camera
        arm = SimArm(self.model, self.data, cam.width, cam.height, cam.depth, prefix=ARM_PREFIX)
        arm.connect()
        return arm

    @property
    def robots(self) -> dict[str, Robot]:
        return {**super().robots, self.arm.name: self.arm}

    def reset(self, seed: int | None = None) -> None:
        """The indoor reset (jittered base pose, crowd), then the arm's mount onto the base where the
        weld holds it, and the arm in its ready pose with the gripper open. Without moving the mount
        the weld would yank the arm across the start-pose jitter (up to 0.3 m) in the first steps."""
        super().reset(seed)
        m, d = self.model, self.data
        mount, base = m.body(ARM_MOUNT).id, m.body(BASE_BODY).id
        # mount pose in the base frame, from the MJCF (both are children of the world body)
        rel_pos, rel_quat, base_quat0_inv = np.empty(3), np.empty(4), np.empty(4)
        mujoco.mju_negQuat(base_quat0_inv, m.body_quat[base])
        mujoco.mju_rotVecQuat(rel_pos, m.body_pos[mount] - m.body_pos[base], base_quat0_inv)
        mujoco.mju_mulQuat(rel_quat, base_quat0_inv, m.body_quat[mount])
        pos, quat = np.empty(3), np.empty(4)
        mujoco.mju_rotVecQuat(pos, rel_pos, d.xquat[base])
        mujoco.mju_mulQuat(quat, d.xquat[base], rel_quat)
        adr = int(m.joint(ARM_MOUNT).qposadr[0])
        d.qpos[adr:adr + 3] = d.xpos[base] + pos
        d.qpos[adr + 3:adr + 7] = quat
        self.arm.set_pose(so_arm.HOME_QPOS, gripper=1.0)
        mujoco.mj_forward(m, d)
        self.latest_scan = self.lidar.scan(d)  # the arm moved: scan the scene as it now is

    def close(self) -> None:
        self.arm.disconnect()
        super().close()
