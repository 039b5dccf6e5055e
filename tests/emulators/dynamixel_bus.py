"""A Dynamixel Protocol 2.0 servo bus behind a pseudo-terminal, byte-exact, for tests.

Why a pty and not a mocked SDK: the code under test (``DynamixelBus`` and, in the driver
tests, a driver node in another process) opens ``emu.port`` with the real ``dynamixel_sdk``
and pyserial exactly as it opens ``/dev/ttyUSB0``, so packet framing, CRC, byte stuffing,
timeouts and port re-opening are all exercised for real. ``emu.port`` is a symlink (like
``/dev/serial/by-id/...``) to the pty's slave, stable across :meth:`unplug` / :meth:`replug`.

Reproduced (from the Protocol 2.0 / X-series e-manual, the SDK sources and LeRobot's mocks):

* packets ``FF FF FD 00 | ID | LEN_L LEN_H | INSTR | params | CRC_L CRC_H``, LEN = params + 3,
  CRC-16 (polynomial 0x8005) over everything before the CRC, byte stuffing
  ``FF FF FD -> FF FF FD FD`` in both directions (the CRC covers the stuffed bytes). Received
  packets whose body holds an *unstuffed* FF FF FD are accepted too (counted in
  ``stats.unstuffed_pattern_received``): dynamixel_sdk 4.1.0's Python ``txPacket`` never stuffs
  (its ``addStuffing`` rebinds a local list), and the packet still has a valid LEN and CRC;
  status packets ``INSTR 0x55`` + error byte (alert bit 0x80 while Hardware_Error_Status != 0);
* PING (model number + firmware; broadcast: every servo answers, in id order), READ, WRITE,
  REG_WRITE / ACTION, REBOOT, SYNC_READ 0x82 (one status packet per listed servo, in the listed
  order), SYNC_WRITE 0x83 (no reply); broadcast id 0xFE gets no reply except PING;
  other instructions answer "instruction error";
* a packet with a bad CRC gets no reply, and the receiver resynchronises on the next header
  inside it; a partial packet is dropped after 50 ms of silence, like the servo's packet
  timeout, so a client killed mid-write does not poison the next one;
* the control table (little-endian, two's complement) with X-series defaults; errors:
  data length (partial register), access (read-only register, undefined address, EEPROM write
  with torque on), data range (ID, Baud_Rate, Torque_Enable, Operating_Mode, Homing_Offset),
  data limit (Goal_Position outside Min/Max_Position_Limit in Position Control Mode);
* ``Present = Actual + Homing_Offset`` (offsets beyond +-1024 ignored in Position Control Mode),
  Drive_Mode bit 0 (reverse: the encoder counts the other way); Present_Position is multi-turn
  with torque off and wrapped into one turn when torque is enabled in Position Control Mode;
  enabling torque sets Goal_Position to Present_Position, so the joint holds where it is (what
  users report of X-series firmware, ROBOTIS forum thread 7814; the e-manual is silent);
* dynamics: with torque on, Present_Position moves toward Goal_Position at Profile_Velocity
  (or Velocity_Limit), capped at the model's no-load speed, computed from elapsed time;
  Present_Velocity and Moving follow. With torque off it stays where the test puts it
  (:meth:`set_actual_position`: a hand moving a leader arm);
* ID and Baud_Rate writes take effect after the reply (the reply goes out at the old rate);
  each servo only hears packets sent at its own baud rate (read from the pty's termios);
  two servos sharing an id answer at once and garble each other (a CRC error for the client);
* Status_Return_Level (0: PING only, 1: + READ, 2: all) and REBOOT (RAM defaults, torque off,
  hardware error cleared).

Not reproduced: wire timing (Return_Delay_Time, transfer time at the baud rate), current /
velocity / PWM control (those modes keep the position), BULK_READ/WRITE, FAST_SYNC_READ,
FACTORY_RESET, CLEAR, indirect addresses, persistence of EEPROM across emulator instances.

Fault injection: :meth:`silence` (a servo stops answering), :meth:`corrupt_next_replies`,
:meth:`set_hardware_error` (alert bit + Hardware_Error_Status, torque off),
:meth:`override_reading` (out-of-range readings), :meth:`power_off` / :meth:`power_on`
(servo supply), :meth:`unplug` / :meth:`replug` (the USB adapter disappears: the port path
vanishes and open clients get I/O errors).

Usage::

    with DynamixelBusEmulator({1: "xl430-w250", 6: "xl330-m288"}) as emu:
        bus = DynamixelBus(emu.port, ...)
"""

from __future__ import annotations

import collections
import contextlib
import math
import os
import select
import shutil
import tempfile
import termios
import threading
import time
import tty
from collections.abc import Callable
from dataclasses import dataclass, field

