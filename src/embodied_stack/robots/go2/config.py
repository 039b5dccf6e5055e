"""Settings of the Unitree Go2 sport-mode driver: a description's ``backends.unitree`` section.

Why these: the Go2 speaks Cyclone DDS on its own domain (0) over the wired interface of the
computer that drives it, while our ROS graph speaks Fast DDS. The SDK therefore runs in its own
process (:mod:`embodied_stack.robots.go2.sdk_bridge`) bound to ``network_interface`` on
``domain_id``; the remaining values bound how long a silent dog may stall the control loop and
when the battery and the body's tilt are reported.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from embodied_stack.config import ConfigError, from_dict

#: Cyclone DDS's port formula (7400 + 250 * domain + offsets) leaves room for domains 0..232
MAX_DOMAIN_ID = 232


@dataclass(frozen=True)
class Go2Config:
    """How to reach one Go2 and when to call it stale, fallen or low on battery.

    Attributes:
        network_interface: the interface of this computer on the Go2's network (its Ethernet
            port is 192.168.123.161; give the computer 192.168.123.x/24 and name that interface,
            e.g. ``enp3s0``). Cyclone DDS is bound to it alone, so no traffic leaks to other
            networks; ``lo`` for the emulator.
        domain_id: the Go2's DDS domain (0 on the robot). Must differ from this machine's
            ROS_DOMAIN_ID: both stacks speak RTPS on the same port formula, so a shared domain
            mixes the dog's topics into the ROS graph.
        stand_on_connect: stand the dog up (StandUp, then BalanceStand) when the driver
            connects, so ``cmd_vel`` moves it right away. Off by default: a driver start-up
            should not make a lying robot rise unless its operator asked for it in the
            description; ``~/clear_errors`` stands it up later.
        state_rate_hz: the most sport-mode/low states per second the bridge forwards (the dog
            publishes faster; the driver loop needs one per cycle).
        request_timeout_s: how long one request/response call (StandUp, StopMove...) may wait
            for the dog's answer (the SDK's own timeout, 1 s by default).
        state_timeout_s: no ``rt/sportmodestate`` for this long means the link is down.
        connect_timeout_s: bound on starting the bridge and hearing the first state (s). The
            SDK's set-up alone sleeps ~1 s.
        stand_timeout_s: bound on waiting for the body to reach ``stand_height_m`` after a
            stand command.
        stand_height_m: body height above which the dog counts as standing.
        fall_tilt_rad: |roll| or |pitch| above this means the dog has fallen.
        low_battery_percent: state of charge at or below which /diagnostics warns.
        critical_battery_percent: state of charge at or below which /diagnostics reports an
            error (land the dog and charge it).
        python: interpreter that runs the bridge ('' = the driver's own, which has the SDK when
            installed by scripts/setup_unitree.sh).
    """

    network_interface: str = "eth0"
    domain_id: int = 0
    stand_on_connect: bool = False
    state_rate_hz: float = 100.0
    request_timeout_s: float = 1.0
    state_timeout_s: float = 0.5
    connect_timeout_s: float = 10.0
    stand_timeout_s: float = 5.0
    stand_height_m: float = 0.22
    fall_tilt_rad: float = 0.8
    low_battery_percent: float = 20.0
    critical_battery_percent: float = 10.0
    python: str = ""

    def __post_init__(self) -> None:
        if not self.network_interface or any(c.isspace() for c in self.network_interface):
            raise ConfigError(f"unitree: network_interface {self.network_interface!r} is not an interface "
                              "name; set backends.unitree.network_interface to the one on the Go2's network "
                              "(`ip -br addr` lists them; 'lo' for the emulator)")
        if not isinstance(self.domain_id, int) or not 0 <= self.domain_id <= MAX_DOMAIN_ID:
            raise ConfigError(f"unitree: domain_id {self.domain_id!r} is outside 0..{MAX_DOMAIN_ID}; the Go2 "
                              "uses 0")
        for name in ("state_rate_hz", "request_timeout_s", "state_timeout_s", "connect_timeout_s",
                     "stand_timeout_s", "stand_height_m"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
                raise ConfigError(f"unitree: {name} must be a number > 0, got {value!r}")
        if not 0 < self.fall_tilt_rad < math.pi:
            raise ConfigError(f"unitree: fall_tilt_rad {self.fall_tilt_rad} must lie in (0, pi) rad")
        if not 0 <= self.critical_battery_percent <= self.low_battery_percent <= 100:
            raise ConfigError(f"unitree: battery thresholds must satisfy 0 <= critical_battery_percent "
                              f"({self.critical_battery_percent}) <= low_battery_percent "
                              f"({self.low_battery_percent}) <= 100")

    @classmethod
    def from_settings(cls, settings: dict[str, Any], source: str = "backends.unitree") -> Go2Config:
        """Build from a description's backend section, rejecting unknown keys by name."""
        return from_dict(cls, dict(settings), source=source)
