"""The generic cmd_vel base (ROS-free): TwistBase through a plain in-process link, alone and under DriverCore.

The link here is a small object implementing the TwistLink protocol (what the base's own driver would do on
its topics: record commands, hand out the newest odometry), with a clock the test advances, so staleness and
reconnection are checked without waiting (the connect wait sleeps on that clock too).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from embodied_stack.config import ConfigError
from embodied_stack.driver.core import DriverConfig, DriverCore
from embodied_stack.hardware import BaseLimits, BaseVelocity, DeviceDisconnectedError
from embodied_stack.robots import load_description
from embodied_stack.robots import make_robot as registry_make_robot
from embodied_stack.robots.twist_base import (
    ZERO_REPEATS,
    OdometrySample,
    TwistBase,
    TwistBaseConfig,
    make_robot,
)

LIMITS = BaseLimits(max_vx=0.3, max_vy=0.2, max_wz=1.9)


class Clock:
    """Monotonic time that only moves when the test (or a wait's ``sleep``) moves it."""

    def __init__(self, t: float = 100.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += seconds


class InProcessLink:
    """A TwistLink without a transport: commands are appended to ``sent``; odometry is what the test
    ``publish``es (stamped ``received`` with the shared clock); ``broken`` makes ``send`` fail like a
    closed link."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.config: TwistBaseConfig | None = None
        self.sent: list[tuple[float, float, float]] = []
        self.odometry: OdometrySample | None = None
        self.broken = False
        self.subscribers = 1

    def configure(self, config: TwistBaseConfig) -> None:
        self.config = config

    def send(self, vx: float, vy: float, wz: float) -> None:
        if self.broken:
            raise DeviceDisconnectedError("in-process link closed")
        self.sent.append((vx, vy, wz))

    def latest_odometry(self) -> OdometrySample | None:
        return self.odometry

    def status(self) -> dict[str, str]:
        return {"cmd_vel_subscribers": str(self.subscribers)}

    def publish(self, x: float = 0.0, y: float = 0.0, yaw: float = 0.0, vx: float = 0.0, vy: float = 0.0,
                wz: float = 0.0, stamp: float = 0.0) -> None:
        self.odometry = OdometrySample(self.clock(), stamp, x, y, yaw, vx, vy, wz)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def link(clock: Clock) -> InProcessLink:
    return InProcessLink(clock)


def make_base(link: InProcessLink, clock: Clock, **config) -> TwistBase:
    return TwistBase(TwistBaseConfig(**config), LIMITS, link, name="test_base", clock=clock,
                     sleep=clock.sleep)


# --- configuration ------------------------------------------------------------------------------------
def test_config_defaults_and_rejections_name_the_key() -> None:
    c = TwistBaseConfig()
    assert (c.cmd_vel_topic, c.odom_topic) == ("/base/cmd_vel", "/base/odom")
    assert (c.stamped, c.holonomic) == (False, False)
    with pytest.raises(ConfigError, match="unknown key.*odom_topci"):
        TwistBaseConfig.from_settings({"odom_topci": "/odom"})
    with pytest.raises(ConfigError, match="state_timeout_s"):
        TwistBaseConfig(state_timeout_s=0)
    with pytest.raises(ConfigError, match="connect_timeout_s"):
        TwistBaseConfig(connect_timeout_s=float("nan"))
    with pytest.raises(ConfigError, match="cmd_vel_topic"):
        TwistBaseConfig(cmd_vel_topic="/base/cmd vel")
    with pytest.raises(ConfigError, match="both"):
        TwistBaseConfig(cmd_vel_topic="/x", odom_topic="/x")
    with pytest.raises(ConfigError, match="holonomic"):
        TwistBaseConfig(holonomic="no")


def test_registry_builds_the_shipped_description_with_a_link(link: InProcessLink) -> None:
    base = registry_make_robot("wheeled_base", "twist", link=link)
    assert isinstance(base, TwistBase) and base.capabilities == frozenset({"base"})
    assert base.name == "wheeled_base"
    assert (base.base_limits.max_vx, base.base_limits.max_vy, base.base_limits.max_wz) == (0.3, 0.0, 1.9)
    assert link.config == TwistBaseConfig(cmd_vel_topic="/base/cmd_vel", odom_topic="/base/odom")
    with pytest.raises(ConfigError, match="needs a link"):
        registry_make_robot("wheeled_base", "twist")
    with pytest.raises(ConfigError, match="no port"):
        registry_make_robot("wheeled_base", "twist", link=link, port="/dev/ttyUSB0")
    arm_only = load_description("so101")
    with pytest.raises(ConfigError, match="needs base limits"):
        make_robot(arm_only, {"link": link})


# --- connect and state --------------------------------------------------------------------------------
def test_connect_waits_for_fresh_odometry_and_says_where(link: InProcessLink, clock: Clock) -> None:
    base = make_base(link, clock, connect_timeout_s=2.0, state_timeout_s=0.5)
    start = clock.t
    with pytest.raises(DeviceDisconnectedError, match="no odometry on /base/odom within 2.0 s \\(never\\)"):
        base.connect()
    assert clock.t - start == pytest.approx(2.0, abs=0.02) and not base.is_connected
    link.publish()
    clock.t += 0.6  # heard, but too long ago
    with pytest.raises(DeviceDisconnectedError, match="last 2.6 s ago"):  # 0.6 s + the 2 s wait
        base.connect()
    link.publish()
    base.connect()
    assert base.is_connected
    # a reconnect (the subscription long matched) waits one odometry timeout, not the first connect's
    base.disconnect()
    clock.t += 5.0
    start = clock.t
    with pytest.raises(DeviceDisconnectedError, match="within 0.5 s"):
        base.connect()
    assert clock.t - start == pytest.approx(0.5, abs=0.02)


def test_state_is_the_newest_odometry_as_pose_and_twist(link: InProcessLink, clock: Clock) -> None:
    base = make_base(link, clock)
    link.publish(x=1.0, y=-0.5, yaw=math.pi / 2, vx=0.2, wz=0.4, stamp=1234.5)
    base.connect()
    s = base.read_state()
    assert s.stamp == 1234.5
    np.testing.assert_allclose(s.base_pose, [1.0, -0.5, 0.0, 0.0, 0.0, math.sin(math.pi / 4),
                                             math.cos(math.pi / 4)])
    np.testing.assert_allclose(s.base_twist, [0.2, 0.0, 0.0, 0.0, 0.0, 0.4])
    assert base.status()["level"] == "OK"


def test_silent_odometry_is_a_lost_link(link: InProcessLink, clock: Clock) -> None:
    base = make_base(link, clock, state_timeout_s=0.5)
    link.publish()
    base.connect()
    clock.t += 0.5
    base.read_state()  # exactly the timeout: still fresh
    clock.t += 0.01
    with pytest.raises(DeviceDisconnectedError, match="no odometry on /base/odom for 0.51 s"):
        base.read_state()
    status = base.status()
    assert status["level"] == "ERROR" and "no odometry" in status["message"], status


# --- commands ------------------------------------------------------------------------------------------
def test_differential_drive_clamps_sideways_and_holonomic_does_not(link: InProcessLink, clock: Clock) -> None:
    link.publish()
    diff = make_base(link, clock)
    diff.connect()
    sent = diff.send_base_velocity(BaseVelocity(1.0, 0.15, -3.0))
    assert (sent.vx, sent.vy, sent.wz) == (0.3, 0.0, -1.9)
    assert link.sent[-1] == (0.3, 0.0, -1.9)
    omni = make_base(InProcessLink(clock), clock, holonomic=True)
    assert omni.base_limits.max_vy == 0.2  # the description's limit stands
    assert LIMITS.max_vy == 0.2  # and the differential drive did not change the shared limits


def test_stop_sends_a_few_zeros_after_motion_then_stays_quiet(link: InProcessLink, clock: Clock) -> None:
    link.publish()
    base = make_base(link, clock)
    base.connect()
    for _ in range(ZERO_REPEATS + 2):  # right after connect: make sure the base is at rest
        base.stop()
    assert link.sent == [(0.0, 0.0, 0.0)] * ZERO_REPEATS
    link.sent.clear()
    base.send_base_velocity(BaseVelocity(0.2, 0.0, 0.0))
    for _ in range(10):  # the driver's watchdog calls stop() every cycle
        base.stop()
    assert link.sent == [(0.2, 0.0, 0.0)] + [(0.0, 0.0, 0.0)] * ZERO_REPEATS
    assert base.status()["zeros_sent"] == str(2 * ZERO_REPEATS)
    base.send_base_velocity(BaseVelocity(0.2, 0.0, 0.0))
    link.broken = True  # the link closes under a moving base: stop() is still safe (its own timeout stops it)
    base.stop()
    with pytest.raises(DeviceDisconnectedError):
        base.send_base_velocity(BaseVelocity(0.2, 0.0, 0.0))  # a command, though, says the link is down
    base.disconnect()
    assert not base.is_connected


def test_status_warns_when_nothing_hears_the_commands(link: InProcessLink, clock: Clock) -> None:
    link.publish()
    base = make_base(link, clock)
    base.connect()
    link.subscribers = 0
    status = base.status()
    assert status["level"] == "WARN" and "nothing subscribes to /base/cmd_vel" in status["message"]


# --- under the driver core ------------------------------------------------------------------------------
def test_driver_core_clamps_reports_and_reconnects_when_odometry_returns(link: InProcessLink,
                                                                        clock: Clock) -> None:
    base = make_base(link, clock, state_timeout_s=0.5, connect_timeout_s=1.0)
    core = DriverCore(None, base, DriverConfig(command_timeout_s=0.1, reconnect_period_s=0.2),
                      monotonic=clock)
    link.publish()
    core.connect()
    core.activate()
    core.cycle()  # the activation hold
    assert core.submit_twist(BaseVelocity(0.5, 0.1, 0.0))
    core.cycle()
    assert link.sent[-1] == (0.3, 0.0, 0.0)
    assert core.counters.clamped == 1
    assert core.counters.last_clamp == ("cmd_vel vx asked 0.500 sent 0.300, vy asked 0.100 sent 0.000 "
                                        "(base limits)")

    # odometry stops: the next cycle reports the link down; commands are not sent while it is
    clock.t += 0.6
    core.submit_twist(BaseVelocity(0.1, 0.0, 0.0))
    sent = len(link.sent)
    core.cycle()
    level, message, values = core.status()
    assert level == "ERROR" and "device down" in message and "no odometry" in message, message
    assert values["device_ok"] == "False"
    clock.t += 0.3
    core.cycle()  # a reconnect attempt: still silent, connect gives up after its 1 s (on the test's clock)
    assert not core.device_ok
    assert all(cmd == (0.0, 0.0, 0.0) for cmd in link.sent[sent:])

    # odometry returns: reconnected on the next attempt, holding until a new command
    clock.t += 0.3
    link.publish(x=0.4)
    core.cycle()
    assert core.device_ok and core.counters.reconnects == 1
    core.cycle()
    assert core.base_state is not None and core.base_state.base_pose[0] == 0.4
    assert core.submit_twist(BaseVelocity(0.1, 0.0, 0.2))
    core.cycle()
    assert link.sent[-1] == (0.1, 0.0, 0.2)
