"""Dynamixel Protocol 2.0 servo bus (Koch v1.1 arms: XL430-W250, XL330-M288/M077), ROS-free.

Why ``dynamixel_sdk`` as the client: it is what ROBOTIS and LeRobot drive these servos with,
so its packet framing, timeouts and quirks are the ones users meet on hardware. This module
adds what the SDK leaves to the caller: register *names* (X-series control table, LeRobot's
names), two's-complement encoding of signed registers, and turning the SDK's result codes
and status error bytes into :mod:`embodied_stack.motors.bus` exceptions that name the motor
and the fix.

Sign conventions (the opposite of Feetech, see ``homing_offset_for_middle``):
``Present_Position = Actual_Position + Homing_Offset`` on Dynamixel X-series.

Timeouts: the SDK waits ``2 * latency_timer + 2 ms`` plus the bytes' transfer time for a
status packet (34 ms at the FTDI default 16 ms latency timer). ``latency_timer_ms`` makes
that explicit: set it to 1 when the adapter's latency timer is 1 ms
(``/sys/bus/usb-serial/devices/ttyUSB0/latency_timer``) for 4 ms timeouts. A no-reply costs
one timeout per attempt (``retries + 1`` attempts).
"""

from __future__ import annotations

import contextlib
import difflib
import select
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import dynamixel_sdk as dxl
import serial
from dynamixel_sdk.protocol2_packet_handler import Protocol2PacketHandler

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

T = TypeVar("T")

try:  # pyserial lets termios.error (EIO from tcflush) escape when the adapter vanishes
    import termios

    _PORT_ERRORS: tuple[type[BaseException], ...] = (serial.SerialException, OSError, termios.error)
except ImportError:  # pragma: no cover (Windows)
    _PORT_ERRORS = (serial.SerialException, OSError)

PROTOCOL_VERSION = 2.0
DEFAULT_BAUDRATE = 1_000_000
#: the SDK's own assumption (FTDI default); the packet timeout is 2x this + 2 ms
DEFAULT_LATENCY_TIMER_MS = 16.0
MAX_ID = 252
BROADCAST_ID = 0xFE


@dataclass(frozen=True)
class Register:
    """One control-table entry: where it lives, its width, its encoding and who may write it.

    ``eeprom`` registers (address < 64) are only writable with ``Torque_Enable`` 0: the servo
    answers an access error otherwise.
    """

    address: int
    size: int
    signed: bool = False
    writable: bool = True

    @property
    def eeprom(self) -> bool:
        return self.address < 64


def _ro(address: int, size: int, signed: bool = False) -> Register:
    return Register(address, size, signed=signed, writable=False)


#: X-series control table, LeRobot's names (https://emanual.robotis.com/docs/en/dxl/x/xl430-w250/)
X_SERIES_CONTROL_TABLE: dict[str, Register] = {
    # EEPROM area
    "Model_Number": _ro(0, 2),
    "Model_Information": _ro(2, 4),
    "Firmware_Version": _ro(6, 1),
    "ID": Register(7, 1),
    "Baud_Rate": Register(8, 1),
    "Return_Delay_Time": Register(9, 1),
    "Drive_Mode": Register(10, 1),
    "Operating_Mode": Register(11, 1),
    "Secondary_ID": Register(12, 1),
    "Protocol_Type": Register(13, 1),
    "Homing_Offset": Register(20, 4, signed=True),
    "Moving_Threshold": Register(24, 4),
    "Temperature_Limit": Register(31, 1),
    "Max_Voltage_Limit": Register(32, 2),
    "Min_Voltage_Limit": Register(34, 2),
    "PWM_Limit": Register(36, 2),
    "Current_Limit": Register(38, 2),
    "Acceleration_Limit": Register(40, 4),
    "Velocity_Limit": Register(44, 4),
    "Max_Position_Limit": Register(48, 4),
    "Min_Position_Limit": Register(52, 4),
    "Shutdown": Register(63, 1),
    # RAM area
    "Torque_Enable": Register(64, 1),
    "LED": Register(65, 1),
    "Status_Return_Level": Register(68, 1),
    "Registered_Instruction": _ro(69, 1),
    "Hardware_Error_Status": _ro(70, 1),
    "Velocity_I_Gain": Register(76, 2),
    "Velocity_P_Gain": Register(78, 2),
    "Position_D_Gain": Register(80, 2),
    "Position_I_Gain": Register(82, 2),
    "Position_P_Gain": Register(84, 2),
    "Feedforward_2nd_Gain": Register(88, 2),
    "Feedforward_1st_Gain": Register(90, 2),
    "Bus_Watchdog": Register(98, 1, signed=True),
    "Goal_PWM": Register(100, 2, signed=True),
    "Goal_Current": Register(102, 2, signed=True),
    "Goal_Velocity": Register(104, 4, signed=True),
    "Profile_Acceleration": Register(108, 4),
    "Profile_Velocity": Register(112, 4),
    "Goal_Position": Register(116, 4, signed=True),
    "Realtime_Tick": _ro(120, 2),
    "Moving": _ro(122, 1),
    "Moving_Status": _ro(123, 1),
    "Present_PWM": _ro(124, 2, signed=True),
    "Present_Current": _ro(126, 2, signed=True),
    "Present_Velocity": _ro(128, 4, signed=True),
    "Present_Position": _ro(132, 4, signed=True),
    "Velocity_Trajectory": _ro(136, 4, signed=True),
    "Position_Trajectory": _ro(140, 4, signed=True),
    "Present_Input_Voltage": _ro(144, 2),
    "Present_Temperature": _ro(146, 1),
}

