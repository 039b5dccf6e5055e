"""Gamepad teleop through the Linux evdev interface (``/dev/input/event*``), no extra packages.

Why raw evdev instead of the ``evdev`` package: the kernel's ``struct input_event`` is a
stable ABI (timeval, u16 type, u16 code, s32 value) and reading it needs only ``os.read``;
axis ranges come from the ``EVIOCGABS`` ioctl. Fewer dependencies on robot computers.

Default mapping (Xbox-style pads, as the kernel's xpad driver reports them): left stick
x/y -> linear y/x, right stick x/y -> angular z / linear z, d-pad -> pitch/roll, RT/LT ->
gripper open/close. Dead-man: LB (``BTN_TL``) must be held. A/B/X/Y/Start/Select emit
events (``BUTTON_EVENTS``). Find your pad: ``cat /proc/bus/input/devices``.
"""

from __future__ import annotations

import errno
import fcntl
import os
import struct
from dataclasses import dataclass, field

import numpy as np

from embodied_stack.teleop.base import TeleopAction, Teleoperator, open_input_device

EVENT = struct.Struct("llHHi")  # struct input_event on 64-bit Linux (24 bytes)
EV_SYN, EV_KEY, EV_ABS = 0x00, 0x01, 0x03
ABS_X, ABS_Y, ABS_Z, ABS_RX, ABS_RY, ABS_RZ = 0x00, 0x01, 0x02, 0x03, 0x04, 0x05
ABS_HAT0X, ABS_HAT0Y = 0x10, 0x11
BTN_SOUTH, BTN_EAST, BTN_NORTH, BTN_WEST = 0x130, 0x131, 0x133, 0x134
BTN_TL, BTN_TR, BTN_SELECT, BTN_START, BTN_MODE = 0x136, 0x137, 0x13A, 0x13B, 0x13C
_ABSINFO = struct.Struct("6i")  # value, minimum, maximum, fuzz, flat, resolution


def _eviocgabs(code: int) -> int:
    """ioctl number of EVIOCGABS(code) = _IOR('E', 0x40 + code, struct input_absinfo)."""
    return (2 << 30) | (_ABSINFO.size << 16) | (ord("E") << 8) | (0x40 + code)


@dataclass
class AxisMap:
    """Maps an absolute axis onto a twist component (index) or the gripper ("gripper")."""

    target: int | str
    sign: float = 1.0
    trigger: bool = False  # 0..max trigger instead of a centred stick


@dataclass
class GamepadMapping:
    axes: dict[int, AxisMap] = field(default_factory=lambda: {
        ABS_Y: AxisMap(0, -1.0), ABS_X: AxisMap(1, -1.0), ABS_RY: AxisMap(2, -1.0),
        ABS_RX: AxisMap(5, -1.0), ABS_HAT0Y: AxisMap(4, 1.0), ABS_HAT0X: AxisMap(3, 1.0),
        ABS_RZ: AxisMap("gripper", 1.0, trigger=True), ABS_Z: AxisMap("gripper", -1.0, trigger=True),
    })
    deadman: int = BTN_TL
    button_events: dict[int, str] = field(default_factory=lambda: {
        BTN_START: "start", BTN_SELECT: "stop", BTN_NORTH: "next", BTN_WEST: "rerecord",
        BTN_EAST: "discard", BTN_MODE: "estop"})
    #: axis ranges when the device cannot be asked (pipes in tests): code -> (min, max)
    default_ranges: dict[int, tuple[int, int]] = field(default_factory=lambda: {
        ABS_X: (-32768, 32767), ABS_Y: (-32768, 32767), ABS_RX: (-32768, 32767), ABS_RY: (-32768, 32767),
        ABS_Z: (0, 1023), ABS_RZ: (0, 1023), ABS_HAT0X: (-1, 1), ABS_HAT0Y: (-1, 1)})


