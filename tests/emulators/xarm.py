"""A UFactory xArm controller on Unix sockets, for tests and benchmarks.

Why Unix sockets: the real SDK (``xarm-python-sdk``'s ``XArmAPI``) connects through
``/tmp/xarmcontroller_uds_<port>`` whenever that file exists (the path the controller's own
software uses), before trying TCP. Serving there avoids binding the privileged Modbus port
502 in tests, while the SDK's framing, parsers, timeouts and reconnect logic run unchanged.
The paths are machine-wide, so one emulator runs at a time: it holds an exclusive lock file
for its lifetime and others wait for it (pytest-xdist workers take turns). Host names given to
the SDK only need to be valid IPv4 strings (use ``127.0.0.1``).

    with XArmEmulator() as arm:
        api = XArmAPI("127.0.0.1", is_radian=True)
        arm.inject_error(31)                       # "collision caused abnormal current"

Written from the SDK sources (``core/comm``, ``core/wrapper/uxbus_cmd*.py``, ``x3/base.py``
report parsers), independently of ``embodied_stack.robots.xarm``.

Reproduced:

* control socket (502): request ``u16 transaction id | u16 protocol id | u16 length |
  u8 register | params`` (header big-endian, floats little-endian); the reply echoes the
  transaction and protocol ids (2, or 3 once the SDK switches to heartbeat mode), ``length =
  2 + data``, then the register and a state byte: 0x40 error present, 0x20 warning present,
  0x10 not ready to move, 0x08 command invalid. Registers: version (1), serial number (2),
  motion enable (11), set/get state (12/13), command count (14), error/warning codes (15),
  clean error/warning (16/17), set mode (19), servo joint target (29), TCP pose (41, zeros),
  joint positions (42; with a count byte: positions, velocities, efforts), joint torques
  (55). Other registers are answered "invalid" and listed in :attr:`unknown_registers`.
* the rich report stream (30002, and the normal 30001 with the same fields up to its end):
  ``u32 length`` (big-endian) then state|mode, command count, angles, pose, torques, brake
  and enable bits, error and warning codes, sensitivities, arm type and axes, joint speeds,
  a counter — 288 bytes, at ``report_hz``.
* states 1 moving, 2 ready, 3 paused, 4 stopped; modes 0 position, 1 servo. Servo mode:
  first-order tracking of the newest target (time constant ``servo_tau_s``) at most
  ``max_velocity``; a target outside the joint range raises error 23 (joint angle exceeds
  limit) as the controller does. ``set_state(4)`` decelerates and stops; moving again needs
  ``set_state(0)``.
* errors latch: state 4, motion stops; codes 1-3 (emergency stops) also disable the motors.
  ``clean_error`` clears an error unless the e-stop is still pressed; then motion enable +
  set state 0 resume. Warnings never stop motion.

Not reproduced: the real-time report (30003), TCP (502), position mode motions, gripper and
GPIO registers, Cartesian values (zeros), the SDK's feedback channel (0xFF frames).

Fault injection: :meth:`press_emergency_stop` / :meth:`release_emergency_stop`,
:meth:`inject_error`, :meth:`inject_warning`, :meth:`drop_connections` (sockets closed; with
``refuse=True`` the socket files go away until :meth:`accept_connections`), :meth:`freeze`
(no replies, no reports; sockets stay open).
"""

from __future__ import annotations

import contextlib
import fcntl
import math
import os
import socket
import struct
import tempfile
import threading
import time
from collections.abc import Callable
from typing import IO, Any

import numpy as np

CONTROL_PORT = 502
REPORT_PORTS = {"normal": 30001, "rich": 30002}
REPORT_SIZE = 288
UDS_TEMPLATE = "/tmp/xarmcontroller_uds_{}"  # the path the SDK probes (xarm/core/comm/socket_port.py)
#: xArm6 joint ranges (rad), as the controller enforces them for an xArm6 (type 6)
XARM6_LOWER = np.array([-2 * math.pi, -2.059488, -3.92699, -2 * math.pi, -1.692969, -2 * math.pi])
XARM6_UPPER = np.array([2 * math.pi, 2.094395, 0.191986, 2 * math.pi, math.pi, 2 * math.pi])

