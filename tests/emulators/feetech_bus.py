"""A Feetech SCS/STS servo bus behind a pseudo-terminal, for tests and benchmarks.

Why a pty and not a fake serial object: the real SDK (``scservo_sdk`` through pyserial)
opens ``emu.port`` exactly like ``/dev/ttyACM0``, so the bytes on the wire, the SDK's
timeouts and its packet parser are all exercised; and another process (a driver node
under test) can open the same path.

    with FeetechBusEmulator({1: "sts3215", 2: "sts3215"}) as emu:
        emu.port                        # '/dev/pts/N'
        emu.set_actual_position(1, 3000)  # turn servo 1 by hand (torque off)

The control table, defaults and encodings here are written from the Feetech STS manual
and LeRobot's tables, independently of ``embodied_stack.motors.feetech`` so that a wrong
address there fails the tests instead of agreeing with itself.

Reproduced (byte-exact):

* instruction ``FF FF | id | len | instr | params | chk``, ``len = params + 2``,
  ``chk = ~(id + len + instr + sum(params)) & 0xFF``; packets with a bad checksum are
  ignored, as a servo does; a partial packet is discarded after 20 ms of silence
  (a client that closed mid-packet does not poison the next one);
* PING, READ, WRITE, REG_WRITE + ACTION, SYNC_READ (one status packet per listed servo,
  in list order; a silent servo leaves a gap), SYNC_WRITE (no reply); broadcast id 0xFE
  (no reply except to PING, which every servo answers); ``Response_Status_Level`` 0
  silences replies to writes;
* status ``FF FF | id | len | error | data | chk`` with the error bits 1 voltage, 2 angle
  sensor, 4 overheat, 8 over-current, 32 overload;
* STS3215 defaults (model 777, 1 Mbaud, limits 0..4095); sign-magnitude registers (bit 11
  ``Homing_Offset``, bit 15 goal/present position and velocity); ``Present = Actual -
  Homing_Offset`` modulo 4096; ``Torque_Enable`` = 128 sets the offset so the current pose
  reads 2048;
* an ID write is answered from the old id, then the servo answers at the new one; a baud
  write is answered at the old rate, then the servo hears only clients at the new rate
  (read from the pty's termios; rates termios cannot express, e.g. 128000, match any);
* EEPROM (addresses < 40) writes take effect at once but survive :meth:`power_cycle`
  only if ``Lock`` was 0 (the STS behaviour set-up tools trip over);
* motion: with torque on, Present_Position moves toward Goal_Position (clamped to the
  position limits) at ``Goal_Velocity`` ticks/s (0 = ``max_speed``), computed from
  elapsed time, so it advances between requests; Present_Velocity and Moving follow.
  With torque off the position stays wherever :meth:`set_actual_position` put it. Goal
  is *not* reset when torque is enabled: a driver must write Goal = Present first.

Not reproduced: transfer time at the baud rate, Return_Delay_Time, acceleration
profiles, load/current physics, protocol 1 (SCS big-endian) servos, two servos sharing
an id.

Fault injection: :meth:`set_alive` (a servo stops answering), :meth:`corrupt_next_replies`,
:meth:`set_error_bits`, :meth:`override_reading` (out-of-range values), :meth:`disconnect`
/ :meth:`reconnect` (the whole bus goes silent, then comes back), :meth:`power_cycle`.

Run standalone for other processes: ``python tests/emulators/feetech_bus.py 1 2 3 4 5 6``
prints the pty path and serves until stdin closes.
"""

from __future__ import annotations

import collections
import contextlib
import errno
import os
import select
import sys
import termios
import threading
import time
import tty

BROADCAST = 0xFE
PING, READ, WRITE, REG_WRITE, ACTION, SYNC_READ, SYNC_WRITE = 0x01, 0x02, 0x03, 0x04, 0x05, 0x82, 0x83
VOLTAGE, ANGLE_SENSOR, OVERHEAT, OVER_CURRENT, OVERLOAD = 1, 2, 4, 8, 32

