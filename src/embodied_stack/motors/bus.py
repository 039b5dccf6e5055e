"""A servo bus addressed by register *names*, with calibration in SI units (ROS-free).

Why one base class: Feetech (SO-100/101) and Dynamixel (Koch) arms differ only in
their wire protocol and control tables. Everything a user of the arm cares about --
which motor answers, retries on a noisy bus, calibration (drive mode, homing offset,
range), ticks <-> radians, error bits -- is the same code for both, like LeRobot's
``MotorsBus`` (``src/lerobot/motors/motors_bus.py``). A protocol subclass only
implements the ``_``-prefixed raw hooks with its vendor SDK.

Units: positions in rad (0 at the calibrated middle of the range), velocities in
rad/s; the gripper is an opening in [0, 1] between its calibrated range ends.
"""

from __future__ import annotations

import abc
import math
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml

T = TypeVar("T")


class MotorBusError(RuntimeError):
    """A bus or servo problem; the message names the port, motor and fix."""


class MotorTimeoutError(MotorBusError):
    """A servo did not answer (unpowered, unplugged, wrong id or baud rate)."""


class MotorChecksumError(MotorBusError):
    """A status packet arrived corrupted (checksum / CRC mismatch, bad header or length)."""


class MotorHardwareError(MotorBusError):
    """A servo answered with hardware error bits set (overload, over-current, overheat...)."""

    def __init__(self, message: str, motor: str, bits: int, names: list[str]) -> None:
        super().__init__(message)
        self.motor = motor
        self.bits = bits
        self.names = names


@dataclass(frozen=True)
class Motor:
    """One servo on the bus: its id and model name (key of the protocol's control tables)."""

    id: int
    model: str


@dataclass
class MotorCalibration:
    """Per-motor calibration, saved per arm under ``config/calibration/<arm>.yaml``.

    ``homing_offset`` (ticks) is written into the servo so the middle of the joint's
    travel reads half a turn (2048 ticks on 4096-count servos); ``range_min``/``range_max``
    (ticks, after the offset) are the travel recorded during calibration;
    ``drive_mode`` 1 inverts the direction (a joint built mirrored to its leader).
    """

    id: int
    drive_mode: int = 0
    homing_offset: int = 0
    range_min: int = 0
    range_max: int = 4095


@dataclass(frozen=True)
class HardwareStatus:
    """One servo's health for /diagnostics, read without raising on its error bits: the error
    ``bits`` (Feetech: status byte | Status register; Dynamixel: Hardware_Error_Status) and their
    ``names``, input voltage in V, temperature in deg C; ``answered`` False when it did not reply."""

    answered: bool
    bits: int = 0
    names: tuple[str, ...] = ()
    voltage_v: float | None = None
    temperature_c: float | None = None


@dataclass
class BusStats:
    """Counters reported on /diagnostics by the driver."""

    transactions: int = 0
    retries: int = 0
    timeouts: int = 0
    checksum_errors: int = 0
    hardware_errors: int = 0
    last_error: str = ""
    hardware_error_bits: dict[str, int] = field(default_factory=dict)  # motor -> last non-zero bits


