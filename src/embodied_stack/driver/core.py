"""One read/write cycle for any :class:`~embodied_stack.hardware.Robot` (ROS-free).

This is the body of the ``robot_driver`` node and of the sim bridge (which adds world
stepping around it), written once so following, limits, the watchdog and the e-stop
behave identically on the simulator and on every real robot. Semantics follow
ros2_control:

- **lifecycle**: inactive (configured: state is read, commands are dropped and the robot
  holds) or active (commands accepted); the node maps Jazzy's lifecycle transitions onto
  :meth:`activate` / :meth:`deactivate`.
- **arm**: ``JointTrajectory`` streams replace the active trajectory, like
  joint_trajectory_controller's topic interface: the arm follows it to its last point and
  holds there. A trajectory that already ended more than ``trajectory_stale_s`` ago when it
  arrives is stale and rejected (the arm holds). Every target is velocity limited, then
  clamped to the position limits and the max step by the robot's safety filter; what was
  clamped is counted and described.
- **base**: ``cmd_vel`` is a stream; older than ``command_timeout_s`` -> zero velocity.
- **e-stop** (:class:`EStopLatch`): engaged -> the follower is cleared, the arm holds
  where it is and the base stops; nothing moves until an explicit reset.
- **device faults**: a :class:`DeviceFaultError` (the device answers but refuses motion: a
  safety stop, a latched error) makes the robot hold; state is still read and published,
  commands are dropped and the fault is reported until :meth:`clear_errors` (the operator's
  acknowledgement). Any other I/O error means the link is down: reported, and the core tries
  to reconnect every ``reconnect_period_s``; after a reconnect the first command starts from
  the measured position (no jump).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from embodied_stack.driver.estop import EStopLatch
from embodied_stack.hardware.robot import BaseVelocity, DeviceFaultError, JointCommand, Robot, RobotState
from embodied_stack.hardware.safety import CommandRejected, CommandWatchdog
from embodied_stack.hardware.trajectory import TrajectoryFollower, TrajectoryPoint


@dataclass(frozen=True)
class DriverConfig:
    """Timing of the driver (values come from ``config/nodes/robot_driver.yaml``)."""

    command_timeout_s: float = 0.1  # s: cmd_vel older than this -> zero velocity
    trajectory_stale_s: float = 0.1  # s: reject trajectories that ended longer ago than this
    reconnect_period_s: float = 1.0  # s between reconnection attempts of a lost device


@dataclass
class TrajectoryCommand:
    """A JointTrajectory, ROS-free: names, points as (time from start s, positions), start time
    (stack clock, s; None = on arrival)."""

    joint_names: Sequence[str]
    points: Sequence[tuple[float, Sequence[float]]]
    start: float | None = None


@dataclass
class DriverCounters:
    cycles: int = 0
    trajectories: int = 0
    twists: int = 0
    rejected: int = 0
    clamped: int = 0
    dropped_inactive: int = 0
    dropped_estop: int = 0
    dropped_fault: int = 0
    watchdog_trips: int = 0
    device_faults: int = 0
    reconnects: int = 0
    last_rejection: str = ""
    last_clamp: str = ""
    last_fault: str = ""
    rejection_reasons: dict[str, int] = field(default_factory=dict)


class DriverCore:
    """Follows commands on ``arm`` and ``base`` (the same robot may be both, or either None).

    Command inputs (:meth:`submit_trajectory`, :meth:`submit_twist`) are thread-safe and only
    hand the newest command over; :meth:`cycle` runs in the driver's loop thread and does all
    device I/O.
    """

    def __init__(self, arm: Robot | None, base: Robot | None, config: DriverConfig = DriverConfig(),
                 clock: Callable[[], float] = time.time, monotonic: Callable[[], float] = time.monotonic,
                 estop: EStopLatch | None = None, log: Callable[[str], None] | None = None) -> None:
        self.arm, self.base, self.config = arm, base, config
        self.clock, self.monotonic = clock, monotonic
        self.estop = estop or EStopLatch(monotonic)
        self.counters = DriverCounters()
        self.follower = TrajectoryFollower(arm.joint_names, config.trajectory_stale_s) if arm else None
        self._log = log or (lambda _msg: None)
        self._lock = threading.Lock()
        self._pending: TrajectoryCommand | None = None
        self._twist: BaseVelocity | None = None  # the newest cmd_vel; the watchdog times it
        # the one cmd_vel watchdog (hardware.safety): fed on every accepted twist, checked every cycle
        self.watchdog = CommandWatchdog(config.command_timeout_s, self._on_stale_twist, clock=monotonic)
        self._active = False
        self._hold_requested = True  # hold once on the next cycle (start-up, deactivate, e-stop, fault)
        self._last_target: np.ndarray | None = None
        self._last_cycle_time: float | None = None
        self._base_commanded = False
        self.device_ok = True
        self.fault: str = ""  # a DeviceFaultError's message until cleared
        self._next_reconnect = 0.0
        self.arm_state: RobotState | None = None
        self.base_state: RobotState | None = None
        self._estop_seen = False

    # --- robots ---------------------------------------------------------------------------------
    @property
    def robots(self) -> list[Robot]:
        out: list[Robot] = []
        for r in (self.arm, self.base):
            if r is not None and all(r is not o for o in out):
                out.append(r)
        return out

    def connect(self) -> None:
        """Connect every robot and read its state once (the lifecycle's configure)."""
        for r in self.robots:
            r.connect()
        self._read()
        self.device_ok = True

    def disconnect(self) -> None:
        for r in self.robots:
            try:
                r.disconnect()
            except Exception as e:  # noqa: BLE001 - a dead device must not stop the shutdown
                self._log(f"disconnect of '{r.name}' failed: {e!r}")

    # --- lifecycle --------------------------------------------------------------------------------
    @property
    def active(self) -> bool:
        return self._active

    def activate(self) -> None:
        with self._lock:
            self._pending, self._twist = None, None
            self._active = True
            self._hold_requested = True

    def request_hold(self) -> None:
        """Drop any trajectory and hold on the next cycle (e.g. after a simulated world reset)."""
        with self._lock:
            self._pending, self._twist = None, None
            self._hold_requested = True

    def deactivate(self) -> None:
        with self._lock:
            self._active = False
            self._pending, self._twist = None, None
            self._hold_requested = True

    # --- command inputs (any thread) ----------------------------------------------------------------
    def submit_trajectory(self, command: TrajectoryCommand) -> bool:
        """Hand a trajectory to the loop; False (and counted) when it cannot be accepted now."""
        if self.arm is None:
            self._reject("trajectory: this robot has no arm")
            return False
        if not self._accepting("trajectory"):
            return False
        with self._lock:
            self._pending = command
            self.counters.trajectories += 1
        return True

    def submit_twist(self, command: BaseVelocity) -> bool:
        if self.base is None:
            self._reject("cmd_vel: this robot has no base")
            return False
        if not self._accepting("cmd_vel"):
            return False
        with self._lock:
            self._twist = command
            self.watchdog.feed()
            self.counters.twists += 1
        return True

    def _accepting(self, what: str) -> bool:
        if self.fault:
            self.counters.dropped_fault += 1
            return False
        if self.estop.engaged:
            self.counters.dropped_estop += 1
            return False
        if not self._active:
            self.counters.dropped_inactive += 1
            return False
        return True

    # --- the loop --------------------------------------------------------------------------------------
    def cycle(self) -> None:
        """One read/write cycle: read state, then apply (or hold) commands. Never raises for
        device errors: they are reported and the device is reconnected."""
        self.counters.cycles += 1
        mono = self.monotonic()
        if not self.device_ok:
            if mono >= self._next_reconnect:
                self._try_reconnect(mono)
            return
        try:
            self._read()
            if self.fault:
                return  # holding until the operator clears the fault
            self._apply(mono)
        except DeviceFaultError as e:
            self._device_refuses(e)
        except Exception as e:  # noqa: BLE001 - any other I/O error: the link is down, never a crash
            self._fault(e, mono)

    def _read(self) -> None:
        if self.arm is not None:
            self.arm_state = self.arm.read_state()
        if self.base is not None:
            self.base_state = self.arm_state if self.base is self.arm else self.base.read_state()

    def _apply(self, mono: float) -> None:
        with self._lock:
            pending, self._pending = self._pending, None
            twist = self._twist
            hold, self._hold_requested = self._hold_requested, False
        estop = self.estop.engaged
        if estop and not self._estop_seen:
            hold = True
        self._estop_seen = estop
        if hold:
            # A trajectory or twist still pending here arrived after the hold was requested
            # (activate/request_hold/deactivate drop older ones under the lock): hold, then obey it.
            self._hold()
        if estop or not self._active:
            if self.base is not None:
                self.base.stop()
            return
        now = self.clock()
        if self.arm is not None and self.arm_state is not None:
            if pending is not None:
                self._accept(pending, now)
            self._follow(now)
        if self.base is not None:
            self._drive(twist, mono)

    def _hold(self) -> None:
        """Arm stays where it is, base stops, any trajectory is dropped."""
        if self.follower is not None:
            self.follower.clear()
        self._last_target = None
        for r in self.robots:
            r.stop()
        self._base_commanded = False

    def _accept(self, cmd: TrajectoryCommand, now: float) -> None:
        assert self.follower is not None and self.arm_state is not None
        try:
            if not cmd.points:
                raise CommandRejected("trajectory has no points")
            start = cmd.start if cmd.start else now
            points = []
            for t, values in cmd.points:
                positions, gripper = self.follower.order(list(cmd.joint_names), list(values))
                points.append(TrajectoryPoint(start + float(t), positions, gripper))
            self.follower.set(points, now, self.arm_state.joint_positions, self.arm_state.gripper)
        except CommandRejected as e:
            self._reject(f"trajectory: {e}")
            self.follower.clear()

    def _follow(self, now: float) -> None:
        assert self.follower is not None and self.arm is not None and self.arm_state is not None
        end = self.follower.end_time
        if end is not None and now > end + max(self.config.trajectory_stale_s, 0.0) + 1.0:
            self.follower.clear()  # long finished: the servo keeps its last goal, stop re-sending it
        cmd = self.follower.sample(now)
        if cmd is None:
            self._last_cycle_time = now
            return
        measured = self.arm_state.joint_positions
        limits = self.arm.joint_limits
        asked = np.asarray(cmd.positions, dtype=np.float64)
        previous = self._last_target if self._last_target is not None else measured
        dt = now - self._last_cycle_time if self._last_cycle_time is not None else 0.0
        target = limits.limit_velocity(asked, previous, dt) if limits is not None else asked
        try:
            sent = self.arm.send_joint_command(JointCommand(target, cmd.gripper))
        except CommandRejected as e:
            self._reject(f"joint command: {e}")
            self.follower.clear()
            self.arm.stop()
            return
        self._last_target = np.asarray(sent.positions, dtype=np.float64)
        self._last_cycle_time = now
        gripper_clamped = (cmd.gripper is not None and sent.gripper is not None
                           and abs(sent.gripper - cmd.gripper) > 1e-9)
        if gripper_clamped or not np.allclose(sent.positions, target, atol=1e-9):
            why = limits.explain(target, sent.positions, measured) if limits is not None else []
            if gripper_clamped:
                why.append(f"gripper asked {cmd.gripper:.3f} sent {sent.gripper:.3f} (range 0..1)")
            self.counters.clamped += 1
            self.counters.last_clamp = "; ".join(why)

    def _on_stale_twist(self) -> None:
        self.counters.watchdog_trips += 1

    def _drive(self, twist: BaseVelocity | None, mono: float) -> None:
        assert self.base is not None
        if twist is None or not self.watchdog.check():  # nothing, or older than command_timeout_s
            self._base_commanded = False
            self.base.stop()
            return
        try:
            sent = self.base.send_base_velocity(twist)
        except CommandRejected as e:
            self._reject(f"cmd_vel: {e}")
            with self._lock:
                self._twist = None
            self.base.stop()
            self._base_commanded = False
            return
        self._base_commanded = True
        if not np.allclose(sent.as_array(), twist.as_array(), atol=1e-9):
            self.counters.clamped += 1
            asked, out = twist.as_array(), sent.as_array()
            parts = [f"{n} asked {a:.3f} sent {s:.3f}"
                     for n, a, s in zip(("vx", "vy", "wz"), asked, out, strict=True) if abs(a - s) > 1e-9]
            self.counters.last_clamp = "cmd_vel " + ", ".join(parts) + " (base limits)"

    # --- faults ---------------------------------------------------------------------------------------
    def _reject(self, reason: str) -> None:
        self.counters.rejected += 1
        self.counters.last_rejection = reason
        key = reason.split(":", 1)[0]
        self.counters.rejection_reasons[key] = self.counters.rejection_reasons.get(key, 0) + 1
        self._log(f"rejected {reason}")

    def _fault(self, error: Exception, mono: float) -> None:
        self.device_ok = False
        self.counters.device_faults += 1
        self.counters.last_fault = f"{type(error).__name__}: {error}"
        self._next_reconnect = mono + self.config.reconnect_period_s
        if self.follower is not None:
            self.follower.clear()
        self._log(f"device fault: {self.counters.last_fault}; reconnecting every "
                  f"{self.config.reconnect_period_s} s")

    def _device_refuses(self, error: DeviceFaultError) -> None:
        """The device answers but will not move: hold, keep reading, report until cleared."""
        if not self.fault:
            self._log(f"device fault (holding until cleared with ~/clear_errors): {error}")
        self.fault = str(error)
        self.counters.device_faults += 1
        self.counters.last_fault = f"{type(error).__name__}: {error}"
        with self._lock:
            self._pending, self._twist = None, None
        if self.follower is not None:
            self.follower.clear()
        self._last_target = None
        for r in self.robots:
            try:
                r.stop()
            except Exception as e:  # noqa: BLE001 - a refusing device may refuse the hold too
                self._log(f"hold of '{r.name}' during a fault failed: {e!r}")

    def clear_errors(self) -> str:
        """The operator's acknowledgement: clear the device's fault (robot.clear_errors) and resume
        accepting commands; the robot holds until the next one. Raises when the device refuses."""
        messages = [r.clear_errors() for r in self.robots]
        self.fault = ""
        self.request_hold()
        self._log("device fault cleared: " + "; ".join(messages))
        return "; ".join(messages)

    def _try_reconnect(self, mono: float) -> None:
        self._next_reconnect = mono + self.config.reconnect_period_s
        for r in self.robots:
            with contextlib.suppress(Exception):  # the link is already broken; connect() decides
                r.disconnect()
        try:
            self.connect()
        except Exception as e:  # noqa: BLE001 - still down: keep trying
            self.counters.last_fault = f"{type(e).__name__}: {e}"
            return
        self.counters.reconnects += 1
        with self._lock:
            self._pending, self._twist = None, None
            self._hold_requested = True
        self._log("device reconnected; holding at the measured position until the next command")

    # --- reporting ----------------------------------------------------------------------------------
    def status(self) -> tuple[str, str, dict[str, str]]:
        """(level 'OK'|'WARN'|'ERROR', message, key values) for /diagnostics."""
        c = self.counters
        e = self.estop.state
        if not self.device_ok:
            level, msg = "ERROR", f"device down, reconnecting: {c.last_fault}"
        elif self.fault:
            level, msg = "ERROR", f"device fault, holding until ~/clear_errors: {self.fault}"
        elif e.engaged:
            level, msg = "WARN", f"E-STOP engaged by {e.source}: {e.reason}".rstrip(": ")
        elif not self._active:
            level, msg = "WARN", "inactive: holding, commands ignored"
        else:
            level, msg = "OK", "active"
        values = {"active": str(self._active), "estop": str(e.engaged), "estop_source": e.source,
                  "device_ok": str(self.device_ok), "cycles": str(c.cycles),
                  "trajectories": str(c.trajectories), "twists": str(c.twists),
                  "rejected_commands": str(c.rejected), "last_rejection": c.last_rejection,
                  "clamped_commands": str(c.clamped), "last_clamp": c.last_clamp,
                  "dropped_while_estop": str(c.dropped_estop),
                  "dropped_while_inactive": str(c.dropped_inactive),
                  "dropped_while_fault": str(c.dropped_fault), "fault": self.fault,
                  "watchdog_trips": str(c.watchdog_trips), "device_faults": str(c.device_faults),
                  "reconnects": str(c.reconnects), "last_fault": c.last_fault}
        return level, msg, values
