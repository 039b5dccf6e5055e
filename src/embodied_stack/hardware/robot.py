"""The device interface every robot implements, simulated or real.

In the spirit of ros2_control (state interfaces read, command interfaces written)
and LeRobot's ``Robot`` (connect / disconnect / is_connected / features readable
while disconnected). Units are SI (REP-103): rad, m, m/s, rad/s, seconds.

A robot exposes any of three command interfaces, named in :attr:`Robot.capabilities`:
``"arm"`` (joint position targets), ``"gripper"`` (opening 0..1) and ``"base"``
(planar body velocity, like the sport mode of real quadrupeds). Every command
passes through a :class:`~embodied_stack.hardware.safety.SafetyFilter` inside
``send_*``; the command actually applied is returned so callers can log it.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field

import numpy as np

from embodied_stack.hardware.safety import BaseLimits, JointLimits


class RobotNotConnectedError(RuntimeError):
    """Raised by I/O on a robot that is not connected; the message says the fix."""


class DeviceDisconnectedError(ConnectionError):
    """The link to the device is down (cable, network, powered off); the message names the device
    and the fix. The driver reports it and reconnects."""


class DeviceFaultError(RuntimeError):
    """The device answers but refuses motion (safety or protective stop, latched error, motors off);
    the message says why and how to recover. The driver holds, keeps reading state and reports it
    until the operator clears it (``Robot.clear_errors``); it does not reconnect."""


@dataclass
class JointCommand:
    """Joint position targets (rad) for the arm joints, in ``Robot.joint_names``
    order, plus an optional gripper opening in [0, 1] (0 closed, 1 open)."""

    positions: np.ndarray
    gripper: float | None = None


@dataclass
class BaseVelocity:
    """Planar body velocity in ``base_link``: vx, vy (m/s), wz (rad/s)."""

    vx: float = 0.0
    vy: float = 0.0
    wz: float = 0.0

    def as_array(self) -> np.ndarray:
        return np.array([self.vx, self.vy, self.wz], dtype=np.float64)


@dataclass
class ImuReading:
    orientation_xyzw: np.ndarray  # quaternion, body frame in odom
    angular_velocity: np.ndarray  # rad/s, body frame
    linear_acceleration: np.ndarray  # m/s^2, body frame, includes gravity like a real IMU


@dataclass
class LaserScanReading:
    """A planar scan in the ``laser`` frame, counter-clockwise from ``angle_min``."""

    angle_min: float
    angle_increment: float
    range_min: float
    range_max: float
    ranges: np.ndarray  # m; inf where nothing was hit within range_max


@dataclass
class CameraFrame:
    """One RGB-D capture from a pinhole camera (optical frame: z forward, x right, y down)."""

    rgb: np.ndarray | None  # HxWx3 uint8
    depth: np.ndarray | None  # HxW float32 metres; 0 where invalid
    intrinsics: np.ndarray  # 3x3 K
    frame_id: str  # optical frame name, e.g. "camera_color_optical_frame"
    stamp: float  # seconds, time of capture


@dataclass
class RobotState:
    """Everything the robot's state interfaces report at one instant."""

    stamp: float  # seconds (sim time for simulated robots)
    joint_names: list[str] = field(default_factory=list)
    joint_positions: np.ndarray = field(default_factory=lambda: np.zeros(0))
    joint_velocities: np.ndarray = field(default_factory=lambda: np.zeros(0))
    joint_efforts: np.ndarray = field(default_factory=lambda: np.zeros(0))
    gripper: float | None = None  # opening in [0, 1]
    base_pose: np.ndarray | None = None  # x, y, z (m), quaternion xyzw in odom
    base_twist: np.ndarray | None = None  # vx, vy, vz, wx, wy, wz in base_link
    imu: ImuReading | None = None


