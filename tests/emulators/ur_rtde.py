"""A Universal Robots e-Series controller on a loopback address, for tests and benchmarks.

Why an emulator at the socket level: the real vendor SDK (``ur_rtde``'s C++ clients:
``RTDEReceiveInterface``, ``RTDEControlInterface``, ``DashboardClient``) connects to it exactly
as to a robot, so the RTDE handshake, the uploaded control script's register protocol, the
SDK's timeouts and its reconnect logic are all exercised, with no mock in between.

    with URControllerEmulator() as ur:          # claims a free 127.0.0.N, runs in a child process
        ur.host                                 # e.g. '127.0.0.7'; give it to the SDK
        ur.trigger_protective_stop()

Why a child process: ur_rtde's Python constructors run their whole handshake holding the GIL,
so a controller written in Python cannot answer them from a thread of the same process
(:class:`URControllerEmulator` is a thin proxy; :class:`URController` is the controller).
Scripts that start one need an ``if __name__ == "__main__":`` guard (multiprocessing spawn).

Why a loopback address per emulator: ur_rtde fixes the RTDE (30004), script (30003) and
dashboard (29999) ports, so two emulators (two pytest-xdist workers, a benchmark beside the
tests) can only coexist on different addresses; every 127.0.0.0/8 address is loopback on
Linux. The address is claimed with a lock file held for the emulator's lifetime.

Written from UR's RTDE guide and the ur_rtde 1.6 sources (``rtde.cpp``,
``rtde_control_interface.cpp``, ``rtde_control.script``), independently of the driver in
``embodied_stack.robots.ur`` so a wrong assumption there fails the tests.

Reproduced:

* RTDE (30004, big-endian, ``u16 size | u8 type | payload``): protocol version 'V' (v2
  accepted), controller version 'v' (4 x u32), output setup 'O' (f64 frequency + names;
  reply recipe id + types, ``NOT_FOUND`` for unknown names), input setup 'I' (recipes
  numbered 1..N per connection; reply types), start 'S', pause 'P', data 'U' both ways.
  Outputs are streamed at the requested frequency (a divisor of the 500 Hz controller
  tick); any number of clients, each with its own recipes; inputs update shared registers.
* the script port (30003): a program (``def name(): ... end``) starts when the robot is
  running and in normal/reduced safety mode (a running program is replaced), otherwise it
  is ignored, as the controller refuses to play. The *control script's* register handshake
  is emulated, not interpreted: ``input_int_register_0`` carries the command;
  ``output_int_register_0`` is 1 (ready) while the command register is 0 or a real-time
  command (servoJ, speedJ/L, ...) was just taken, and 2 (done) once any other command has
  finished, until the client clears the register. The register offset (0 or 24) is read
  from the uploaded script. Commands with an effect: servoJ (11), speedStop (15),
  servoStop (16), protective stop (31), stopJ (34), stop script (255); others complete
  at once.
* servoJ: first-order tracking of the target with time constant ``lookahead_time``,
  joint speed limited to ``max_velocity`` times the speed scaling; stops decelerate at the
  commanded rate and report done when every joint is at rest.
* safety: protective stop (robot halts, program stops, ``safety_status_bits`` bit 2,
  unlocked through the dashboard, optionally refused for ``unlock_delay_s`` like the 5 s
  rule of real controllers); emergency stop (robot powered off, program stops; while the
  button is pressed nothing can be cleared; after release: "power on" + "brake release").
* the dashboard (29999, text lines): the welcome line, ``PolyscopeVersion``, ``robotmode``,
  ``safetymode``, ``safetystatus``, ``programState``, ``running``, ``stop``, ``play`` (refused),
  ``unlock protective stop``, ``close safety popup``, ``close popup``, ``popup``, ``power on``,
  ``power off``, ``brake release``, ``restart safety``, ``is in remote control``,
  ``get serial number``, ``get robot model``, ``quit``.

Not reproduced: the primary/secondary/real-time client interfaces (30001-30003 state
streams), URScript interpretation, kinematics (TCP values are zeros), force mode, paths,
the RTDE watchdog, ``IN_USE`` input conflicts.

Fault injection: :meth:`trigger_protective_stop`, :meth:`press_emergency_stop` /
:meth:`release_emergency_stop`, :meth:`set_speed_slider`, :meth:`drop_connections`
(sockets closed; with ``refuse=True`` the ports stay closed until :meth:`accept_connections`,
like a pulled cable), :meth:`freeze` (state stops streaming, sockets stay open).
"""

from __future__ import annotations

import contextlib
import fcntl
import math
import multiprocessing
import os
import re
import socket
import struct
import tempfile
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import IO, Any

import numpy as np

RTDE_PORT = 30004
SCRIPT_PORT = 30003
DASHBOARD_PORT = 29999
TICK_HZ = 500.0  # e-Series controller cycle

# RTDE package types (ASCII letters)
_V, _v, _M, _U, _O, _I, _S, _P = (ord(c) for c in "VvMUOISP")