#: model name -> Model_Number (what PING answers)
MODEL_NUMBERS: dict[str, int] = {
    "xl330-m077": 1190,
    "xl330-m288": 1200,
    "xl430-w250": 1060,
    "xm430-w350": 1020,
    "xm430-w210": 1030,
    "xm540-w270": 1120,
    "xc430-w150": 1070,
}
MODEL_NAMES: dict[int, str] = {number: name for name, number in MODEL_NUMBERS.items()}

#: port baud rate -> Baud_Rate register code (X-series)
BAUDRATE_CODES: dict[int, int] = {
    9_600: 0, 57_600: 1, 115_200: 2, 1_000_000: 3, 2_000_000: 4, 3_000_000: 5, 4_000_000: 6,
}

#: Hardware_Error_Status bit mask -> name
HARDWARE_ERROR_BITS: dict[int, str] = {
    0x01: "input voltage", 0x04: "overheating", 0x08: "motor encoder", 0x10: "electrical shock",
    0x20: "overload",
}

ALERT_BIT = 0x80
#: status packet error code (error byte without the alert bit) -> (name, what to do)
STATUS_ERRORS: dict[int, tuple[str, str]] = {
    1: ("result fail", "the servo could not process the instruction; retry, or reboot the servo"),
    2: ("instruction error", "undefined instruction, or ACTION without REG_WRITE"),
    3: ("CRC error", "the servo received a corrupted packet: check the cable and connectors"),
    4: ("data range error", "the value is outside the register's range (see the servo's e-manual)"),
    5: ("data length error", "write whole registers (the bus encodes each register at its full width)"),
    6: ("data limit error", "the value exceeds a limit register (Min/Max_Position_Limit, Velocity_Limit, "
                            "Current_Limit or PWM_Limit): write a value inside the limits"),
    7: ("access error", "EEPROM registers (address < 64) need Torque_Enable 0 first; read-only "
                        "registers cannot be written"),
}

POSITION_MODE = 3
#: in Position Control Mode the servo ignores Homing_Offset outside +-1024 (X-series e-manual)
POSITION_MODE_MAX_HOMING_OFFSET = 1024


def hardware_error_names(bits: int) -> list[str]:
    """Names of the bits set in a Hardware_Error_Status value (unknown bits as ``bit N``)."""
    names = [name for mask, name in HARDWARE_ERROR_BITS.items() if bits & mask]
    names += [f"bit {b}" for b in range(8) if bits & (1 << b) and (1 << b) not in HARDWARE_ERROR_BITS]
    return names


