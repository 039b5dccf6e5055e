"""A wheeled base that has its own velocity driver, as a :class:`~embodied_stack.hardware.robot.Robot`
(``base``): any robot that takes a Twist and publishes odometry.

Why a generic driver: TurtleBot 4 / iRobot Create 3, Clearpath platforms and every ros2_control base with a
``diff_drive_controller`` already ship a ROS 2 driver that closes the wheel loops. What they lack is the
stack's safety layer: robot_driver in front of them adds the description's limits, the stale-``cmd_vel``
watchdog, the latched e-stop and /diagnostics, and republishes their odometry as the stack's /odom and /tf.

The ROS side is injected: :class:`TwistBase` talks through a :class:`TwistLink` (in robot_driver,
:class:`embodied_stack.ros.twist_link.RosTwistLink`; in tests, a plain object), so this module never imports
rclpy.

- **connect** waits for odometry no older than ``state_timeout_s``: the first time up to ``connect_timeout_s``
  (discovery, the base starting up); a reconnect, with the link's subscription matched long ago, at most
  ``state_timeout_s`` (the driver retries every ``reconnect_period_s``), so an attempt never holds the
  driver's loop, or its shutdown, for long.
- **state**: the newest odometry as ``base_pose`` (x, y, 0, yaw as a quaternion) and ``base_twist`` (vx, vy,
  0, 0, 0, wz in ``base_link``). Odometry older than ``state_timeout_s`` is a
  :class:`~embodied_stack.hardware.DeviceDisconnectedError`: the driver reports the link down and reconnects.
- **commands**: every ``send_base_velocity`` (each driver cycle while ``cmd_vel`` is fresh) publishes one
  command. A differential drive (``holonomic: false``) has ``max_vy`` 0, so a sideways request is clamped.
- **stop** publishes a zero command :data:`ZERO_REPEATS` times after motion (one lost message must not leave
  the base rolling until its own timeout), then stays silent, so an idle driver does not hold the base's
  command topic (docking, another controller). The base's own command timeout is the second guard.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from embodied_stack.config import ConfigError
from embodied_stack.hardware.robot import BaseVelocity, DeviceDisconnectedError, Robot, RobotState
from embodied_stack.hardware.safety import BaseLimits
from embodied_stack.robots.description import RobotDescription
from embodied_stack.robots.twist_base.config import TwistBaseConfig

#: zero commands published by ``stop()`` after motion before going quiet
ZERO_REPEATS = 3


@dataclass(frozen=True)
class OdometrySample:
    """One odometry message of the base, planar (REP-103 units).

    ``received`` is when the link got it (the link's monotonic clock, s: staleness is judged on it, never on
    the base's own clock); ``stamp`` the message's header stamp (s since the epoch, 0 when unstamped).
    ``x``, ``y`` (m) and ``yaw`` (rad) are ``base_link`` in the base's odom frame; ``vx``, ``vy`` (m/s) and
    ``wz`` (rad/s) its velocity in ``base_link``.
    """

    received: float
    stamp: float
    x: float
    y: float
    yaw: float
    vx: float
    vy: float
    wz: float


class TwistLink(Protocol):
    """What :class:`TwistBase` needs from the transport to the base's own driver.

    A link may also have ``status() -> dict[str, str]`` (topic names, matched endpoints); its entries are
    added to the robot's status for /diagnostics.
    """

    def configure(self, config: TwistBaseConfig) -> None:
        """Set up the command output and the odometry input once; raise
        :class:`~embodied_stack.config.ConfigError` for topics that cannot work."""

    def send(self, vx: float, vy: float, wz: float) -> None:
        """Publish one velocity command (m/s, m/s, rad/s in ``base_link``); raise
        :class:`~embodied_stack.hardware.DeviceDisconnectedError` when it cannot be sent."""

    def latest_odometry(self) -> OdometrySample | None:
        """The newest odometry received, or None before the first."""


class TwistBase(Robot):
    """A velocity-controlled wheeled base behind its own driver, reached through a :class:`TwistLink`.

    Args:
        config: topics, message type, holonomy and timeouts (:class:`TwistBaseConfig`).
        base_limits: the description's ``base`` limits; ``max_vy`` is forced to 0 unless ``holonomic``.
        link: the transport; :meth:`TwistLink.configure` is called here, so bad topics fail at build time.
        name: the robot's name (the description's).
        clock: monotonic clock (s) the link stamps ``received`` with; waits and staleness use it.
        sleep: how the connect wait pauses between looks at the odometry (s; tests advance their clock).
        wall_clock: time of a state whose odometry carries no stamp (s since the epoch).
    """

    capabilities = frozenset({"base"})

    def __init__(self, config: TwistBaseConfig, base_limits: BaseLimits, link: TwistLink,
                 name: str = "twist_base", clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep,
                 wall_clock: Callable[[], float] = time.time) -> None:
        limits = base_limits if config.holonomic else dataclasses.replace(base_limits, max_vy=0.0)
        super().__init__(name, base_limits=limits)
        self.config = config
        self.link = link
        self._clock, self._sleep, self._wall_clock = clock, sleep, wall_clock
        self._zeros_left = 0
        self._heard = False  # connected once: later connects are reconnects
        self.commands_sent = 0
        self.zeros_sent = 0
        link.configure(config)

    def _where(self) -> str:
        return f"base '{self.name}' ({self.config.cmd_vel_topic} / {self.config.odom_topic})"

    # --- lifecycle ---------------------------------------------------------------------------------------
    def _odometry_age(self) -> tuple[OdometrySample | None, float]:
        sample = self.link.latest_odometry()
        return sample, (self._clock() - sample.received if sample is not None else math.inf)

    def _connect(self) -> None:
        c = self.config
        wait = min(c.connect_timeout_s, c.state_timeout_s) if self._heard else c.connect_timeout_s
        deadline = self._clock() + wait
        while True:
            sample, age = self._odometry_age()
            if age <= c.state_timeout_s:
                break
            if self._clock() > deadline:
                heard = "never" if sample is None else f"last {age:.1f} s ago"
                raise DeviceDisconnectedError(
                    f"{self._where()}: no odometry on {c.odom_topic} within {wait} s "
                    f"({heard}); is the base's own driver running, on this ROS_DOMAIN_ID, and are the topics "
                    "in backends.twist right (`ros2 topic list`)?")
            self._sleep(0.01)
        self._heard = True
        self._zeros_left = ZERO_REPEATS  # the first stop after a (re)connect makes sure the base is at rest

    def _disconnect(self) -> None:
        self._zeros_left = 0  # the link belongs to whoever made it (the driver node); nothing to close here

    # --- state -------------------------------------------------------------------------------------------
    def _fresh_odometry(self) -> OdometrySample:
        sample, age = self._odometry_age()
        if sample is None or age > self.config.state_timeout_s:
            heard = "ever" if sample is None else f"for {age:.2f} s"
            raise DeviceDisconnectedError(
                f"{self._where()}: no odometry on {self.config.odom_topic} {heard} (more than "
                f"state_timeout_s {self.config.state_timeout_s} s): is the base's driver running? the driver "
                "reconnects by itself")
        return sample

    def _read_state(self) -> RobotState:
        s = self._fresh_odometry()
        half = 0.5 * s.yaw
        return RobotState(
            stamp=s.stamp if s.stamp > 0 else self._wall_clock(),
            base_pose=np.array([s.x, s.y, 0.0, 0.0, 0.0, math.sin(half), math.cos(half)], dtype=np.float64),
            base_twist=np.array([s.vx, s.vy, 0.0, 0.0, 0.0, s.wz], dtype=np.float64))

    # --- commands ----------------------------------------------------------------------------------------
    def _write_base_velocity(self, command: BaseVelocity) -> None:
        self.link.send(command.vx, command.vy, command.wz)
        self.commands_sent += 1
        self._zeros_left = ZERO_REPEATS

    def _stop(self) -> None:
        """A zero command on the first :data:`ZERO_REPEATS` calls after motion; silent otherwise. A link
        that cannot send is no error here: the base's own command timeout stops it."""
        if self._zeros_left <= 0:
            return
        self._zeros_left -= 1
        try:
            self.link.send(0.0, 0.0, 0.0)
        except DeviceDisconnectedError:
            return
        self.zeros_sent += 1

    # --- diagnostics -------------------------------------------------------------------------------------
    def status(self) -> dict[str, str]:
        """The link in words for /diagnostics (never raises); ``level`` is OK, WARN or ERROR and ``message``
        says what is wrong and the fix."""
        c = self.config
        out = {"cmd_vel_topic": c.cmd_vel_topic, "odom_topic": c.odom_topic,
               "message_type": "TwistStamped" if c.stamped else "Twist",
               "holonomic": str(c.holonomic).lower(),
               "commands_sent": str(self.commands_sent), "zeros_sent": str(self.zeros_sent)}
        link_status = getattr(self.link, "status", None)
        if callable(link_status):
            try:
                out.update({str(k): str(v) for k, v in link_status().items()})
            except Exception as e:  # noqa: BLE001 - a status read must never take the node down
                out["link_status_error"] = repr(e)
        sample, age = self._odometry_age()
        out["odometry_age_s"] = f"{age:.3f}" if sample is not None else "never"
        if sample is None or age > c.state_timeout_s:
            out.update(level="ERROR", message=f"no odometry on {c.odom_topic} for "
                       f"{'ever' if sample is None else f'{age:.1f} s'}: is the base's driver running?")
        elif out.get("cmd_vel_subscribers") == "0":
            out.update(level="WARN", message=f"nothing subscribes to {c.cmd_vel_topic}: commands go nowhere; "
                       "check backends.twist.cmd_vel_topic against the base driver's topic")
        else:
            out.update(level="OK", message="receiving odometry")
        return out


def make_robot(description: RobotDescription, settings: dict[str, Any]) -> TwistBase:
    """Registry factory (backend ``twist``): a described base behind its own driver. ``settings`` is the
    description's ``backends.twist`` section plus ``link`` (a :class:`TwistLink`; robot_driver passes its
    :class:`~embodied_stack.ros.twist_link.RosTwistLink`)."""
    settings = dict(settings)
    link = settings.pop("link", None)
    source = f"{description.source} backends.twist"
    if "port" in settings:
        raise ConfigError(f"{source}: the twist backend has no port ({settings['port']!r}); the base is "
                          "reached through its topics: set backends.twist.cmd_vel_topic / odom_topic, or "
                          "remap")
    if link is None:
        raise ConfigError(f"{source}: the twist backend needs a link to the base's driver: robot_driver "
                          "makes one (embodied_stack.ros.twist_link.RosTwistLink); in plain Python pass "
                          "make_robot(description, 'twist', link=<a TwistLink>)")
    if description.base is None:
        raise ConfigError(f"{description.source}: a twist base needs base limits (base: max_vx, max_vy, "
                          "max_wz)")
    config = TwistBaseConfig.from_settings(settings, source=source)
    return TwistBase(config, description.base, link, name=description.name)