#: name -> (address, size); STS/SMS series
TABLE: dict[str, tuple[int, int]] = {
    "Firmware_Major_Version": (0, 1), "Firmware_Minor_Version": (1, 1), "Model_Number": (3, 2), "ID": (5, 1),
    "Baud_Rate": (6, 1), "Return_Delay_Time": (7, 1), "Response_Status_Level": (8, 1),
    "Min_Position_Limit": (9, 2), "Max_Position_Limit": (11, 2), "Max_Temperature_Limit": (13, 1),
    "Max_Voltage_Limit": (14, 1), "Min_Voltage_Limit": (15, 1), "Max_Torque_Limit": (16, 2), "Phase": (18, 1),
    "Unloading_Condition": (19, 1), "LED_Alarm_Condition": (20, 1), "P_Coefficient": (21, 1),
    "D_Coefficient": (22, 1), "I_Coefficient": (23, 1), "Minimum_Startup_Force": (24, 2),
    "CW_Dead_Zone": (26, 1), "CCW_Dead_Zone": (27, 1), "Protection_Current": (28, 2),
    "Angular_Resolution": (30, 1), "Homing_Offset": (31, 2), "Operating_Mode": (33, 1),
    "Protective_Torque": (34, 1), "Protection_Time": (35, 1), "Overload_Torque": (36, 1),
    "Over_Current_Protection_Time": (38, 1), "Torque_Enable": (40, 1), "Acceleration": (41, 1),
    "Goal_Position": (42, 2), "Goal_Time": (44, 2), "Goal_Velocity": (46, 2), "Torque_Limit": (48, 2),
    "Lock": (55, 1), "Present_Position": (56, 2), "Present_Velocity": (58, 2), "Present_Load": (60, 2),
    "Present_Voltage": (62, 1), "Present_Temperature": (63, 1), "Status": (65, 1), "Moving": (66, 1),
    "Present_Current": (69, 2), "Maximum_Acceleration": (85, 1),
}
SIGN_BITS = {"Homing_Offset": 11, "Goal_Position": 15, "Goal_Velocity": 15, "Present_Position": 15,
             "Present_Velocity": 15}
STS3215_DEFAULTS = {
    "Firmware_Major_Version": 3, "Firmware_Minor_Version": 10, "Baud_Rate": 0, "Return_Delay_Time": 250,
    "Response_Status_Level": 1, "Min_Position_Limit": 0, "Max_Position_Limit": 4095,
    "Max_Temperature_Limit": 70, "Max_Voltage_Limit": 140, "Min_Voltage_Limit": 40, "Max_Torque_Limit": 1000,
    "Phase": 12, "Unloading_Condition": 44, "LED_Alarm_Condition": 47, "P_Coefficient": 32,
    "D_Coefficient": 32, "I_Coefficient": 0, "Minimum_Startup_Force": 16, "CW_Dead_Zone": 1,
    "CCW_Dead_Zone": 1, "Protection_Current": 500, "Angular_Resolution": 1, "Homing_Offset": 0,
    "Operating_Mode": 0, "Protective_Torque": 20, "Protection_Time": 200, "Overload_Torque": 80,
    "Over_Current_Protection_Time": 200, "Torque_Enable": 0, "Acceleration": 0, "Goal_Velocity": 0,
    "Torque_Limit": 1000, "Lock": 1, "Present_Voltage": 120, "Present_Temperature": 30,
    "Maximum_Acceleration": 254,
}
MODELS = {"sts3215": 777, "sts3250": 2825}
BAUD_CODES = {0: 1_000_000, 1: 500_000, 2: 250_000, 3: 128_000, 4: 115_200, 5: 57_600, 6: 38_400, 7: 19_200}
_TERMIOS_BAUD = {getattr(termios, f"B{b}"): b for b in BAUD_CODES.values() if hasattr(termios, f"B{b}")}
RESOLUTION = 4096
EEPROM_END = 40
_READ_ONLY = set(range(0, 5)) | set(range(56, 71))
_MEMORY = 128


