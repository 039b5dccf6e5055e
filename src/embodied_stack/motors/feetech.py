"""Feetech SCS/STS servo bus (SO-100 / SO-101 arms) over the vendor SDK ``scservo_sdk`` (ROS-free).

Why the vendor SDK: its packet framing and group sync read/write are what Feetech and
LeRobot ship and what users debug against; we add what it lacks -- register names,
sign-magnitude values, typed errors with a fix, retries/counters (in :class:`MotorBus`)
and two repairs to its port handling (see :class:`_PortHandler`).

Facts this module relies on (Feetech STS manual, ``scservo_sdk`` sources, LeRobot's
``motors/feetech/tables.py``):

* protocol 0 (little-endian, ``PacketHandler(0)``); a status packet's error byte has
  bits 1 input voltage, 2 angle sensor, 4 overheat, 8 over-current, 32 overload;
* signed registers are *sign-magnitude*, not two's complement: bit 11 for
  ``Homing_Offset`` (so the offset is limited to +-2047 ticks), bit 15 for goal/present
  position and velocity;
* ``Present_Position = Actual_Position - Homing_Offset``, read modulo 4096 in position
  mode (the encoder is a 12-bit angle);
* EEPROM registers (addresses < 40: ``ID``, ``Baud_Rate``, ``Homing_Offset``, limits...)
  only survive a power cycle when written with ``Lock`` = 0; we unlock, write, re-lock.
"""

from __future__ import annotations

import difflib
import select
import threading
from dataclasses import dataclass

import scservo_sdk as scs
import serial

from embodied_stack.motors.bus import (
    HardwareStatus,
    Motor,
    MotorBus,
    MotorBusError,
    MotorCalibration,
    MotorChecksumError,
    MotorHardwareError,
    MotorTimeoutError,
)

__all__ = ["BAUD_RATES", "CONTROL_TABLES", "MODEL_NUMBERS", "FeetechBus", "HardwareStatus", "Register",
           "decode_sign_magnitude", "encode_sign_magnitude"]


@dataclass(frozen=True)
class Register:
    """One control-table entry: ``address``/``size`` in bytes, ``sign_bit`` for sign-magnitude values."""

    address: int
    size: int
    sign_bit: int | None = None
    writable: bool = True

    @property
    def eeprom(self) -> bool:
        """Addresses below 40 are EEPROM: writes persist only while ``Lock`` is 0."""
        return self.address < 40


def _ro(address: int, size: int, sign_bit: int | None = None) -> Register:
    return Register(address, size, sign_bit, writable=False)


#: STS/SMS series control table by LeRobot's register names (``STS_SMS_SERIES_CONTROL_TABLE``).
STS_CONTROL_TABLE: dict[str, Register] = {
    # EEPROM
    "Firmware_Major_Version": _ro(0, 1),
    "Firmware_Minor_Version": _ro(1, 1),
    "Model_Number": _ro(3, 2),
    "ID": Register(5, 1),
    "Baud_Rate": Register(6, 1),
    "Return_Delay_Time": Register(7, 1),
    "Response_Status_Level": Register(8, 1),
    "Min_Position_Limit": Register(9, 2),
    "Max_Position_Limit": Register(11, 2),
    "Max_Temperature_Limit": Register(13, 1),
    "Max_Voltage_Limit": Register(14, 1),
    "Min_Voltage_Limit": Register(15, 1),
    "Max_Torque_Limit": Register(16, 2),
    "Phase": Register(18, 1),
    "Unloading_Condition": Register(19, 1),
    "LED_Alarm_Condition": Register(20, 1),
    "P_Coefficient": Register(21, 1),
    "D_Coefficient": Register(22, 1),
    "I_Coefficient": Register(23, 1),
    "Minimum_Startup_Force": Register(24, 2),
    "CW_Dead_Zone": Register(26, 1),
    "CCW_Dead_Zone": Register(27, 1),
    "Protection_Current": Register(28, 2),
    "Angular_Resolution": Register(30, 1),
    "Homing_Offset": Register(31, 2, sign_bit=11),
    "Operating_Mode": Register(33, 1),
    "Protective_Torque": Register(34, 1),
    "Protection_Time": Register(35, 1),
    "Overload_Torque": Register(36, 1),
    "Over_Current_Protection_Time": Register(38, 1),
    # SRAM
    "Torque_Enable": Register(40, 1),
    "Acceleration": Register(41, 1),
    "Goal_Position": Register(42, 2, sign_bit=15),
    "Goal_Time": Register(44, 2),
    "Goal_Velocity": Register(46, 2, sign_bit=15),
    "Torque_Limit": Register(48, 2),
    "Lock": Register(55, 1),
    "Present_Position": _ro(56, 2, sign_bit=15),
    "Present_Velocity": _ro(58, 2, sign_bit=15),
    "Present_Load": _ro(60, 2),
    "Present_Voltage": _ro(62, 1),  # 0.1 V
    "Present_Temperature": _ro(63, 1),  # deg C
    "Status": _ro(65, 1),
    "Moving": _ro(66, 1),
    "Present_Current": _ro(69, 2),
    # factory area
    "Maximum_Acceleration": Register(85, 1),
}