def encode_value(name: str, register: Register, value: int) -> list[int]:
    """Little-endian bytes of ``value`` (two's complement for signed registers).

    Raises ValueError naming the register and its range rather than letting the SDK silently
    truncate the value to the register width.
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name}: value {value!r} is not an integer (registers hold integer ticks/units)")
    bits = 8 * register.size
    lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if register.signed else (0, (1 << bits) - 1)
    if not lo <= value <= hi:
        raise ValueError(f"{name}: value {value} does not fit the {register.size}-byte "
                         f"{'signed' if register.signed else 'unsigned'} register (range {lo}..{hi})")
    return list(value.to_bytes(register.size, "little", signed=register.signed))


def decode_value(register: Register, data: list[int] | bytes) -> int:
    return int.from_bytes(bytes(data[: register.size]), "little", signed=register.signed)


class _PortHandler(dxl.PortHandler):
    """The SDK's port with two changes, both invisible on the wire.

    * the packet timeout uses ``latency_timer_ms`` instead of the SDK's hard-coded 16 ms;
    * ``readPort`` blocks up to 1 ms for data instead of returning at once: the SDK polls
      ``readPort`` in a busy loop while it waits for a reply, which burns a core (measured: 10
      no-reply pings, 0.27 s CPU in 0.34 s with the SDK's loop, 0.01 s with this). Waiting on
      the fd returns as soon as a byte arrives, so latency is unchanged.
    """

    def __init__(self, port_name: str, latency_timer_ms: float) -> None:
        super().__init__(port_name)
        self.latency_timer_ms = latency_timer_ms

    def setPacketTimeout(self, packet_length: int) -> None:  # noqa: N802 (SDK API)
        self.packet_start_time = self.getCurrentTime()
        self.packet_timeout = self.tx_time_per_byte * packet_length + 2.0 * self.latency_timer_ms + 2.0

    def readPort(self, length: int) -> bytes:  # noqa: N802 (SDK API)
        if length > 0:
            select.select([self.ser.fileno()], [], [], 0.001)
        return self.ser.read(length)


class _PacketHandler(Protocol2PacketHandler):
    """The SDK's Protocol 2.0 handler with outgoing byte stuffing that works.

    dynamixel_sdk 4.1.0's ``addStuffing`` builds a *new* list when stuffing lengthens the packet
    and ``txPacket`` ignores the return value, so a body holding ``FF FF FD`` (e.g. Homing_Offset
    -131073) goes out unstuffed, which the protocol forbids. Stuffing in place fixes it; packets
    that need no stuffing are byte-for-byte the SDK's.
    """

    def addStuffing(self, packet: list[int]) -> list[int]:  # noqa: N802 (SDK API)
        stuffed = super().addStuffing(packet)
        if stuffed is not packet:
            packet[:] = stuffed
        return packet


class DynamixelBus(MotorBus):
    """A bus of Dynamixel X-series servos (Protocol 2.0) on one serial adapter.

    Args:
        port: serial device (``/dev/ttyUSB0``, ``/dev/serial/by-id/...``, or an emulator's pty).
        motors: ``{name: Motor(id, model)}``; models are keys of :data:`MODEL_NUMBERS`.
        baudrate: the bus rate in baud; must be one the servos' ``Baud_Rate`` register can hold
            (:data:`BAUDRATE_CODES`). Koch arms run at 1 Mbaud (the factory default is 57600).
        calibration: per-motor calibration (ticks), for :meth:`to_radians` / :meth:`to_ticks`.
        retries: extra attempts after a timeout or a corrupted reply.
        latency_timer_ms: the USB adapter's latency timer in ms; sets the reply timeout (see the
            module docstring).

    Thread safety: one lock serialises every exchange on the port, so a driver's control loop
    and a diagnostics thread may share one bus.

    Errors: a status packet with the alert bit raises :class:`MotorHardwareError` (bits read from
    Hardware_Error_Status) even though the servo carried the instruction out: it flags a latched
    error in every reply until rebooted. :meth:`read_hardware_status` reports without raising.
    The servos must keep Status_Return_Level 2 (the default): writes expect a reply.
    """

    resolution = {model: 4096 for model in MODEL_NUMBERS}
    error_bits = dict(HARDWARE_ERROR_BITS)
    control_table = X_SERIES_CONTROL_TABLE

    def __init__(self, port: str, motors: dict[str, Motor], baudrate: int = DEFAULT_BAUDRATE,
                 calibration: dict[str, MotorCalibration] | None = None, retries: int = 2,
                 latency_timer_ms: float = DEFAULT_LATENCY_TIMER_MS) -> None:
        _check_baudrate(baudrate)
        seen: dict[int, str] = {}
        for name, motor in motors.items():
            if motor.model not in MODEL_NUMBERS:
                raise ValueError(f"motor '{name}': unknown Dynamixel model '{motor.model}'; known models: "
                                 f"{sorted(MODEL_NUMBERS)}")
            _check_id(motor.id, f"motor '{name}'")
            if motor.id in seen:
                raise ValueError(f"motors '{seen[motor.id]}' and '{name}' share id {motor.id}: give each "
                                 "motor its own id (`embodied-stack motors setup`)")
            seen[motor.id] = name
        if not latency_timer_ms > 0:
            raise ValueError(f"latency_timer_ms={latency_timer_ms}: must be > 0 (the adapter's latency "
                             "timer; 16 is the FTDI default, 1 after lowering it)")
        super().__init__(port, motors, baudrate, calibration, retries)
        self.latency_timer_ms = float(latency_timer_ms)
        self._packet = _PacketHandler()
        self._port_handler: _PortHandler | None = None
        self._io = threading.RLock()

    # --- register table ------------------------------------------------------------------
    def register(self, name: str) -> Register:
        """The control-table entry of a register name; ValueError lists close names."""
        try:
            return self.control_table[name]
        except KeyError:
            close = difflib.get_close_matches(name, self.control_table, n=3)
            hint = f"did you mean {close}?" if close else f"known: {sorted(self.control_table)}"
            raise ValueError(f"unknown Dynamixel register '{name}': {hint}") from None

    # --- lifecycle hooks --------------------------------------------------------------------
    def _open(self) -> None:
        ph = _PortHandler(self.port, self.latency_timer_ms)
        try:
            ph.setBaudRate(self.baudrate)  # opens the port at our rate (the SDK's openPort uses 1 Mbaud)
        except _PORT_ERRORS as e:
            raise MotorBusError(f"cannot open {self.port}: {e}. Check the USB cable, that the port "
                                "exists (ls /dev/serial/by-id/) and that your user may open it "
                                "(group dialout)") from e
        with self._io:
            self._port_handler = ph

    def _close(self) -> None:
        with self._io:
            ph, self._port_handler = self._port_handler, None
            if ph is not None and ph.ser is not None:
                with contextlib.suppress(*_PORT_ERRORS):  # the adapter is gone: nothing left to release
                    ph.closePort()

    # --- one exchange on the wire ------------------------------------------------------------
    def _io_call(self, what: str, fn: Callable[[_PortHandler], T]) -> T:
        """Run one SDK exchange under the port lock; a vanished port becomes a MotorBusError."""
        with self._io:
            ph = self._port_handler
            if ph is None:
                raise MotorBusError(f"{what} on {self.port}: the port is not open; call bus.connect() first")
            try:
                return fn(ph)
            except _PORT_ERRORS as e:
                ph.is_using = False  # the SDK leaves its busy flag set when the port raises mid-packet
                raise MotorBusError(f"{what}: the port {self.port} failed ({e}): the adapter was unplugged "
                                    "or another program uses it; reconnect with bus.disconnect(); "
                                    "bus.connect()") from e

    def _label(self, motor_id: int) -> str:
        for name, motor in self.motors.items():
            if motor.id == motor_id:
                return f"'{name}' (id {motor_id})"
        return f"id {motor_id}"

    def _name(self, motor_id: int) -> str:
        return next((n for n, m in self.motors.items() if m.id == motor_id), f"id {motor_id}")

    def _check(self, motor_id: int, result: int, error: int, check_alert: bool = True) -> None:
        """Raise the bus exception matching an SDK result code and a status error byte."""
        where = f"{self._label(motor_id)} on {self.port} at {self.baudrate} baud"
        if result == dxl.COMM_RX_TIMEOUT:
            raise MotorTimeoutError(f"no reply from {where}: check its power and cable, its id and its "
                                    "baud rate (`embodied-stack motors setup`)")
        if result == dxl.COMM_RX_CORRUPT:
            raise MotorChecksumError(f"corrupted status packet from {where} (CRC mismatch or truncated): "
                                     "check the cable, connectors and that no two servos share an id")
        if result != dxl.COMM_SUCCESS:
            raise MotorBusError(f"{where}: {self._packet.getTxRxResult(result)}")
        if error & ALERT_BIT and check_alert:
            try:
                bits = self._read_raw(motor_id, "Hardware_Error_Status", check_alert=False)
                names = hardware_error_names(bits)
            except MotorBusError as e:
                bits, names = 0, [f"unknown (Hardware_Error_Status unreadable: {e})"]
            raise MotorHardwareError(
                f"{where} reports a hardware error: {', '.join(names) or 'none left'} (Hardware_Error_Status "
                f"0b{bits:08b}); errors in its Shutdown register (by default overload, overheating, "
                "electrical shock) switch its torque off until a reboot. Remove the cause (load, heat, "
                f"supply voltage), then reboot it (bus.reboot('{self._name(motor_id)}')) or power-cycle "
                "the arm",
                motor=self._name(motor_id), bits=bits, names=names)
        code = error & ~ALERT_BIT
        if code:
            name, fix = STATUS_ERRORS.get(code, (f"error {code}", "see the Protocol 2.0 e-manual"))
            raise MotorBusError(f"{where} answered '{name}': {fix}")

    def _read_raw(self, motor_id: int, register: str, check_alert: bool = True) -> int:
        reg = self.register(register)
        data, result, error = self._io_call(
            f"read {register}", lambda ph: self._packet.readTxRx(ph, motor_id, reg.address, reg.size))
        self._check(motor_id, result, error, check_alert)
        return decode_value(reg, data)

    def _write_raw(self, motor_id: int, register: str, value: int) -> None:
        reg = self.register(register)
        if not reg.writable:
            raise ValueError(f"{register} is read-only on Dynamixel X-series servos")
        data = encode_value(register, reg, value)
        result, error = self._io_call(
            f"write {register}", lambda ph: self._packet.writeTxRx(ph, motor_id, reg.address, reg.size, data))
        self._check(motor_id, result, error)

    # --- MotorBus hooks -----------------------------------------------------------------------
    def _ping(self, motor_id: int) -> str | None:
        """Model at ``motor_id`` or None. Corrupted replies are retried; a silence is retried only
        for configured ids (one lost reply must not fail the handshake), so scanning unknown
        ids costs one timeout each."""
        _check_id(motor_id, "ping")
        configured = any(m.id == motor_id for m in self.motors.values())
        for _ in range(self.retries + 1):
            number, result, _error = self._io_call("ping", lambda ph: self._packet.ping(ph, motor_id))
            if result == dxl.COMM_SUCCESS:
                return MODEL_NAMES.get(number, f"unknown model number {number}")
            if result != dxl.COMM_RX_CORRUPT and not (configured and result == dxl.COMM_RX_TIMEOUT):
                return None
        return None

    def _read(self, register: str, motor_id: int, model: str) -> int:
        return self._read_raw(motor_id, register)

    def _write(self, register: str, motor_id: int, model: str, value: int) -> None:
        self._write_raw(motor_id, register, value)

    def _sync_read(self, register: str, ids: list[int], model: str) -> dict[int, int]:
        reg = self.register(register)

        def exchange(ph: _PortHandler) -> tuple[int, list[tuple[int, list[int], int, int]]]:
            group = dxl.GroupSyncRead(ph, self._packet, reg.address, reg.size)
            for motor_id in ids:
                group.addParam(motor_id)
            result = group.txPacket()
            replies: list[tuple[int, list[int], int, int]] = []
            if result != dxl.COMM_SUCCESS:
                return result, replies
            # GroupSyncRead.rxPacket drops each status packet's error byte (so the alert bit);
            # reading the replies one by one keeps it.
            for motor_id in ids:
                data, result, error = self._packet.readRx(ph, motor_id, reg.size)
                replies.append((motor_id, data, result, error))
                if result != dxl.COMM_SUCCESS:
                    break
            return dxl.COMM_SUCCESS, replies

        tx_result, replies = self._io_call(f"sync_read {register}", exchange)
        if tx_result != dxl.COMM_SUCCESS:
            raise MotorBusError(
                f"sync_read {register} on {self.port}: {self._packet.getTxRxResult(tx_result)}")
        # every reply is consumed before a hardware alert triggers a follow-up read
        for motor_id, _data, result, error in replies:
            self._check(motor_id, result, error & ~ALERT_BIT)
        for motor_id, _data, _result, error in replies:
            self._check(motor_id, dxl.COMM_SUCCESS, error)
        return {motor_id: decode_value(reg, data) for motor_id, data, _, _ in replies}

    def _sync_write(self, register: str, values: dict[int, int], model: str) -> None:
        reg = self.register(register)
        if not reg.writable:
            raise ValueError(f"{register} is read-only on Dynamixel X-series servos")
        encoded = {motor_id: encode_value(register, reg, v) for motor_id, v in values.items()}

        def exchange(ph: _PortHandler) -> int:
            group = dxl.GroupSyncWrite(ph, self._packet, reg.address, reg.size)
            for motor_id, data in encoded.items():
                group.addParam(motor_id, data)
            return group.txPacket()

        result = self._io_call(f"sync_write {register}", exchange)
        if result != dxl.COMM_SUCCESS:
            raise MotorBusError(f"sync_write {register} on {self.port}: {self._packet.getTxRxResult(result)}")

    # --- calibration and set-up helpers ----------------------------------------------------------
    def homing_offset_for_middle(self, motor: str, present_ticks: int,
                                 current_offset: int | None = None) -> int:
        """The Homing_Offset to write so the pose that reads ``present_ticks`` now reads mid-range
        (``resolution // 2``, 2048 ticks = 0 rad).

        Dynamixel *adds* the offset: ``Present = Actual + Homing_Offset`` (Feetech subtracts it),
        so the result is ``2048 - Actual`` with ``Actual = present_ticks - current_offset``, the
        offset the servo held when ``present_ticks`` was read. ``current_offset`` None reads it from
        the servo, so the result is right whether or not the caller reset it to 0 first (same
        signature as ``FeetechBus.homing_offset_for_middle``). No wrapping: X-series positions are
        multi-turn, and Extended Position mode takes offsets up to +-255 turns.
        """
        if current_offset is None:
            current_offset = self.read("Homing_Offset", motor)
        actual = int(present_ticks) - int(current_offset)
        return self.resolution[self.motors[motor].model] // 2 - actual

    def write_homing_offset(self, motor: str, ticks: int) -> None:
        """Write Homing_Offset (EEPROM) and keep it in ``calibration``: switches the motor's torque
        off first and leaves it off, because its Goal_Position is in the old coordinates and
        enabling torque would jump.

        In Position Control Mode (Operating_Mode 3) the servo ignores offsets beyond +-1024, so
        those are refused here: use Extended Position mode (4), as LeRobot's Koch arms do.
        """
        reg = self.register("Homing_Offset")
        encode_value("Homing_Offset", reg, ticks)
        too_big = abs(ticks) > POSITION_MODE_MAX_HOMING_OFFSET
        if too_big and self.read("Operating_Mode", motor) == POSITION_MODE:
            raise ValueError(
                f"Homing_Offset {ticks} for '{motor}': the servo ignores offsets beyond "
                f"+-{POSITION_MODE_MAX_HOMING_OFFSET} in Position Control Mode (Operating_Mode 3); write "
                "Operating_Mode 4 (extended position) first")
        self.write("Torque_Enable", motor, 0)
        self.write("Homing_Offset", motor, ticks)
        if motor in self.calibration:
            self.calibration[motor].homing_offset = ticks

    def set_id(self, old_id: int, new_id: int) -> None:
        """Give the servo answering at ``old_id`` the id ``new_id`` (torque is switched off first,
        ID is an EEPROM register). Run with one servo at the old id on the bus: two servos sharing
        an id answer at once and garble each other's replies. ``self.motors`` is not changed."""
        _check_id(old_id, "set_id old id")
        _check_id(new_id, "set_id new id")
        if old_id == new_id:
            return
        if (taken := self.ping(new_id)) is not None:
            raise MotorBusError(f"set_id {old_id} -> {new_id} on {self.port}: id {new_id} is already taken "
                                f"by a {taken}; choose a free id or unplug that servo")
        model = self.ping(old_id)
        if model is None:
            raise MotorTimeoutError(f"set_id {old_id} -> {new_id}: no servo answers at id {old_id} on "
                                    f"{self.port} at {self.baudrate} baud; ids that answer: "
                                    f"{self.scan_ids()}")
        self._transact(f"disable torque of id {old_id}", lambda: self._write_raw(old_id, "Torque_Enable", 0))
        self._transact(f"write ID of id {old_id}", lambda: self._write_raw(old_id, "ID", new_id))
        if self.ping(new_id) != model:
            raise MotorBusError(f"set_id {old_id} -> {new_id}: the servo does not answer at id {new_id} "
                                "after the write; power-cycle it and scan the bus")

    def set_baudrate(self, motor_id: int, baudrate: int) -> None:
        """Switch the servo at ``motor_id`` to ``baudrate`` (EEPROM; torque is switched off first),
        then move this port to it and check the servo answers there.

        The servo answers the write at the old rate and listens at the new one afterwards, so
        the port follows it; other servos still at the old rate stop answering until they are
        switched too (set-up handles one servo at a time, as ``FeetechBus.set_baudrate``)."""
        _check_id(motor_id, "set_baudrate")
        code = _check_baudrate(baudrate)
        model = self.ping(motor_id)
        self._transact(f"disable torque of id {motor_id}",
                       lambda: self._write_raw(motor_id, "Torque_Enable", 0))
        self._transact(f"write Baud_Rate of id {motor_id}",
                       lambda: self._write_raw(motor_id, "Baud_Rate", code))
        self.set_port_baudrate(baudrate)
        if self.ping(motor_id) != model:
            raise MotorTimeoutError(f"the servo at id {motor_id} does not answer at {baudrate} baud on "
                                    f"{self.port} after switching; power-cycle it and scan both rates")

    def set_port_baudrate(self, baudrate: int) -> None:
        """Switch the adapter's rate (to find servos at another rate, e.g. the factory 57600)."""
        _check_baudrate(baudrate)
        with self._io:
            if self._port_handler is not None:
                self._io_call("set port baud rate", lambda ph: ph.setBaudRate(baudrate))
            self.baudrate = baudrate

    def read_hardware_status(self) -> dict[str, HardwareStatus]:
        """Every motor's error bits, input voltage and temperature, without raising.

        Why not :meth:`read`: a servo with a latched error sets the alert bit in every reply;
        diagnostics need to *report* that, not fail on it. One READ per servo covers
        Hardware_Error_Status (70) to Present_Temperature (146). A servo that does not answer
        (after the retries) is reported ``answered=False``; non-zero bits are also recorded in
        ``stats.hardware_error_bits``."""
        first, last = self.register("Hardware_Error_Status"), self.register("Present_Temperature")
        voltage = self.register("Present_Input_Voltage")
        span = Register(first.address, last.address + last.size - first.address)
        out: dict[str, HardwareStatus] = {}
        for name, motor in self.motors.items():
            def once(motor_id: int = motor.id) -> list[int]:
                data, result, error = self._io_call(
                    "read hardware status",
                    lambda ph: self._packet.readTxRx(ph, motor_id, span.address, span.size))
                self._check(motor_id, result, error, check_alert=False)
                return data

            try:
                data = self._transact(f"read hardware status of '{name}'", once)
            except (MotorTimeoutError, MotorChecksumError):
                out[name] = HardwareStatus(answered=False)
                continue
            bits = data[0]
            if bits:
                self.stats.hardware_error_bits[name] = bits
            at = voltage.address - first.address
            out[name] = HardwareStatus(True, bits, tuple(hardware_error_names(bits)),
                                       decode_value(voltage, data[at:at + voltage.size]) / 10.0,
                                       float(data[last.address - first.address]))
        return out

    def reboot(self, motor: str) -> None:
        """Reboot one servo: clears latched hardware errors; it comes back with torque off and its
        RAM registers (goal, profile, LED...) at their defaults."""
        motor_id = self.motors[motor].id

        def once() -> None:
            result, error = self._io_call("reboot", lambda ph: self._packet.reboot(ph, motor_id))
            self._check(motor_id, result, error, check_alert=False)

        self._transact(f"reboot '{motor}'", once)

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "protocol": PROTOCOL_VERSION, "latency_timer_ms": self.latency_timer_ms}


def _check_id(motor_id: int, what: str) -> None:
    if isinstance(motor_id, bool) or not isinstance(motor_id, int) or not 0 <= motor_id <= MAX_ID:
        raise ValueError(f"{what}: id {motor_id!r} is not a Dynamixel id (0..{MAX_ID})")


def _check_baudrate(baudrate: int) -> int:
    if baudrate not in BAUDRATE_CODES:
        raise ValueError(f"baud rate {baudrate} is not one a Dynamixel X-series servo supports; use one of "
                         f"{sorted(BAUDRATE_CODES)} (Koch arms: 1000000)")
    return BAUDRATE_CODES[baudrate]
