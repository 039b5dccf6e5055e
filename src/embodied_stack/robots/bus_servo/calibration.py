"""Guided calibration and motor set-up of bus-servo arms (ROS-free; the CLI is a thin shell).

Calibration, as LeRobot users know it: torque off; the operator puts the arm in the middle of
its travel -> homing offsets are written so that pose reads mid-turn (0 rad); the operator
moves every joint through its whole range -> the range ends are recorded (full-turn joints
such as the wrist roll get the whole encoder). ``drive_mode`` 1 is set for the joints named
as inverted (a joint mounted mirror-wise to its leader moves the other way otherwise).

Motor set-up: servos ship with id 1 at a factory baud rate; each one is connected alone,
found, and given its id and the bus baud rate of the description.

Both take an :class:`Operator` (prompt / done) so the same procedure runs from a terminal,
a test, or a future GUI.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from embodied_stack.motors.bus import MotorBus, MotorBusError, MotorCalibration

#: joints that turn without end stops: their range is the whole encoder
FULL_TURN_JOINTS = ("wrist_roll",)
#: a joint must travel at least this far (ticks, ~9 deg) during range recording
MIN_TRAVEL_TICKS = 100


@dataclass
class Operator:
    """How a procedure talks to the person at the arm.

    ``wait(message)`` shows the message and returns when the operator is ready (Enter);
    ``start_recording(message)`` shows it and returns a callable that becomes True once the
    operator is done moving the joints; ``show(text)`` reports progress.
    """

    wait: Callable[[str], None]
    start_recording: Callable[[str], Callable[[], bool]]
    show: Callable[[str], None] = print


class CalibrationError(RuntimeError):
    """The recorded calibration is unusable; the message says which joint and what to redo."""


def calibrate_arm(bus: MotorBus, operator: Operator, inverted: Iterable[str] = (),
                  full_turn: Iterable[str] = FULL_TURN_JOINTS, poll_s: float = 0.02,
                  timeout_s: float = 600.0) -> dict[str, MotorCalibration]:
    """Run the procedure on a connected ``bus`` and return (and install) its calibration."""
    names = list(bus.motors)
    inverted, full_turn = set(inverted), set(full_turn)
    unknown = sorted((inverted | full_turn) - set(names) - set(FULL_TURN_JOINTS))
    if unknown:
        raise CalibrationError(f"unknown joints {unknown}; the arm's motors are {names}")
    bus.sync_write("Torque_Enable", dict.fromkeys(names, 0))
    _prepare_modes(bus, names)
    operator.wait("Move the arm to the MIDDLE of its range of motion (every joint half-way), "
                  "then press Enter")
    for n in names:
        bus.write_homing_offset(n, 0)
    present = bus.sync_read("Present_Position")
    offsets = {n: bus.homing_offset_for_middle(n, present[n]) for n in names}
    for n in names:
        bus.write_homing_offset(n, offsets[n])
    middle = bus.sync_read("Present_Position")
    lo, hi = dict(middle), dict(middle)
    done = operator.start_recording("Move EVERY joint through its whole range of motion; "
                                    "press Enter when done")
    end = time.monotonic() + timeout_s
    last_show = 0.0
    while not done():
        if time.monotonic() > end:
            raise CalibrationError(f"range recording did not finish within {timeout_s} s")
        pos = bus.sync_read("Present_Position")
        for n, v in pos.items():
            lo[n], hi[n] = min(lo[n], v), max(hi[n], v)
        if time.monotonic() - last_show > 0.5:
            last_show = time.monotonic()
            operator.show("  ".join(f"{n}: {lo[n]}..{hi[n]}" for n in names))
        time.sleep(poll_s)
    calibration = {}
    for n in names:
        motor = bus.motors[n]
        res = bus.resolution[motor.model]
        if n in full_turn:
            rmin, rmax = 0, res - 1
        else:
            rmin, rmax = lo[n], hi[n]
            if rmax - rmin < MIN_TRAVEL_TICKS:
                raise CalibrationError(f"joint '{n}' moved only {rmax - rmin} ticks during range recording; "
                                       "move every joint from one end of its travel to the other and re-run")
        calibration[n] = MotorCalibration(id=motor.id, drive_mode=int(n in inverted),
                                          homing_offset=offsets[n], range_min=int(rmin), range_max=int(rmax))
    bus.calibration.update(calibration)
    _write_limits(bus, calibration)
    return calibration


def _prepare_modes(bus: MotorBus, names: list[str]) -> None:
    """Position control on every motor. Dynamixel X-series arms use extended position mode (4):
    in plain position mode they ignore homing offsets beyond +-1024 ticks (LeRobot's Koch does
    the same); Feetech STS servos take position mode (0)."""
    kind = type(bus).__name__
    for n in names:
        if kind == "DynamixelBus":
            bus.write("Operating_Mode", n, 4)
        elif kind == "FeetechBus":
            bus.write("Operating_Mode", n, 0)


def _write_limits(bus: MotorBus, calibration: dict[str, MotorCalibration]) -> None:
    """The servos' own position limits, where the control table has them (a second safety layer
    below the driver's limits)."""
    for n, cal in calibration.items():
        try:
            bus.write("Min_Position_Limit", n, cal.range_min)
            bus.write("Max_Position_Limit", n, cal.range_max)
        except (KeyError, ValueError, MotorBusError):
            continue  # not every model/mode has writable limits; the driver's limits still apply


def setup_motor(bus: MotorBus, name: str, target_baudrate: int, baudrates: Iterable[int],
                ids: Iterable[int] = range(0, 16)) -> str:
    """Find the single servo on ``bus`` (any of ``baudrates``, any of ``ids``) and give it the id
    of motor ``name`` and ``target_baudrate``. Returns what was done, in words."""
    motor = bus.motors[name]
    found: list[tuple[int, int, str]] = []
    for baud in baudrates:
        bus.set_port_baudrate(baud)
        found = [(baud, i, m) for i, m in bus.scan_ids(ids).items()]
        if found:
            break
    if not found:
        raise MotorBusError(f"no servo answers on {bus.port} at {list(baudrates)} baud (ids {list(ids)}): "
                            "check power and that exactly one servo is connected")
    if len(found) > 1:
        raise MotorBusError(f"more than one servo answers on {bus.port}: {found}; connect only '{name}'")
    baud, current_id, model = found[0]
    if model != motor.model:
        raise MotorBusError(f"the connected servo is a {model}, but '{name}' is configured as a "
                            f"{motor.model}")
    if current_id != motor.id:
        bus.set_id(current_id, motor.id)
    if baud != target_baudrate:
        bus.set_baudrate(motor.id, target_baudrate)
    bus.set_port_baudrate(target_baudrate)
    if bus.ping(motor.id) != motor.model:
        raise MotorBusError(f"'{name}' does not answer at id {motor.id}, {target_baudrate} baud after set-up")
    return f"'{name}': {model} id {current_id} @ {baud} -> id {motor.id} @ {target_baudrate}"