CONTROL_TABLES: dict[str, dict[str, Register]] = {"sts3215": STS_CONTROL_TABLE, "sts3250": STS_CONTROL_TABLE}
RESOLUTION: dict[str, int] = {"sts3215": 4096, "sts3250": 4096}
#: model number (``Model_Number`` register, ping) -> name; unsupported models are named so a scan
#: can say what it found.
MODEL_NUMBERS: dict[int, str] = {777: "sts3215", 2825: "sts3250", 1284: "scs0009", 11272: "sm8512bl"}
#: baud rate (baud) -> ``Baud_Rate`` register value (STS/SMS series)
BAUD_RATES: dict[int, int] = {1_000_000: 0, 500_000: 1, 250_000: 2, 128_000: 3, 115_200: 4, 57_600: 5,
                              38_400: 6, 19_200: 7}
ERROR_BITS: dict[int, str] = {1: "input_voltage", 2: "angle_sensor", 4: "overheat", 8: "over_current",
                              32: "overload"}
_ERROR_ADVICE = {
    "input_voltage": "check the power supply voltage (7.4 V or 12 V servo variant) and its wiring",
    "angle_sensor": "the magnetic encoder failed: replace the servo",
    "overheat": "let the servo cool, then lower its load or duty",
    "over_current": "the motor drew too much current: look for a blocked joint or a short",
    "overload": "the joint is blocked or pushed past its torque limit and the servo cut its torque: clear "
                "the obstruction, then disable and re-enable torque",
}
_HOMING_LIMIT = 2047  # Homing_Offset magnitude: sign bit 11
_MAX_ID = 252  # scs.MAX_ID; 254 is broadcast
_UNSUPPORTED = {"scs0009": "SCS-series servos use protocol 1 (big-endian), which FeetechBus does not drive",
                "sm8512bl": "no control table for this model yet"}


def encode_sign_magnitude(value: int, sign_bit: int, what: str = "value") -> int:
    """``value`` -> sign-magnitude raw (magnitude in the low bits, sign in ``sign_bit``)."""
    limit = (1 << sign_bit) - 1
    if abs(value) > limit:
        raise ValueError(f"{what}={value} is outside +-{limit}, the range of a sign-magnitude register with "
                         f"sign bit {sign_bit}")
    return ((1 << sign_bit) | -value) if value < 0 else value


def decode_sign_magnitude(raw: int, sign_bit: int) -> int:
    """Sign-magnitude raw -> int (bits above ``sign_bit`` are ignored, as the servo does)."""
    magnitude = raw & ((1 << sign_bit) - 1)
    return -magnitude if raw >> sign_bit & 1 else magnitude