HEADER = b"\xff\xff\xfd\x00"
BROADCAST = 0xFE
STATUS = 0x55
PING, READ, WRITE, REG_WRITE, ACTION, REBOOT = 0x01, 0x02, 0x03, 0x04, 0x05, 0x08
SYNC_READ, SYNC_WRITE = 0x82, 0x83
ERR_INSTRUCTION, ERR_DATA_RANGE, ERR_DATA_LENGTH, ERR_DATA_LIMIT, ERR_ACCESS = 2, 4, 5, 6, 7
ALERT = 0x80
OVERLOAD = 0x20
PARTIAL_PACKET_TIMEOUT_S = 0.05
MAX_PACKET_LENGTH = 1024  # the SDK's TXPACKET_MAX_LEN: a longer LEN field is noise, not a packet
TABLE_SIZE = 256
RESOLUTION = 4096
RPM_PER_UNIT = 0.229  # velocity registers' unit
BAUD_CODES = {9_600: 0, 57_600: 1, 115_200: 2, 1_000_000: 3, 2_000_000: 4, 3_000_000: 5, 4_000_000: 6}
# termios speed constant -> baud, for the rates Linux names (B1000000...)
_TERMIOS_BAUD = {getattr(termios, f"B{b}"): b for b in BAUD_CODES if hasattr(termios, f"B{b}")}


def _crc_table() -> list[int]:
    table = []
    for i in range(256):
        crc = i << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x8005) if crc & 0x8000 else crc << 1
        table.append(crc & 0xFFFF)
    return table


_CRC_TABLE = _crc_table()


def crc16(data: bytes) -> int:
    """CRC-16/BUYPASS (polynomial 0x8005, init 0, no reflection), as Protocol 2.0 uses."""
    crc = 0
    for byte in data:
        crc = ((crc << 8) ^ _CRC_TABLE[((crc >> 8) ^ byte) & 0xFF]) & 0xFFFF
    return crc


def stuff(body: bytes) -> bytes:
    """Insert 0xFD after every FF FF FD in the body (instruction/error + params), so it never
    looks like a header. The preceding header bytes do not count: the SDK starts at INSTR."""
    out = bytearray()
    for b in body:
        out.append(b)
        if b == 0xFD and len(out) >= 3 and out[-3] == 0xFF and out[-2] == 0xFF:
            out.append(0xFD)
    return bytes(out)


def unstuff(body: bytes) -> bytes:
    out = bytearray()
    i = 0
    while i < len(body):
        out.append(body[i])
        if body[i] == 0xFD and i >= 2 and body[i - 2] == 0xFF and body[i - 1] == 0xFF \
                and i + 1 < len(body) and body[i + 1] == 0xFD:
            i += 1  # skip the stuffing byte
        i += 1
    return bytes(out)


def build_packet(servo_id: int, instruction: int, params: bytes) -> bytes:
    """A complete packet (instruction or status): stuffing, length and CRC included."""
    body = stuff(bytes([instruction]) + params)
    head = HEADER + bytes([servo_id]) + (len(body) + 2).to_bytes(2, "little")
    crc = crc16(head + body)
    return head + body + crc.to_bytes(2, "little")


def build_status(servo_id: int, error: int, params: bytes = b"") -> bytes:
    return build_packet(servo_id, STATUS, bytes([error]) + params)


@dataclass(frozen=True)
class _Reg:
    address: int
    size: int
    signed: bool = False
    writable: bool = True