def _sm_encode(value: int, bit: int) -> int:
    return (1 << bit) | -value if value < 0 else value


def _sm_decode(raw: int, bit: int) -> int:
    magnitude = raw & ((1 << bit) - 1)
    return -magnitude if raw >> bit & 1 else magnitude


def status_packet(servo_id: int, error: int, data: bytes = b"") -> bytes:
    """A status packet with its checksum (public so tests can build expected bytes)."""
    body = bytes([servo_id, len(data) + 2, error]) + data
    return b"\xff\xff" + body + bytes([~sum(body) & 0xFF])


def instruction_packet(servo_id: int, instruction: int, params: bytes = b"") -> bytes:
    body = bytes([servo_id, len(params) + 2, instruction]) + params
    return b"\xff\xff" + body + bytes([~sum(body) & 0xFF])


class _Servo:
    """One servo: its memory (bytes, little-endian), persisted EEPROM and a motor."""

    def __init__(self, servo_id: int, model: str, actual: int, max_speed: float, now: float) -> None:
        self.model = model
        self.mem = bytearray(_MEMORY)
        for name, value in STS3215_DEFAULTS.items():
            self.set(name, value)
        self.set("Model_Number", MODELS[model])
        self.set("ID", servo_id)
        self.eeprom = bytes(self.mem[:EEPROM_END])
        self.actual = float(actual % RESOLUTION)
        self.set("Goal_Position", self.present())  # at power-up the goal is where the servo stands
        self.velocity = 0.0
        self.t = now
        self.max_speed = max_speed
        self.alive = True
        self.error_bits = 0
        self.overrides: dict[str, int] = {}
        self.pending: tuple[int, bytes] | None = None

    # register access by name (values decoded)
    def get(self, name: str) -> int:
        addr, size = TABLE[name]
        raw = int.from_bytes(self.mem[addr:addr + size], "little")
        return _sm_decode(raw, SIGN_BITS[name]) if name in SIGN_BITS else raw

    def set(self, name: str, value: int) -> None:
        addr, size = TABLE[name]
        raw = _sm_encode(value, SIGN_BITS[name]) if name in SIGN_BITS else value
        self.mem[addr:addr + size] = int(raw).to_bytes(size, "little")

    @property
    def id(self) -> int:
        return self.mem[TABLE["ID"][0]]

    @property
    def baudrate(self) -> int:
        return BAUD_CODES.get(self.mem[TABLE["Baud_Rate"][0]], 1_000_000)

    def present(self) -> float:
        return (self.actual - self.get("Homing_Offset")) % RESOLUTION

    def goal(self) -> int:
        lo, hi = self.get("Min_Position_Limit"), self.get("Max_Position_Limit")
        goal = self.get("Goal_Position")
        if lo or hi:  # both 0 = no limits (multi-turn)
            goal = min(max(goal, lo), hi)
        return min(max(goal, 0), RESOLUTION - 1)

    def advance(self, now: float) -> None:
        """Move toward the goal for the time elapsed since the last call."""
        dt, self.t = now - self.t, now
        self.velocity = 0.0
        if self.get("Torque_Enable") != 1 or self.get("Operating_Mode") != 0 or dt <= 0:
            return
        present = self.present()
        speed = abs(self.get("Goal_Velocity")) or self.max_speed
        step = max(-speed * dt, min(speed * dt, self.goal() - present))
        self.velocity = step / dt
        self.actual = (present + step + self.get("Homing_Offset")) % RESOLUTION

    def refresh(self, now: float) -> None:
        self.advance(now)
        present = self.present()
        self.set("Present_Position", int(round(present)) % RESOLUTION)
        self.set("Present_Velocity", int(round(self.velocity)))
        torque = self.get("Torque_Enable") == 1
        self.set("Moving", int(torque and abs(self.goal() - present) > 1.0))
        self.set("Status", self.error_bits)

    def read(self, addr: int, n: int, now: float) -> bytes:
        self.refresh(now)
        data = bytearray(self.mem[addr:addr + n].ljust(n, b"\0"))
        for name, raw in self.overrides.items():
            a, size = TABLE[name]
            for k, byte in enumerate(int(raw).to_bytes(size, "little")):
                if addr <= a + k < addr + n:
                    data[a + k - addr] = byte
        return bytes(data)

    def write(self, addr: int, data: bytes, now: float) -> None:
        self.advance(now)  # motion so far happened under the old goal/torque
        for k, byte in enumerate(data):
            a = addr + k
            if a in _READ_ONLY or a >= _MEMORY:
                continue
            if a == TABLE["Torque_Enable"][0] and byte == 128:  # "current pose is the middle"
                offset = int(round(self.actual)) % RESOLUTION - RESOLUTION // 2
                self.set("Homing_Offset", max(offset, -(RESOLUTION // 2 - 1)))  # sign-magnitude: +-2047
                continue
            self.mem[a] = byte
        lock = self.get("Lock")
        if addr < EEPROM_END and lock == 0:
            self.eeprom = bytes(self.mem[:EEPROM_END])

    def power_cycle(self, now: float) -> None:
        self.advance(now)
        eeprom = self.eeprom
        fresh = _Servo(0, self.model, int(round(self.actual)), self.max_speed, now)
        self.mem = fresh.mem
        self.mem[:EEPROM_END] = eeprom
        self.eeprom = eeprom
        self.set("Goal_Position", int(round(self.present())) % RESOLUTION)
        self.pending = None


class FeetechBusEmulator:
    """Servos on a pty, served by a thread. Use as a context manager.

    Args:
        servos: ``{id: model}`` (``sts3215``, ``sts3250``).
        positions: initial encoder positions (ticks, "actual", before any homing offset);
            default 2048 for every servo.
        max_speed: ticks/s a servo moves at when ``Goal_Velocity`` is 0 (STS3215 at 7.4 V
            does about 0.22 s per 60 deg, ~3000 ticks/s).
    """

    def __init__(self, servos: dict[int, str], positions: dict[int, int] | None = None,
                 max_speed: float = 3000.0) -> None:
        unknown = {i: m for i, m in servos.items() if m not in MODELS}
        if unknown:
            raise ValueError(f"unsupported models {unknown}; the emulator has {sorted(MODELS)}")
        now = time.monotonic()
        start = positions or {}
        self._servos = [_Servo(i, m, start.get(i, 2048), max_speed, now) for i, m in servos.items()]
        self._lock = threading.Lock()
        self._corrupt = 0
        self._connected = True
        self.instructions: collections.Counter[str] = collections.Counter()  # what the clients sent
        self._master = self._slave = -1
        self._wake_r = self._wake_w = -1
        self._thread: threading.Thread | None = None
        self.error: BaseException | None = None
        self.port = ""

    # --- lifecycle ---------------------------------------------------------------------------
    def start(self) -> FeetechBusEmulator:
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)  # no echo, no line discipline: bytes pass untouched
        os.set_blocking(self._master, False)
        self.port = os.ttyname(self._slave)  # we keep the slave open: clients may close and reopen
        self._wake_r, self._wake_w = os.pipe()
        self._thread = threading.Thread(target=self._serve, name="feetech-bus-emulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the pty; re-raises an exception that killed the serving thread
        (a test would otherwise only see timeouts)."""
        if self._thread is None:
            return
        os.write(self._wake_w, b"x")
        self._thread.join(timeout=5)
        self._thread = None
        for fd in (self._master, self._slave, self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                os.close(fd)
        if self.error is not None:
            raise RuntimeError(f"the Feetech bus emulator thread failed: {self.error!r}") from self.error

    def __enter__(self) -> FeetechBusEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- what a test does to the servos ------------------------------------------------------
    @property
    def ids(self) -> list[int]:
        """Ids the servos currently answer to."""
        with self._lock:
            return sorted(s.id for s in self._servos)

    def set_actual_position(self, servo_id: int, ticks: int) -> None:
        """Turn the servo's output shaft to encoder position ``ticks`` (before the homing offset),
        the way a person moves a leader arm by hand."""
        with self._lock:
            s = self._servo(servo_id)
            s.advance(time.monotonic())
            s.actual = float(ticks % RESOLUTION)

    def actual_position(self, servo_id: int) -> float:
        with self._lock:
            s = self._servo(servo_id)
            s.advance(time.monotonic())
            return s.actual

    def register(self, servo_id: int, name: str) -> int:
        """A register's value as the servo holds it (decoded; dynamics brought up to date)."""
        with self._lock:
            s = self._servo(servo_id)
            s.refresh(time.monotonic())
            return s.get(name)

    def raw_register(self, servo_id: int, name: str) -> int:
        """The register's raw unsigned bytes (to check sign-magnitude on the wire)."""
        addr, size = TABLE[name]
        with self._lock:
            s = self._servo(servo_id)
            return int.from_bytes(s.read(addr, size, time.monotonic()), "little")

    def set_register(self, servo_id: int, name: str, value: int) -> None:
        """Set a register directly (e.g. Present_Temperature), bypassing lock and read-only rules."""
        with self._lock:
            self._servo(servo_id).set(name, value)

    def set_alive(self, servo_id: int, alive: bool) -> None:
        """A dead servo hears nothing and answers nothing (unpowered, cable cut)."""
        with self._lock:
            self._servo(servo_id).alive = alive

    def corrupt_next_replies(self, n: int) -> None:
        """Flip the checksum of the next ``n`` status packets (any servo; each packet of a
        SYNC_READ counts)."""
        with self._lock:
            self._corrupt = n

    def set_error_bits(self, servo_id: int, bits: int) -> None:
        """Error byte of every status packet from this servo (and its Status register); 0 clears."""
        with self._lock:
            self._servo(servo_id).error_bits = bits

    def override_reading(self, servo_id: int, name: str, raw: int | None) -> None:
        """Make reads of ``name`` return the raw value ``raw`` (None restores the real one)."""
        with self._lock:
            s = self._servo(servo_id)
            if raw is None:
                s.overrides.pop(name, None)
            else:
                s.overrides[name] = raw

    def disconnect(self) -> None:
        """The whole bus goes silent (power or cable lost): instructions are lost, no replies."""
        with self._lock:
            self._connected = False

    def reconnect(self) -> None:
        with self._lock:
            self._connected = True

    def power_cycle(self, servo_id: int | None = None) -> None:
        """Power off and on: SRAM resets, EEPROM keeps only what was written with Lock = 0."""
        with self._lock:
            now = time.monotonic()
            for s in self._servos:
                if servo_id is None or s.id == servo_id:
                    s.power_cycle(now)

    def _servo(self, servo_id: int) -> _Servo:
        for s in self._servos:
            if s.id == servo_id:
                return s
        raise KeyError(f"no emulated servo has id {servo_id}; ids: {sorted(s.id for s in self._servos)}")

    # --- the wire ------------------------------------------------------------------------------
    def _serve(self) -> None:
        try:
            self._serve_forever()
        except BaseException as e:  # kept for stop(): a dead emulator must not look like dead servos
            self.error = e

    def _serve_forever(self) -> None:
        buf = bytearray()
        while True:
            ready, _, _ = select.select([self._master, self._wake_r], [], [], 0.02 if buf else None)
            if self._wake_r in ready:
                return
            if not ready:  # silence mid-packet: a servo's receive timeout
                buf.clear()
                continue
            try:
                buf += os.read(self._master, 4096)
            except BlockingIOError:
                continue
            except OSError as e:  # EIO cannot happen while we hold the slave open, but never spin
                if e.errno != errno.EIO:
                    raise
                time.sleep(0.01)
                continue
            out = bytearray()
            with self._lock:
                for packet in self._packets(buf):
                    out += self._handle(*packet)
            if out:
                self._send(bytes(out))

    def _packets(self, buf: bytearray) -> list[tuple[int, int, bytes]]:
        """Complete, valid packets at the front of ``buf`` (consumed); garbage is skipped."""
        found = []
        while len(buf) >= 6:
            if buf[0] != 0xFF or buf[1] != 0xFF:
                del buf[0]
                continue
            length = buf[3]
            if length < 2:
                del buf[0]
                continue
            total = length + 4
            if len(buf) < total:
                break
            body = bytes(buf[2:total - 1])
            if buf[total - 1] != ~sum(body) & 0xFF:
                self.instructions["bad_checksum"] += 1
                del buf[0]
                continue
            found.append((body[0], body[2], body[3:]))
            del buf[:total]
        return found

    def _client_baudrate(self) -> int | None:
        try:
            return _TERMIOS_BAUD.get(termios.tcgetattr(self._slave)[5])
        except termios.error:
            return None

    def _handle(self, target: int, instr: int, params: bytes) -> bytes:
        name = {PING: "ping", READ: "read", WRITE: "write", REG_WRITE: "reg_write", ACTION: "action",
                SYNC_READ: "sync_read", SYNC_WRITE: "sync_write"}.get(instr, f"unknown_0x{instr:02x}")
        self.instructions[name] += 1
        if not self._connected:
            return b""
        now = time.monotonic()
        baud = self._client_baudrate()
        hearing = [s for s in self._servos if s.alive and (baud is None or s.baudrate == baud)]
        out = b""
        if instr == SYNC_READ and target == BROADCAST and len(params) >= 2:
            addr, n = params[0], params[1]
            for sid in params[2:]:
                for s in hearing:
                    if s.id == sid:
                        out += self._reply(s, s.read(addr, n, now))
            return out
        if instr == SYNC_WRITE and target == BROADCAST and len(params) >= 2:
            addr, n = params[0], params[1]
            chunks = params[2:]
            for k in range(0, len(chunks) - n, n + 1):
                for s in hearing:
                    if s.id == chunks[k]:
                        s.write(addr, chunks[k + 1:k + 1 + n], now)
            return b""
        targets = sorted((s for s in hearing if target in (BROADCAST, s.id)), key=lambda s: s.id)
        for s in targets:
            sid = s.id  # an ID write is answered from the old id
            silent_write = s.get("Response_Status_Level") == 0
            if instr == PING:
                out += self._reply(s, b"", sid)
            elif instr == READ and target != BROADCAST and len(params) == 2:
                out += self._reply(s, s.read(params[0], params[1], now), sid)
            elif instr in (WRITE, REG_WRITE) and len(params) >= 2:
                if instr == WRITE:
                    s.write(params[0], params[1:], now)
                else:
                    s.pending = (params[0], params[1:])
                if target != BROADCAST and not silent_write:
                    out += self._reply(s, b"", sid)
            elif instr == ACTION:
                if s.pending is not None:
                    s.write(s.pending[0], s.pending[1], now)
                    s.pending = None
                if target != BROADCAST and not silent_write:
                    out += self._reply(s, b"", sid)
        return out

    def _reply(self, s: _Servo, data: bytes, servo_id: int | None = None) -> bytes:
        packet = bytearray(status_packet(s.id if servo_id is None else servo_id, s.error_bits, data))
        if self._corrupt > 0:
            self._corrupt -= 1
            packet[-1] ^= 0xFF
        return bytes(packet)

    def _send(self, data: bytes) -> None:
        """Write replies; if no client drains the pty (it closed), drop its stale input first."""
        for _ in range(2):
            try:
                while data:
                    data = data[os.write(self._master, data):]
                return
            except BlockingIOError:
                with contextlib.suppress(termios.error):
                    termios.tcflush(self._slave, termios.TCIFLUSH)


def main() -> None:
    """Serve ``argv`` ids (sts3215) until stdin closes; print the port first."""
    ids = [int(a) for a in sys.argv[1:]] or [1, 2, 3, 4, 5, 6]
    with FeetechBusEmulator({i: "sts3215" for i in ids}) as emu:
        print(emu.port, flush=True)
        sys.stdin.read()


if __name__ == "__main__":
    main()