def _error_names(bits: int) -> list[str]:
    return [name for bit, name in ERROR_BITS.items() if bits & bit] + \
        [f"bit{i}" for i in range(8) if bits & (1 << i) and (1 << i) not in ERROR_BITS]


class _PortHandler(scs.PortHandler):
    """The SDK's port handler with two repairs.

    * Reply timeout from a parameter: the SDK hard-codes 2 x 16 ms USB latency + 2 ms
      (``LATENCY_TIMER``, a module global shared by every bus in the process);
      LeRobot monkeypatches it to 50 ms. We keep the SDK's 34 ms as the default.
    * Waiting blocks in ``select()`` until bytes arrive or the deadline passes, instead
      of the SDK's busy loop (pyserial ``timeout=0``), which burns a core per waiting bus
      and, with an in-process emulator, starves the thread that should answer.
    """

    def __init__(self, port_name: str, reply_timeout_ms: float) -> None:
        super().__init__(port_name)
        self.reply_timeout_ms = reply_timeout_ms

    def setPacketTimeout(self, packet_length: int) -> None:  # noqa: N802 (SDK name)
        self.packet_start_time = self.getCurrentTime()
        self.packet_timeout = self.tx_time_per_byte * packet_length + self.reply_timeout_ms

    def readPort(self, length: int) -> bytes:  # noqa: N802 (SDK name)
        if length > 0 and self.ser.in_waiting == 0:
            remaining_ms = self.packet_timeout - self.getTimeSinceStart()
            if remaining_ms > 0:
                select.select([self.ser.fileno()], [], [], remaining_ms / 1000.0)
        return self.ser.read(length)