# robot modes, safety modes, runtime states (UR's RTDE guide)
ROBOT_MODES = {-1: "NO_CONTROLLER", 0: "DISCONNECTED", 1: "CONFIRM_SAFETY", 2: "BOOTING", 3: "POWER_OFF",
               4: "POWER_ON", 5: "IDLE", 6: "BACKDRIVE", 7: "RUNNING", 8: "UPDATING_FIRMWARE"}
POWER_OFF, IDLE, RUNNING = 3, 5, 7
SAFETY_MODES = {1: "NORMAL", 2: "REDUCED", 3: "PROTECTIVE_STOP", 4: "RECOVERY", 5: "SAFEGUARD_STOP",
                6: "SYSTEM_EMERGENCY_STOP", 7: "ROBOT_EMERGENCY_STOP", 8: "VIOLATION", 9: "FAULT"}
NORMAL, REDUCED, PROTECTIVE_STOP, ROBOT_EMERGENCY_STOP = 1, 2, 3, 7
STOPPED, PLAYING = 1, 2  # runtime_state
# safety_status_bits
_SS_NORMAL, _SS_REDUCED, _SS_PROTECTIVE, _SS_ROBOT_ESTOP, _SS_ESTOP, _SS_STOPPED_BY_SAFETY = 0, 1, 2, 6, 7, 10

# control script commands (ur_rtde RTDE::RobotCommand::Type)
CMD_NONE, CMD_SERVOJ, CMD_SPEED_STOP, CMD_SERVO_STOP = 0, 11, 15, 16
CMD_PROTECTIVE_STOP, CMD_STOPJ, CMD_STOP_SCRIPT = 31, 34, 255
#: commands the script takes without a done/clear handshake (the script's real-time branch)
REALTIME_COMMANDS = frozenset({6, 9, 10, 11, 24, 25, 26, 27, 38, 55, 58, 66, 99})
_READY, _DONE = 1, 2

_FORMATS = {"DOUBLE": "d", "UINT32": "I", "INT32": "i", "UINT64": "Q", "UINT8": "B", "BOOL": "?",
            "VECTOR3D": "3d", "VECTOR6D": "6d", "VECTOR6INT32": "6i", "VECTOR6UINT32": "6I"}
_VECTOR6D = ("target_q", "target_qd", "target_qdd", "target_current", "target_moment", "actual_q",
             "actual_qd", "actual_qdd", "actual_current", "actual_moment", "joint_control_output",
             "actual_TCP_pose", "actual_TCP_speed", "actual_TCP_force", "target_TCP_pose", "target_TCP_speed",
             "joint_temperatures", "actual_joint_voltage", "ft_raw_wrench", "payload_inertia", "tcp_offset")
_OUTPUT_TYPES: dict[str, str] = {
    **{n: "VECTOR6D" for n in _VECTOR6D},
    "timestamp": "DOUBLE", "actual_execution_time": "DOUBLE", "speed_scaling": "DOUBLE",
    "target_speed_fraction": "DOUBLE", "actual_momentum": "DOUBLE", "actual_main_voltage": "DOUBLE",
    "actual_robot_voltage": "DOUBLE", "actual_robot_current": "DOUBLE", "standard_analog_input0": "DOUBLE",
    "standard_analog_input1": "DOUBLE", "standard_analog_output0": "DOUBLE",
    "standard_analog_output1": "DOUBLE",
    "payload": "DOUBLE", "actual_digital_input_bits": "UINT64", "actual_digital_output_bits": "UINT64",
    "robot_mode": "INT32", "safety_mode": "INT32", "safety_status": "INT32", "joint_mode": "VECTOR6INT32",
    "runtime_state": "UINT32", "robot_status_bits": "UINT32", "safety_status_bits": "UINT32",
    "output_bit_registers0_to_31": "UINT32", "output_bit_registers32_to_63": "UINT32",
    "actual_tool_accelerometer": "VECTOR3D", "payload_cog": "VECTOR3D",
    **{f"output_int_register_{i}": "INT32" for i in range(48)},
    **{f"output_double_register_{i}": "DOUBLE" for i in range(48)},
}
_INPUT_TYPES: dict[str, str] = {
    **{f"input_int_register_{i}": "INT32" for i in range(48)},
    **{f"input_double_register_{i}": "DOUBLE" for i in range(48)},
    **{f"input_bit_register_{i}": "BOOL" for i in range(64, 128)},
    "external_force_torque": "VECTOR6D", "speed_slider_mask": "UINT32", "speed_slider_fraction": "DOUBLE",
    "standard_digital_output_mask": "UINT8", "standard_digital_output": "UINT8",
    "configurable_digital_output_mask": "UINT8", "configurable_digital_output": "UINT8",
    "tool_digital_output_mask": "UINT8", "tool_digital_output": "UINT8",
    "standard_analog_output_mask": "UINT8", "standard_analog_output_type": "UINT8",
    "standard_analog_output_0": "DOUBLE", "standard_analog_output_1": "DOUBLE",
    "input_bit_registers0_to_31": "UINT32", "input_bit_registers32_to_63": "UINT32",
}
_PROGRAM = re.compile(r"^(def|sec)\s+(\w+)\(\):\n.*?^end[ \t]*(\n|$)", re.MULTILINE | re.DOTALL)
_REG_OFFSET = re.compile(r"reg_offset_int\s*=\s*(\d+)")


