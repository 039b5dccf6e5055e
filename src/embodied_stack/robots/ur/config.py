"""Settings of the Universal Robots driver: a description's ``backends.ur_rtde`` section.

Why these knobs and no others: ur_rtde fixes the RTDE (30004) and script (30003) ports and
takes the dashboard port only for its own ``DashboardClient``, so the connection is the host
plus the stream rate; the rest shapes servoJ, the one command the driver streams.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from embodied_stack.config import ConfigError, from_dict

#: ur_rtde's accepted ranges (rtde_control_interface.h), checked here to fail at load time
LOOKAHEAD_RANGE_S = (0.03, 0.2)
GAIN_RANGE = (100.0, 2000.0)


@dataclass(frozen=True)
class URConfig:
    """How to reach and stream to one UR arm.

    Attributes:
        host: the controller's IP (PolyScope: Settings > System > Network); 127.0.0.1 for a
            URSim container with published ports.
        frequency: RTDE state rate and servoJ period (Hz). e-Series controllers run at 500 Hz,
            CB3 at 125 Hz; the driver node should call read/write at this rate.
        dashboard_port: the dashboard server (text commands: unlock protective stop, power on).
        servo_lookahead_time: servoJ look-ahead (s, 0.03-0.2): larger smooths a jerky stream at
            the cost of lag; 0.1 is UR's example value.
        servo_gain: servoJ proportional gain (100-2000): higher follows tighter; 300 is UR's
            example value and stable on every model.
        servo_time: how long each servoJ target controls the robot (s); None = one period
            (1 / frequency), the value for a stream at ``frequency``.
        stop_deceleration: joint deceleration of servoStop when the driver holds (rad/s^2).
        state_timeout_s: RTDE state older than this (no new controller timestamp) means the
            link or the controller hangs (s): 250 periods at 500 Hz, far above scheduling
            jitter, 5x sooner than ur_rtde's own 2.5 s socket deadline.
        connect_timeout_s: bound on the dashboard connect and each wait during recovery (s).
        use_upper_range_registers: put ur_rtde's control script on registers 24-47 (set when
            a PLC or fieldbus already uses registers 0-23).
    """

    host: str = "127.0.0.1"
    frequency: float = 500.0
    dashboard_port: int = 29999
    servo_lookahead_time: float = 0.1
    servo_gain: float = 300.0
    servo_time: float | None = None
    stop_deceleration: float = 10.0
    state_timeout_s: float = 0.5
    connect_timeout_s: float = 5.0
    use_upper_range_registers: bool = False

    def __post_init__(self) -> None:
        if not self.host:
            raise ConfigError("ur_rtde: host is empty; set backends.ur_rtde.host to the robot's IP")
        if not 1.0 <= self.frequency <= 500.0:
            raise ConfigError(f"ur_rtde: frequency {self.frequency} Hz is outside 1..500 Hz "
                              "(e-Series: 500, CB3: 125)")
        lo, hi = LOOKAHEAD_RANGE_S
        if not lo <= self.servo_lookahead_time <= hi:
            raise ConfigError(f"ur_rtde: servo_lookahead_time {self.servo_lookahead_time} s is outside "
                              f"[{lo}, {hi}] s (ur_rtde rejects it); 0.1 is a safe value")
        lo, hi = GAIN_RANGE
        if not lo <= self.servo_gain <= hi:
            raise ConfigError(f"ur_rtde: servo_gain {self.servo_gain} is outside [{lo:g}, {hi:g}]; 300 is a "
                              "safe value")
        if self.servo_time is not None and not 0.0 < self.servo_time <= 1.0:
            raise ConfigError(f"ur_rtde: servo_time {self.servo_time} s must be in (0, 1] s, or null for "
                              "one period")
        for name in ("stop_deceleration", "state_timeout_s", "connect_timeout_s"):
            if not getattr(self, name) > 0:
                raise ConfigError(f"ur_rtde: {name} must be > 0, got {getattr(self, name)}")

    @property
    def period(self) -> float:
        """The servoJ ``t`` argument (s)."""
        return self.servo_time if self.servo_time is not None else 1.0 / self.frequency

    @classmethod
    def from_settings(cls, settings: dict[str, Any], source: str = "backends.ur_rtde") -> URConfig:
        """Build from a description's backend section, rejecting unknown keys by name."""
        return from_dict(cls, dict(settings), source=source)
