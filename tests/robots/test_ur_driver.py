"""The UR driver through the real ur_rtde SDK against an emulated controller (RTDE, script and
dashboard ports on a loopback address of its own, in a child process).

Every wait is for a condition with a timeout; no test asserts on timing.
"""

from __future__ import annotations

import contextlib
import math
import os
import signal
import time
from collections.abc import Callable, Iterator

import numpy as np
import pytest

pytest.importorskip("rtde_control", reason="ur_rtde is not installed (pip install ur-rtde==1.6.5)")

from embodied_stack.config import ConfigError  # noqa: E402
from embodied_stack.hardware.robot import JointCommand, RobotNotConnectedError  # noqa: E402
from embodied_stack.robots import load_description  # noqa: E402
from embodied_stack.robots import make_robot as registry_make_robot  # noqa: E402
from embodied_stack.robots.ur import (  # noqa: E402
    DeviceDisconnectedError,
    DeviceFaultError,
    URConfig,
    URRobot,
    make_robot,
)
from emulators.ur_rtde import URControllerEmulator, claim_loopback_host  # noqa: E402

HOME = np.array([0.0, -math.pi / 2, math.pi / 2, -math.pi / 2, -math.pi / 2, 0.0])


def wait_for(condition: Callable[[], bool], timeout_s: float = 5.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.005)


def stream_until(robot: URRobot, target: np.ndarray, done: Callable[[], bool], timeout_s: float = 5.0,
                 what: str = "the arm to follow") -> None:
    """Stream ``target`` at ~250 Hz (the driver node's job) until ``done()``."""
    deadline = time.monotonic() + timeout_s
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s streaming until {what}")
        robot.read_state()
        robot.send_joint_command(JointCommand(target))
        time.sleep(0.004)


@pytest.fixture
def ur() -> Iterator[URControllerEmulator]:
    with URControllerEmulator(q0=HOME) as emulator:
        yield emulator


@pytest.fixture
def robot(ur: URControllerEmulator) -> Iterator[URRobot]:
    description = load_description("ur5e")
    arm = make_robot(description, {**description.backend("ur_rtde"), "host": ur.host})
    arm.connect()
    yield arm
    arm.disconnect()


def test_streams_servoj_and_the_arm_follows(ur: URControllerEmulator, robot: URRobot) -> None:
    state = robot.read_state()
    assert state.joint_names == ["shoulder_pan_joint", "shoulder_lift_joint", "elbow_joint", "wrist_1_joint",
                                 "wrist_2_joint", "wrist_3_joint"]
    assert np.allclose(state.joint_positions, HOME, atol=1e-9)
    assert np.any(state.joint_efforts != 0.0), "efforts come from RTDE target_moment"
    target = HOME + np.array([0.25, -0.15, 0.0, 0.0, 0.0, 0.3])
    stream_until(robot, target, lambda: np.allclose(robot.read_state().joint_positions, target, atol=2e-3),
                 what="measured joints reach the target")
    assert np.allclose(ur.joint_positions, target, atol=2e-3)
    assert ur.count("servoj") > 10
    assert robot.status()["streaming"] == "true"


def test_targets_beyond_limits_are_clamped_before_they_reach_the_robot(ur: URControllerEmulator,
                                                                         robot: URRobot) -> None:
    limits = robot.joint_limits
    asked = HOME.copy()
    asked[0] += 1.0          # beyond max_step from the measured position
    asked[2] = 10.0          # beyond the elbow's +-pi range
    sent = robot.send_joint_command(JointCommand(asked))
    assert sent.positions[0] == pytest.approx(HOME[0] + limits.max_step)
    assert sent.positions[2] == pytest.approx(min(limits.upper[2], HOME[2] + limits.max_step))
    wait_for(lambda: ur.servo_target is not None, what="the servo target")
    assert np.allclose(ur.servo_target, sent.positions), "the controller got the clamped target"
    why = limits.explain(asked, sent.positions, HOME)
    assert any("shoulder_pan_joint" in w and "max step" in w for w in why)
    assert any("elbow_joint" in w for w in why)


def test_stop_holds_where_the_arm_is_and_streaming_resumes(ur: URControllerEmulator, robot: URRobot) -> None:
    far = HOME + np.array([1.0, 0, 0, 0, 0, 0])
    stream_until(robot, far, lambda: robot.read_state().joint_positions[0] > HOME[0] + 0.2,
                 what="the base to move 0.2 rad")
    robot.stop()  # servoStop: returns once the arm is at rest
    assert ur.count("servo_stop") == 1
    assert np.allclose(ur.joint_velocities, 0.0)
    held = ur.joint_positions
    assert held[0] < far[0] - 0.3, "the arm stopped short of the old target"
    wait_for(lambda: np.allclose(robot.read_state().joint_velocities, 0.0), what="reported speeds at zero")
    assert np.allclose(robot.read_state().joint_positions, held, atol=1e-6)
    robot.stop()  # nothing streams now: no second servoStop
    assert ur.count("servo_stop") == 1
    stream_until(robot, held + np.array([0.05, 0, 0, 0, 0, 0]),
                 lambda: robot.read_state().joint_positions[0] > held[0] + 0.04, what="motion after the stop")