def claim_loopback_host(first: int = 2, last: int = 254) -> tuple[str, IO[str]]:
    """A 127.0.0.N address no other emulator on this machine holds, and the open lock file
    that holds it (keep it open for as long as the address is used)."""
    lock_dir = os.path.join(tempfile.gettempdir(), "embodied_stack_ur_emulators")
    os.makedirs(lock_dir, exist_ok=True)
    for n in range(first, last + 1):
        f = open(os.path.join(lock_dir, f"127.0.0.{n}.lock"), "w")  # noqa: SIM115 - held while in use
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            f.close()
            continue
        return f"127.0.0.{n}", f
    raise RuntimeError(f"no free loopback address 127.0.0.{first}..{last} (locks in {lock_dir})")


class _ArmModel:
    """Joint dynamics, safety state and the control script's registers (guarded by ``lock``)."""

    def __init__(self, q0: np.ndarray, lower: np.ndarray, upper: np.ndarray, max_velocity: float,
                 unlock_delay_s: float) -> None:
        self.lock = threading.RLock()
        self.q = q0.astype(np.float64).copy()
        self.qd = np.zeros(6)
        self.lower, self.upper = lower, upper
        self.max_velocity = max_velocity
        self.time = 0.0
        self.robot_mode = RUNNING
        self.safety_mode = NORMAL
        self.estop_pressed = False
        self.protective_stop_time = -math.inf
        self.unlock_delay_s = unlock_delay_s
        self.speed_slider = 1.0
        # servo state
        self.servo_target: np.ndarray | None = None
        self.lookahead_time = 0.1
        self.decel: float | None = None  # rad/s^2 while a stop is in progress
        # the control script
        self.program_running = False
        self.program_name = ""
        self.reg_offset = 0
        self.executing = False
        self.busy_stop = False
        self.in_int = [0] * 48
        self.in_double = [0.0] * 48
        self.out_int = [0] * 48
        self.out_double = [0.0] * 48
        self.counts: dict[str, int] = {"servoj": 0, "servo_stop": 0, "stopj": 0, "programs": 0,
                                       "refused_programs": 0, "unlocks": 0}

    # --- derived values --------------------------------------------------------------------------
    @property
    def speed_scaling(self) -> float:
        return self.speed_slider * (0.5 if self.safety_mode == REDUCED else 1.0)

    @property
    def motion_allowed(self) -> bool:
        return self.robot_mode == RUNNING and self.safety_mode in (NORMAL, REDUCED)

    @property
    def runtime_state(self) -> int:
        return PLAYING if self.program_running else STOPPED

    @property
    def robot_status_bits(self) -> int:
        return (1 if self.robot_mode >= 4 else 0) | (2 if self.program_running else 0)

    @property
    def safety_status_bits(self) -> int:
        bits = {NORMAL: 1 << _SS_NORMAL, REDUCED: 1 << _SS_REDUCED,
                PROTECTIVE_STOP: 1 << _SS_PROTECTIVE | 1 << _SS_STOPPED_BY_SAFETY,
                ROBOT_EMERGENCY_STOP: 1 << _SS_ROBOT_ESTOP | 1 << _SS_ESTOP | 1 << _SS_STOPPED_BY_SAFETY}
        return bits.get(self.safety_mode, 1 << _SS_STOPPED_BY_SAFETY)

    @property
    def target_q(self) -> np.ndarray:
        return self.servo_target.copy() if self.servo_target is not None else self.q.copy()

    @property
    def target_moment(self) -> np.ndarray:
        """A plausible gravity load (N*m): shoulder and elbow carry the arm, wrists little."""
        s, e = self.q[1], self.q[1] + self.q[2]
        return np.array([0.0, 34.0 * math.cos(s) + 12.0 * math.cos(e), 12.0 * math.cos(e), 1.5 * math.cos(e),
                         0.0, 0.0]) + 2.0 * self.qd

    # --- the controller cycle ----------------------------------------------------------------------
    def step(self, dt: float) -> None:
        if self.program_running:
            self._script_step()
        self._dynamics(dt)
        self.time += dt

    def _dynamics(self, dt: float) -> None:
        if not self.motion_allowed:
            self._decelerate(40.0, dt)  # safety stop: as fast as the joints allow
        elif self.decel is not None:
            if self._decelerate(self.decel, dt):
                self.decel = None
        elif self.servo_target is not None:
            tau = max(self.lookahead_time, dt)
            vmax = self.max_velocity * self.speed_scaling
            self.qd = np.clip((self.servo_target - self.q) / tau, -vmax, vmax)
        else:
            self.qd[:] = 0.0
        self.q = np.clip(self.q + self.qd * dt, self.lower, self.upper)

    def _decelerate(self, a: float, dt: float) -> bool:
        """Reduce every joint speed by ``a * dt``; True when all are at rest."""
        self.qd = np.sign(self.qd) * np.maximum(np.abs(self.qd) - a * dt, 0.0)
        return not np.any(self.qd)

    def _script_step(self) -> None:
        """One pass of the uploaded control script's main loop."""
        off = self.reg_offset
        if self.busy_stop:  # a blocking stop is running inside process_cmd
            if self.decel is None:
                self.busy_stop = False
                self.out_int[off] = _DONE
            return
        cmd = self.in_int[off]
        if cmd in REALTIME_COMMANDS:
            self._process(cmd)
            self.out_int[off] = _READY
        elif cmd == CMD_NONE:
            self.executing = False
            self.out_int[off] = _READY
        elif not self.executing:
            self.executing = True
            self._process(cmd)
            if self.program_running and not self.busy_stop:
                self.out_int[off] = _DONE

    def _process(self, cmd: int) -> None:
        off, d = self.reg_offset, self.in_double
        if cmd == CMD_SERVOJ:
            self.counts["servoj"] += 1
            self.servo_target = np.array(d[off:off + 6], dtype=np.float64)
            self.lookahead_time = d[off + 9]
            self.decel = None
        elif cmd in (CMD_SERVO_STOP, CMD_SPEED_STOP, CMD_STOPJ):
            self.counts["stopj" if cmd == CMD_STOPJ else "servo_stop"] += 1
            self.servo_target = None
            self.decel = max(d[off], 0.1)
            is_async = cmd == CMD_STOPJ and self.in_int[off + 1] == 1
            self.busy_stop = not is_async
        elif cmd == CMD_PROTECTIVE_STOP:
            self.protective_stop()
        elif cmd == CMD_STOP_SCRIPT:
            self.stop_program()

    # --- program and safety transitions --------------------------------------------------------------
    def start_program(self, name: str, text: str) -> bool:
        if not self.motion_allowed:
            self.counts["refused_programs"] += 1
            return False
        m = _REG_OFFSET.search(text)
        self.reg_offset = int(m.group(1)) if m else 0
        self.program_running, self.program_name = True, name
        self.executing = self.busy_stop = False
        self.servo_target, self.decel = None, None
        self.out_int[self.reg_offset] = _READY
        self.out_int[self.reg_offset + 2] = -1  # async progress: "finished"
        self.counts["programs"] += 1
        return True

    def stop_program(self) -> None:
        if self.program_running and self.decel is None and np.any(self.qd):
            self.decel = 10.0
        self.program_running = False
        self.servo_target = None
        self.busy_stop = False

    def protective_stop(self) -> None:
        if self.safety_mode in (NORMAL, REDUCED):
            self.safety_mode = PROTECTIVE_STOP
            self.protective_stop_time = self.time
        self.stop_program()

    def unlock_protective_stop(self) -> str:
        if self.safety_mode != PROTECTIVE_STOP:
            return "Protective stop releasing"  # the real server answers this in normal mode too
        if self.time - self.protective_stop_time < self.unlock_delay_s:
            return (f"Cannot unlock protective stop until {self.unlock_delay_s:g}s after occurrence. "
                    "Always inspect cause of protective stop before unlocking")
        self.safety_mode = NORMAL
        self.counts["unlocks"] += 1
        return "Protective stop releasing"


