"""3Dconnexion SpaceMouse teleop from raw HID reports (``/dev/hidraw*``), no extra packages.

Report format (what the devices send; also what ``pyspacemouse`` decodes):
  * report id 1, 6 bytes: translation x, y, z as little-endian int16 (older devices),
    or 12 bytes: translation then rotation (SpaceMouse Compact/Wireless/Enterprise);
  * report id 2, 6 bytes: rotation rx, ry, rz as little-endian int16;
  * report id 3: button bit mask (bit 0 left, bit 1 right).
Values span about +-350. The device frame is x right, y toward the user, z down;
we convert to REP-103 (x forward = -y_dev, y left = -x_dev, z up = -z_dev; the same for
rotations).

Dead-man: the puck springs back to centre and reports zero when let go; a deflected puck
keeps reporting, so motion also stops when reports stop arriving for ``stale_s``
(unplugged, radio lost; assumes the device streams reports while deflected, as the
SpaceNavigator/SpaceMouse family does). ``require_button=True`` additionally needs a
button held. Buttons while held: left closes the gripper, right opens it.
"""

from __future__ import annotations

import errno
import os
import struct

import numpy as np

from embodied_stack.teleop.base import TeleopAction, Teleoperator, open_input_device

_AXES = struct.Struct("<3h")
FULL_SCALE = 350.0
# device axis (x, y, z) -> REP-103 (forward, left, up): forward = -y, left = -x, up = -z
_TO_REP103 = np.array([[0.0, -1.0, 0.0], [-1.0, 0.0, 0.0], [0.0, 0.0, -1.0]])


def parse_report(report: bytes) -> dict[str, object]:
    """Decode one HID report into ``{"translation": (3,), "rotation": (3,), "buttons": int}``
    entries (only those the report carries); raw device units and axes."""
    if not report:
        return {}
    rid, body = report[0], report[1:]
    out: dict[str, object] = {}
    if rid == 1 and len(body) >= 6:
        out["translation"] = np.array(_AXES.unpack_from(body, 0), dtype=float)
        if len(body) >= 12:
            out["rotation"] = np.array(_AXES.unpack_from(body, 6), dtype=float)
    elif rid == 2 and len(body) >= 6:
        out["rotation"] = np.array(_AXES.unpack_from(body, 0), dtype=float)
    elif rid == 3 and len(body) >= 1:
        out["buttons"] = int.from_bytes(body[:2], "little")
    return out


class SpaceMouseTeleop(Teleoperator):
    """Reads HID reports from a hidraw node (or any fd giving whole reports, e.g. a socketpair)."""

    name = "spacemouse"

    def __init__(self, path: str = "/dev/hidraw0", fd: int | None = None, deadzone: float = 0.05,
                 stale_s: float = 0.25, require_button: bool = False) -> None:
        super().__init__()
        self.path = path
        self._given_fd = fd
        self.fd: int | None = None
        self.deadzone, self.stale_s, self.require_button = deadzone, stale_s, require_button
        self._translation = np.zeros(3)
        self._rotation = np.zeros(3)
        self._buttons = 0
        self._last_report = -np.inf

    def _connect(self) -> None:
        self.fd = open_input_device(self.path, self._given_fd, "SpaceMouse",
                                    "add a udev rule giving your user access to hidraw devices "
                                    "of vendor 256f/046d")

    def _disconnect(self) -> None:
        if self.fd is not None and self._given_fd is None:
            os.close(self.fd)
        self.fd = None

    def _read(self, now: float) -> TeleopAction:
        while True:
            try:
                report = os.read(self.fd, 64)  # hidraw returns one report per read
            except BlockingIOError:
                break
            except OSError as e:
                if e.errno in (errno.ENODEV, errno.EIO):
                    raise OSError(e.errno, f"SpaceMouse {self.path} was unplugged") from e
                raise
            if not report:
                break
            self._last_report = now
            fields = parse_report(report)
            if "translation" in fields:
                self._translation = fields["translation"]
            if "rotation" in fields:
                self._rotation = fields["rotation"]
            if "buttons" in fields:
                self._buttons = fields["buttons"]
        lin = _TO_REP103 @ (self._translation / FULL_SCALE)
        ang = _TO_REP103 @ (self._rotation / FULL_SCALE)
        twist = np.clip(np.concatenate([lin, ang]), -1, 1)
        twist[np.abs(twist) < self.deadzone] = 0.0
        fresh = now - self._last_report <= self.stale_s
        if not fresh:  # a puck at rest sends nothing; without fresh reports assume released
            twist[:] = 0.0
        gripper = (-1.0 if self._buttons & 1 else 0.0) + (1.0 if self._buttons & 2 else 0.0)
        button_ok = not self.require_button or bool(self._buttons)
        enabled = fresh and bool(np.any(twist) or gripper) and button_ok
        return TeleopAction(twist=twist, gripper=gripper, enabled=enabled)
