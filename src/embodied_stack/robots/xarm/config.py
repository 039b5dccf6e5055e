"""Settings of the UFactory xArm driver: a description's ``backends.xarm`` section.

Why so few: the SDK fixes its ports (502 control, 30001-30003 reports), so the connection is
the host; the rest bounds how long a silent controller may stall the control loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from embodied_stack.config import ConfigError, from_dict

REPORT_TYPES = ("normal", "rich")


@dataclass(frozen=True)
class XArmConfig:
    """How to reach and stream to one xArm.

    Attributes:
        host: the control box's IP (xArm Studio: Settings > Network; factory default
            192.168.1.x printed on the box).
        frequency: the rate the driver node should stream servo targets at (Hz). xArm servo
            mode executes only the newest target; UFactory recommends streaming at up to
            ~250 Hz, evenly.
        command_timeout_s: how long one request may wait for the controller's reply (s) before
            the link counts as down; the SDK's default is 2 s, too long for a control loop.
        report_type: the SDK's state report stream, ``rich`` (30002: error/warning codes, joint
            speeds, motor enable bits) or ``normal`` (30001). It feeds :meth:`status`; joint
            state itself is read per cycle with ``get_joint_states``.
        connect_timeout_s: bound on each wait while connecting or recovering (s).
    """

    host: str = "192.168.1.185"
    frequency: float = 100.0
    command_timeout_s: float = 0.5
    report_type: str = "rich"
    connect_timeout_s: float = 5.0

    def __post_init__(self) -> None:
        if not self.host:
            raise ConfigError("xarm: host is empty; set backends.xarm.host to the control box's IP")
        if not 1.0 <= self.frequency <= 250.0:
            raise ConfigError(f"xarm: frequency {self.frequency} Hz is outside 1..250 Hz (servo mode streams "
                              "at up to 250 Hz)")
        if self.report_type not in REPORT_TYPES:
            raise ConfigError(f"xarm: report_type '{self.report_type}' is not one of {list(REPORT_TYPES)}")
        for name in ("command_timeout_s", "connect_timeout_s"):
            if not getattr(self, name) > 0:
                raise ConfigError(f"xarm: {name} must be > 0 s, got {getattr(self, name)}")

    @classmethod
    def from_settings(cls, settings: dict[str, Any], source: str = "backends.xarm") -> XArmConfig:
        """Build from a description's backend section, rejecting unknown keys by name."""
        return from_dict(cls, dict(settings), source=source)