class _RtdeClient:
    """One RTDE connection: its recipes and output schedule."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.names: list[str] = []
        self.fmt = ""  # struct format of one output package: recipe id + values; "" = no valid recipe
        self.frequency = TICK_HZ
        self.phase = 0.0
        self.started = False
        self.inputs: dict[int, tuple[list[str], str]] = {}  # recipe id -> (names, struct format)
        self.send_lock = threading.Lock()


class URController:
    """The controller itself (RTDE, dashboard, script ports on one loopback address), run inside
    the emulator's process; tests use :class:`URControllerEmulator`.

    Args:
        host: loopback address to bind.
        q0: initial joint positions (rad), default the usual "up" ready pose.
        lower, upper: joint position limits the arm cannot pass (rad), default +-2 pi.
        max_velocity: joint speed limit (rad/s), the UR5e's 180 deg/s.
        version: controller version the 'v' package reports (major 5 = e-Series: ur_rtde then
            defaults to 500 Hz).
        unlock_delay_s: how long after a protective stop the dashboard refuses to unlock it
            (5 s on real controllers; 0 here so tests need not wait).
    """

    def __init__(self, host: str, q0: np.ndarray | None = None, lower: np.ndarray | None = None,
                 upper: np.ndarray | None = None, max_velocity: float = math.pi,
                 version: tuple[int, int, int, int] = (5, 11, 1, 108318),
                 unlock_delay_s: float = 0.0) -> None:
        self.host = host
        self.version = version
        q0 = np.array([0.0, -math.pi / 2, math.pi / 2, -math.pi / 2, -math.pi / 2, 0.0]) if q0 is None else q0
        lower = np.full(6, -2 * math.pi) if lower is None else lower
        upper = np.full(6, 2 * math.pi) if upper is None else upper
        self.model = _ArmModel(np.asarray(q0, dtype=np.float64), lower, upper, max_velocity, unlock_delay_s)
        self._clients: list[_RtdeClient] = []
        self._sockets: set[socket.socket] = set()  # every accepted socket, to drop them at will
        self._listeners: dict[int, socket.socket] = {}
        self._sock_lock = threading.Lock()
        self._alive = False
        self._frozen = False
        self._threads: list[threading.Thread] = []
        self.tick_overruns = 0

    # --- lifecycle -------------------------------------------------------------------------------------
    def start(self) -> None:
        self._alive = True
        self.accept_connections()
        self._spawn(self._tick_loop, "ur-emu-tick")

    def close(self) -> None:
        self._alive = False
        self.drop_connections(refuse=True)
        for t in self._threads:
            t.join(timeout=2.0)

    def _spawn(self, target: Callable[..., None], name: str, *args: Any) -> None:
        t = threading.Thread(target=target, args=args, name=name, daemon=True)
        t.start()
        self._threads = [x for x in self._threads if x.is_alive()] + [t]

    # --- fault injection ----------------------------------------------------------------------------------
    def trigger_protective_stop(self) -> None:
        with self.model.lock:
            self.model.protective_stop()

    def press_emergency_stop(self) -> None:
        """The pendant's e-stop: the robot stops, loses power, the program stops."""
        with self.model.lock:
            m = self.model
            m.estop_pressed = True
            m.safety_mode = ROBOT_EMERGENCY_STOP
            m.robot_mode = POWER_OFF
            m.stop_program()

    def release_emergency_stop(self) -> None:
        """Button released: safety back to normal, but the arm stays powered off until
        "power on" and "brake release" (dashboard)."""
        with self.model.lock:
            self.model.estop_pressed = False
            if self.model.safety_mode == ROBOT_EMERGENCY_STOP:
                self.model.safety_mode = NORMAL

    def set_speed_slider(self, fraction: float) -> None:
        with self.model.lock:
            self.model.speed_slider = float(min(max(fraction, 0.0), 1.0))

    def drop_connections(self, refuse: bool = False) -> None:
        """Close every client socket; with ``refuse`` also stop listening (a pulled cable) until
        :meth:`accept_connections`. The program keeps running, as on a real controller."""
        with self._sock_lock:
            if refuse:
                for s in self._listeners.values():
                    _close(s)
                self._listeners.clear()
            for s in list(self._sockets):
                _close(s)
            self._sockets.clear()
            self._clients.clear()

    def accept_connections(self) -> None:
        with self._sock_lock:
            for port, handler in ((RTDE_PORT, self._serve_rtde), (DASHBOARD_PORT, self._serve_dashboard),
                                  (SCRIPT_PORT, self._serve_script)):
                if port in self._listeners:
                    continue
                srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                srv.settimeout(None)  # blocking whatever a library set as the process default
                srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    srv.bind((self.host, port))
                except OSError as e:
                    srv.close()
                    raise RuntimeError(f"UR emulator cannot bind {self.host}:{port} ({e}); another process "
                                       "listens there (a URSim container on 0.0.0.0?)") from e
                srv.listen(8)
                self._listeners[port] = srv
                self._spawn(self._accept_loop, f"ur-emu-accept-{port}", srv, handler)

    def freeze(self, frozen: bool = True) -> None:
        """Stop (or resume) streaming RTDE outputs without closing anything: a hung controller."""
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
            t = self.model.servo_target
            return None if t is None else t.copy()

    @property
    def program_running(self) -> bool:
        with self.model.lock:
            return self.model.program_running

    @property
    def safety_mode(self) -> str:
        with self.model.lock:
            return SAFETY_MODES[self.model.safety_mode]

    @property
    def robot_mode(self) -> str:
        with self.model.lock:
            return ROBOT_MODES[self.model.robot_mode]

    def count(self, what: str) -> int:
        """How often something happened: servoj, servo_stop, stopj, programs, refused_programs, unlocks."""
        with self.model.lock:
            return self.model.counts[what]

    @property
    def connected_clients(self) -> int:
        with self._sock_lock:
            return len(self._sockets)

    # --- the controller tick --------------------------------------------------------------------------------
    def _tick_loop(self) -> None:
        dt = 1.0 / TICK_HZ
        next_t = time.perf_counter()
        while self._alive:
            with self.model.lock:
                self.model.step(dt)
                if not self._frozen:
                    self._stream_outputs()
            next_t += dt
            delay = next_t - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            elif delay < -10 * dt:  # fell far behind (a loaded machine): resynchronise, count it
                self.tick_overruns += 1
                next_t = time.perf_counter()

    def _stream_outputs(self) -> None:
        with self._sock_lock:
            clients = [c for c in self._clients if c.started]
        for c in clients:
            c.phase += c.frequency / TICK_HZ
            if c.phase < 1.0 - 1e-9:
                continue
            c.phase -= 1.0
            try:
                self._send(c, _U, struct.pack(c.fmt, 1, *self._output_values(c.names)))
            except OSError:
                self._forget(c.sock)

    def _output_values(self, names: list[str]) -> list[Any]:
        m = self.model
        out: list[Any] = []
        for name in names:
            value = self._output(m, name)
            if isinstance(value, np.ndarray | list | tuple):
                out.extend(value)
            else:
                out.append(value)
        return out

    @staticmethod
    def _output(m: _ArmModel, name: str) -> Any:
        simple: dict[str, Callable[[], Any]] = {
            "timestamp": lambda: m.time, "actual_q": lambda: m.q, "actual_qd": lambda: m.qd,
            "target_q": lambda: m.target_q, "target_qd": lambda: m.qd,
            "target_moment": lambda: m.target_moment, "actual_current": lambda: m.target_moment / 10.0,
            "target_current": lambda: m.target_moment / 10.0,
            "robot_mode": lambda: m.robot_mode, "safety_mode": lambda: m.safety_mode,
            "safety_status": lambda: m.safety_mode, "runtime_state": lambda: m.runtime_state,
            "robot_status_bits": lambda: m.robot_status_bits,
            "safety_status_bits": lambda: m.safety_status_bits,
            "speed_scaling": lambda: m.speed_scaling, "target_speed_fraction": lambda: m.speed_slider,
            "joint_mode": lambda: [253 if m.robot_mode == RUNNING else 236] * 6,
            "joint_temperatures": lambda: [32.0] * 6, "actual_execution_time": lambda: 0.4,
            "actual_main_voltage": lambda: 48.0, "actual_robot_voltage": lambda: 48.0,
            "actual_joint_voltage": lambda: [48.0] * 6, "actual_robot_current": lambda: 0.8,
        }
        if name in simple:
            return simple[name]()
        if name.startswith("output_int_register_"):
            return m.out_int[int(name.rsplit("_", 1)[1])]
        if name.startswith("output_double_register_"):
            return m.out_double[int(name.rsplit("_", 1)[1])]
        kind = _OUTPUT_TYPES[name]
        zeros = {"VECTOR6D": [0.0] * 6, "VECTOR3D": [0.0] * 3, "VECTOR6INT32": [0] * 6, "DOUBLE": 0.0}
        return zeros.get(kind, 0)

    # --- sockets --------------------------------------------------------------------------------------------
    def _accept_loop(self, srv: socket.socket, handler: Callable[[socket.socket], None]) -> None:
        while self._alive:
            try:
                sock, _ = srv.accept()
            except OSError:
                return  # listener closed
            sock.settimeout(None)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._sock_lock:
                self._sockets.add(sock)
            self._spawn(self._run_handler, "ur-emu-client", sock, handler)

    def _run_handler(self, sock: socket.socket, handler: Callable[[socket.socket], None]) -> None:
        try:
            handler(sock)
        except (OSError, ConnectionError, struct.error):
            pass
        finally:
            self._forget(sock)

    def _forget(self, sock: socket.socket) -> None:
        with self._sock_lock:
            self._sockets.discard(sock)
            self._clients = [c for c in self._clients if c.sock is not sock]
        _close(sock)

    # --- RTDE -----------------------------------------------------------------------------------------------
    def _send(self, client: _RtdeClient, kind: int, payload: bytes) -> None:
        with client.send_lock:
            client.sock.sendall(struct.pack(">HB", len(payload) + 3, kind) + payload)

    def _serve_rtde(self, sock: socket.socket) -> None:
        client = _RtdeClient(sock)
        with self._sock_lock:
            self._clients.append(client)
        while self._alive:
            header = _recv_exact(sock, 3)
            size, kind = struct.unpack(">HB", header)
            payload = _recv_exact(sock, size - 3)
            if kind == _V:
                self._send(client, _V, b"\x01")
            elif kind == _v:
                self._send(client, _v, struct.pack(">4I", *self.version))
            elif kind == _O:
                (client.frequency,) = struct.unpack(">d", payload[:8])
                client.frequency = min(max(client.frequency, 1.0), TICK_HZ)
                client.names = [n for n in payload[8:].decode().split(",") if n]
                types = [_OUTPUT_TYPES.get(n, "NOT_FOUND") for n in client.names]
                client.fmt = ">B" + "".join(_FORMATS[t] for t in types) if "NOT_FOUND" not in types else ""
                self._send(client, _O, bytes([1]) + ",".join(types).encode())
            elif kind == _I:
                names = [n for n in payload.decode().split(",") if n]
                types = [_INPUT_TYPES.get(n, "NOT_FOUND") for n in names]
                recipe = len(client.inputs) + 1
                if "NOT_FOUND" not in types:
                    client.inputs[recipe] = (names, ">" + "".join(_FORMATS[t] for t in types))
                self._send(client, _I, bytes([recipe]) + ",".join(types).encode())
            elif kind == _S:
                client.started = bool(client.fmt and client.names)
                self._send(client, _S, b"\x01" if client.started else b"\x00")
            elif kind == _P:
                client.started = False
                self._send(client, _P, b"\x01")
            elif kind == _U:
                self._apply_inputs(client, payload)

    def _apply_inputs(self, client: _RtdeClient, payload: bytes) -> None:
        recipe = payload[0]
        if recipe not in client.inputs:
            return
        names, fmt = client.inputs[recipe]
        size = struct.calcsize(fmt)
        values = list(struct.unpack(fmt, payload[1:1 + size])) if len(payload) - 1 >= size else []
        if not values:  # a shorter package than the recipe: ur_rtde sends only what a command needs
            values = _unpack_prefix(fmt, payload[1:])
        with self.model.lock:
            m = self.model
            i = 0
            slider_mask = 0
            for name in names:
                kind = _INPUT_TYPES[name]
                width = {"VECTOR6D": 6, "VECTOR3D": 3}.get(kind, 1)
                if i + width > len(values):
                    break
                value = values[i] if width == 1 else values[i:i + width]
                i += width
                if name.startswith("input_int_register_"):
                    m.in_int[int(name.rsplit("_", 1)[1])] = int(value)
                elif name.startswith("input_double_register_"):
                    m.in_double[int(name.rsplit("_", 1)[1])] = float(value)
                elif name == "speed_slider_mask":
                    slider_mask = int(value)
                elif name == "speed_slider_fraction" and slider_mask:
                    m.speed_slider = float(min(max(value, 0.0), 1.0))

    # --- dashboard ------------------------------------------------------------------------------------------
    def _serve_dashboard(self, sock: socket.socket) -> None:
        sock.sendall(b"Connected: Universal Robots Dashboard Server\n")
        buf = b""
        while self._alive:
            chunk = sock.recv(4096)
            if not chunk:
                return
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                reply = self._dashboard_reply(line.decode(errors="replace").strip())
                sock.sendall(reply.encode() + b"\n")
                if reply == "Disconnected":
                    return

    def _dashboard_reply(self, cmd: str) -> str:
        with self.model.lock:
            m = self.model
            low = cmd.lower()
            if low == "polyscopeversion":
                return "URSoftware {}.{}.{}.{} (Mar 22 2021)".format(*self.version)
            if low == "robotmode":
                return f"Robotmode: {ROBOT_MODES[m.robot_mode]}"
            if low == "safetymode":
                return f"Safetymode: {SAFETY_MODES[m.safety_mode]}"
            if low == "safetystatus":
                return f"Safetystatus: {SAFETY_MODES[m.safety_mode]}"
            if low == "programstate":
                return f"PLAYING {m.program_name}" if m.program_running else "STOPPED <unnamed>"
            if low == "running":
                return f"Program running: {str(m.program_running).lower()}"
            if low == "stop":
                m.stop_program()
                return "Stopped"
            if low == "play":
                return "Failed to execute: play"  # no .urp loaded in this emulator
            if low == "unlock protective stop":
                return m.unlock_protective_stop()
            if low == "close safety popup":
                return "closing safety popup"
            if low == "close popup":
                return "closing popup"
            if low.startswith("popup"):
                return "showing popup"
            if low == "power on":
                if m.safety_mode in (NORMAL, REDUCED) and m.robot_mode == POWER_OFF:
                    m.robot_mode = IDLE
                return "Powering on"
            if low == "power off":
                m.stop_program()
                m.robot_mode = POWER_OFF
                return "Powering off"
            if low == "brake release":
                if m.safety_mode in (NORMAL, REDUCED) and m.robot_mode == IDLE:
                    m.robot_mode = RUNNING
                return "Brake releasing"
            if low == "restart safety":
                if not m.estop_pressed and m.safety_mode != NORMAL:
                    m.safety_mode, m.robot_mode = NORMAL, POWER_OFF
                return "Restarting safety"
            if low == "is in remote control":
                return "true"
            if low == "get serial number":
                return "20215500001"
            if low == "get robot model":
                return "UR5"
            if low == "quit":
                return "Disconnected"
            return f"could not understand: '{cmd}'"

    # --- script port ----------------------------------------------------------------------------------------
    def _serve_script(self, sock: socket.socket) -> None:
        buf = ""
        while self._alive:
            chunk = sock.recv(65536)
            if not chunk:
                return
            buf += chunk.decode(errors="replace")
            while True:
                match = _PROGRAM.search(buf)
                if match is None:
                    break
                if match.group(1) == "def":
                    with self.model.lock:
                        self.model.start_program(match.group(2), match.group(0))
                buf = buf[match.end():]


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("peer closed")
        data += chunk
    return data


