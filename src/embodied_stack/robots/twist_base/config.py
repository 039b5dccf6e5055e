"""Settings of the generic ``cmd_vel`` base: a description's ``backends.twist`` section.

Why these: the base already has a ROS 2 driver of its own (TurtleBot 4 / iRobot Create 3, Clearpath, a
ros2_control ``diff_drive_controller``) that takes a velocity on one topic and publishes
``nav_msgs/Odometry`` on another. ``robot_driver`` sits in front of it as the stack's one safety layer
(limits, watchdog, e-stop, diagnostics), so all it needs to know is those two topics, the message type the
base expects, whether it can move sideways, and how long a silent base may be before the link counts as
down.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from embodied_stack.config import ConfigError, from_dict


@dataclass(frozen=True)
class TwistBaseConfig:
    """Where the base's own driver listens and talks, and when it counts as gone.

    Attributes:
        cmd_vel_topic: the base driver's velocity input. Absolute (``/base/cmd_vel``) or relative to
            robot_driver's namespace; the driver's global remappings apply. It must not be robot_driver's
            own ``cmd_vel`` (the driver would command itself): run the base's driver in a namespace
            (``/base``) or remap one of the two.
        odom_topic: the base driver's ``nav_msgs/Odometry`` output (pose in its odom frame, twist in
            ``base_link``, REP-105); likewise not robot_driver's own ``odom``.
        stamped: publish ``geometry_msgs/TwistStamped`` instead of ``Twist``. Jazzy's
            ``diff_drive_controller`` and Clearpath's Jazzy platforms require stamped commands; most
            older drivers take plain ``Twist`` (``ros2 topic info <topic>`` shows which).
        holonomic: the base can move sideways (mecanum, omni wheels). False (a differential drive):
            ``vy`` is clamped to 0 whatever the description's ``base.max_vy`` says, and the clamp is
            counted and described on /diagnostics like any other.
        state_timeout_s: no odometry for this long (s) means the link is down
            (:class:`~embodied_stack.hardware.DeviceDisconnectedError`): robot_driver reports it and
            reconnects, which waits for odometry again. A few odometry periods (diff_drive_controller
            publishes at 50 Hz by default).
        connect_timeout_s: how long the first connect waits for odometry (s), discovery included; a
            reconnect waits at most ``state_timeout_s`` (the driver retries every ``reconnect_period_s``).
    """

    cmd_vel_topic: str = "/base/cmd_vel"
    odom_topic: str = "/base/odom"
    stamped: bool = False
    holonomic: bool = False
    state_timeout_s: float = 0.5
    connect_timeout_s: float = 10.0

    def __post_init__(self) -> None:
        for name in ("cmd_vel_topic", "odom_topic"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip("/") or any(c.isspace() for c in value):
                raise ConfigError(f"twist: {name} {value!r} is not a topic name; set backends.twist.{name} "
                                  "to the base driver's topic (e.g. /base/cmd_vel, /base/odom)")
        if self.cmd_vel_topic == self.odom_topic:
            raise ConfigError(f"twist: cmd_vel_topic and odom_topic are both {self.cmd_vel_topic!r}; the "
                              "base takes commands on one topic and publishes odometry on another")
        for name in ("stamped", "holonomic"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(f"twist: {name} must be true or false, got {getattr(self, name)!r}")
        for name in ("state_timeout_s", "connect_timeout_s"):
            value = getattr(self, name)
            if isinstance(value, bool) or not (isinstance(value, int | float) and math.isfinite(value)
                                               and value > 0):
                raise ConfigError(f"twist: {name} must be a number of seconds > 0, got {value!r}")

    @classmethod
    def from_settings(cls, settings: dict[str, Any], source: str = "backends.twist") -> TwistBaseConfig:
        """Build from a description's backend section, rejecting unknown keys by name."""
        return from_dict(cls, dict(settings), source=source)