def save_calibration(path: str | Path, calibration: dict[str, MotorCalibration]) -> None:
    """Write ``{motor name: calibration}`` as YAML (the per-arm file under config/)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {name: asdict(c) for name, c in calibration.items()}
    path.write_text("# written by `embodied-stack motors calibrate`; ticks of the servo's encoder\n"
                    + yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def load_calibration(path: str | Path) -> dict[str, MotorCalibration]:
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no calibration at {path}: run `embodied-stack motors calibrate` first")
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    try:
        return {name: MotorCalibration(**values) for name, values in data.items()}
    except TypeError as e:
        raise ValueError(f"{path}: invalid calibration entry ({e}); re-run the calibration") from e


class MotorBus(abc.ABC):
    """A serial bus of servos of one protocol.

    Public methods add the connection guard, retries and counters; subclasses implement
    the raw hooks. Register names are the protocol's control-table names (LeRobot's,
    e.g. ``Goal_Position``, ``Present_Position``, ``Torque_Enable``, ``Homing_Offset``).
    """

    #: encoder counts per turn, by model
    resolution: dict[str, int] = {}
    #: hardware error bit -> name, for messages and diagnostics
    error_bits: dict[int, str] = {}

    def __init__(self, port: str, motors: dict[str, Motor], baudrate: int,
                 calibration: dict[str, MotorCalibration] | None = None, retries: int = 2) -> None:
        self.port = port
        self.motors = dict(motors)
        self.baudrate = baudrate
        self.calibration = dict(calibration or {})
        self.retries = retries
        self.stats = BusStats()
        self._connected = False

    # --- lifecycle ---------------------------------------------------------------------
    @property
    def is_connected(self) -> bool:
        return self._connected

    def connect(self, handshake: bool = True) -> None:
        """Open the port; with ``handshake`` every configured motor must answer a ping with
        its configured model, else :class:`MotorBusError` says which id is missing and what
        answered instead (wrong ids, wrong baud rate)."""
        if self._connected:
            return
        self._open()
        self._connected = True
        if handshake:
            try:
                self._handshake()
            except Exception:
                self.disconnect()
                raise

    def disconnect(self) -> None:
        if self._connected:
            self._connected = False
            self._close()

    def _handshake(self) -> None:
        missing, wrong = [], []
        for name, motor in self.motors.items():
            found = self.ping(motor.id)
            if found is None:
                missing.append(f"'{name}' (id {motor.id})")
            elif found != motor.model:
                wrong.append(f"'{name}' (id {motor.id}) is a {found}, expected {motor.model}")
        if missing or wrong:
            present = self.scan_ids()
            raise MotorBusError(
                f"on {self.port} at {self.baudrate} baud: "
                + "; ".join(([f"no answer from {', '.join(missing)}"] if missing else []) + wrong)
                + f"; ids that answer: {present}. Check power and cables, or give each motor its id "
                  "with `embodied-stack motors setup`")

    # --- raw access with retries ---------------------------------------------------------
    def _transact(self, what: str, fn: Callable[[], T]) -> T:
        if not self._connected:
            raise MotorBusError(f"{what} on {self.port} before connect(): call bus.connect() first")
        last: MotorBusError | None = None
        for attempt in range(self.retries + 1):
            self.stats.transactions += 1
            if attempt:
                self.stats.retries += 1
            try:
                return fn()
            except MotorTimeoutError as e:
                self.stats.timeouts += 1
                last = e
            except MotorChecksumError as e:
                self.stats.checksum_errors += 1
                last = e
            except MotorHardwareError as e:
                self.stats.hardware_errors += 1
                self.stats.hardware_error_bits[e.motor] = e.bits
                self.stats.last_error = str(e)
                raise
        assert last is not None
        self.stats.last_error = str(last)
        raise type(last)(f"{what}: {last} (after {self.retries + 1} attempts)")

    def ping(self, motor_id: int) -> str | None:
        """The model name of the servo answering at ``motor_id``, or None."""
        if not self._connected:
            raise MotorBusError(f"ping on {self.port} before connect()")
        return self._ping(motor_id)

    def scan_ids(self, ids: Iterable[int] = range(0, 20)) -> dict[int, str]:
        """Ids that answer a ping (with their model), for messages and set-up."""
        return {i: m for i in ids if (m := self.ping(i)) is not None}

    def read(self, register: str, motor: str) -> int:
        m = self.motors[motor]
        return self._transact(f"read {register} of '{motor}'", lambda: self._read(register, m.id, m.model))

    def write(self, register: str, motor: str, value: int) -> None:
        m = self.motors[motor]
        self._transact(f"write {register} of '{motor}'", lambda: self._write(register, m.id, m.model, value))

    def sync_read(self, register: str, motors: Iterable[str] | None = None) -> dict[str, int]:
        names = list(motors or self.motors)
        ids = {self.motors[n].id: n for n in names}
        model = self.motors[names[0]].model
        raw = self._transact(f"sync_read {register}", lambda: self._sync_read(register, list(ids), model))
        return {ids[i]: v for i, v in raw.items()}

    def sync_write(self, register: str, values: dict[str, int]) -> None:
        by_id = {self.motors[n].id: int(v) for n, v in values.items()}
        model = self.motors[next(iter(values))].model
        self._transact(f"sync_write {register}", lambda: self._sync_write(register, by_id, model))

    # --- calibrated units ----------------------------------------------------------------
    def ticks_per_rad(self, motor: str) -> float:
        return self.resolution[self.motors[motor].model] / (2 * math.pi)

    def to_radians(self, motor: str, ticks: int) -> float:
        """Ticks (after the servo applied its homing offset) -> rad, 0 at mid-turn."""
        res = self.resolution[self.motors[motor].model]
        rad = (ticks - res // 2) / self.ticks_per_rad(motor)
        return -rad if self._cal(motor).drive_mode else rad

    def to_ticks(self, motor: str, rad: float) -> int:
        res = self.resolution[self.motors[motor].model]
        if self._cal(motor).drive_mode:
            rad = -rad
        return int(round(rad * self.ticks_per_rad(motor) + res // 2))

    def _cal(self, motor: str) -> MotorCalibration:
        try:
            return self.calibration[motor]
        except KeyError:
            raise MotorBusError(f"motor '{motor}' on {self.port} has no calibration: run "
                                "`embodied-stack motors calibrate`") from None

    # --- hooks ------------------------------------------------------------------------------
    @abc.abstractmethod
    def _open(self) -> None: ...

    @abc.abstractmethod
    def _close(self) -> None: ...

    @abc.abstractmethod
    def _ping(self, motor_id: int) -> str | None: ...

    @abc.abstractmethod
    def _read(self, register: str, motor_id: int, model: str) -> int: ...

    @abc.abstractmethod
    def _write(self, register: str, motor_id: int, model: str, value: int) -> None: ...

    @abc.abstractmethod
    def _sync_read(self, register: str, ids: list[int], model: str) -> dict[int, int]: ...

    @abc.abstractmethod
    def _sync_write(self, register: str, values: dict[int, int], model: str) -> None: ...

    def describe(self) -> dict[str, Any]:
        motors = {n: asdict(m) for n, m in self.motors.items()}
        return {"port": self.port, "baudrate": self.baudrate, "motors": motors}