def _unpack_prefix(fmt: str, data: bytes) -> list[Any]:
    """Unpack as many leading fields of ``fmt`` as ``data`` holds."""
    out: list[Any] = []
    offset = 0
    for code in re.findall(r"\d*[a-zA-Z?]", fmt.lstrip(">")):
        size = struct.calcsize(">" + code)
        if offset + size > len(data):
            break
        out.extend(struct.unpack(">" + code, data[offset:offset + size]))
        offset += size
    return out


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()


def _serve(conn: Connection, host: str, kwargs: dict[str, Any]) -> None:
    """Child process: run a :class:`URController` and answer the parent's calls until told to stop."""
    try:
        controller = URController(host, **kwargs)
        controller.start()
    except Exception as e:  # noqa: BLE001 - reported to the parent, which raises it
        conn.send(("error", f"{type(e).__name__}: {e}"))
        return
    conn.send(("ok", None))
    while True:
        try:
            name, args = conn.recv()
        except (EOFError, OSError):
            break  # the parent died: do not outlive it
        if name == "close":
            break
        try:
            attr = getattr(controller, name)
            conn.send(("ok", attr(*args) if callable(attr) else attr))
        except Exception as e:  # noqa: BLE001 - an emulator bug must reach the test, not kill the child
            conn.send(("error", f"{type(e).__name__}: {e}"))
    controller.close()
    conn.send(("ok", None))


