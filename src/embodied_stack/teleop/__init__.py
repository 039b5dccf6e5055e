"""Teleoperation devices behind one interface, and mappers from operator intent to robot commands.

Devices (ROS-free; raw kernel interfaces, no extra packages): :class:`KeyboardTeleop`
(terminal, works over SSH), :class:`GamepadTeleop` (evdev), :class:`SpaceMouseTeleop`
(hidraw). Mappers: :class:`EndEffectorTeleop` (twist -> joint targets through IK) and
:class:`BaseTeleop` (twist -> base velocity). ``node.py`` publishes the results.
"""

from embodied_stack.teleop.base import (
    EVENTS,
    TWIST_NAMES,
    DeviceNotConnectedError,
    TeleopAction,
    Teleoperator,
)
from embodied_stack.teleop.gamepad import GamepadMapping, GamepadTeleop
from embodied_stack.teleop.keyboard import KeyboardTeleop
from embodied_stack.teleop.mapping import BaseTeleop, EndEffectorTeleop
from embodied_stack.teleop.spacemouse import SpaceMouseTeleop, parse_report

DEVICES = {"keyboard": KeyboardTeleop, "gamepad": GamepadTeleop, "spacemouse": SpaceMouseTeleop}


def make_device(kind: str, **kwargs) -> Teleoperator:
    """Device by name (``keyboard``, ``gamepad``, ``spacemouse``) with its constructor arguments."""
    if kind not in DEVICES:
        raise ValueError(f"unknown teleop device {kind!r}; available: {sorted(DEVICES)}")
    return DEVICES[kind](**kwargs)


__all__ = [
    "DEVICES",
    "EVENTS",
    "TWIST_NAMES",
    "BaseTeleop",
    "DeviceNotConnectedError",
    "EndEffectorTeleop",
    "GamepadMapping",
    "GamepadTeleop",
    "KeyboardTeleop",
    "SpaceMouseTeleop",
    "TeleopAction",
    "Teleoperator",
    "make_device",
    "parse_report",
]