class FeetechBus(MotorBus):
    """A bus of Feetech STS servos (STS3215 on SO-100/SO-101 arms).

    Args:
        port: serial device, e.g. ``/dev/ttyACM0`` (or an emulator's pty).
        motors: ``{name: Motor(id, model)}``; models: ``sts3215``, ``sts3250``.
        baudrate: bus speed in baud, one of :data:`BAUD_RATES` (servos ship at 1 Mbaud).
        calibration: per-motor calibration (drive mode, homing offset, range) for rad conversion.
        retries: extra attempts after a timeout or corrupt reply (noise on a long bus).
        reply_timeout_ms: how long to wait for a status packet beyond its transfer time. The
            SDK's 34 ms suits USB adapters with a 16 ms latency timer; a missing servo costs
            this much per attempt, so scans of absent ids take ``ids x reply_timeout_ms``.

    Calls from several threads are serialised (one transaction on the wire at a time).
    """

    resolution = RESOLUTION
    error_bits = ERROR_BITS

    def __init__(self, port: str, motors: dict[str, Motor], baudrate: int = 1_000_000,
                 calibration: dict[str, MotorCalibration] | None = None, retries: int = 2,
                 reply_timeout_ms: float = 34.0) -> None:
        for name, m in motors.items():
            if m.model in _UNSUPPORTED:
                raise ValueError(f"motor '{name}': model {m.model} is not supported "
                                 f"({_UNSUPPORTED[m.model]})")
            if m.model not in CONTROL_TABLES:
                raise ValueError(f"motor '{name}': unknown Feetech model '{m.model}'; known: "
                                 f"{sorted(CONTROL_TABLES)}")
            if not 0 <= m.id <= _MAX_ID:
                raise ValueError(f"motor '{name}': id {m.id} is outside 0..{_MAX_ID}")
        self._check_baudrate(baudrate)
        if reply_timeout_ms <= 0:
            raise ValueError(f"reply_timeout_ms={reply_timeout_ms} must be > 0 (34 ms suits USB adapters)")
        super().__init__(port, motors, baudrate, calibration, retries)
        self.reply_timeout_ms = reply_timeout_ms
        self._io = threading.RLock()  # one transaction at a time: the SDK's port is not thread-safe
        self._port: _PortHandler | None = None
        self._packets = scs.PacketHandler(0)

    # --- set-up and calibration helpers ------------------------------------------------------
    def set_id(self, old_id: int, new_id: int) -> None:
        """Give the servo answering at ``old_id`` the id ``new_id`` (persisted in EEPROM).

        Refuses when ``new_id`` already answers: two servos on one id corrupt each other's replies.
        """
        if not 0 <= new_id <= _MAX_ID:
            raise ValueError(f"new id {new_id} is outside 0..{_MAX_ID}")
        model = self._model_at(old_id)
        if new_id == old_id:
            return
        taken = self.ping(new_id)
        if taken is not None:
            raise MotorBusError(f"id {new_id} is already used by a {taken} on {self.port}: connect only the "
                                "servo to renumber, or pick a free id")
        self._eeprom_write(old_id, model, "ID", new_id, relock_id=new_id)
        if self.ping(new_id) is None:
            raise MotorTimeoutError(f"servo moved from id {old_id} to {new_id} does not answer at its new id "
                                    f"on {self.port}")

    def set_baudrate(self, motor_id: int, baudrate: int) -> None:
        """Switch the servo at ``motor_id`` to ``baudrate`` (persisted), then move this port to it.

        The servo answers the write at the old rate and listens at the new one afterwards,
        so the port follows it; other servos still at the old rate stop answering until they
        are switched too (set-up renumbers one servo at a time).
        """
        self._check_baudrate(baudrate)
        model = self._model_at(motor_id)
        code = BAUD_RATES[baudrate]
        self._transact(f"unlock EEPROM of id {motor_id}", lambda: self._write("Lock", motor_id, model, 0))
        self._transact(f"write Baud_Rate of id {motor_id}",
                       lambda: self._write("Baud_Rate", motor_id, model, code))
        self.set_port_baudrate(baudrate)
        self._transact(f"lock EEPROM of id {motor_id}", lambda: self._write("Lock", motor_id, model, 1))

    def set_port_baudrate(self, baudrate: int) -> None:
        """Reopen this port at ``baudrate`` (to scan for servos at another rate)."""
        self._check_baudrate(baudrate)
        with self._io:
            if self._port is not None and self._connected and not self._port.setBaudRate(baudrate):
                raise MotorBusError(f"{self.port}: the SDK refused baud rate {baudrate}")
            self.baudrate = baudrate

    def homing_offset_for_middle(self, motor: str, present_ticks: int, current_offset: int = 0) -> int:
        """The ``Homing_Offset`` that makes the current pose read mid-turn (2048 = 0 rad).

        Sign: on Feetech ``Present = Actual - Homing_Offset`` (mod 4096), so the offset is
        ``Actual - 2048`` with ``Actual = present_ticks + current_offset`` (the offset in the
        servo when ``present_ticks`` was read). It is wrapped into -2048..2047, as positions
        wrap; -2048 does not fit the register (+-2047) and becomes -2047, so a pose exactly
        half a turn from the encoder's zero reads 2047, one tick (1.5 mrad) off. LeRobot
        centres on 2047 instead of 2048 and fails with "Magnitude 2048 exceeds 2047" at the
        other end of the encoder.
        """
        res = self.resolution[self.motors[motor].model]
        actual = (present_ticks + current_offset) % res
        return max(actual - res // 2, -_HOMING_LIMIT)

    def write_homing_offset(self, motor: str, ticks: int) -> None:
        """Write ``Homing_Offset`` (EEPROM, unlock/relock) and keep it in ``calibration``.

        Write it with torque off: the offset shifts what Present_Position reads, and a servo
        holding torque would drive the joint to keep its goal in the new frame.
        """
        limit = _HOMING_LIMIT
        if abs(ticks) > limit:
            raise ValueError(
                f"homing offset {ticks} ticks for '{motor}' is outside +-{limit}: the servo stores it in "
                f"sign-magnitude with the sign in bit 11. Compute it with homing_offset_for_middle(), which "
                f"wraps it into range, or re-run `embodied-stack motors calibrate` with the joint nearer the "
                f"middle of its travel")
        m = self.motors[motor]
        self._eeprom_write(m.id, m.model, "Homing_Offset", ticks)
        if motor in self.calibration:
            self.calibration[motor].homing_offset = ticks

    def read_hardware_status(self) -> dict[str, HardwareStatus]:
        """Every motor's error bits, voltage and temperature, without raising on error bits.

        Why not :meth:`read`: a servo in overload answers every packet with the overload bit;
        diagnostics need to *report* that, not fail on it.
        """
        out: dict[str, HardwareStatus] = {}
        for name, m in self.motors.items():
            start = STS_CONTROL_TABLE["Present_Voltage"].address  # voltage, temperature, (64), Status
            size = STS_CONTROL_TABLE["Status"].address - start + 1
            data, error = None, 0
            for _ in range(self.retries + 1):
                self.stats.transactions += 1
                try:
                    data, error = self._raw_read(m.id, start, size)
                    break
                except MotorTimeoutError:
                    self.stats.timeouts += 1
                    break
                except MotorChecksumError:
                    self.stats.checksum_errors += 1
            if data is None:
                out[name] = HardwareStatus(answered=False)
                continue
            bits = error | data[3]
            if bits:
                self.stats.hardware_error_bits[name] = bits
            out[name] = HardwareStatus(True, bits, tuple(_error_names(bits)), data[0] / 10.0, float(data[1]))
        return out

    # --- MotorBus hooks --------------------------------------------------------------------------
    def _open(self) -> None:
        with self._io:
            port = _PortHandler(self.port, self.reply_timeout_ms)
            try:
                ok = port.setBaudRate(self.baudrate)
            except (serial.SerialException, OSError) as e:
                raise MotorBusError(
                    f"cannot open {self.port} ({e}): check the USB cable, that the device exists "
                    "(ls /dev/ttyACM* /dev/ttyUSB*) and that you may open it (group dialout)") from None
            if not ok:
                raise MotorBusError(f"{self.port}: the SDK refused baud rate {self.baudrate}")
            self._port = port

    def _close(self) -> None:
        with self._io:
            if self._port is not None and self._port.is_open:
                self._port.closePort()
            self._port = None

    def _ping(self, motor_id: int) -> str | None:
        with self._io:
            for _ in range(self.retries + 1):
                port = self._prepare()
                try:
                    number, result, _error = self._packets.ping(port, motor_id)
                except (serial.SerialException, OSError) as e:
                    raise self._lost(e) from None
                if result == scs.COMM_SUCCESS:
                    return MODEL_NUMBERS.get(number, f"unknown model {number}")
                if result != scs.COMM_RX_CORRUPT:
                    return None
                self.stats.checksum_errors += 1
            raise MotorChecksumError(f"ping of id {motor_id} on {self.port}: every reply was corrupted "
                                     f"({self.retries + 1} attempts); check cabling and ground")

    def _read(self, register: str, motor_id: int, model: str) -> int:
        reg = self._register(register, model)
        data, error = self._raw_read(motor_id, reg.address, reg.size)
        self._raise_hardware(error, motor_id)
        return self._decode(reg, data)

    def _write(self, register: str, motor_id: int, model: str, value: int) -> None:
        reg = self._register(register, model)
        data = self._encode(register, reg, value)
        with self._io:
            port = self._prepare()
            try:
                result, error = self._packets.writeTxRx(port, motor_id, reg.address, reg.size, data)
            except (serial.SerialException, OSError) as e:
                raise self._lost(e) from None
        self._check(result, motor_id)
        self._raise_hardware(error, motor_id)

    def _sync_read(self, register: str, ids: list[int], model: str) -> dict[int, int]:
        """SYNC_READ: one instruction, then one status packet per servo in the order listed.

        ``GroupSyncRead`` builds and sends the instruction; replies are collected with the
        SDK's ``readRx`` here because ``GroupSyncRead.rxPacket`` discards each packet's error
        byte, and an overload must not go unseen.
        """
        reg = self._register(register, model)
        raw: dict[int, list[int]] = {}
        errors: dict[int, int] = {}
        with self._io:
            port = self._prepare()
            group = scs.GroupSyncRead(port, self._packets, reg.address, reg.size)
            for i in ids:
                group.addParam(i)
            try:
                result = group.txPacket()
                self._check(result, None)
                for i in ids:
                    data, result, error = self._packets.readRx(port, i, reg.size)
                    self._check(result, i)
                    raw[i], errors[i] = data, error
            except (serial.SerialException, OSError) as e:
                raise self._lost(e) from None
        bad = {i: e for i, e in errors.items() if e}
        if bad:
            first = next(iter(bad))
            others = "; ".join(f"{self._label(i)}: {', '.join(_error_names(e))}" for i, e in bad.items())
            self._raise_hardware(bad[first], first, extra=f" [all: {others}]" if len(bad) > 1 else "")
        return {i: self._decode(reg, d, i) for i, d in raw.items()}

    def _sync_write(self, register: str, values: dict[int, int], model: str) -> None:
        reg = self._register(register, model)
        encoded = {i: self._encode(register, reg, v) for i, v in values.items()}
        with self._io:
            port = self._prepare()
            group = scs.GroupSyncWrite(port, self._packets, reg.address, reg.size)
            for i, data in encoded.items():
                group.addParam(i, data)
            try:
                result = group.txPacket()
            except (serial.SerialException, OSError) as e:
                raise self._lost(e) from None
        self._check(result, None)

    # --- internals -------------------------------------------------------------------------------
    def _prepare(self) -> _PortHandler:
        """Before each transaction: drop stale bytes (a late reply to a timed-out request
        would otherwise be taken for the next reply of the same id) and clear the SDK's
        busy flag, which an exception mid-transaction leaves set."""
        if self._port is None:
            raise MotorBusError(f"{self.port} is not open: call bus.connect() first")
        self._port.is_using = False
        try:
            self._port.ser.reset_input_buffer()
        except (serial.SerialException, OSError) as e:
            raise self._lost(e) from None
        return self._port

    def _raw_read(self, motor_id: int, address: int, size: int) -> tuple[list[int], int]:
        with self._io:
            port = self._prepare()
            try:
                data, result, error = self._packets.readTxRx(port, motor_id, address, size)
            except (serial.SerialException, OSError) as e:
                raise self._lost(e) from None
        self._check(result, motor_id)
        if len(data) != size:
            raise MotorChecksumError(f"status packet from {self._label(motor_id)} on {self.port} carries "
                                     f"{len(data)} data bytes, expected {size}")
        return data, error

    def _model_at(self, motor_id: int) -> str:
        model = self.ping(motor_id)
        if model is None:
            raise MotorTimeoutError(f"no servo answers at id {motor_id} on {self.port} at {self.baudrate} "
                                    f"baud; ids that answer: {self.scan_ids()}")
        if model not in CONTROL_TABLES:
            raise MotorBusError(f"id {motor_id} on {self.port} is a {model}, which FeetechBus does not drive")
        return model

    def _eeprom_write(self, motor_id: int, model: str, register: str, value: int,
                      relock_id: int | None = None) -> None:
        """Unlock, write, relock: with ``Lock`` = 1 the STS applies EEPROM writes but forgets
        them at the next power cycle. The write answers from the old id, so a changed id is
        relocked at ``relock_id``."""
        self._transact(f"unlock EEPROM of id {motor_id}", lambda: self._write("Lock", motor_id, model, 0))
        self._transact(f"write {register} of id {motor_id}",
                       lambda: self._write(register, motor_id, model, value))
        at = motor_id if relock_id is None else relock_id
        self._transact(f"lock EEPROM of id {at}", lambda: self._write("Lock", at, model, 1))

    @staticmethod
    def _check_baudrate(baudrate: int) -> None:
        if baudrate not in BAUD_RATES:
            raise ValueError(f"baud rate {baudrate} is not one an STS servo supports: {sorted(BAUD_RATES)}")

    @staticmethod
    def _register(name: str, model: str) -> Register:
        table = CONTROL_TABLES[model]
        try:
            return table[name]
        except KeyError:
            close = difflib.get_close_matches(name, table, n=3)
            hint = f"did you mean {close}? " if close else ""
            raise ValueError(f"unknown register '{name}' for {model}; {hint}"
                             f"registers: {sorted(table)}") from None

    @staticmethod
    def _encode(name: str, reg: Register, value: int) -> list[int]:
        if not reg.writable:
            raise ValueError(f"register {name} is read-only")
        value = int(value)
        if reg.sign_bit is not None:
            if name == "Homing_Offset" and abs(value) > (1 << reg.sign_bit) - 1:
                raise ValueError(f"Homing_Offset={value} is outside +-2047 (sign-magnitude, sign bit 11): "
                                 "use FeetechBus.homing_offset_for_middle(), which wraps the offset into "
                                 "range")
            raw = encode_sign_magnitude(value, reg.sign_bit, name)
        else:
            if not 0 <= value < 1 << (8 * reg.size):
                raise ValueError(f"{name}={value} is outside 0..{(1 << 8 * reg.size) - 1}")
            raw = value
        return list(raw.to_bytes(reg.size, "little"))

    def _decode(self, reg: Register, data: list[int], motor_id: int | None = None) -> int:
        if len(data) != reg.size:
            raise MotorChecksumError(f"status packet from {self._label(motor_id)} on {self.port} carries "
                                     f"{len(data)} data bytes, expected {reg.size}")
        raw = int.from_bytes(bytes(data), "little")
        return decode_sign_magnitude(raw, reg.sign_bit) if reg.sign_bit is not None else raw

    def _label(self, motor_id: int | None) -> str:
        if motor_id is None:
            return "the bus"
        for name, m in self.motors.items():
            if m.id == motor_id:
                return f"'{name}' (id {motor_id})"
        return f"id {motor_id}"

    def _check(self, result: int, motor_id: int | None) -> None:
        """SDK communication result -> typed error (the retry policy is the base class's)."""
        if result == scs.COMM_SUCCESS:
            return
        who = self._label(motor_id)
        if result == scs.COMM_RX_TIMEOUT:
            raise MotorTimeoutError(
                f"no reply from {who} on {self.port} at {self.baudrate} baud within "
                f"{self.reply_timeout_ms:g} ms: check its power and cable, and that its id and baud rate "
                "match (`embodied-stack motors setup`)")
        if result == scs.COMM_RX_CORRUPT:
            raise MotorChecksumError(f"corrupt or truncated status packet from {who} on {self.port}: check "
                                     "cable, connectors and common ground")
        raise MotorBusError(f"{who} on {self.port}: {self._packets.getTxRxResult(result)}")

    def _raise_hardware(self, error: int, motor_id: int, extra: str = "") -> None:
        if not error:
            return
        names = _error_names(error)
        name = self._label(motor_id)
        motor = next((n for n, m in self.motors.items() if m.id == motor_id), f"id {motor_id}")
        advice = "; ".join(_ERROR_ADVICE[n] for n in names if n in _ERROR_ADVICE)
        raise MotorHardwareError(f"{name} on {self.port} reports {', '.join(names)} "
                                 f"(error bits 0x{error:02x}){extra}: {advice}",
                                 motor=motor, bits=error, names=names)

    def _lost(self, e: Exception) -> MotorBusError:
        return MotorBusError(f"{self.port} failed ({e}): the USB adapter was unplugged or lost power; "
                             "reconnect it and call connect() again")