class URControllerEmulator:
    """A :class:`URController` in a child process, driven from the test through a pipe.

    Why a process: ur_rtde's Python constructors (``RTDEReceiveInterface(...)``,
    ``RTDEControlInterface(...)``) run their whole handshake holding the GIL, so a controller
    written in Python cannot answer them from a thread of the same process. A separate
    process also keeps the controller's 500 Hz cycle from sharing the GIL with the driver
    being measured.

    Args: those of :class:`URController`, except ``host``: None claims a free ``127.0.0.N``
    (held by this object's lock file until :meth:`close`).
    """

    def __init__(self, host: str | None = None, **kwargs: Any) -> None:
        self._host_lock: IO[str] | None = None
        if host is None:
            host, self._host_lock = claim_loopback_host()
        self.host = host
        self._kwargs = kwargs
        self._conn: Connection | None = None
        self._proc: multiprocessing.process.BaseProcess | None = None
        self._call_lock = threading.Lock()

    def start(self, timeout_s: float = 20.0) -> URControllerEmulator:
        ctx = multiprocessing.get_context("spawn")
        parent, child = ctx.Pipe()
        self._proc = ctx.Process(target=_serve, args=(child, self.host, self._kwargs), name="ur-emulator",
                                 daemon=True)
        self._proc.start()
        child.close()
        self._conn = parent
        if not parent.poll(timeout_s):
            self.close()
            raise RuntimeError(f"UR emulator process did not start within {timeout_s} s")
        try:
            status, detail = parent.recv()
        except EOFError:
            status, detail = "error", ("the process exited (started from a script? it needs an "
                                       "`if __name__ == '__main__':` guard)")
        if status != "ok":
            self.close()
            raise RuntimeError(f"UR emulator failed to start: {detail}")
        return self

    def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(OSError, EOFError, RuntimeError):
                self._call("close")
            self._conn.close()
            self._conn = None
        if self._proc is not None:
            self._proc.join(timeout=5.0)
            if self._proc.is_alive():
                self._proc.kill()
                self._proc.join(timeout=5.0)
            self._proc = None
        if self._host_lock is not None:
            self._host_lock.close()
            self._host_lock = None

    def __enter__(self) -> URControllerEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, name: str, *args: Any, timeout_s: float = 10.0) -> Any:
        if self._conn is None:
            raise RuntimeError("UR emulator is not running: call start() (or use it as a context manager)")
        with self._call_lock:
            self._conn.send((name, args))
            if not self._conn.poll(timeout_s):
                raise RuntimeError(f"UR emulator did not answer {name}() within {timeout_s} s")
            status, value = self._conn.recv()
        if status != "ok":
            raise RuntimeError(f"UR emulator {name}(): {value}")
        return value

    # --- fault injection (see URController) -----------------------------------------------------------------
    def trigger_protective_stop(self) -> None:
        self._call("trigger_protective_stop")

    def press_emergency_stop(self) -> None:
        self._call("press_emergency_stop")

    def release_emergency_stop(self) -> None:
        self._call("release_emergency_stop")

    def set_speed_slider(self, fraction: float) -> None:
        self._call("set_speed_slider", fraction)

    def drop_connections(self, refuse: bool = False) -> None:
        self._call("drop_connections", refuse)

    def accept_connections(self) -> None:
        self._call("accept_connections")

    def freeze(self, frozen: bool = True) -> None:
        self._call("freeze", frozen)

    # --- observation ----------------------------------------------------------------------------------------
    @property
    def joint_positions(self) -> np.ndarray:
        return self._call("joint_positions")

    @property
    def joint_velocities(self) -> np.ndarray:
        return self._call("joint_velocities")

    @property
    def servo_target(self) -> np.ndarray | None:
        return self._call("servo_target")

    @property
    def program_running(self) -> bool:
        return self._call("program_running")

    @property
    def safety_mode(self) -> str:
        return self._call("safety_mode")

    @property
    def robot_mode(self) -> str:
        return self._call("robot_mode")

    @property
    def connected_clients(self) -> int:
        return self._call("connected_clients")

    @property
    def tick_overruns(self) -> int:
        return self._call("tick_overruns")

    def count(self, what: str) -> int:
        return self._call("count", what)
