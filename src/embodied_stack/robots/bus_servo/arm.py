"""Bus-servo arms (SO-100/SO-101 on Feetech STS3215, Koch on Dynamixel X-series) as a ``Robot``.

One class for both families: what differs is the :class:`~embodied_stack.motors.bus.MotorBus`
(protocol, control table) and a few register names, so the follower logic -- calibration to
radians, the gripper as an opening, no jump on connect, holding, hardware-status reporting --
is written once. The leader arm of teleoperation reads the same bus with torque off
(:mod:`embodied_stack.teleop.leader_arm`).

Conventions (LeRobot's, so datasets recorded on either stack line up): joint angles in rad,
0 at the calibrated middle of each joint's travel (drive mode flips direction); the gripper is
its opening in [0, 1] between the calibrated range ends (``range_min`` closed).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from embodied_stack import paths
from embodied_stack.hardware.robot import JointCommand, Robot, RobotState
from embodied_stack.motors.bus import Motor, MotorBus, MotorCalibration, load_calibration
from embodied_stack.robots.description import RobotDescription


@dataclass(frozen=True)
class BusServoSettings:
    """A description's ``backends.<feetech|dynamixel>`` section.

    Attributes:
        port: serial device of the bus adapter (``/dev/ttyACM0``; ``/dev/serial/by-id/...`` is stabler).
        baudrate: bus speed (servos ship at 1 Mbaud).
        calibration: per-arm calibration file (``embodied-stack motors calibrate`` writes it).
        motors: ``{name: {id, model}}`` for the arm joints and the gripper.
        disable_torque_on_disconnect: LeRobot's default; False keeps the arm holding after the
            driver exits (an arm that would fall when released).
        bus_options: any other keys, passed to the bus (``reply_timeout_ms`` for Feetech,
            ``latency_timer_ms`` for Dynamixel, ``retries``).
    """

    port: str
    baudrate: int
    calibration: str
    motors: dict[str, Motor]
    disable_torque_on_disconnect: bool = True
    bus_options: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str) -> BusServoSettings:
        try:
            motors = {name: Motor(int(m["id"]), str(m["model"])) for name, m in data["motors"].items()}
            return cls(port=str(data["port"]), baudrate=int(data.get("baudrate", 1_000_000)),
                       calibration=str(data["calibration"]), motors=motors,
                       disable_torque_on_disconnect=bool(data.get("disable_torque_on_disconnect", True)),
                       bus_options={k: v for k, v in data.items() if k not in _KNOWN})
        except (KeyError, TypeError, ValueError) as e:
            raise ValueError(f"{source}: bus-servo backend needs port, calibration and motors "
                             f"{{name: {{id, model}}}} ({e!r})") from e


_KNOWN = {"port", "baudrate", "calibration", "motors", "disable_torque_on_disconnect"}


class BusServoArm(Robot):
    """Follower arm: position-controlled servos with torque on.

    Connect reads every servo's present position and makes it the goal *before* enabling
    torque, so the arm never jumps to a stale goal left in the servos; the driver's first
    trajectory then starts from the measured position.
    """

    capabilities = frozenset({"arm", "gripper"})

    def __init__(self, description: RobotDescription, bus: MotorBus,
                 disable_torque_on_disconnect: bool = True) -> None:
        super().__init__(description.name, joint_limits=description.joint_limits())
        self.description = description
        self.bus = bus
        self.gripper_name = description.gripper.name if description.gripper else None
        self.disable_torque_on_disconnect = disable_torque_on_disconnect
        missing = [n for n in description.state_names if n not in bus.motors]
        if missing:
            raise ValueError(f"{description.source}: no motor configured for {missing}")
        self._last_positions: np.ndarray | None = None
        self._last_read: float | None = None

    # --- lifecycle -------------------------------------------------------------------------------
    def _connect(self) -> None:
        self.bus.connect(handshake=True)
        try:
            missing = [n for n in self.bus.motors if n not in self.bus.calibration]
            if missing:
                raise RuntimeError(f"motors {missing} of '{self.name}' have no calibration: run "
                                   "`embodied-stack motors calibrate`")
            present = self.bus.sync_read("Present_Position")
            self.bus.sync_write("Goal_Position", present)  # no jump: the goal is where the arm is
            self.bus.sync_write("Torque_Enable", dict.fromkeys(self.bus.motors, 1))
        except Exception:
            self.bus.disconnect()
            raise
        self._last_positions, self._last_read = None, None

    def _disconnect(self) -> None:
        try:
            if self.disable_torque_on_disconnect and self.bus.is_connected:
                self.bus.sync_write("Torque_Enable", dict.fromkeys(self.bus.motors, 0))
        finally:
            self.bus.disconnect()

    # --- state ------------------------------------------------------------------------------------
    def _read_state(self) -> RobotState:
        ticks = self.bus.sync_read("Present_Position")
        now = time.monotonic()
        q = np.array([self.bus.to_radians(n, ticks[n]) for n in self.joint_names])
        if self._last_positions is not None and self._last_read is not None and now > self._last_read:
            dq = (q - self._last_positions) / (now - self._last_read)
        else:
            dq = np.zeros_like(q)
        self._last_positions, self._last_read = q, now
        gripper = self._gripper_opening(ticks[self.gripper_name]) if self.gripper_name else None
        return RobotState(stamp=time.time(), joint_names=list(self.joint_names), joint_positions=q,
                          joint_velocities=dq, joint_efforts=np.zeros_like(q), gripper=gripper)

    def _gripper_opening(self, ticks: int) -> float:
        cal = self.bus.calibration[self.gripper_name]
        span = max(cal.range_max - cal.range_min, 1)
        opening = (ticks - cal.range_min) / span
        return float(np.clip(1.0 - opening if cal.drive_mode else opening, 0.0, 1.0))

    def _gripper_ticks(self, opening: float) -> int:
        cal = self.bus.calibration[self.gripper_name]
        opening = float(np.clip(opening, 0.0, 1.0))
        if cal.drive_mode:
            opening = 1.0 - opening
        return int(round(cal.range_min + opening * (cal.range_max - cal.range_min)))

    # --- commands ----------------------------------------------------------------------------------
    def _write_joint_command(self, command: JointCommand) -> None:
        goal = {n: self.bus.to_ticks(n, float(q))
                for n, q in zip(self.joint_names, command.positions, strict=True)}
        if command.gripper is not None and self.gripper_name:
            goal[self.gripper_name] = self._gripper_ticks(command.gripper)
        self.bus.sync_write("Goal_Position", goal)

    def _stop(self) -> None:
        """Hold where the arm is: goal = present position."""
        self.bus.sync_write("Goal_Position", self.bus.sync_read("Present_Position"))

    # --- diagnostics -------------------------------------------------------------------------------
    def status(self) -> dict[str, str]:
        s = self.bus.stats
        out = {"port": self.bus.port, "bus_transactions": str(s.transactions), "bus_retries": str(s.retries),
               "bus_timeouts": str(s.timeouts), "bus_checksum_errors": str(s.checksum_errors),
               "bus_hardware_errors": str(s.hardware_errors), "bus_last_error": s.last_error}
        for motor, bits in s.hardware_error_bits.items():
            names = [name for bit, name in self.bus.error_bits.items() if bits & bit]
            out[f"hardware_error.{motor}"] = ", ".join(names) or hex(bits)
        return out


def make_bus(kind: str, description: RobotDescription, settings: dict[str, Any],
             with_calibration: bool = True) -> tuple[MotorBus, BusServoSettings]:
    """The ``feetech`` or ``dynamixel`` bus of a described arm, with its saved calibration."""
    cfg = BusServoSettings.from_dict(settings, f"{description.source} backends.{kind}")

    calibration: dict[str, MotorCalibration] = (load_calibration(paths.resolve(cfg.calibration))
                                                 if with_calibration else {})
    if kind == "feetech":
        from embodied_stack.motors.feetech import FeetechBus

        bus: MotorBus = FeetechBus(cfg.port, cfg.motors, cfg.baudrate, calibration, **cfg.bus_options)
    else:
        from embodied_stack.motors.dynamixel import DynamixelBus

        bus = DynamixelBus(cfg.port, cfg.motors, cfg.baudrate, calibration, **cfg.bus_options)
    return bus, cfg


def make_feetech_arm(description: RobotDescription, settings: dict[str, Any]) -> BusServoArm:
    bus, cfg = make_bus("feetech", description, settings)
    return BusServoArm(description, bus, cfg.disable_torque_on_disconnect)


def make_dynamixel_arm(description: RobotDescription, settings: dict[str, Any]) -> BusServoArm:
    bus, cfg = make_bus("dynamixel", description, settings)
    return BusServoArm(description, bus, cfg.disable_torque_on_disconnect)