# registers (xarm/core/config/x_config.py UxbusReg)
GET_VERSION, GET_ROBOT_SN, MOTION_EN, SET_STATE, GET_STATE, GET_CMDNUM, GET_ERROR = 1, 2, 11, 12, 13, 14, 15
CLEAN_ERR, CLEAN_WAR, SET_MODE, MOVE_SERVOJ = 16, 17, 19, 29
GET_TCP_POSE, GET_JOINT_POS, GET_JOINT_TAU = 41, 42, 55
# state byte bits of a reply
_ERR, _WARN, _NOT_READY, _INVALID = 0x40, 0x20, 0x10, 0x08
MOVING, READY, PAUSED, STOPPED = 1, 2, 3, 4
ERR_ESTOP, ERR_JOINT_LIMIT, ERR_COLLISION = 1, 23, 31


class _ArmModel:
    """Joint dynamics, state/mode, error and warning codes (guarded by ``lock``)."""

    def __init__(self, q0: np.ndarray, lower: np.ndarray, upper: np.ndarray, max_velocity: float,
                 servo_tau_s: float) -> None:
        self.lock = threading.RLock()
        self.q = q0.astype(np.float64).copy()
        self.qd = np.zeros(len(q0))
        self.lower, self.upper = lower, upper
        self.max_velocity = max_velocity
        self.servo_tau_s = servo_tau_s
        self.state = STOPPED  # a controller comes up stopped: enable motors, set mode, set state 0
        self.mode = 0
        self.motors_enabled = False
        self.error_code = 0
        self.warn_code = 0
        self.estop_pressed = False
        self.target: np.ndarray | None = None
        self.decelerating = False
        self.counts: dict[str, int] = {"servoj": 0, "ignored_servoj": 0, "clean_error": 0, "set_state": 0}

    @property
    def ready(self) -> bool:
        return self.motors_enabled and self.error_code == 0 and self.state in (MOVING, READY)

    @property
    def torques(self) -> np.ndarray:
        """A plausible gravity load (N*m) on joints 2 and 3, plus viscous friction."""
        tau = np.zeros(len(self.q))
        tau[1] = 18.0 * math.sin(self.q[1]) + 6.0 * math.sin(self.q[1] + self.q[2])
        tau[2] = 6.0 * math.sin(self.q[1] + self.q[2])
        return tau + 1.5 * self.qd

    def step(self, dt: float) -> None:
        if not self.ready or self.decelerating or self.mode != 1 or self.target is None:
            self.qd = np.sign(self.qd) * np.maximum(np.abs(self.qd) - 20.0 * dt, 0.0)  # stop at 20 rad/s^2
            self.decelerating = bool(np.any(self.qd))
        else:
            tau = max(self.servo_tau_s, dt)
            self.qd = np.clip((self.target - self.q) / tau, -self.max_velocity, self.max_velocity)
        self.q = np.clip(self.q + self.qd * dt, self.lower, self.upper)
        if self.state in (MOVING, READY):
            self.state = MOVING if np.any(np.abs(self.qd) > 1e-4) else READY

    def fault(self, code: int) -> None:
        self.error_code = code
        self.state = STOPPED
        self.target = None
        self.decelerating = True
        if code in (1, 2, 3):  # emergency stops cut motor power
            self.motors_enabled = False

    def status_byte(self) -> int:
        return ((_ERR if self.error_code else 0) | (_WARN if self.warn_code else 0)
                | (0 if self.ready else _NOT_READY))


