"""UFactory xArm 5/6/7 (and Lite 6, 850) as a :class:`~embodied_stack.hardware.robot.Robot`,
through the vendor's ``xarm-python-sdk``.

Servo mode (mode 1) streams joint targets with ``set_servo_angle_j``: the controller executes
only the newest target, which is what a fixed-rate driver loop wants. Joint state is read each
cycle with ``get_joint_states`` (one request: positions, velocities, efforts), so it is as fresh
as the reply and a silent controller is noticed within ``command_timeout_s``; the SDK's report
stream (``report_type``) keeps state, mode, error and warning codes for :meth:`XArmRobot.status`.

Holding is ``set_state(4)`` (the controller decelerates and discards targets); the next command
re-enters servo mode (``set_mode(1)`` + ``set_state(0)``). Controller errors latch (state 4):
commands then raise :class:`DeviceFaultError` naming the code and its meaning from the SDK's
tables until :meth:`XArmRobot.clear_errors` (clean error and warning, enable motors, servo mode).
A dropped link raises :class:`DeviceDisconnectedError`; :meth:`XArmRobot.reconnect` rebuilds it.

SDK behaviours handled here (xarm-python-sdk 1.18.4): its socket set-up calls
``socket.setdefaulttimeout(1)`` for the whole process, restored after connecting; its move
commands return code 1 when the controller has an error and 9 when it is not ready.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from embodied_stack.hardware.robot import (
    DeviceDisconnectedError,
    DeviceFaultError,
    JointCommand,
    Robot,
    RobotState,
)
from embodied_stack.hardware.safety import JointLimits
from embodied_stack.robots.description import RobotDescription
from embodied_stack.robots.xarm.config import XArmConfig

STATES = {0: "STARTING", 1: "MOVING", 2: "READY", 3: "PAUSED", 4: "STOPPED", 5: "NOT_ENABLED", 6: "STOPPING"}
MODES = {0: "POSITION", 1: "SERVO", 2: "JOINT_TEACHING", 3: "CARTESIAN_TEACHING", 4: "JOINT_VELOCITY",
         5: "CARTESIAN_VELOCITY", 6: "JOINT_ONLINE", 7: "CARTESIAN_ONLINE"}
SERVO_MODE, STOP_STATE = 1, 4
ESTOP_ERRORS = frozenset({1, 2, 3})  # e-stop button, emergency IO, three-state switch e-stop
# API return codes (xarm/x3/code.py APIState)
_LINK_CODES = {-1: "not connected", 3: "reply timeout", 8: "send failed"}
_HAS_ERROR, _HAS_WARNING, _NOT_READY, _OUT_OF_RANGE = 1, 2, 9, -8


def _sdk() -> Any:
    try:
        from xarm.wrapper import XArmAPI
    except ImportError as e:
        raise ImportError(f"the xArm driver needs xarm-python-sdk ({e}); install it with "
                          "`pip install xarm-python-sdk==1.18.4`") from e
    return XArmAPI


def describe_error(code: int) -> str:
    """A controller error code in words, from the SDK's table ('0: normal' for none)."""
    if code == 0:
        return "0: normal"
    from xarm.core.config.x_code import ControllerError

    info = ControllerError(code)
    desc = info.description["en"].strip()
    return f"{code}: {info.title['en']}" + (f" ({desc})" if desc else "")


def describe_warning(code: int) -> str:
    if code == 0:
        return "0: normal"
    from xarm.core.config.x_code import ControllerWarn

    return f"{code}: {ControllerWarn(code).title['en']}"


