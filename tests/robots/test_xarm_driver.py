"""The xArm driver through the real xarm-python-sdk against an emulated controller (the SDK's
Unix sockets; one emulator per machine at a time, so xdist workers take turns).

Every wait is for a condition with a timeout; no test asserts on timing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import numpy as np
import pytest

pytest.importorskip("xarm", reason="xarm-python-sdk is not installed (pip install xarm-python-sdk==1.18.4)")

from embodied_stack.config import ConfigError  # noqa: E402
from embodied_stack.hardware.robot import JointCommand  # noqa: E402
from embodied_stack.robots import load_description  # noqa: E402
from embodied_stack.robots import make_robot as registry_make_robot  # noqa: E402
from embodied_stack.robots.xarm import (  # noqa: E402
    DeviceDisconnectedError,
    DeviceFaultError,
    XArmConfig,
    XArmRobot,
    make_robot,
)
from emulators.xarm import ERR_COLLISION, XArmEmulator  # noqa: E402

HOME = np.zeros(6)


def wait_for(condition: Callable[[], bool], timeout_s: float = 5.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.005)


def stream_until(robot: XArmRobot, target: np.ndarray, done: Callable[[], bool], timeout_s: float = 5.0,
                 what: str = "the arm to follow") -> None:
    """Stream ``target`` at ~100 Hz (the driver node's job) until ``done()``."""
    deadline = time.monotonic() + timeout_s
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s streaming until {what}")
        robot.read_state()
        robot.send_joint_command(JointCommand(target))
        time.sleep(0.01)


@pytest.fixture
def emu() -> Iterator[XArmEmulator]:
    with XArmEmulator(q0=HOME) as emulator:
        yield emulator


@pytest.fixture
def robot(emu: XArmEmulator) -> Iterator[XArmRobot]:
    description = load_description("xarm6")
    arm = make_robot(description, {**description.backend("xarm"), "host": "127.0.0.1"})
    arm.connect()
    yield arm
    arm.disconnect()


def test_servo_mode_streams_and_the_arm_follows(emu: XArmEmulator, robot: XArmRobot) -> None:
    assert emu.mode == 1 and emu.motors_enabled, "connect enters servo mode"
    state = robot.read_state()
    assert state.joint_names == [f"joint{i}" for i in range(1, 7)]
    assert np.allclose(state.joint_positions, HOME, atol=1e-6)
    target = np.array([0.3, -0.2, -0.4, 0.5, 0.4, -0.6])
    stream_until(robot, target, lambda: np.allclose(robot.read_state().joint_positions, target, atol=2e-3),
                 what="measured joints reach the target")
    assert np.allclose(emu.joint_positions, target, atol=2e-3)
    assert np.any(robot.read_state().joint_efforts != 0.0), "efforts come from get_joint_states"
    assert emu.count("servoj") > 5
    assert emu.unknown_registers == [], "the driver only uses registers the emulator reproduces"


def test_targets_beyond_limits_are_clamped_before_they_reach_the_robot(emu: XArmEmulator,
                                                                         robot: XArmRobot) -> None:
    limits = robot.joint_limits
    asked = np.array([0.0, 0.0, 1.5, 0.0, 0.0, 1.0])  # joint3 above its 11 deg limit; joint6 beyond max_step
    sent = robot.send_joint_command(JointCommand(asked))
    assert sent.positions[2] == pytest.approx(min(limits.upper[2], limits.max_step))
    assert sent.positions[5] == pytest.approx(limits.max_step)
    wait_for(lambda: emu.servo_target is not None, what="the servo target")
    assert np.allclose(emu.servo_target, sent.positions, atol=1e-6), "the controller got the clamped target"
    assert emu.error_code == 0, "no joint-limit error on the controller"


def test_stop_holds_and_streaming_resumes(emu: XArmEmulator, robot: XArmRobot) -> None:
    far = np.array([1.5, 0, 0, 0, 0, 0])
    stream_until(robot, far, lambda: robot.read_state().joint_positions[0] > 0.2,
                 what="joint1 to move 0.2 rad")
    robot.stop()
    assert emu.state == 4, "set_state(4): the controller stops and drops targets"
    wait_for(lambda: np.allclose(emu.joint_velocities, 0.0), what="the arm to halt")
    held = emu.joint_positions
    assert held[0] < far[0] - 0.5
    assert np.allclose(robot.read_state().joint_positions, held, atol=1e-5)
    stream_until(robot, held + np.array([0.05, 0, 0, 0, 0, 0]),
                 lambda: emu.joint_positions[0] > held[0] + 0.04,
                 what="motion after the stop (servo mode re-entered)")


def test_controller_error_reaches_status_refuses_commands_and_is_cleared(emu: XArmEmulator,
                                                                         robot: XArmRobot) -> None:
    stream_until(robot, np.full(6, 0.2), lambda: emu.joint_positions[0] > 0.05, what="motion")
    emu.inject_error(ERR_COLLISION)
    wait_for(lambda: robot.status()["level"] == "ERROR", what="the error in status()")
    status = robot.status()
    assert status["error"].startswith("31: Collision Caused Abnormal Current")
    assert status["state"] == "STOPPED" and "clear_errors()" in status["message"]
    wait_for(lambda: np.allclose(emu.joint_velocities, 0.0), what="the arm to halt")
    with pytest.raises(DeviceFaultError, match="controller error 31: Collision"):
        robot.send_joint_command(JointCommand(np.full(6, 0.2)))
    robot.clear_errors()
    assert emu.error_code == 0 and emu.mode == 1 and emu.state in (1, 2)
    wait_for(lambda: robot.status()["level"] == "OK", what="status OK after clear_errors()")
    before = emu.joint_positions
    stream_until(robot, before + 0.04, lambda: emu.joint_positions[0] > before[0] + 0.03,
                 what="motion after recovery")


def test_warning_is_reported_without_stopping(emu: XArmEmulator, robot: XArmRobot) -> None:
    emu.inject_warning(11)
    wait_for(lambda: robot.status()["warning"] == "11: Current controller cache is full",
             what="the warning in status()")
    assert robot.status()["level"] == "WARN"
    stream_until(robot, np.full(6, 0.03), lambda: emu.joint_positions[0] > 0.02,
                 what="motion despite a warning")
    robot.clear_errors()
    assert emu.warn_code == 0


def test_emergency_stop_latches_until_released_then_recovers(emu: XArmEmulator, robot: XArmRobot) -> None:
    stream_until(robot, np.full(6, 0.3), lambda: emu.joint_positions[0] > 0.05, what="motion")
    emu.press_emergency_stop()
    wait_for(lambda: robot.status()["error"].startswith("1: The Emergency Stop Button"),
             what="the e-stop error")
    wait_for(lambda: np.allclose(emu.joint_velocities, 0.0), what="the arm to halt")
    stopped_at = emu.joint_positions
    assert not emu.motors_enabled
    with pytest.raises(DeviceFaultError, match="release the e-stop"):
        robot.send_joint_command(JointCommand(np.full(6, 0.3)))
    with pytest.raises(DeviceFaultError, match="still latched.*release the e-stop button first"):
        robot.clear_errors()
    assert np.allclose(emu.joint_positions, stopped_at), "nothing moved while the e-stop was engaged"
    emu.release_emergency_stop()
    robot.clear_errors()
    assert emu.motors_enabled and emu.error_code == 0
    stream_until(robot, stopped_at + 0.04, lambda: emu.joint_positions[0] > stopped_at[0] + 0.03,
                 what="motion after the e-stop")


def test_dropped_connection_is_reported_and_reconnect_recovers(emu: XArmEmulator, robot: XArmRobot) -> None:
    robot.read_state()
    emu.drop_connections(refuse=True)
    errors: list[Exception] = []

    def read_fails() -> bool:
        try:
            robot.read_state()
        except DeviceDisconnectedError as e:
            errors.append(e)
            return True
        return False

    wait_for(read_fails, what="read_state() to report the lost link")
    assert "127.0.0.1" in str(errors[0]) and "reconnect()" in str(errors[0])
    assert robot.status()["connected"] == "false"
    with pytest.raises(DeviceDisconnectedError, match="cannot connect"):
        robot.reconnect()
    emu.accept_connections()
    robot.reconnect()
    assert np.allclose(robot.read_state().joint_positions, emu.joint_positions, atol=1e-4)
    stream_until(robot, np.full(6, 0.04), lambda: emu.joint_positions[0] > 0.03,
                 what="motion after reconnect")


def test_a_hung_controller_is_detected(emu: XArmEmulator, robot: XArmRobot) -> None:
    robot.read_state()
    emu.freeze()
    with pytest.raises(DeviceDisconnectedError, match="reply timeout"):
        robot.read_state()  # bounded by command_timeout_s
    emu.freeze(False)
    robot.reconnect()
    robot.read_state()


def test_bad_settings_and_wrong_arm_fail_with_the_fix(emu: XArmEmulator) -> None:
    with pytest.raises(ConfigError, match="report_type 'fast'"):
        XArmConfig(report_type="fast")
    with pytest.raises(ConfigError, match="unknown key.*'hots'"):
        XArmConfig.from_settings({"hots": "10.0.0.2"})
    built = registry_make_robot("xarm6", "xarm", port="10.0.0.3")  # the driver node's device override
    assert isinstance(built, XArmRobot) and built.host == "10.0.0.3"
    seven = load_description("xarm6").joint_limits()
    limits7 = type(seven)(names=[*seven.names, "joint7"], lower=np.append(seven.lower, -1.0),
                          upper=np.append(seven.upper, 1.0), max_step=seven.max_step)
    robot = XArmRobot(XArmConfig(host="127.0.0.1"), limits7)
    with pytest.raises(DeviceFaultError, match="has 6 axes but 'xarm' describes 7 joints"):
        robot.connect()