class GamepadTeleop(Teleoperator):
    """Reads ``struct input_event`` records from an evdev device (or any fd giving them).

    Args:
        path: ``/dev/input/eventN`` (ignored when ``fd`` is given).
        fd: an already open file descriptor (tests feed a pipe).
        deadzone: stick deflection (0..1) treated as zero, against drift of worn sticks.
    """

    name = "gamepad"

    def __init__(self, path: str = "/dev/input/event0", fd: int | None = None, deadzone: float = 0.1,
                 mapping: GamepadMapping | None = None) -> None:
        super().__init__()
        self.path = path
        self._given_fd = fd
        self.fd: int | None = None
        self.deadzone = deadzone
        self.mapping = mapping or GamepadMapping()
        self._ranges: dict[int, tuple[int, int]] = {}
        self._axes: dict[int, int] = {}
        self._buttons: set[int] = set()
        self._partial = b""

    def _connect(self) -> None:
        self.fd = open_input_device(self.path, self._given_fd, "gamepad",
                                    "is it plugged in? is the user in the 'input' group?")
        for code in self.mapping.axes:
            self._ranges[code] = self._query_range(code)
        self._axes.clear()
        self._buttons.clear()

    def _query_range(self, code: int) -> tuple[int, int]:
        try:
            buf = fcntl.ioctl(self.fd, _eviocgabs(code), bytes(_ABSINFO.size))
            _, lo, hi, *_ = _ABSINFO.unpack(buf)
            if hi > lo:
                return lo, hi
        except OSError:
            pass  # not an evdev node (a pipe in tests): use the documented defaults
        return self.mapping.default_ranges.get(code, (-32768, 32767))

    def _disconnect(self) -> None:
        if self.fd is not None and self._given_fd is None:
            os.close(self.fd)
        self.fd = None

    def _read(self, now: float) -> TeleopAction:
        data = self._partial
        while True:
            try:
                chunk = os.read(self.fd, EVENT.size * 64)
            except BlockingIOError:
                break
            except OSError as e:
                if e.errno == errno.ENODEV:
                    raise OSError(e.errno, f"gamepad {self.path} was unplugged") from e
                raise
            if not chunk:
                if self._given_fd is None:
                    raise OSError(errno.ENODEV, f"gamepad {self.path} closed")
                break
            data += chunk
        whole = len(data) - len(data) % EVENT.size
        self._partial = data[whole:]
        events: list[str] = []
        for off in range(0, whole, EVENT.size):
            _, _, etype, code, value = EVENT.unpack_from(data, off)
            if etype == EV_ABS:
                self._axes[code] = value
            elif etype == EV_KEY:
                if value:  # 1 press, 2 autorepeat
                    if code not in self._buttons and code in self.mapping.button_events:
                        events.append(self.mapping.button_events[code])
                    self._buttons.add(code)
                else:
                    self._buttons.discard(code)
        twist = np.zeros(6)
        gripper = 0.0
        for code, axis in self.mapping.axes.items():
            if code not in self._axes:
                continue
            v = self._normalise(code, self._axes[code], axis.trigger) * axis.sign
            if axis.target == "gripper":
                gripper += v
            else:
                twist[axis.target] += v
        enabled = self.mapping.deadman in self._buttons
        return TeleopAction(twist=twist, gripper=float(np.clip(gripper, -1, 1)), enabled=enabled,
                            events=events)

    def _normalise(self, code: int, value: int, trigger: bool) -> float:
        lo, hi = self._ranges.get(code) or self.mapping.default_ranges.get(code, (-32768, 32767))
        if trigger:
            x = (value - lo) / (hi - lo)
        else:
            x = 2.0 * (value - lo) / (hi - lo) - 1.0
            if hi - lo <= 2:  # d-pad hats report -1/0/1 exactly
                x = float(value)
        x = float(np.clip(x, -1.0, 1.0))
        if abs(x) < self.deadzone:
            return 0.0
        return float(np.sign(x) * (abs(x) - self.deadzone) / (1.0 - self.deadzone))