# Our own copy of the X-series table (not imported from embodied_stack): the emulator is the
# independent reference a wrong address in the code under test must disagree with.
REGISTERS: dict[str, _Reg] = {
    "Model_Number": _Reg(0, 2, writable=False), "Model_Information": _Reg(2, 4, writable=False),
    "Firmware_Version": _Reg(6, 1, writable=False), "ID": _Reg(7, 1), "Baud_Rate": _Reg(8, 1),
    "Return_Delay_Time": _Reg(9, 1), "Drive_Mode": _Reg(10, 1), "Operating_Mode": _Reg(11, 1),
    "Secondary_ID": _Reg(12, 1), "Protocol_Type": _Reg(13, 1), "Homing_Offset": _Reg(20, 4, True),
    "Moving_Threshold": _Reg(24, 4), "Temperature_Limit": _Reg(31, 1), "Max_Voltage_Limit": _Reg(32, 2),
    "Min_Voltage_Limit": _Reg(34, 2), "PWM_Limit": _Reg(36, 2), "Current_Limit": _Reg(38, 2),
    "Acceleration_Limit": _Reg(40, 4), "Velocity_Limit": _Reg(44, 4), "Max_Position_Limit": _Reg(48, 4),
    "Min_Position_Limit": _Reg(52, 4), "Shutdown": _Reg(63, 1),
    "Torque_Enable": _Reg(64, 1), "LED": _Reg(65, 1), "Status_Return_Level": _Reg(68, 1),
    "Registered_Instruction": _Reg(69, 1, writable=False),
    "Hardware_Error_Status": _Reg(70, 1, writable=False),
    "Velocity_I_Gain": _Reg(76, 2), "Velocity_P_Gain": _Reg(78, 2), "Position_D_Gain": _Reg(80, 2),
    "Position_I_Gain": _Reg(82, 2), "Position_P_Gain": _Reg(84, 2), "Feedforward_2nd_Gain": _Reg(88, 2),
    "Feedforward_1st_Gain": _Reg(90, 2), "Bus_Watchdog": _Reg(98, 1, True), "Goal_PWM": _Reg(100, 2, True),
    "Goal_Current": _Reg(102, 2, True), "Goal_Velocity": _Reg(104, 4, True),
    "Profile_Acceleration": _Reg(108, 4), "Profile_Velocity": _Reg(112, 4),
    "Goal_Position": _Reg(116, 4, True),
    "Realtime_Tick": _Reg(120, 2, writable=False), "Moving": _Reg(122, 1, writable=False),
    "Moving_Status": _Reg(123, 1, writable=False), "Present_PWM": _Reg(124, 2, True, False),
    "Present_Current": _Reg(126, 2, True, False), "Present_Velocity": _Reg(128, 4, True, False),
    "Present_Position": _Reg(132, 4, True, False), "Velocity_Trajectory": _Reg(136, 4, True, False),
    "Position_Trajectory": _Reg(140, 4, True, False), "Present_Input_Voltage": _Reg(144, 2, writable=False),
    "Present_Temperature": _Reg(146, 1, writable=False),
}
_BY_ADDRESS = {r.address: (name, r) for name, r in REGISTERS.items()}


@dataclass(frozen=True)
class ModelSpec:
    """What differs between the X-series models the emulator knows (approximate e-manual values)."""

    number: int
    no_load_rpm: float
    voltage: int  # Present_Input_Voltage, 0.1 V
    velocity_limit: int  # 0.229 rpm
    operating_modes: tuple[int, ...]
    temperature_limit: int = 72


MODELS: dict[str, ModelSpec] = {
    "xl330-m077": ModelSpec(1190, 383.0, 50, 1620, (0, 1, 3, 4, 5, 16), 70),
    "xl330-m288": ModelSpec(1200, 103.0, 50, 445, (0, 1, 3, 4, 5, 16), 70),
    "xl430-w250": ModelSpec(1060, 57.0, 120, 265, (1, 3, 4, 16)),
    "xm430-w350": ModelSpec(1020, 46.0, 120, 200, (0, 1, 3, 4, 5, 16), 80),
    "xm430-w210": ModelSpec(1030, 77.0, 120, 330, (0, 1, 3, 4, 5, 16), 80),
    "xm540-w270": ModelSpec(1120, 30.0, 120, 128, (0, 1, 3, 4, 5, 16), 80),
    "xc430-w150": ModelSpec(1070, 106.0, 120, 460, (1, 3, 4, 16), 80),
}


