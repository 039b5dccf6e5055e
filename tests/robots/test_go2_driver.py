"""The Go2 sport-mode driver (ROS-free) through the real unitree_sdk2py, against an emulated dog.

The SDK runs where it will on the robot: in the driver's bridge process (SportClient, the
rt/sportmodestate and rt/lowstate subscribers). The dog is tests/emulators/go2_sport.py, the SDK's
own RPC ``Server`` in a process of its own; both use a Cyclone DDS domain claimed apart from the
ROS domains and only the loopback interface. Every wait is for a condition with a timeout; no test
asserts on timing.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator

import numpy as np
import pytest

from embodied_stack.config import ConfigError
from embodied_stack.hardware.robot import BaseVelocity
from embodied_stack.robots import load_description
from embodied_stack.robots import make_robot as registry_make_robot
from embodied_stack.robots.go2 import (
    GO2_JOINTS,
    DeviceDisconnectedError,
    DeviceFaultError,
    Go2Robot,
    make_robot,
)
from emulators.go2_sport import Go2SportPeer, claim_unitree_domain


def wait_for(condition: Callable[[], bool], timeout_s: float = 10.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.01)


def drive_until(robot: Go2Robot, command: BaseVelocity, done: Callable[[], bool], timeout_s: float = 10.0,
                what: str = "the base to move") -> None:
    """Send ``command`` each ~10 ms cycle (the driver node's job) until ``done()``."""
    deadline = time.monotonic() + timeout_s
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s driving until {what}")
        robot.read_state()
        robot.send_base_velocity(command)
        time.sleep(0.01)


@pytest.fixture(scope="module")
def domain() -> Iterator[int]:
    domain_id, lock = claim_unitree_domain()
    yield domain_id
    lock.close()


@pytest.fixture
def dog(domain: int) -> Iterator[Go2SportPeer]:
    with Go2SportPeer(domain) as peer:
        yield peer


def _robot(domain: int, **settings) -> Go2Robot:
    description = load_description("go2")
    merged = {**description.backend("unitree"), "network_interface": "lo", "domain_id": domain, **settings}
    return make_robot(description, merged)


@pytest.fixture
def robot(dog: Go2SportPeer, domain: int) -> Iterator[Go2Robot]:
    r = _robot(domain, stand_on_connect=True)
    r.connect()
    yield r
    r.disconnect()


def test_connect_stands_the_dog_up_and_reads_its_state(dog: Go2SportPeer, robot: Go2Robot) -> None:
    assert [r["name"] for r in dog.requests()] == ["StandUp", "BalanceStand"]
    stand = [0.0, 0.67, -1.3] * 4
    wait_for(lambda: np.allclose(robot.read_state().joint_positions, stand, atol=1e-5),
             what="the standing pose in the joints from rt/lowstate")
    # the height comes on another stream (rt/sportmodestate), which can be one message behind (CI: 0.3195 m)
    wait_for(lambda: abs(robot.read_state().base_pose[2] - 0.32) < 1e-5, what="the stand height in odometry")
    state = robot.read_state()
    assert state.joint_names == GO2_JOINTS
    assert np.allclose(state.base_pose[3:], [0, 0, 0, 1], atol=1e-6)
    assert state.imu is not None and state.imu.linear_acceleration[2] == pytest.approx(9.81, abs=1e-3)
    status = robot.status()
    assert status["level"] == "OK" and status["mode"] == "balance_stand", status
    assert status["battery_percent"] == "90"


def test_move_drives_the_base_and_stop_sends_one_stopmove(dog: Go2SportPeer, robot: Go2Robot) -> None:
    drive_until(robot, BaseVelocity(0.6, 0.0, 0.5), lambda: dog.state()["yaw"] > 0.6,
                what="the dog to turn 0.6 rad while walking")
    body = dog.state()
    state = robot.read_state()
    wait_for(lambda: abs(robot.read_state().base_pose[0] - dog.state()["x"]) < 0.05,
             what="odometry to follow")
    assert body["x"] > 0.1 and body["y"] > 0.01, "walked forward along a left curve"
    # twist in base_link: forward, no sideways slip, even though the odom-frame velocity has a y part
    assert state.base_twist[0] > 0.3 and abs(state.base_twist[1]) < 0.05, state.base_twist
    assert state.base_twist[5] > 0.3
    moves = dog.requests("Move")
    assert moves and all(r["param"] == '{"x": 0.6, "y": 0.0, "z": 0.5}' for r in moves)
    for _ in range(5):  # the driver's watchdog calls stop() every cycle while cmd_vel is stale
        robot.stop()
    wait_for(lambda: dog.requests("StopMove"), what="StopMove at the dog")
    wait_for(lambda: dog.state()["body_velocity"] == [0.0, 0.0, 0.0], what="the dog to halt")
    log = dog.requests()
    assert [r["name"] for r in log].count("StopMove") == 1, "one StopMove per stop, not one per cycle"
    assert log[-1]["name"] == "StopMove", "no Move after the StopMove"
    assert robot.status()["walking"] == "false"
    drive_until(robot, BaseVelocity(0.0, 0.3, 0.0), lambda: dog.state()["body_velocity"][1] > 0.2,
                what="walking again after the stop")


def test_lying_dog_refuses_move_until_clear_errors_stands_it_up(dog: Go2SportPeer, domain: int) -> None:
    robot = _robot(domain)  # stand_on_connect: false, as shipped
    robot.connect()
    try:
        status = robot.status()
        assert status["level"] == "WARN" and "clear_errors" in status["message"], status
        with pytest.raises(DeviceFaultError, match="not standing .*mode lie_down.*clear_errors"):
            robot.send_base_velocity(BaseVelocity(0.3, 0.0, 0.0))
        assert dog.requests() == [], "no request reaches a lying dog"
        assert "StandUp" in robot.clear_errors()
        assert [r["name"] for r in dog.requests()] == ["StandUp", "BalanceStand"]
        drive_until(robot, BaseVelocity(0.3, 0.0, 0.0), lambda: dog.state()["x"] > 0.05)
        assert robot.stand_down() == "StandDown: ok"
        wait_for(lambda: robot.status()["mode"] == "lie_down", what="lying down")
    finally:
        robot.disconnect()


def test_low_battery_and_a_fall_reach_status_and_a_fall_refuses_motion(dog: Go2SportPeer,
                                                                         robot: Go2Robot) -> None:
    dog.set_battery(15)
    wait_for(lambda: robot.status()["level"] == "WARN", what="low battery in status")
    assert robot.status()["message"] == "battery low: 15 % (<= 20 %)"
    dog.set_battery(8)
    wait_for(lambda: robot.status()["level"] == "ERROR", what="critical battery in status")
    assert robot.status()["message"].startswith("battery critical: 8 %")
    dog.set_battery(80)
    wait_for(lambda: robot.status()["level"] == "OK", what="battery back to OK")

    drive_until(robot, BaseVelocity(0.4, 0.0, 0.0), lambda: dog.state()["x"] > 0.05)
    dog.fall()
    wait_for(lambda: robot.status()["fallen"] == "true", what="the fall in status")
    status = robot.status()
    assert status["level"] == "ERROR" and "fallen" in status["message"]
    assert "clear_errors" in status["message"]
    with pytest.raises(DeviceFaultError, match="has fallen"):
        robot.send_base_velocity(BaseVelocity(0.4, 0.0, 0.0))
    robot.stop()
    message = robot.clear_errors()
    assert "RecoveryStand" in message and "BalanceStand" in message
    names = [r["name"] for r in dog.requests() if r["name"] != "Move"]
    assert names[-2:] == ["RecoveryStand", "BalanceStand"], names
    assert robot.status()["level"] == "OK"
    drive_until(robot, BaseVelocity(0.4, 0.0, 0.0), lambda: dog.state()["body_velocity"][0] > 0.2,
                what="walking after the recovery")


def test_a_dead_bridge_is_a_disconnect_and_reconnect_starts_a_new_one(dog: Go2SportPeer,
                                                                       robot: Go2Robot) -> None:
    first = robot.bridge_pid
    assert first is not None
    os.kill(first, signal.SIGKILL)
    wait_for(lambda: robot.bridge_pid is None, what="the bridge's death to be noticed")
    with pytest.raises(DeviceDisconnectedError, match="SDK bridge .* exited with code -9"):
        robot.read_state()
    assert robot.status()["level"] == "ERROR"
    robot.reconnect()
    assert robot.bridge_pid not in (None, first)
    assert robot.read_state().base_pose[2] > 0.3
    assert [r["name"] for r in dog.requests()] == ["StandUp", "BalanceStand"], "no second stand: already up"
    drive_until(robot, BaseVelocity(0.3, 0.0, 0.0), lambda: dog.state()["x"] > 0.05)


def test_a_dead_or_silent_dog_is_a_disconnect_and_the_robot_reconnects(dog: Go2SportPeer, domain: int,
                                                                       robot: Go2Robot) -> None:
    dog.silence()
    wait_for(lambda: robot.status()["level"] == "ERROR", what="silence in status")
    with pytest.raises(DeviceDisconnectedError, match="no rt/sportmodestate for"):
        robot.read_state()
    dog.silence(False)
    wait_for(lambda: robot.status()["level"] == "OK", what="state again after the silence")
    dog.kill()
    with pytest.raises(DeviceDisconnectedError, match="no rt/sportmodestate"):
        wait_for(lambda: robot.read_state() is None, what="the link to drop")
    with Go2SportPeer(domain) as second:  # the dog is back (lying, like after a reboot)
        robot.reconnect()
        assert [r["name"] for r in second.requests()] == ["StandUp", "BalanceStand"]
        drive_until(robot, BaseVelocity(0.3, 0.0, 0.0), lambda: second.state()["x"] > 0.05)
        robot.disconnect()
        wait_for(lambda: second.requests() and second.requests()[-1]["name"] == "StopMove",
                 what="disconnect's StopMove")


def test_the_bridge_stops_a_walking_dog_when_the_driver_dies(dog: Go2SportPeer, robot: Go2Robot) -> None:
    drive_until(robot, BaseVelocity(0.4, 0.0, 0.0), lambda: dog.state()["body_velocity"][0] > 0.2)
    bridge = robot._bridge
    assert bridge is not None and bridge.proc.stdin is not None
    bridge.proc.stdin.close()  # what the bridge sees when the driver process is killed
    wait_for(lambda: dog.requests("StopMove"), what="StopMove from the orphaned bridge")
    wait_for(lambda: bridge.proc.poll() == 0, what="the bridge to exit")


def test_no_dog_on_the_domain_fails_to_connect_naming_the_checks(domain: int) -> None:
    robot = _robot(domain, connect_timeout_s=3.0)
    with pytest.raises(DeviceDisconnectedError, match=r"no rt/sportmodestate within 3.0 s.*ip -br addr"):
        robot.connect()
    assert not robot.is_connected


def test_settings_are_checked_by_name(monkeypatch: pytest.MonkeyPatch, domain: int) -> None:
    built = registry_make_robot("go2", "unitree", port="lo")
    assert isinstance(built, Go2Robot) and built.config.network_interface == "lo"
    with pytest.raises(ConfigError, match=r"unknown key\(s\) \['domain_name'\]"):
        _robot(domain, domain_name=3)
    with pytest.raises(ConfigError, match="network_interface 'eth 0'"):
        _robot(domain, network_interface="eth 0")
    monkeypatch.setenv("ROS_DOMAIN_ID", "0")
    with pytest.raises(ConfigError, match="ROS_DOMAIN_ID 0 equals the Go2's DDS domain 0.*ROS_DOMAIN_ID=1"):
        make_robot(load_description("go2"), {"network_interface": "enp3s0", "domain_id": 0})