def test_protective_stop_is_reported_refuses_commands_and_is_cleared(ur: URControllerEmulator,
                                                                      robot: URRobot) -> None:
    stream_until(robot, HOME + 0.2, lambda: ur.joint_positions[0] > HOME[0] + 0.05, what="motion")
    ur.trigger_protective_stop()
    wait_for(lambda: robot.status()["safety_mode"] == "PROTECTIVE_STOP", what="PROTECTIVE_STOP in status()")
    status = robot.status()
    assert status["level"] == "ERROR" and status["protective_stop"] == "true"
    assert "clear_errors()" in status["message"]
    wait_for(lambda: np.allclose(ur.joint_velocities, 0.0), what="the arm to halt")
    with pytest.raises(DeviceFaultError, match=r"127\.0\.0\.\d+ refuses motion: protective stop"):
        robot.send_joint_command(JointCommand(HOME))
    robot.clear_errors()
    assert ur.safety_mode == "NORMAL" and ur.program_running
    assert robot.status()["level"] == "OK"
    before = ur.joint_positions
    stream_until(robot, before + 0.05, lambda: ur.joint_positions[0] > before[0] + 0.03,
                 what="motion after recovery")


def test_protective_stop_unlock_refused_too_early_says_so() -> None:
    with URControllerEmulator(q0=HOME, unlock_delay_s=60.0) as ur:
        description = load_description("ur5e")
        robot = make_robot(description, {"host": ur.host})
        robot.connect()
        try:
            ur.trigger_protective_stop()
            wait_for(lambda: robot.status()["safety_mode"] == "PROTECTIVE_STOP", what="the protective stop")
            with pytest.raises(DeviceFaultError, match="refused to unlock the protective stop.*5 s"):
                robot.clear_errors()
            assert ur.safety_mode == "PROTECTIVE_STOP"
        finally:
            robot.disconnect()


def test_emergency_stop_latches_until_released_then_recovers(ur: URControllerEmulator,
                                                             robot: URRobot) -> None:
    stream_until(robot, HOME + 0.3, lambda: ur.joint_positions[0] > HOME[0] + 0.05, what="motion")
    ur.press_emergency_stop()
    wait_for(lambda: robot.status()["safety_mode"] == "ROBOT_EMERGENCY_STOP", what="the e-stop in status()")
    wait_for(lambda: np.allclose(ur.joint_velocities, 0.0), what="the arm to halt")
    stopped_at = ur.joint_positions
    assert robot.status()["emergency_stop"] == "true"
    with pytest.raises(DeviceFaultError, match="emergency stop"):
        robot.send_joint_command(JointCommand(HOME + 0.3))
    with pytest.raises(DeviceFaultError, match="release the e-stop button"):
        robot.clear_errors()
    assert np.allclose(ur.joint_positions, stopped_at), "nothing moved while the e-stop was engaged"
    ur.release_emergency_stop()
    wait_for(lambda: robot.status()["safety_mode"] == "NORMAL", what="normal safety after the release")
    assert robot.status()["robot_mode"] == "POWER_OFF", "a released e-stop leaves the arm powered off"
    with pytest.raises(DeviceFaultError, match="POWER_OFF"):
        robot.send_joint_command(JointCommand(HOME))
    robot.clear_errors()  # power on, brake release, control script
    assert ur.robot_mode == "RUNNING" and ur.program_running
    stream_until(robot, stopped_at + 0.05, lambda: ur.joint_positions[0] > stopped_at[0] + 0.03,
                 what="motion after the e-stop")


def test_dropped_connection_is_reported_and_reconnect_recovers(ur: URControllerEmulator,
                                                               robot: URRobot) -> None:
    robot.read_state()
    ur.drop_connections(refuse=True)  # a pulled cable: the ports stay closed
    errors: list[Exception] = []

    def read_fails() -> bool:
        try:
            robot.read_state()
        except DeviceDisconnectedError as e:
            errors.append(e)
            return True
        return False

    wait_for(read_fails, what="read_state() to report the lost link")
    assert ur.host in str(errors[0]) and "reconnect()" in str(errors[0])
    status = robot.status()
    assert status["connected"] == "false" and status["level"] == "ERROR"
    with pytest.raises(DeviceDisconnectedError, match="cannot reach RTDE port 30004"):
        robot.reconnect()  # refused at once, no hang
    ur.accept_connections()
    robot.reconnect()
    assert np.allclose(robot.read_state().joint_positions, ur.joint_positions, atol=1e-3)
    assert robot.status()["level"] == "OK"
    stream_until(robot, HOME + 0.05, lambda: ur.joint_positions[0] > HOME[0] + 0.03,
                 what="motion after reconnect")