class _Servo:
    """One servo: its control table, its shaft (``actual``, encoder ticks, multi-turn) and faults."""

    def __init__(self, servo_id: int, model: str, baud_code: int, firmware: int, actual: float, now: float):
        if model not in MODELS:
            raise ValueError(f"servo {servo_id}: unknown model '{model}'; known: {sorted(MODELS)}")
        self.model = model
        self.spec = MODELS[model]
        self.table = bytearray(TABLE_SIZE)
        self.firmware = firmware
        self.actual = float(actual)
        self.t = now
        self.silent = False
        self.registered: tuple[int, bytes] | None = None
        self.overrides: dict[str, int] = {}
        self._eeprom_defaults(servo_id, baud_code)
        self.ram_defaults()

    # --- registers ---------------------------------------------------------------------------
    def get(self, name: str) -> int:
        r = REGISTERS[name]
        return int.from_bytes(self.table[r.address:r.address + r.size], "little", signed=r.signed)

    def set(self, name: str, value: int) -> None:
        r = REGISTERS[name]
        bits = 8 * r.size
        self.table[r.address:r.address + r.size] = (int(value) & ((1 << bits) - 1)).to_bytes(r.size, "little")

    @property
    def id(self) -> int:
        return self.get("ID")

    def _eeprom_defaults(self, servo_id: int, baud_code: int) -> None:
        s = self.spec
        for name, value in {
            "Model_Number": s.number, "Firmware_Version": self.firmware, "ID": servo_id,
            "Baud_Rate": baud_code,
            "Return_Delay_Time": 250, "Drive_Mode": 0, "Operating_Mode": 3, "Secondary_ID": 255,
            "Protocol_Type": 2, "Homing_Offset": 0, "Moving_Threshold": 10,
            "Temperature_Limit": s.temperature_limit, "Max_Voltage_Limit": 140 if s.voltage > 60 else 70,
            "Min_Voltage_Limit": 60 if s.voltage > 60 else 35, "PWM_Limit": 885, "Current_Limit": 1750,
            "Acceleration_Limit": 32767, "Velocity_Limit": s.velocity_limit, "Max_Position_Limit": 4095,
            "Min_Position_Limit": 0, "Shutdown": 52,
        }.items():
            self.set(name, value)

    def ram_defaults(self) -> None:
        """Power-on state of the RAM area (REBOOT, power cycle): torque off, errors cleared."""
        self.table[64:] = bytes(TABLE_SIZE - 64)
        self.set("Status_Return_Level", 2)
        self.set("Velocity_I_Gain", 1000)
        self.set("Velocity_P_Gain", 100)
        self.set("Position_P_Gain", 800)
        self.set("Goal_PWM", self.get("PWM_Limit"))
        self.set("Goal_Current", self.get("Current_Limit"))
        self.set("Present_Input_Voltage", self.spec.voltage)
        self.set("Present_Temperature", 28)
        self.registered = None
        self.actual = self._wrapped(self.actual)  # the encoder is read as one turn at power-on
        self.set("Goal_Position", self.present())

    # --- kinematics ----------------------------------------------------------------------------
    def _direction(self) -> int:
        return -1 if self.get("Drive_Mode") & 0x01 else 1

    def _offset(self) -> int:
        offset = self.get("Homing_Offset")
        if self.get("Operating_Mode") == 3 and abs(offset) > 1024:
            return 0  # e-manual: ignored in Position Control Mode
        return offset

    def present(self) -> int:
        return int(round(self._direction() * self.actual)) + self._offset()

    def actual_for(self, present: int) -> float:
        return float(self._direction() * (present - self._offset()))

    def _wrapped(self, actual: float) -> float:
        """Actual position such that the direction-applied reading lies within one turn."""
        d = self._direction()
        return d * ((d * actual) % RESOLUTION)

    def _speed(self) -> float:
        """Ticks per second toward the goal: the profile velocity, capped by the limit and the motor."""
        limit = min(self.get("Velocity_Limit") or self.spec.velocity_limit,
                    self.spec.no_load_rpm / RPM_PER_UNIT)
        profile = self.get("Profile_Velocity")
        units = min(profile, limit) if profile > 0 else limit
        return units * RPM_PER_UNIT / 60.0 * RESOLUTION

    def step(self, now: float) -> None:
        """Advance the shaft to ``now`` and refresh the Present_* registers."""
        dt = max(0.0, now - self.t)
        self.t = now
        velocity = 0.0
        target = self.actual
        if self.get("Torque_Enable") and self.get("Operating_Mode") in (3, 4, 5):
            target = self.actual_for(self.get("Goal_Position"))
            delta = target - self.actual
            speed = self._speed()
            move = min(abs(delta), speed * dt)
            self.actual += math.copysign(move, delta)
            if abs(target - self.actual) > 0.5:
                velocity = math.copysign(speed, delta) * self._direction()
        units = velocity * 60.0 / RESOLUTION / RPM_PER_UNIT
        self.set("Present_Velocity", int(round(units)))
        self.set("Velocity_Trajectory", int(round(units)))
        self.set("Moving", int(abs(target - self.actual) > 0.5))
        self.set("Moving_Status", int(abs(target - self.actual) <= 0.5))
        self.set("Present_Position", self.present())
        self.set("Position_Trajectory", self.present())
        self.set("Realtime_Tick", int(now * 1000) % 32768)

    def read(self, address: int, length: int) -> bytes:
        data = bytearray(self.table[address:address + length])
        data += bytes(length - len(data))
        for name, value in self.overrides.items():
            r = REGISTERS[name]
            raw = (value & ((1 << 8 * r.size) - 1)).to_bytes(r.size, "little")
            for i, b in enumerate(raw):
                if address <= r.address + i < address + length:
                    data[r.address + i - address] = b
        return bytes(data)

    # --- writes ----------------------------------------------------------------------------------
    def check_write(self, address: int, data: bytes) -> tuple[int, list[tuple[str, int]]]:
        """(error code, [(register, value)]) for a WRITE; nothing is applied when the code is not 0."""
        values: list[tuple[str, int]] = []
        a = address
        end = address + len(data)
        while a < end:
            if a not in _BY_ADDRESS:
                return ERR_ACCESS, []
            name, r = _BY_ADDRESS[a]
            if a + r.size > end:
                return ERR_DATA_LENGTH, []
            if not r.writable or (r.address < 64 and self.get("Torque_Enable")):
                return ERR_ACCESS, []
            raw = data[a - address:a - address + r.size]
            values.append((name, int.from_bytes(raw, "little", signed=r.signed)))
            a += r.size
        for name, value in values:
            code = self._check_value(name, value, dict(values))
            if code:
                return code, []
        return 0, values

    def _check_value(self, name: str, value: int, batch: dict[str, int]) -> int:
        if name == "ID" and not 0 <= value <= 252:
            return ERR_DATA_RANGE
        if name == "Baud_Rate" and value not in BAUD_CODES.values():
            return ERR_DATA_RANGE
        if name == "Torque_Enable" and value not in (0, 1):
            return ERR_DATA_RANGE
        if name == "Operating_Mode" and value not in self.spec.operating_modes:
            return ERR_DATA_RANGE
        if name == "Homing_Offset" and abs(value) > 1_044_479:
            return ERR_DATA_RANGE
        if name == "Goal_Position":
            mode = batch.get("Operating_Mode", self.get("Operating_Mode"))
            if mode == 3 and not self.get("Min_Position_Limit") <= value <= self.get("Max_Position_Limit"):
                return ERR_DATA_LIMIT
            if abs(value) > 1_048_575:
                return ERR_DATA_RANGE
        return 0

    def apply(self, values: list[tuple[str, int]], now: float) -> None:
        """Apply checked register values; ID and Baud_Rate are applied by the caller after the reply."""
        self.step(now)
        for name, value in values:
            if name in ("ID", "Baud_Rate"):
                continue
            if name == "Torque_Enable":
                if value and self.get("Hardware_Error_Status") & self.get("Shutdown"):
                    continue  # a latched shutdown error keeps the torque off until reboot
                if value and not self.get("Torque_Enable"):
                    if self.get("Operating_Mode") == 3:
                        self.actual = self._wrapped(self.actual)
                    self.set("Goal_Position", self.present())  # hold where it is, no jump
            self.set(name, value)  # Homing_Offset / Drive_Mode: the shaft stays, the reading changes
            if name == "Operating_Mode" and value == 3:
                self.actual = self._wrapped(self.actual)
        self.step(now)