class XArmRobot(Robot):
    """One xArm in servo mode.

    Args:
        config: connection settings (:class:`XArmConfig`).
        joint_limits: the arm's limits in joint order (joint1 at the base first); every target is
            clamped to them by ``send_joint_command``. They must lie inside the controller's own
            ranges, or the SDK rejects the command (reported as a fault naming the description).
        name: the robot's name in logs and errors.
    """

    capabilities = frozenset({"arm"})

    def __init__(self, config: XArmConfig, joint_limits: JointLimits, name: str = "xarm") -> None:
        if len(joint_limits.names) not in (5, 6, 7):
            raise ValueError(f"xArms have 5, 6 or 7 joints; the limits for '{name}' name "
                             f"{len(joint_limits.names)}: {list(joint_limits.names)}")
        super().__init__(name, joint_limits=joint_limits)
        self.config = config
        self._lock = threading.RLock()
        self._arm: Any = None
        self._armed = False  # servo mode entered and not stopped since

    @property
    def host(self) -> str:
        return self.config.host

    @property
    def axis(self) -> int:
        return len(self.joint_names)

    # --- lifecycle ------------------------------------------------------------------------------------
    def _connect(self) -> None:
        api_class = _sdk()
        with self._lock:
            previous_timeout = socket.getdefaulttimeout()
            try:
                arm = api_class(self.host, is_radian=True, do_not_open=True,
                                report_type=self.config.report_type)
                arm.connect()
            except Exception as e:  # the SDK raises bare Exception('connect socket failed')
                raise DeviceDisconnectedError(f"xArm at {self.host}: cannot connect ({e}); check the IP in "
                                              "backends.xarm.host, the cable and that the control box is on, "
                                              "then reconnect()") from e
            finally:
                socket.setdefaulttimeout(previous_timeout)  # the SDK set it to 1 s for the whole process
            if arm.axis != self.axis:
                arm.disconnect()
                raise DeviceFaultError(f"xArm at {self.host} has {arm.axis} axes but '{self.name}' describes "
                                       f"{self.axis} joints {self.joint_names}: use the matching description")
            arm.set_timeout(self.config.command_timeout_s)
            self._arm = arm
            self._armed = False
            code, (error, _) = arm.get_err_warn_code()
            if code == 0 and error == 0:  # else status() says why; clear_errors() enters servo mode later
                try:
                    self._enter_servo_mode()
                except DeviceFaultError:
                    pass  # the state stays readable; the next command retries and says why it cannot
                except DeviceDisconnectedError:
                    self._disconnect()
                    raise

    def _disconnect(self) -> None:
        with self._lock:
            arm, self._arm, self._armed = self._arm, None, False
            if arm is not None:
                with contextlib.suppress(Exception):  # tearing down a link that may be broken
                    arm.disconnect()

    def reconnect(self) -> None:
        """Drop whatever is left of the link and connect again."""
        with self._lock:
            self._disconnect()
            self._connected = False
            self.connect()

    def _enter_servo_mode(self) -> None:
        arm = self._arm
        steps = ((lambda: arm.motion_enable(True), "motion_enable"),
                 (lambda: arm.set_mode(SERVO_MODE), "set_mode(1)"),
                 (lambda: arm.set_state(0), "set_state(0)"))
        for call, what in steps:
            code = call()
            if code not in (0, _HAS_WARNING):
                self._raise_for(code, what)
        self._armed = True

    # --- state ---------------------------------------------------------------------------------------
    def _require_arm(self) -> Any:
        arm = self._arm
        if arm is None or not arm.connected:
            raise DeviceDisconnectedError(f"xArm at {self.host}: connection lost; check the network and the "
                                          "control box, then reconnect() (the driver node retries by itself)")
        return arm

    def _read_state(self) -> RobotState:
        arm = self._require_arm()
        code, states = arm.get_joint_states(is_radian=True)
        if code != 0:
            self._raise_for(code, "get_joint_states")
        n = self.axis
        positions, velocities, efforts = (np.asarray(s[:n], dtype=np.float64) for s in states)
        return RobotState(stamp=time.time(), joint_names=self.joint_names, joint_positions=positions,
                          joint_velocities=velocities, joint_efforts=efforts)

    def _raise_for(self, code: int, what: str) -> None:
        """Turn an SDK return code into the error that says what to do."""
        if code in _LINK_CODES:
            raise DeviceDisconnectedError(f"xArm at {self.host}: {what} failed ({_LINK_CODES[code]}, code "
                                          f"{code}); check the network and the control box, then reconnect()")
        if code == _OUT_OF_RANGE:
            raise DeviceFaultError(f"xArm at {self.host}: {what} rejected a target outside the "
                                   "controller's joint range; the limits in the robot description are wider "
                                   "than this arm's: fix arm.joints")
        arm = self._arm
        if arm is None:
            raise DeviceDisconnectedError(f"xArm at {self.host}: {what} failed: not connected; reconnect()")
        error, warn = arm.error_code, arm.warn_code
        if arm.connected:
            got, codes = arm.get_err_warn_code()
            if got == 0:
                error, warn = codes
        if error:
            fix = ("release the e-stop, then clear_errors()" if error in ESTOP_ERRORS
                   else "inspect the arm, then clear_errors()")
            raise DeviceFaultError(f"xArm at {self.host}: {what} refused: controller error "
                                   f"{describe_error(error)}; {fix}")
        state = STATES.get(arm.state, str(arm.state))
        raise DeviceFaultError(f"xArm at {self.host}: {what} returned code {code} (state {state}, warning "
                               f"{describe_warning(warn)}); clear_errors() re-enables servo mode")

    # --- commands ------------------------------------------------------------------------------------
    def _write_joint_command(self, command: JointCommand) -> None:
        with self._lock:
            arm = self._require_arm()
            if not self._armed:
                self._enter_servo_mode()
            code = arm.set_servo_angle_j([float(q) for q in command.positions], is_radian=True)
            if code == _NOT_READY and arm.error_code == 0:  # stopped from Studio or an IO: re-enter once
                self._enter_servo_mode()
                code = arm.set_servo_angle_j([float(q) for q in command.positions], is_radian=True)
            if code not in (0, _HAS_WARNING):
                self._armed = False
                self._raise_for(code, "set_servo_angle_j")

    def _stop(self) -> None:
        """Hold: state 4 makes the controller decelerate and drop targets. Nothing to do when no
        target streams (the arm already holds) or the link is down."""
        with self._lock:
            arm = self._arm
            if arm is None or not arm.connected or not self._armed:
                return
            self._armed = False
            arm.set_state(STOP_STATE)

    # --- recovery and diagnostics -----------------------------------------------------------------------
    def _clear_errors(self) -> str:
        """Clean the controller's error and warning, enable the motors and re-enter servo mode. An
        emergency stop that is still pressed keeps its error: release it first."""
        with self._lock:
            arm = self._require_arm()
            arm.clean_error()
            arm.clean_warn()
            code, (error, _) = arm.get_err_warn_code()
            if code != 0:
                self._raise_for(code, "get_err_warn_code")
            if error:
                fix = "release the e-stop button first" if error in ESTOP_ERRORS else "inspect the arm"
                raise DeviceFaultError(f"xArm at {self.host}: error {describe_error(error)} is still latched "
                                       f"after clean_error: {fix}, then clear_errors() again")
            self._enter_servo_mode()
            self._wait(lambda: arm.get_state()[1] in (1, 2), "state READY after set_state(0)")
        return f"xArm at {self.host}: error and warning cleaned, motors enabled, servo mode"

    def _wait(self, condition: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + self.config.connect_timeout_s
        while not condition():
            if time.monotonic() > deadline:
                raise DeviceFaultError(f"xArm at {self.host}: waited {self.config.connect_timeout_s} s for "
                                       f"{what}; state {STATES.get(self._arm.state)}: check xArm Studio")
            time.sleep(0.01)

    def status(self) -> dict[str, str]:
        """The controller's state in words for /diagnostics (never raises). ``level`` is OK, WARN
        or ERROR and ``message`` says what is wrong and the fix."""
        out = {"host": self.host, "connected": "false", "level": "ERROR"}
        arm = self._arm
        if arm is None or not self._connected:
            out["message"] = "not connected: call connect()"
            return out
        if not arm.connected:
            out["message"] = f"connection to {self.host} lost: reconnecting"
            return out
        error, warn, state, mode = arm.error_code, arm.warn_code, arm.state, arm.mode
        enabled = arm.motor_enable_states[:self.axis]
        out.update({
            "connected": "true",
            "state": STATES.get(state, f"UNKNOWN({state})"),
            "mode": MODES.get(mode, f"UNKNOWN({mode})"),
            "error": describe_error(error),
            "warning": describe_warning(warn),
            "motors_enabled": str(all(enabled)).lower(),
            "streaming": str(self._armed).lower(),
        })
        if error:
            fix = ("release the e-stop, then clear_errors()" if error in ESTOP_ERRORS
                   else "inspect, then clear_errors()")
            out.update(message=f"controller error {describe_error(error)}: {fix}")
        elif warn:
            out.update(level="WARN", message=f"controller warning {describe_warning(warn)}")
        elif not all(enabled):
            out.update(level="WARN", message="motors disabled: clear_errors() enables them")
        else:
            out.update(level="OK", message="ready" if state != 1 else "moving")
        return out


def make_robot(description: RobotDescription, settings: dict[str, Any]) -> XArmRobot:
    """Registry factory (backend ``xarm``): a described xArm with its backend settings. The driver
    node's device override ``port`` names the host here."""
    settings = dict(settings)
    if "port" in settings:
        settings["host"] = settings.pop("port")
    limits = description.joint_limits()
    if limits is None:
        raise ValueError(f"{description.source}: an xArm needs arm.joints (5, 6 or 7, joint1 first)")
    config = XArmConfig.from_settings(settings, source=f"{description.source} backends.xarm")
    return XArmRobot(config, limits, name=description.name)