class Robot(abc.ABC):
    """A robot behind one interface. Subclasses implement the ``_``-prefixed hooks;
    the public methods add the connection guard and the safety filter so no driver
    can forget either."""

    #: command interfaces this robot has: a subset of {"arm", "gripper", "base"}
    capabilities: frozenset[str] = frozenset()

    def __init__(self, name: str, joint_limits: JointLimits | None = None,
                 base_limits: BaseLimits | None = None) -> None:
        self.name = name
        self.joint_limits = joint_limits
        self.base_limits = base_limits
        self._connected = False

    # --- features (readable while disconnected) -------------------------------------
    @property
    def joint_names(self) -> list[str]:
        return list(self.joint_limits.names) if self.joint_limits else []

    @property
    def camera_names(self) -> list[str]:
        """Cameras :meth:`read_cameras` returns, e.g. ``["wrist", "scene"]``."""
        return []

    @property
    def has_lidar(self) -> bool:
        return False

    # --- lifecycle -------------------------------------------------------------------
    @property
    def is_connected(self) -> bool:
        return self._connected

    def connect(self) -> None:
        if self._connected:
            return
        self._connect()
        self._connected = True

    def disconnect(self) -> None:
        if not self._connected:
            return
        try:
            self.stop()
        finally:
            self._disconnect()
            self._connected = False

    # --- state -------------------------------------------------------------------------
    def read_state(self) -> RobotState:
        self._require_connected("read_state")
        return self._read_state()

    def read_cameras(self) -> dict[str, CameraFrame]:
        self._require_connected("read_cameras")
        return self._read_cameras()

    def read_scan(self) -> LaserScanReading | None:
        self._require_connected("read_scan")
        return self._read_scan()

    # --- commands ----------------------------------------------------------------------
    def send_joint_command(self, command: JointCommand) -> JointCommand:
        """Clamp ``command`` to limits and a max step from the current position, apply
        it, and return what was applied. Raises ``CommandRejected`` for NaN/shape errors
        (the robot then holds its last valid target)."""
        self._require_connected("send_joint_command")
        if "arm" not in self.capabilities or self.joint_limits is None:
            raise NotImplementedError(f"robot '{self.name}' has no arm interface (or no joint limits)")
        current = self._read_state().joint_positions
        safe = self.joint_limits.filter(command, current)
        self._write_joint_command(safe)
        return safe

    def send_base_velocity(self, command: BaseVelocity) -> BaseVelocity:
        self._require_connected("send_base_velocity")
        if "base" not in self.capabilities or self.base_limits is None:
            raise NotImplementedError(f"robot '{self.name}' has no base interface (or no base limits)")
        safe = self.base_limits.filter(command)
        self._write_base_velocity(safe)
        return safe

    def clear_errors(self) -> str:
        """Acknowledge and clear a device fault after the operator inspected the robot (unlock a
        protective stop, clean a latched error). Returns what was done; devices without faults
        to clear say so."""
        self._require_connected("clear_errors")
        return self._clear_errors()

    def _clear_errors(self) -> str:
        return f"robot '{self.name}' has no device faults to clear"

    def stop(self) -> None:
        """Hold the arm where it is and bring the base to zero velocity (e-stop,
        watchdog timeout, shutdown). Must be safe to call at any time."""
        if self._connected:
            self._stop()

    # --- hooks -------------------------------------------------------------------------
    @abc.abstractmethod
    def _connect(self) -> None: ...

    @abc.abstractmethod
    def _disconnect(self) -> None: ...

    @abc.abstractmethod
    def _read_state(self) -> RobotState: ...

    def _read_cameras(self) -> dict[str, CameraFrame]:
        return {}

    def _read_scan(self) -> LaserScanReading | None:
        return None

    def _write_joint_command(self, command: JointCommand) -> None:
        raise NotImplementedError

    def _write_base_velocity(self, command: BaseVelocity) -> None:
        raise NotImplementedError

    @abc.abstractmethod
    def _stop(self) -> None: ...

    def _require_connected(self, what: str) -> None:
        if not self._connected:
            raise RobotNotConnectedError(
                f"{what}() on robot '{self.name}' before connect(): call robot.connect() first"
            )