@dataclass
class EmulatorStats:
    """What crossed the wire, for tests that check the framing itself."""

    packets_received: int = 0
    crc_errors_received: int = 0
    stuffed_received: int = 0
    unstuffed_pattern_received: int = 0  # FF FF FD in a body that was not stuffed (see module doc)
    statuses_sent: int = 0
    stuffed_sent: int = 0
    instructions: collections.Counter = field(default_factory=collections.Counter)


class DynamixelBusEmulator:
    """Servos on a Protocol 2.0 bus, served on a pty by a background thread.

    Args:
        servos: ``{id: model}`` (models: :data:`MODELS`).
        baudrate: the rate every servo starts at (their Baud_Rate register).
        firmware_version: what PING and Firmware_Version report.
        positions: initial encoder ticks per id (default 2048, mid-turn).
    """

    def __init__(self, servos: dict[int, str], baudrate: int = 1_000_000, firmware_version: int = 52,
                 positions: dict[int, int] | None = None) -> None:
        if baudrate not in BAUD_CODES:
            raise ValueError(f"baudrate {baudrate}: X-series servos run at one of {sorted(BAUD_CODES)}")
        now = time.monotonic()
        positions = positions or {}
        self._servos = [_Servo(i, m, BAUD_CODES[baudrate], firmware_version, positions.get(i, 2048), now)
                        for i, m in sorted(servos.items())]
        self.stats = EmulatorStats()
        #: exceptions raised while handling a packet (a bug in the emulator); tests may assert it is empty
        self.errors: list[str] = []
        self._lock = threading.RLock()
        self._corrupt = 0
        self._powered = True
        self._dir = tempfile.mkdtemp(prefix="dxl_emu_")
        self.port = os.path.join(self._dir, "ttyDXL0")
        self._master: int | None = None
        self._slave: int | None = None
        self._buf = bytearray()
        self._last_rx = 0.0
        self._wake_r, self._wake_w = os.pipe()
        self._commands: collections.deque[tuple[Callable[[], None], threading.Event]] = collections.deque()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- lifecycle ------------------------------------------------------------------------------
    def start(self) -> DynamixelBusEmulator:
        self._plug()
        self._thread = threading.Thread(target=self._loop, name="dynamixel-emulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, close the pty (clients still holding it get I/O errors), remove the port."""
        if self._stop.is_set():
            return
        self._stop.set()
        if self._thread is not None:
            os.write(self._wake_w, b"x")
            self._thread.join(timeout=5.0)
            self._thread = None
        self._unplug()
        for fd in (self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                os.close(fd)
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> DynamixelBusEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def pty_path(self) -> str | None:
        """The pty slave the port symlink points at (None while unplugged)."""
        return os.ttyname(self._slave) if self._slave is not None else None

    # --- test API: state -----------------------------------------------------------------------------
    def _servo(self, servo_id: int) -> _Servo:
        for s in self._servos:
            if s.id == servo_id:
                return s
        raise KeyError(f"no emulated servo with id {servo_id}; ids: {self.servo_ids}")

    @property
    def servo_ids(self) -> list[int]:
        with self._lock:
            return sorted(s.id for s in self._servos)

    def model(self, servo_id: int) -> str:
        with self._lock:
            return self._servo(servo_id).model

    def register(self, servo_id: int, name: str) -> int:
        """A register's value as the servo holds it now (dynamics advanced, overrides ignored)."""
        with self._lock:
            s = self._servo(servo_id)
            s.step(time.monotonic())
            return s.get(name)

    def set_register(self, servo_id: int, name: str, value: int) -> None:
        """Poke a register directly (bypassing access rules), e.g. a servo configured earlier."""
        with self._lock:
            s = self._servo(servo_id)
            s.step(time.monotonic())
            s.set(name, value)
            s.step(time.monotonic())

    def set_actual_position(self, servo_id: int, ticks: float) -> None:
        """Move the shaft by hand to ``ticks`` of the encoder (before direction and offset)."""
        with self._lock:
            s = self._servo(servo_id)
            s.step(time.monotonic())
            s.actual = float(ticks)
            s.step(time.monotonic())

    def actual_position(self, servo_id: int) -> float:
        with self._lock:
            s = self._servo(servo_id)
            s.step(time.monotonic())
            return s.actual

    def baudrate(self, servo_id: int) -> int:
        with self._lock:
            code = self._servo(servo_id).get("Baud_Rate")
        return next(b for b, c in BAUD_CODES.items() if c == code)

    # --- test API: faults ------------------------------------------------------------------------------
    def silence(self, servo_id: int, silent: bool = True) -> None:
        """The servo stops answering (cut wire, dead board) until ``silence(id, False)``."""
        with self._lock:
            self._servo(servo_id).silent = silent

    def corrupt_next_replies(self, n: int) -> None:
        """Flip a bit of the CRC of the next ``n`` status packets (each servo's reply counts)."""
        with self._lock:
            self._corrupt = int(n)

    def set_hardware_error(self, servo_id: int, bits: int = OVERLOAD) -> None:
        """Latch Hardware_Error_Status ``bits`` (default overload): alert bit in every status
        packet; bits listed in the Shutdown register (default: overheating, electrical shock,
        overload) switch the torque off and keep it off until REBOOT or :meth:`clear_hardware_error`."""
        with self._lock:
            s = self._servo(servo_id)
            s.step(time.monotonic())
            s.set("Hardware_Error_Status", bits)
            if bits & s.get("Shutdown"):
                s.set("Torque_Enable", 0)

    def clear_hardware_error(self, servo_id: int) -> None:
        with self._lock:
            self._servo(servo_id).set("Hardware_Error_Status", 0)

    def override_reading(self, servo_id: int, name: str, value: int | None) -> None:
        """Make reads of register ``name`` return ``value`` (e.g. out of range); None clears it."""
        if name not in REGISTERS:
            raise KeyError(f"unknown register '{name}'")
        with self._lock:
            s = self._servo(servo_id)
            if value is None:
                s.overrides.pop(name, None)
            else:
                s.overrides[name] = int(value)

    def power_off(self) -> None:
        """Servo supply off: the adapter stays, nobody answers."""
        with self._lock:
            self._powered = False

    def power_on(self) -> None:
        """Servo supply back: every servo boots (RAM defaults, torque off, errors cleared)."""
        with self._lock:
            now = time.monotonic()
            for s in self._servos:
                s.step(now)
                s.ram_defaults()
                s.step(now)
            self._powered = True

    def unplug(self) -> None:
        """The USB adapter disappears: the port path vanishes, open clients get I/O errors."""
        self._in_loop(self._unplug)

    def replug(self) -> None:
        """The adapter comes back at the same path (a new pty behind the symlink)."""
        self._in_loop(self._plug)

    # --- pty plumbing ---------------------------------------------------------------------------
    def _plug(self) -> None:
        if self._master is not None:
            return
        master, slave = os.openpty()
        tty.setraw(slave)  # no echo, no CR/LF translation until a client configures the port
        os.set_blocking(master, False)
        self._master, self._slave = master, slave
        self._buf.clear()
        tmp = self.port + ".tmp"
        if os.path.lexists(tmp):
            os.unlink(tmp)
        os.symlink(os.ttyname(slave), tmp)
        os.replace(tmp, self.port)

    def _unplug(self) -> None:
        if os.path.lexists(self.port):
            os.unlink(self.port)
        for fd in (self._master, self._slave):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._master = self._slave = None

    def _in_loop(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` on the emulator thread (fds are only touched there) and wait for it."""
        if self._thread is None:
            fn()
            return
        done = threading.Event()
        self._commands.append((fn, done))
        os.write(self._wake_w, b"x")
        if not done.wait(5.0):
            raise TimeoutError("the emulator thread did not run the command within 5 s")

    def _line_baud(self) -> int | None:
        try:
            attrs = termios.tcgetattr(self._master)
        except (termios.error, TypeError):
            return None
        return _TERMIOS_BAUD.get(attrs[5])

    def _loop(self) -> None:
        while not self._stop.is_set():
            fds = [self._wake_r] + ([self._master] if self._master is not None else [])
            try:
                ready, _, _ = select.select(fds, [], [], 0.2)
            except (OSError, ValueError):
                continue
            if self._wake_r in ready:
                os.read(self._wake_r, 4096)
                while self._commands:
                    fn, done = self._commands.popleft()
                    fn()
                    done.set()
                continue
            if self._master is not None and self._master in ready:
                try:
                    data = os.read(self._master, 4096)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:  # EIO: no slave open (cannot happen while we hold one)
                    time.sleep(0.01)
                    continue
                self._receive(data)

    def _send(self, data: bytes) -> None:
        if self._master is None or not data:
            return
        with contextlib.suppress(OSError):  # the client side is full or gone: bytes lost, as on a wire
            os.write(self._master, data)

    # --- protocol -------------------------------------------------------------------------------------
    def _receive(self, data: bytes) -> None:
        now = time.monotonic()
        if self._buf and now - self._last_rx > PARTIAL_PACKET_TIMEOUT_S:
            self._buf.clear()  # a stale partial packet (client killed mid-write)
        self._last_rx = now
        self._buf += data
        while True:
            start = self._buf.find(HEADER)
            if start < 0:
                del self._buf[:max(0, len(self._buf) - 3)]
                return
            del self._buf[:start]
            if len(self._buf) < 7:
                return
            length = int.from_bytes(self._buf[5:7], "little")
            if not 3 <= length <= MAX_PACKET_LENGTH:
                del self._buf[:1]
                continue
            if len(self._buf) < 7 + length:
                return
            packet = bytes(self._buf[:7 + length])
            self.stats.packets_received += 1
            if crc16(packet[:-2]) != int.from_bytes(packet[-2:], "little"):
                self.stats.crc_errors_received += 1
                del self._buf[:1]  # resync: a good packet may start inside the bad one
                continue
            del self._buf[:7 + length]
            raw_body = packet[7:-2]
            body = unstuff(raw_body)
            if len(body) != len(raw_body):
                self.stats.stuffed_received += 1
            elif stuff(body) != body:
                self.stats.unstuffed_pattern_received += 1
            try:
                with self._lock:
                    replies, after = self._handle(packet[4], body[0], body[1:], now)
                    out = b"".join(self._finish(r) for r in replies)
                self._send(out)
                with self._lock:
                    for fn in after:
                        fn()
            except Exception as e:  # keep serving: a dead emulator thread would look like a dead bus
                self.errors.append(f"{type(e).__name__}: {e} handling {packet.hex(' ')}")

    def _finish(self, packet: bytes) -> bytes:
        """Count a status packet, corrupting its CRC when a fault asks for it."""
        self.stats.statuses_sent += 1
        if len(unstuff(packet[7:-2])) != len(packet[7:-2]):
            self.stats.stuffed_sent += 1
        if self._corrupt > 0:
            self._corrupt -= 1
            packet = packet[:-1] + bytes([packet[-1] ^ 0x01])
        return packet

    def _listening(self, baud: int | None) -> list[_Servo]:
        if not self._powered or baud is None:
            return []
        code = BAUD_CODES.get(baud)
        return [s for s in self._servos if not s.silent and s.get("Baud_Rate") == code]

    @staticmethod
    def _status(s: _Servo, error: int, params: bytes = b"") -> bytes:
        if s.get("Hardware_Error_Status"):
            error |= ALERT
        return build_status(s.id, error, params)

    @staticmethod
    def _collide(replies: list[bytes]) -> list[bytes]:
        """Two servos answering at once drive the line together: the client sees one corrupted
        packet (their bytes OR-ed, the CRC broken even when both said the same thing)."""
        if len(replies) < 2:
            return replies
        garbled = bytearray(max(len(r) for r in replies))
        for r in replies:
            for i, b in enumerate(r):
                garbled[i] |= b
        garbled[-1] ^= 0xFF
        return [bytes(garbled)]

    def _handle(self, target: int, instr: int, params: bytes, now: float
                ) -> tuple[list[bytes], list[Callable[[], None]]]:
        self.stats.instructions[instr] += 1
        listening = self._listening(self._line_baud())
        for s in listening:
            s.step(now)
        if instr == SYNC_READ:
            return self._sync_read(listening, params), []
        if instr == SYNC_WRITE:
            return [], self._sync_write(listening, params, now)
        addressed = listening if target == BROADCAST else [s for s in listening if s.id == target]
        replies: list[bytes] = []
        after: list[Callable[[], None]] = []
        for s in addressed:
            reply = self._unicast(s, instr, params, now, after)
            srl = s.get("Status_Return_Level")
            if reply is None or (target == BROADCAST and instr != PING):
                continue
            if instr == PING or (instr == READ and srl >= 1) or srl >= 2:
                replies.append(reply)
        return (replies if target == BROADCAST else self._collide(replies)), after

    def _unicast(self, s: _Servo, instr: int, params: bytes, now: float,
                 after: list[Callable[[], None]]) -> bytes | None:
        if instr == PING:
            spec = s.spec
            return self._status(s, 0, spec.number.to_bytes(2, "little") + bytes([s.firmware]))
        if instr == READ:
            if len(params) != 4:
                return self._status(s, ERR_DATA_LENGTH)
            address, length = int.from_bytes(params[:2], "little"), int.from_bytes(params[2:], "little")
            if address + length > TABLE_SIZE:
                return self._status(s, ERR_ACCESS)
            return self._status(s, 0, s.read(address, length))
        if instr in (WRITE, REG_WRITE):
            if len(params) < 3:
                return self._status(s, ERR_DATA_LENGTH)
            address = int.from_bytes(params[:2], "little")
            code, values = s.check_write(address, params[2:])
            if code:
                return self._status(s, code)
            if instr == REG_WRITE:
                s.registered = (address, params[2:])
                s.set("Registered_Instruction", 1)
            else:
                self._apply(s, values, now, after)
            return self._status(s, 0)
        if instr == ACTION:
            if s.registered is None:
                return self._status(s, ERR_INSTRUCTION)
            address, data = s.registered
            s.registered = None
            s.set("Registered_Instruction", 0)
            code, values = s.check_write(address, data)
            if not code:
                self._apply(s, values, now, after)
            return self._status(s, code)
        if instr == REBOOT:
            def boot() -> None:
                s.ram_defaults()
                s.set("Hardware_Error_Status", 0)
                s.step(time.monotonic())

            after.append(boot)  # the reply goes out before the servo restarts
            return self._status(s, 0)
        return self._status(s, ERR_INSTRUCTION)

    def _apply(self, s: _Servo, values: list[tuple[str, int]], now: float,
               after: list[Callable[[], None]]) -> None:
        s.apply(values, now)
        for name, value in values:
            if name in ("ID", "Baud_Rate"):  # the reply leaves with the old id, at the old rate
                after.append(lambda n=name, v=value: s.set(n, v))

    def _sync_read(self, listening: list[_Servo], params: bytes) -> list[bytes]:
        if len(params) < 5:
            return []
        address, length = int.from_bytes(params[:2], "little"), int.from_bytes(params[2:4], "little")
        replies = []
        for servo_id in params[4:]:
            for s in listening:
                if s.id == servo_id:
                    if address + length > TABLE_SIZE:
                        replies.append(self._status(s, ERR_ACCESS))
                    elif s.get("Status_Return_Level") >= 1:
                        replies.append(self._status(s, 0, s.read(address, length)))
        return replies

    def _sync_write(self, listening: list[_Servo], params: bytes, now: float) -> list[Callable[[], None]]:
        after: list[Callable[[], None]] = []
        if len(params) < 4:
            return after
        address, length = int.from_bytes(params[:2], "little"), int.from_bytes(params[2:4], "little")
        block = params[4:]
        for i in range(0, len(block) - length, length + 1):
            servo_id, data = block[i], block[i + 1:i + 1 + length]
            for s in listening:
                if s.id == servo_id:
                    code, values = s.check_write(address, data)
                    if not code:
                        self._apply(s, values, now, after)
        return after