def test_a_hung_controller_is_detected_from_stale_state(ur: URControllerEmulator, robot: URRobot) -> None:
    stream_until(robot, HOME + 0.05, lambda: ur.joint_positions[0] > HOME[0] + 0.01, what="motion")
    ur.freeze()  # sockets stay open, nothing streams

    def read_fails() -> bool:
        try:
            robot.read_state()
        except DeviceDisconnectedError as e:
            return "no new RTDE state" in str(e)
        return False

    wait_for(read_fails, what="stale state to be reported")
    robot.stop()  # must not wait on a controller that does not answer
    assert ur.count("servo_stop") == 0, "no servoStop sent into a hung link"
    ur.freeze(False)
    wait_for(lambda: not read_fails(), what="fresh state after the controller resumes")


def test_speed_scaling_reaches_status(ur: URControllerEmulator, robot: URRobot) -> None:
    ur.set_speed_slider(0.5)
    wait_for(lambda: robot.status()["speed_scaling"] == "0.50", what="speed scaling 0.50 in status()")
    status = robot.status()
    assert status["level"] == "WARN" and "speed scaling" in status["message"]
    ur.set_speed_slider(1.0)
    wait_for(lambda: robot.status()["level"] == "OK", what="status back to OK")


def test_unreachable_host_and_bad_settings_fail_with_the_fix() -> None:
    host, lock = claim_loopback_host()  # an address of our own with nothing listening on it
    try:
        robot = URRobot(URConfig(host=host, connect_timeout_s=1.0), load_description("ur5e").joint_limits())
        with pytest.raises(DeviceDisconnectedError, match=f"{host}: cannot reach RTDE port 30004"):
            robot.connect()
    finally:
        lock.close()
    assert not robot.is_connected
    assert robot.status()["level"] == "ERROR"
    with pytest.raises(ConfigError, match="servo_gain 5000.0 is outside"):
        URConfig(servo_gain=5000.0)
    with pytest.raises(ConfigError, match="servo_lookahead_time 0.5"):
        URConfig(servo_lookahead_time=0.5)
    with pytest.raises(ConfigError, match="unknown key.*'hots'"):
        URConfig.from_settings({"hots": "10.0.0.2"})
    built = registry_make_robot("ur5e", "ur_rtde", port="10.0.0.2")  # the driver node's device override
    assert isinstance(built, URRobot) and built.host == "10.0.0.2"


def test_a_crash_of_the_sdk_process_is_a_lost_link_and_reconnect_recovers(ur: URControllerEmulator,
                                                                          robot: URRobot) -> None:
    """ur_rtde can die with SIGSEGV (see the next test); it lives in its own process, so the driver sees a
    lost link, says so, and a reconnect starts a fresh process."""
    robot.read_state()
    pid = robot.sdk_pid
    assert pid is not None and pid != os.getpid()
    os.kill(pid, signal.SIGSEGV)
    errors: list[Exception] = []

    def read_fails() -> bool:
        try:
            robot.read_state()
        except DeviceDisconnectedError as e:
            errors.append(e)
            return True
        return False

    wait_for(read_fails, what="read_state() to report the crashed SDK process")
    assert "SIGSEGV" in str(errors[0]) and "fresh" in str(errors[0]), errors[0]
    assert robot.status()["level"] == "ERROR"
    robot.reconnect()
    assert robot.sdk_pid not in (None, pid)
    stream_until(robot, HOME + 0.05, lambda: ur.joint_positions[0] > HOME[0] + 0.03,
                 what="motion after the crash")


def test_connection_resets_while_streaming_never_take_the_driver_down(ur: URControllerEmulator,
                                                                      robot: URRobot) -> None:
    """The controller drops and at once re-accepts connections while the arm streams: ur_rtde reconnects
    by itself and races the driver's reconnect, which crashed it with SIGSEGV in our process before it
    had its own. However often the SDK's process dies, this one keeps going and the arm ends up where
    it was sent."""

    def drive(target: np.ndarray, what: str) -> None:
        """What the driver node does: read and command; on a lost link reconnect, on a refusal clear it."""
        deadline = time.monotonic() + 60.0  # each SDK restart imports ur_rtde afresh: slow on loaded cores
        while abs(ur.joint_positions[0] - target[0]) > 5e-3:
            try:
                robot.read_state()
                robot.send_joint_command(JointCommand(target))
            except (DeviceDisconnectedError, RobotNotConnectedError):  # a failed reconnect leaves it down
                with contextlib.suppress(DeviceDisconnectedError):
                    robot.reconnect()
            except DeviceFaultError:
                with contextlib.suppress(DeviceDisconnectedError, DeviceFaultError):
                    robot.clear_errors()
            assert time.monotonic() < deadline, f"{what}: {robot.status()}"
            time.sleep(0.004)

    for i in range(4):
        drive(HOME + (0.02 if i % 2 else -0.02), f"no motion before reset {i}")
        ur.drop_connections(refuse=False)
    drive(HOME + 0.05, "no motion after the resets")
    wait_for(lambda: robot.status()["level"] == "OK", timeout_s=10.0, what=f"status OK: {robot.status()}")