class XArmEmulator:
    """An xArm (6 axes by default) on the SDK's Unix sockets.

    Args:
        q0: initial joint positions (rad), default zeros (the xArm's zero pose).
        lower, upper: joint ranges (rad) the controller enforces, default the xArm6's.
        max_velocity: joint speed limit (rad/s), the xArm6's 180 deg/s.
        servo_tau_s: time constant of servo-mode tracking (s).
        report_hz: rate of the report stream (Hz).
        tick_hz: the controller cycle (Hz).
        lock_timeout_s: how long to wait for another process's emulator to finish (s).
    """

    def __init__(self, q0: np.ndarray | None = None, lower: np.ndarray | None = None,
                 upper: np.ndarray | None = None, max_velocity: float = math.pi, servo_tau_s: float = 0.02,
                 report_hz: float = 100.0, tick_hz: float = 250.0, lock_timeout_s: float = 120.0) -> None:
        lower = XARM6_LOWER.copy() if lower is None else np.asarray(lower, dtype=np.float64)
        upper = XARM6_UPPER.copy() if upper is None else np.asarray(upper, dtype=np.float64)
        q0 = np.zeros(len(lower)) if q0 is None else np.asarray(q0, dtype=np.float64)
        self.axis = len(lower)
        self.model = _ArmModel(q0, lower, upper, max_velocity, servo_tau_s)
        self.report_hz, self.tick_hz = report_hz, tick_hz
        self.lock_timeout_s = lock_timeout_s
        self.unknown_registers: list[int] = []
        self._lock_file: IO[str] | None = None
        self._listeners: dict[int, socket.socket] = {}
        self._clients: set[socket.socket] = set()
        self._report_clients: set[socket.socket] = set()
        self._sock_lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._alive = False
        self._frozen = False
        self._report_count = 0

    # --- lifecycle -------------------------------------------------------------------------------------
    def start(self) -> XArmEmulator:
        self._lock_file = _acquire_machine_lock(self.lock_timeout_s)
        self._alive = True
        try:
            self.accept_connections()
        except Exception:
            self.close()
            raise
        self._spawn(self._tick_loop, "xarm-emu-tick")
        return self

    def close(self) -> None:
        self._alive = False
        self.drop_connections(refuse=True)
        for t in self._threads:
            t.join(timeout=2.0)
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None

    def __enter__(self) -> XArmEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _spawn(self, target: Callable[..., None], name: str, *args: Any) -> None:
        t = threading.Thread(target=target, args=args, name=name, daemon=True)
        t.start()
        self._threads = [x for x in self._threads if x.is_alive()] + [t]

    # --- fault injection ---------------------------------------------------------------------------------
    def press_emergency_stop(self) -> None:
        with self.model.lock:
            self.model.estop_pressed = True
            self.model.fault(ERR_ESTOP)

    def release_emergency_stop(self) -> None:
        """The button is released; error 1 stays until ``clean_error``."""
        with self.model.lock:
            self.model.estop_pressed = False

    def inject_error(self, code: int) -> None:
        """Latch controller error ``code`` (see the SDK's ``ControllerErrorCodeMap``)."""
        with self.model.lock:
            self.model.fault(code)

    def inject_warning(self, code: int) -> None:
        with self.model.lock:
            self.model.warn_code = code

    def drop_connections(self, refuse: bool = False) -> None:
        """Close every client socket; with ``refuse`` also remove the socket files until
        :meth:`accept_connections` (the SDK then finds no controller at all)."""
        with self._sock_lock:
            if refuse:
                for port, srv in self._listeners.items():
                    _close(srv)
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(UDS_TEMPLATE.format(port))
                self._listeners.clear()
            for s in self._clients | self._report_clients:
                _close(s)
            self._clients.clear()
            self._report_clients.clear()

    def accept_connections(self) -> None:
        with self._sock_lock:
            for port in (CONTROL_PORT, *REPORT_PORTS.values()):
                if port in self._listeners:
                    continue
                path = UDS_TEMPLATE.format(port)
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)  # stale file of a crashed emulator: ours now (we hold the lock)
                srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                srv.settimeout(None)  # the SDK sets a 1 s default timeout for the whole process
                srv.bind(path)
                srv.listen(8)
                self._listeners[port] = srv
                self._spawn(self._accept_loop, f"xarm-emu-accept-{port}", srv, port)

    def freeze(self, frozen: bool = True) -> None:
        """Stop (or resume) answering and reporting without closing anything: a hung controller."""
        self._frozen = frozen

    # --- observation -------------------------------------------------------------------------------------
    @property
    def joint_positions(self) -> np.ndarray:
        with self.model.lock:
            return self.model.q.copy()

    @property
    def joint_velocities(self) -> np.ndarray:
        with self.model.lock:
            return self.model.qd.copy()

    @property
    def servo_target(self) -> np.ndarray | None:
        with self.model.lock:
            return None if self.model.target is None else self.model.target.copy()

    @property
    def state(self) -> int:
        with self.model.lock:
            return self.model.state

    @property
    def mode(self) -> int:
        with self.model.lock:
            return self.model.mode

    @property
    def error_code(self) -> int:
        with self.model.lock:
            return self.model.error_code

    @property
    def warn_code(self) -> int:
        with self.model.lock:
            return self.model.warn_code

    @property
    def motors_enabled(self) -> bool:
        with self.model.lock:
            return self.model.motors_enabled

    def count(self, what: str) -> int:
        """How often something happened: servoj, ignored_servoj, clean_error, set_state."""
        with self.model.lock:
            return self.model.counts[what]

    @property
    def connected_clients(self) -> int:
        with self._sock_lock:
            return len(self._clients) + len(self._report_clients)

    # --- the controller cycle ------------------------------------------------------------------------------
    def _tick_loop(self) -> None:
        dt = 1.0 / self.tick_hz
        report_every = max(1, round(self.tick_hz / self.report_hz))
        tick = 0
        next_t = time.perf_counter()
        while self._alive:
            with self.model.lock:
                self.model.step(dt)
            tick += 1
            if tick % report_every == 0 and not self._frozen:
                self._send_reports()
            next_t += dt
            delay = next_t - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            elif delay < -10 * dt:
                next_t = time.perf_counter()

    def _send_reports(self) -> None:
        with self._sock_lock:
            clients = list(self._report_clients)
        if not clients:
            return
        packet = self._report()
        for s in clients:
            try:
                s.sendall(packet)
            except OSError:
                self._forget(s)

    def _report(self) -> bytes:
        self._report_count += 1
        with self.model.lock:
            m = self.model
            seven = np.zeros(7)
            angles, torques, speeds = seven.copy(), seven.copy(), seven.copy()
            angles[:self.axis], torques[:self.axis], speeds[:self.axis] = m.q, m.torques, m.qd
            enabled = (1 << self.axis) - 1 if m.motors_enabled else 0
            head = struct.pack(">IBH", REPORT_SIZE, (m.mode << 4) | m.state, 0)
            body = (_fp32(angles) + _fp32(np.zeros(6)) + _fp32(torques)
                    + bytes([enabled, enabled, m.error_code, m.warn_code])
                    + _fp32(np.zeros(6)) + _fp32(np.zeros(4))
                    + bytes([3, 3]) + _fp32([0.0, 0.0, -1.0]) + bytes([6, self.axis, 0, 0, 0, 0])
                    + b"v2.5.106".ljust(30, b"\0") + _fp32(np.zeros(12)) + bytes(16)
                    + bytes([30] * 7) + _fp32(np.concatenate([[0.0], speeds]))
                    + struct.pack(">I", self._report_count))
        packet = head + body
        if len(packet) != REPORT_SIZE:
            raise AssertionError(f"xArm emulator report is {len(packet)} bytes, expected {REPORT_SIZE}")
        return packet

    # --- sockets --------------------------------------------------------------------------------------------
    def _accept_loop(self, srv: socket.socket, port: int) -> None:
        while self._alive:
            try:
                sock, _ = srv.accept()
            except OSError:
                return
            sock.settimeout(None)
            with self._sock_lock:
                (self._clients if port == CONTROL_PORT else self._report_clients).add(sock)
            if port == CONTROL_PORT:
                self._spawn(self._serve_control, "xarm-emu-control", sock)

    def _forget(self, sock: socket.socket) -> None:
        with self._sock_lock:
            self._clients.discard(sock)
            self._report_clients.discard(sock)
        _close(sock)

    def _serve_control(self, sock: socket.socket) -> None:
        buf = b""
        try:
            while self._alive:
                chunk = sock.recv(4096)
                if not chunk:
                    return
                buf += chunk
                while len(buf) >= 6:
                    length = struct.unpack(">H", buf[4:6])[0]
                    if len(buf) < 6 + length:
                        break
                    frame, buf = buf[:6 + length], buf[6 + length:]
                    reply = self._handle(frame)
                    if reply is not None and not self._frozen:
                        sock.sendall(reply)
        except OSError:
            pass
        finally:
            self._forget(sock)

    # --- registers ------------------------------------------------------------------------------------------
    def _handle(self, frame: bytes) -> bytes | None:
        trans_id, prot_id, length = struct.unpack(">HHH", frame[:6])
        if prot_id not in (2, 3) or length < 1:
            return None  # the SDK's heartbeat (protocol 1) and standard Modbus are not answered
        reg, params = frame[6], frame[7:]
        with self.model.lock:
            data, extra = self._register(reg, params)
            status = self.model.status_byte() | extra
        return struct.pack(">HHHBB", trans_id, prot_id, 2 + len(data), reg, status) + data

    def _register(self, reg: int, params: bytes) -> tuple[bytes, int]:
        """(reply data, extra state bits) of one request; the model lock is held."""
        m = self.model
        if reg == GET_VERSION:
            return f"{self.axis},6,XI1304000000,AC1300000000,v2.5.106".encode().ljust(40, b"\0"), 0
        if reg == GET_ROBOT_SN:
            return b"XI1304000000\0AC1300000000".ljust(40, b"\0"), 0
        if reg == MOTION_EN:
            enable = len(params) >= 2 and params[1] == 1
            if enable and m.error_code in (1, 2, 3):
                return b"", 0  # still an emergency-stop error: the motors stay off
            m.motors_enabled = enable
            if not enable:
                m.fault(m.error_code)  # disabling stops the arm (error code unchanged)
            return b"", 0
        if reg == SET_STATE:
            m.counts["set_state"] += 1
            value = params[0] if params else 0
            if value == 0 and m.motors_enabled and m.error_code == 0:
                m.state, m.decelerating = READY, False
            elif value == PAUSED and m.state in (MOVING, READY):
                m.state, m.decelerating = PAUSED, True
            elif value == STOPPED:
                m.state, m.target, m.decelerating = STOPPED, None, True
            return b"", 0
        if reg == GET_STATE:
            return bytes([m.state]), 0
        if reg == GET_CMDNUM:
            return struct.pack(">H", 0), 0
        if reg == GET_ERROR:
            return bytes([m.error_code, m.warn_code]), 0
        if reg == CLEAN_ERR:
            m.counts["clean_error"] += 1
            if not m.estop_pressed:
                m.error_code = 0
            return b"", 0
        if reg == CLEAN_WAR:
            m.warn_code = 0
            return b"", 0
        if reg == SET_MODE:
            if params and params[0] != m.mode:
                m.mode, m.target = params[0], None
            return b"", 0
        if reg == MOVE_SERVOJ:
            return b"", self._servoj(params)
        if reg == GET_TCP_POSE:
            return _fp32(np.zeros(6)), 0
        if reg == GET_JOINT_POS:
            count = (params[0] & 0x0F) if params else 1
            seven = np.zeros((3, 7))
            seven[0, :self.axis], seven[1, :self.axis], seven[2, :self.axis] = m.q, m.qd, m.torques
            return b"".join(_fp32(seven[i]) for i in range(min(max(count, 1), 3))), 0
        if reg == GET_JOINT_TAU:
            tau = np.zeros(7)
            tau[:self.axis] = m.torques
            return _fp32(tau), 0
        self.unknown_registers.append(reg)
        return b"", _INVALID

    def _servoj(self, params: bytes) -> int:
        m = self.model
        if len(params) < 40:
            return _INVALID
        values = struct.unpack("<10f", params[:40])
        if not m.ready or m.mode != 1:
            m.counts["ignored_servoj"] += 1
            return _INVALID if m.mode != 1 else 0
        target = np.array(values[:self.axis], dtype=np.float64)
        if np.any(target < m.lower - 1e-3) or np.any(target > m.upper + 1e-3):
            m.fault(ERR_JOINT_LIMIT)
            return 0
        m.counts["servoj"] += 1
        m.target = target
        return 0


def _acquire_machine_lock(timeout_s: float) -> IO[str]:
    """The lock that makes this the only xArm emulator on the machine (the socket paths are global)."""
    path = os.path.join(tempfile.gettempdir(), "embodied_stack_xarm_emulator.lock")
    f = open(path, "w")  # noqa: SIM115 - held for the emulator's lifetime
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return f
        except OSError:
            if time.monotonic() > deadline:
                f.close()
                raise RuntimeError(f"another xArm emulator held {path} for over {timeout_s} s; "
                                   "is a stuck test or benchmark still running?") from None
            time.sleep(0.05)


def _fp32(values: Any) -> bytes:
    values = list(values)
    return struct.pack(f"<{len(values)}f", *values)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()
