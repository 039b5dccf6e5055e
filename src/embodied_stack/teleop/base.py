"""The interface every teleoperation device implements (like LeRobot's ``Teleoperator``).

Why one interface: the teleop node, the browser console and the recorder treat a
keyboard over SSH, a gamepad and a SpaceMouse alike. A device reports the operator's
*intent* as a normalised body twist in [-1, 1] per axis, REP-103 axes (x forward,
y left, z up; rotations about those axes), a gripper command and episode events;
mappers (:mod:`embodied_stack.teleop.mapping`) turn intents into the robot commands the
policies also publish (joint targets through IK, base velocities).

Dead-man switch: ``TeleopAction.enabled`` is True only while the operator actively
holds the device's enable input (a held key still auto-repeating, the LB button, a
deflected SpaceMouse still reporting). When it is False the twist is zero, and
consumers must not move the robot.
"""

from __future__ import annotations

import abc
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: Names of the twist components, in order (normalised, -1..1).
TWIST_NAMES = ("linear.x", "linear.y", "linear.z", "angular.x", "angular.y", "angular.z")
#: Episode/recording events a device may emit (edge-triggered, once per press).
EVENTS = ("start", "stop", "next", "rerecord", "discard", "estop")


def open_input_device(path: str, given_fd: int | None, what: str, hint: str) -> int:
    """A non-blocking fd for a kernel input device (evdev, hidraw): ``given_fd`` when the
    caller already has one (tests, a pipe), else ``path`` opened read-only; an error says
    which device failed and how to fix access (``hint``)."""
    if given_fd is not None:
        fd = given_fd
    else:
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        except OSError as e:
            raise OSError(e.errno, f"cannot open {what} {path}: {e.strerror} ({hint})") from e
    os.set_blocking(fd, False)
    return fd


class DeviceNotConnectedError(RuntimeError):
    """I/O on a device that is not connected; the message says how to connect it."""


@dataclass
class TeleopAction:
    """One reading of a device.

    Attributes:
        twist: (6,) normalised velocity intent in [-1, 1], zero unless ``enabled``.
        gripper: -1 close, +1 open, 0 hold (a rate intent, like the twist).
        enabled: dead-man state; consumers move the robot only while True.
        events: edge-triggered events since the last reading (subset of :data:`EVENTS`).
        joint_positions: absolute joint targets (rad, the robot description's joint order) from
            devices that mirror the robot's joints (a leader arm); None for twist devices.
        gripper_opening: absolute gripper target in [0, 1] from such devices.
    """

    twist: np.ndarray = field(default_factory=lambda: np.zeros(6))
    gripper: float = 0.0
    enabled: bool = False
    events: list[str] = field(default_factory=list)
    joint_positions: np.ndarray | None = None
    gripper_opening: float | None = None

    def as_dict(self) -> dict[str, Any]:
        """Flat LeRobot-style action keyed by :attr:`Teleoperator.action_features`."""
        out: dict[str, Any] = {f"twist.{n}": float(v) for n, v in zip(TWIST_NAMES, self.twist, strict=True)}
        out["gripper"] = float(self.gripper)
        out["enabled"] = bool(self.enabled)
        return out


class Teleoperator(abc.ABC):
    """A teleoperation device. Subclasses implement ``_connect``, ``_disconnect``, ``_read``."""

    name: str = "teleoperator"

    def __init__(self) -> None:
        self._connected = False

    @property
    def action_features(self) -> dict[str, type]:
        """Names and types of :meth:`TeleopAction.as_dict` (readable while disconnected)."""
        feats: dict[str, type] = {f"twist.{n}": float for n in TWIST_NAMES}
        feats.update({"gripper": float, "enabled": bool})
        return feats

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
        self._connected = False
        self._disconnect()

    def get_action(self, now: float) -> TeleopAction:
        """Drain pending input and return the current intent at time ``now`` (s, monotonic).

        A device that fails (unplugged, closed terminal) is disconnected and returns a
        disabled action, so the robot stops instead of repeating the last command.
        """
        if not self._connected:
            raise DeviceNotConnectedError(f"{self.name} is not connected; call connect() first")
        try:
            action = self._read(now)
        except OSError:
            self._connected = False
            self._disconnect()
            return TeleopAction(events=["estop"])
        if not action.enabled:
            action.twist = np.zeros(6)
            action.gripper = 0.0
            action.joint_positions, action.gripper_opening = None, None
        action.twist = np.clip(action.twist, -1.0, 1.0)
        return action

    def __enter__(self) -> Teleoperator:
        self.connect()
        return self

    def __exit__(self, *exc: object) -> None:
        self.disconnect()

    @abc.abstractmethod
    def _connect(self) -> None: ...

    @abc.abstractmethod
    def _disconnect(self) -> None: ...

    @abc.abstractmethod
    def _read(self, now: float) -> TeleopAction: ...
