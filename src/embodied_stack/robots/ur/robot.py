"""Universal Robots arms (e-Series, CB3) as a :class:`~embodied_stack.hardware.robot.Robot`,
through the vendor's ``ur_rtde`` SDK.

Three channels, each used for one job:

- ``RTDEReceiveInterface``: joint state and the controller's safety/robot/program state, at
  ``frequency`` (it never writes, so it stays up through protective and emergency stops);
- ``RTDEControlInterface``: uploads ur_rtde's control script and streams ``servoJ`` targets.
  Created only while the robot can move (running, normal/reduced safety): the controller
  refuses to play a program otherwise, and ur_rtde would wait 5 s to find out;
- ``DashboardClient``: recovery (unlock a protective stop, power on, release the brakes).

Errors say what the device is doing and what fixes it: :class:`DeviceDisconnectedError` when
the link is down (fix: :meth:`URRobot.reconnect`, or the driver node's automatic retries),
:class:`DeviceFaultError` when the controller refuses motion (protective stop, e-stop, powered
off; fix: inspect, then :meth:`URRobot.clear_errors`).

Known SDK behaviours handled here (ur_rtde 1.6.5): it can crash the process (SIGSEGV) when
the controller drops and re-accepts connections while it reconnects by itself, so the SDK's
objects live in a child process (:mod:`embodied_stack.robots.ur.sdk_process`) and a crash is a
lost link the driver reconnects from, with a fresh process; its constructors block on TCP
connect, so the host is probed with a timeout first; its ``disconnect()`` sleeps 0.5 s and its
destructor sleeps again, so the interfaces are created once per process and reused through
``reconnect()``; its control interface reconnects by itself from its receive thread, so before
reconnecting explicitly the driver disconnects (which joins that thread). Each control cycle
reads what it needs in one batched round trip to that process.
"""

from __future__ import annotations

import contextlib
import importlib.util
import math
import re
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
from embodied_stack.robots.ur.config import URConfig
from embodied_stack.robots.ur.sdk_process import SdkProcess

RTDE_PORT = 30004  # fixed in ur_rtde

ROBOT_MODES = {-1: "NO_CONTROLLER", 0: "DISCONNECTED", 1: "CONFIRM_SAFETY", 2: "BOOTING", 3: "POWER_OFF",
               4: "POWER_ON", 5: "IDLE", 6: "BACKDRIVE", 7: "RUNNING", 8: "UPDATING_FIRMWARE"}
SAFETY_MODES = {1: "NORMAL", 2: "REDUCED", 3: "PROTECTIVE_STOP", 4: "RECOVERY", 5: "SAFEGUARD_STOP",
                6: "SYSTEM_EMERGENCY_STOP", 7: "ROBOT_EMERGENCY_STOP", 8: "VIOLATION", 9: "FAULT",
                10: "VALIDATE_JOINT_ID", 11: "UNDEFINED_SAFETY_MODE", 12: "AUTOMATIC_MODE_SAFEGUARD_STOP",
                13: "SYSTEM_THREE_POSITION_ENABLING_STOP"}
RUNTIME_STATES = {0: "STOPPING", 1: "STOPPED", 2: "PLAYING", 3: "PAUSING", 4: "PAUSED", 5: "RESUMING"}
ROBOT_RUNNING, ROBOT_IDLE = 7, 5
SAFETY_NORMAL, SAFETY_REDUCED, SAFETY_PROTECTIVE_STOP = 1, 2, 3
EMERGENCY_STOPS = frozenset({6, 7, 13})
_PROGRAM_RUNNING_BIT = 1 << 1
#: ur_rtde's words for a link problem (as opposed to the controller refusing to run the script)
_LINK_TROUBLE = re.compile(r"timeout connecting|could not recover|broken pipe|end of file|please connect",
                           re.IGNORECASE)

#: what the receive interface subscribes to (not ur_rtde's default of ~40 variables)
RECEIVE_VARIABLES = ["timestamp", "actual_q", "actual_qd", "target_moment", "robot_mode", "safety_mode",
                     "runtime_state", "speed_scaling", "target_speed_fraction", "robot_status_bits",
                     "safety_status_bits"]
# servoJ's speed and acceleration arguments are unused by UR's servoj; ur_rtde still range-checks them
_SERVOJ_UNUSED_SPEED, _SERVOJ_UNUSED_ACCELERATION = 0.5, 0.5


def _check_sdk() -> None:
    """ur_rtde is imported only in the SDK's process; here, say early and clearly when it is missing."""
    missing = [m for m in ("rtde_receive", "rtde_control", "dashboard_client")
               if importlib.util.find_spec(m) is None]
    if missing:
        raise ImportError(f"the UR driver needs ur_rtde (missing {missing}); install it with "
                          "`pip install ur-rtde==1.6.5`")


class URRobot(Robot):
    """One UR arm: joint position streaming with servoJ, state from RTDE, recovery via the dashboard.

    Args:
        config: connection and servoJ settings (:class:`URConfig`).
        joint_limits: the arm's limits in UR joint order (base, shoulder, elbow, wrist 1-3);
            ``send_joint_command`` clamps every target to them before it is streamed.
        name: the robot's name in logs and errors.
    """

    capabilities = frozenset({"arm"})

    def __init__(self, config: URConfig, joint_limits: JointLimits, name: str = "ur") -> None:
        if len(joint_limits.names) != 6:
            raise ValueError(f"UR arms have 6 joints; the limits for '{name}' name "
                             f"{len(joint_limits.names)}: {list(joint_limits.names)}")
        super().__init__(name, joint_limits=joint_limits)
        self.config = config
        self._lock = threading.RLock()  # ur_rtde's interfaces are not thread-safe
        self._proc: SdkProcess | None = None  # where the SDK's objects live (None until connect)
        self._receive: Any = None
        self._control: Any = None
        self._dashboard: Any = None
        self._servoing = False  # servoJ streamed since the last stop
        self._script_refused = False  # servoJ was refused while the controller reported the program running
        self._last_stamp: tuple[float, float] | None = None  # (controller timestamp, monotonic time seen)
        self._control_error = ""

    @property
    def host(self) -> str:
        return self.config.host

    # --- lifecycle ------------------------------------------------------------------------------------
    def _ensure_process(self) -> SdkProcess:
        """The SDK's process; a fresh one (and fresh SDK objects) after a crash."""
        if self._proc is None or not self._proc.alive:
            if self._proc is not None:
                self._proc.close()
            self._receive = self._control = self._dashboard = None
            self._proc = SdkProcess(f"ur_rtde for {self.host}")
        return self._proc

    @property
    def sdk_pid(self) -> int | None:
        """The SDK process's pid (tests kill it to check that a crash is survived)."""
        return self._proc.pid if self._proc is not None and self._proc.alive else None

    def _connect(self) -> None:
        _check_sdk()
        with self._lock:
            self._probe()
            proc = self._ensure_process()
            try:
                if self._receive is None:
                    self._receive = proc.new("rtde_receive.RTDEReceiveInterface", self.host,
                                             self.config.frequency, RECEIVE_VARIABLES)
                else:
                    if self._receive.isConnected():  # a half-finished earlier connect: reconnecting
                        _quietly(self._receive.disconnect)()  # over a live link would leak its thread
                    self._receive.reconnect()
            except RuntimeError as e:
                raise DeviceDisconnectedError(f"UR at {self.host}: RTDE setup failed ({e}); check that the "
                                              "controller is booted and reachable, then reconnect()") from e
            self._connect_dashboard()
            self._last_stamp = None
            self._servoing = False
            if self._motion_allowed():
                # a script that will not start (local mode, a PolyScope popup) leaves the state readable:
                # status() reports control_error and commands raise DeviceFaultError until it starts
                with contextlib.suppress(DeviceFaultError):
                    self._start_control()

    def _disconnect(self) -> None:
        """Close the links (the SDK's process stays for the next connect; a dead one is replaced then)."""
        with self._lock:
            for iface in (self._control, self._receive, self._dashboard):
                if iface is not None:
                    _quietly(iface.disconnect)()  # ur_rtde's sleeps 0.5 s
            self._servoing = False

    def disconnect(self) -> None:
        """Disconnect and end the SDK's process."""
        with self._lock:
            super().disconnect()
            if self._proc is not None:
                self._proc.close()
                self._proc = None
                self._receive = self._control = self._dashboard = None

    def reconnect(self) -> None:
        """Drop whatever is left of the link and connect again, with a fresh SDK process.

        Why not the same SDK objects: ``RTDEControlInterface.disconnect()`` joins ur_rtde's own
        reconnect thread, and after the controller dropped and re-accepted connections that join hung
        until our 30 s call timeout (seen in the reset-storm test: the arm idle for 30 s per reconnect).
        Killing the process takes milliseconds; a new one connects in about a second."""
        with self._lock:
            self._servoing = False
            if self._proc is not None:
                self._proc.kill("replaced by reconnect()")
                self._proc = None
            self._receive = self._control = self._dashboard = None
            self._connected = False
            self.connect()

    def _probe(self) -> None:
        """Fail fast on an unreachable host: ur_rtde's constructors block on TCP connect holding the GIL."""
        try:
            with socket.create_connection((self.host, RTDE_PORT), timeout=self.config.connect_timeout_s):
                pass
        except OSError as e:
            raise DeviceDisconnectedError(
                f"UR at {self.host}: cannot reach RTDE port {RTDE_PORT} ({e}); check the IP in "
                "backends.ur_rtde.host, the cable and that the controller has booted, then reconnect()"
            ) from e

    def _connect_dashboard(self) -> None:
        if self._dashboard is None:
            self._dashboard = self._ensure_process().new("dashboard_client.DashboardClient", self.host,
                                                         self.config.dashboard_port, False)
        _quietly(self._dashboard.connect)(int(self.config.connect_timeout_s * 1000))

    def _start_control(self) -> None:
        """Have ur_rtde's control script running (first time: construct; later: reconnect/re-upload)."""
        try:
            if self._control is None:
                proc = self._ensure_process()
                flags = proc.get("rtde_control.RTDEControlInterface.FLAG_UPLOAD_SCRIPT")
                if self.config.use_upper_range_registers:
                    flags |= proc.get("rtde_control.RTDEControlInterface.FLAG_UPPER_RANGE_REGISTERS")
                self._control = proc.new("rtde_control.RTDEControlInterface", self.host,
                                         self.config.frequency, flags)
            elif not self._control.isConnected():
                _quietly(self._control.disconnect)()  # joins ur_rtde's own reconnect attempt first
                self._control.reconnect()
            elif self._script_refused or not self._control.isProgramRunning():
                # also when the controller says a program runs but servoJ was refused: after the
                # controller dropped and re-accepted the connection, ur_rtde's own reconnect can leave a
                # script that answers nothing (seen in the reset-storm test: thousands of refusals, each
                # clear_errors() a no-op because the program "was running")
                self._control.reuploadScript()
                self._wait(lambda: self._program_running(), "the control script to start")
        except (RuntimeError, DeviceFaultError) as e:
            self._control_error = str(e)
            if isinstance(e, RuntimeError) and _LINK_TROUBLE.search(str(e)):
                # a timeout or a dropped socket while starting the script is the link, not the robot:
                # the driver retries by itself instead of holding for an operator's clear_errors()
                raise DeviceDisconnectedError(f"UR at {self.host}: starting ur_rtde's control script failed "
                                              f"on the link ({e}); reconnecting") from e
            raise DeviceFaultError(f"UR at {self.host}: cannot start ur_rtde's control script ({e}); check "
                                   "the robot is in remote control and running, then clear_errors()") from e
        self._control_error = ""
        self._script_refused = False
        self._servoing = False

    # --- state ---------------------------------------------------------------------------------------
    def _require_receive(self) -> Any:
        r = self._receive
        if r is None or not r.isConnected():
            raise DeviceDisconnectedError(f"UR at {self.host}: RTDE connection lost; check the network and "
                                          "the controller, then reconnect() (the driver node retries itself)")
        return r

    def _state_age(self, stamp: float | None = None) -> float:
        """Seconds since the controller's timestamp last advanced (0 when it just did)."""
        stamp = self._receive.getTimestamp() if stamp is None else stamp
        now = time.monotonic()
        if self._last_stamp is None or stamp != self._last_stamp[0]:
            self._last_stamp = (stamp, now)
        return now - self._last_stamp[1]

    def _batch(self, *getters: str) -> list[Any]:
        """The receive interface's ``isConnected`` and ``getters``, in one round trip; raises
        DeviceDisconnectedError when the link is down or the state stopped advancing."""
        r = self._receive
        if r is None or self._proc is None:
            raise DeviceDisconnectedError(f"UR at {self.host}: not connected; reconnect()")
        connected, stamp, *values = self._proc.calls(
            [(r, "isConnected", ()), (r, "getTimestamp", ())] + [(r, g, ()) for g in getters])
        if not connected:
            self._require_receive()  # raises with the message and the fix
        age = self._state_age(stamp)
        if age > self.config.state_timeout_s:
            raise DeviceDisconnectedError(
                f"UR at {self.host}: no new RTDE state for {age:.2f} s (controller time stuck at "
                f"{stamp:.3f} s); the link or the controller hangs: check both, then reconnect()")
        return values

    def _read_state(self) -> RobotState:
        q, qd, moment = self._batch("getActualQ", "getActualQd", "getTargetMoment")
        return RobotState(stamp=time.time(), joint_names=self.joint_names,
                          joint_positions=np.asarray(q, dtype=np.float64),
                          joint_velocities=np.asarray(qd, dtype=np.float64),
                          joint_efforts=np.asarray(moment, dtype=np.float64))

    def _motion_allowed(self) -> bool:
        r = self._receive
        return (r is not None and r.getRobotMode() == ROBOT_RUNNING
                and r.getSafetyMode() in (SAFETY_NORMAL, SAFETY_REDUCED))

    def _program_running(self) -> bool:
        return bool(self._receive is not None and self._receive.getRobotStatus() & _PROGRAM_RUNNING_BIT)

    def _refusal(self, safety: int | None = None, mode: int | None = None) -> str | None:
        """Why the controller will not move now, in words with the fix; None when it will."""
        r = self._receive
        safety = r.getSafetyMode() if safety is None else safety
        mode = r.getRobotMode() if mode is None else mode
        safety_name = SAFETY_MODES.get(safety, f"UNKNOWN({safety})")
        mode_name = ROBOT_MODES.get(mode, f"UNKNOWN({mode})")
        if safety in EMERGENCY_STOPS:
            return f"emergency stop ({safety_name}): release the e-stop button, then clear_errors()"
        if safety == SAFETY_PROTECTIVE_STOP:
            return "protective stop: inspect the cause (collision, limit), then clear_errors() to unlock it"
        if safety not in (SAFETY_NORMAL, SAFETY_REDUCED):
            return f"safety mode {safety_name}: resolve it on the pendant, then clear_errors()"
        if mode != ROBOT_RUNNING:
            return f"robot is {mode_name}, not RUNNING: clear_errors() powers it on and releases the brakes"
        return None

    # --- commands ------------------------------------------------------------------------------------
    def _write_joint_command(self, command: JointCommand) -> None:
        with self._lock:
            safety, mode, status_bits = self._batch("getSafetyMode", "getRobotMode", "getRobotStatus")
            refusal = self._refusal(safety, mode)
            if refusal is not None:
                raise DeviceFaultError(f"UR at {self.host} refuses motion: {refusal}")
            c = self._control
            if c is None or not status_bits & _PROGRAM_RUNNING_BIT or not c.isConnected():
                self._start_control()
            cfg = self.config
            ok = self._control.servoJ([float(q) for q in command.positions], _SERVOJ_UNUSED_SPEED,
                                      _SERVOJ_UNUSED_ACCELERATION, cfg.period, cfg.servo_lookahead_time,
                                      cfg.servo_gain)
            if not ok:
                self._script_refused = True  # clear_errors() re-uploads the script even if it "runs"
                self._require_receive()
                refusal = self._refusal() or "ur_rtde's control script did not take the command (it stopped)"
                raise DeviceFaultError(f"UR at {self.host}: servoJ refused: {refusal}")
            self._servoing = True

    def _stop(self) -> None:
        """Hold: servoStop decelerates at ``stop_deceleration`` and returns once the arm is at rest.
        Nothing to do when nothing streams, the link is down or a safety stop already holds it.
        Skipped on stale state too: ur_rtde would wait up to its 300 s command timeout for a reply
        from a controller that no longer answers."""
        with self._lock:
            c, r = self._control, self._receive
            if not self._servoing or c is None or r is None or not r.isConnected():
                return
            if self._state_age() > self.config.state_timeout_s:
                self._servoing = False
                return
            if not c.isConnected() or not c.isProgramRunning() or self._refusal() is not None:
                self._servoing = False
                return
            c.servoStop(self.config.stop_deceleration)
            self._servoing = False

    # --- recovery and diagnostics -----------------------------------------------------------------------
    def _clear_errors(self) -> str:
        """Bring the arm back to a state that accepts commands: unlock a protective stop, restart
        safety after a fault, power on and release the brakes, restart the control script. An
        engaged emergency stop cannot be cleared from software: release the button first."""
        with self._lock:
            r = self._require_receive()
            safety = r.getSafetyMode()
            if safety in EMERGENCY_STOPS:
                raise DeviceFaultError(f"UR at {self.host}: emergency stop ({SAFETY_MODES[safety]}) is "
                                       "engaged: release the e-stop button, then call clear_errors() again")
            self._dash("close safety popup")
            if safety == SAFETY_PROTECTIVE_STOP:
                reply = self._dash("unlock protective stop")
                if reply != "Protective stop releasing":
                    raise DeviceFaultError(f"UR at {self.host} refused to unlock the protective stop: "
                                           f"'{reply}'; UR allows it 5 s after the stop: wait, then "
                                           "clear_errors() again")
            elif safety not in (SAFETY_NORMAL, SAFETY_REDUCED):
                self._dash("restart safety")
            self._wait(lambda: r.getSafetyMode() in (SAFETY_NORMAL, SAFETY_REDUCED), "safety mode NORMAL")
            if r.getRobotMode() != ROBOT_RUNNING:
                self._dash("power on")
                self._wait(lambda: r.getRobotMode() in (ROBOT_IDLE, ROBOT_RUNNING), "the arm to power on")
                self._dash("brake release")
                self._wait(lambda: r.getRobotMode() == ROBOT_RUNNING, "robot mode RUNNING (brakes released)")
            self._start_control()
        return f"UR at {self.host}: safety mode normal, arm running, control script restarted"

    def _dash(self, command: str) -> str:
        """One dashboard command and its reply line."""
        d = self._dashboard
        try:
            if d is None or not d.isConnected():
                self._connect_dashboard()
                d = self._dashboard
            d.send(command + "\n")
            return str(d.receive()).strip()
        except RuntimeError as e:
            # a socket the controller dropped can still report isConnected(): forget it, so that the next
            # command connects afresh instead of failing on it forever (clear_errors() never got past here)
            if d is not None:
                _quietly(d.disconnect)()
            self._dashboard = None
            raise DeviceDisconnectedError(
                f"UR at {self.host}: dashboard (port {self.config.dashboard_port}) failed on '{command}' "
                f"({e}); check the network, then retry") from e

    def _wait(self, condition: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + self.config.connect_timeout_s
        while not condition():
            if time.monotonic() > deadline:
                r = self._receive
                raise DeviceFaultError(
                    f"UR at {self.host}: waited {self.config.connect_timeout_s} s for {what}; robot mode "
                    f"{ROBOT_MODES.get(r.getRobotMode())}, safety mode "
                    f"{SAFETY_MODES.get(r.getSafetyMode())}: check the pendant")
            time.sleep(0.01)

    def status(self) -> dict[str, str]:
        """The controller's state in words for /diagnostics (never raises). ``level`` is OK, WARN
        or ERROR and ``message`` says what is wrong and the fix."""
        out = {"host": self.host, "connected": "false", "level": "ERROR"}
        r = self._receive
        try:
            if r is None or not self._connected:
                out["message"] = "not connected: call connect()"
                return out
            if not r.isConnected():
                out["message"] = f"RTDE connection to {self.host} lost: reconnecting"
                return out
            safety, mode, runtime = r.getSafetyMode(), r.getRobotMode(), r.getRuntimeState()
            scaling = r.getSpeedScaling()
            c = self._control
            out.update({
                "connected": "true",
                "robot_mode": ROBOT_MODES.get(mode, f"UNKNOWN({mode})"),
                "safety_mode": SAFETY_MODES.get(safety, f"UNKNOWN({safety})"),
                "runtime_state": RUNTIME_STATES.get(runtime, f"UNKNOWN({runtime})"),
                "speed_scaling": f"{scaling:.2f}",
                "speed_slider": f"{r.getTargetSpeedFraction():.2f}",
                "protective_stop": str(r.isProtectiveStopped()).lower(),
                "emergency_stop": str(r.isEmergencyStopped()).lower(),
                "program_running": str(self._program_running()).lower(),
                "control_script": ("running" if c is not None and c.isConnected() and self._program_running()
                                   else "not running"),
                "streaming": str(self._servoing).lower(),
            })
            if self._control_error:
                out["control_error"] = self._control_error
            refusal = self._refusal()
            if refusal is not None:
                level = "ERROR" if safety != SAFETY_NORMAL and safety != SAFETY_REDUCED else "WARN"
                out.update(level=level, message=refusal)
            elif not math.isclose(scaling, 1.0, abs_tol=1e-3):
                out.update(level="WARN", message=f"speed scaling {scaling:.2f} (speed slider or reduced "
                                                 "mode): the arm moves slower than commanded")
            else:
                out.update(level="OK", message="running")
        except RuntimeError as e:  # ur_rtde throws when a variable is missing (a half-built recipe)
            out["message"] = f"cannot read the controller state: {e}"
        except DeviceDisconnectedError as e:  # the SDK's process died: the driver reconnects
            out["message"] = str(e)
        return out


def _quietly(fn: Callable[..., Any]) -> Callable[..., None]:
    """``fn`` with exceptions swallowed: used to tear down a link that may already be broken."""
    def call(*args: Any) -> None:
        with contextlib.suppress(Exception):  # teardown of a broken link must not raise
            fn(*args)
    return call


def make_robot(description: RobotDescription, settings: dict[str, Any]) -> URRobot:
    """Registry factory (backend ``ur_rtde``): a described UR arm with its backend settings. The
    driver node's device override ``port`` names the host here."""
    settings = dict(settings)
    if "port" in settings:
        settings["host"] = settings.pop("port")
    limits = description.joint_limits()
    if limits is None:
        raise ValueError(f"{description.source}: a UR arm needs arm.joints (6 of them, base to wrist 3)")
    config = URConfig.from_settings(settings, source=f"{description.source} backends.ur_rtde")
    return URRobot(config, limits, name=description.name)
