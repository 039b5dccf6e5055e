"""Unitree Go2 in sport mode as a :class:`~embodied_stack.hardware.robot.Robot` (``base``), through
Unitree's Python SDK running in its own process.

Why a second process: the SDK speaks Cyclone DDS, our ROS graph Fast DDS. :class:`Go2Robot` lives
in the driver node and starts :mod:`embodied_stack.robots.go2.sdk_bridge` on connect (its own
session, so a Ctrl-C meant for the driver lets the driver send its last StopMove first); they talk
over the bridge's stdin/stdout in JSON lines. The bridge exiting or ``rt/sportmodestate`` going
silent for ``state_timeout_s`` is a :class:`DeviceDisconnectedError` (the driver reconnects, which
starts a fresh bridge).

Commands: ``Move(vx, vy, vyaw)`` is fire-and-forget in the SDK and the dog only keeps walking while
it keeps hearing it, so every ``send_base_velocity`` (the driver's cycle, at its control rate)
sends one. :meth:`Go2Robot.stop` sends StopMove once per motion (and again only when the dog's
answer said it failed), so the driver's stale-``cmd_vel`` watchdog and the e-stop, which call
``stop()`` every cycle, do not flood the request channel.

State: ``rt/sportmodestate`` gives the odometry pose (position in the dog's odom frame, the IMU's
orientation), velocity (odom frame in the SDK, rotated into ``base_link`` here), the IMU, the sport
mode and body height; ``rt/lowstate`` gives the 12 leg joints and the battery. A tilt beyond
``fall_tilt_rad`` is a fall: /diagnostics reports it and commands raise :class:`DeviceFaultError`
until :meth:`Go2Robot.clear_errors` (RecoveryStand, BalanceStand). A dog that is not standing
refuses commands the same way (Move would be ignored); ``clear_errors`` stands it up.
"""

from __future__ import annotations

import collections
import contextlib
import itertools
import json
import math
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from embodied_stack.config import ConfigError
from embodied_stack.hardware.robot import (
    BaseVelocity,
    DeviceDisconnectedError,
    DeviceFaultError,
    ImuReading,
    Robot,
    RobotState,
)
from embodied_stack.hardware.safety import BaseLimits
from embodied_stack.robots.description import RobotDescription
from embodied_stack.robots.go2.config import Go2Config
from embodied_stack.robots.go2.sdk_bridge import CALLS

#: rt/lowstate motor order (FR, FL, RR, RL legs; hip, thigh, calf), named as in the description's model
GO2_JOINTS = [f"{leg}_{part}_joint" for leg in ("FR", "FL", "RR", "RL") for part in ("hip", "thigh", "calf")]
#: SportModeState_.mode (Unitree's sport-mode service documentation)
SPORT_MODES = {0: "idle", 1: "balance_stand", 2: "pose", 3: "locomotion", 4: "reserve", 5: "lie_down",
               6: "joint_lock", 7: "damping", 8: "recovery_stand", 9: "reserve", 10: "sit", 11: "front_flip",
               12: "front_jump", 13: "front_pounce"}
WALKING_MODES = frozenset({0, 1, 3})  # modes in which Move walks
#: the SDK's RPC error codes (rpc/internal.py, go2/sport/sport_api.py) in words
RPC_ERRORS = {3001: "unknown error", 3102: "request could not be sent (no sport server matched)",
              3103: "API not registered in the client", 3104: "no answer within the request timeout",
              3105: "answer for another API", 3106: "bad answer data", 3107: "invalid lease",
              3201: "server could not send its answer", 3202: "server-internal error",
              3203: "API not implemented by the server", 3204: "bad parameter", 3205: "lease denied",
              4201: "sport server overtime", 4202: "sport server not initialised", -1: "the SDK call raised"}
_LINK_CODES = frozenset({3102, 3104})
_BRIDGE_MODULE = "embodied_stack.robots.go2.sdk_bridge"


def describe_code(code: int) -> str:
    """An SDK return code in words ('0: ok' for success)."""
    return "0: ok" if code == 0 else f"{code}: {RPC_ERRORS.get(code, 'unknown code')}"


@dataclass
class _Received:
    """One state message from the bridge and when it arrived (monotonic and wall clock, s)."""

    mono: float
    wall: float
    data: dict[str, Any]


class _Bridge:
    """The SDK process: started here, read by a thread, ended by ``quit``/closing its stdin."""

    def __init__(self, command: list[str], on_reply: Callable[[dict[str, Any]], None]) -> None:
        self.command = command
        self._on_reply = on_reply
        self.proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, bufsize=1,
                                     env={**os.environ, "PYTHONUNBUFFERED": "1"}, start_new_session=True)
        self.sport: _Received | None = None
        self.low: _Received | None = None
        self.error = ""
        self.ready = threading.Event()
        self.ended = threading.Event()
        self.stderr_tail: collections.deque[str] = collections.deque(maxlen=20)
        self._write_lock = threading.Lock()
        self._ids = itertools.count(1)
        self._waiting: dict[int, tuple[threading.Event, list[dict[str, Any]]]] = {}
        self._threads = [threading.Thread(target=self._read_stdout, name="go2_bridge_out", daemon=True),
                         threading.Thread(target=self._read_stderr, name="go2_bridge_err", daemon=True)]
        for t in self._threads:
            t.start()

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None and not self.ended.is_set()

    def why_down(self) -> str:
        code = self.proc.poll()
        what = f"exited with code {code}" if code is not None else "closed its output"
        detail = self.error or " | ".join(self.stderr_tail) or "no output"
        return f"the SDK bridge (pid {self.pid}) {what}: {detail}"

    def _read_stdout(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            try:
                msg = json.loads(line)
            except json.JSONDecodeError:
                self.stderr_tail.append(f"(bad line) {line.strip()}")
                continue
            kind = msg.get("type")
            if kind == "sport":
                self.sport = _Received(time.monotonic(), time.time(), msg)
            elif kind == "low":
                self.low = _Received(time.monotonic(), time.time(), msg)
            elif kind == "reply":
                self._reply(msg)
            elif kind == "ready":
                self.ready.set()
            elif kind == "error":
                self.error = str(msg.get("message", ""))
        self.ended.set()
        for event, _ in list(self._waiting.values()):
            event.set()

    def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            if line.strip():
                self.stderr_tail.append(line.strip())

    def _reply(self, msg: dict[str, Any]) -> None:
        waiting = self._waiting.pop(msg.get("id"), None)
        if waiting is not None:
            waiting[1].append(msg)
            waiting[0].set()
        else:
            self._on_reply(msg)

    def send(self, obj: dict[str, Any]) -> None:
        """One line to the bridge; a broken pipe is a dead bridge."""
        line = json.dumps(obj, separators=(",", ":")) + "\n"
        with self._write_lock:
            try:
                assert self.proc.stdin is not None
                self.proc.stdin.write(line)
                self.proc.stdin.flush()
            except (BrokenPipeError, OSError, ValueError) as e:
                raise DeviceDisconnectedError(f"Go2: {self.why_down()} ({e})") from e

    def call(self, api: str, timeout_s: float | None) -> int | None:
        """Send a request/response API; with ``timeout_s`` wait for its code (None: no answer in
        time), else return None at once (the answer goes to ``on_reply``)."""
        call_id = next(self._ids)
        waiting: tuple[threading.Event, list[dict[str, Any]]] | None = None
        if timeout_s is not None:
            waiting = (threading.Event(), [])
            self._waiting[call_id] = waiting
        self.send({"op": "call", "id": call_id, "api": api})
        if waiting is None:
            return None
        waiting[0].wait(timeout_s)
        self._waiting.pop(call_id, None)
        return int(waiting[1][0]["code"]) if waiting[1] else None

    def close(self, timeout_s: float) -> None:
        """Ask the bridge to finish (it sends any queued StopMove first), then make sure it is gone."""
        with contextlib.suppress(DeviceDisconnectedError):
            self.send({"op": "quit"})
        with contextlib.suppress(OSError, ValueError):
            assert self.proc.stdin is not None
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5.0)
        for t in self._threads:
            t.join(timeout=2.0)


class Go2Robot(Robot):
    """One Unitree Go2 in sport mode.

    Args:
        config: connection and reporting settings (:class:`Go2Config`).
        base_limits: body velocity limits; every ``cmd_vel`` is clamped to them before Move.
        name: the robot's name in logs and errors.
    """

    capabilities = frozenset({"base"})

    def __init__(self, config: Go2Config, base_limits: BaseLimits, name: str = "go2") -> None:
        ros_domain = int(os.environ.get("ROS_DOMAIN_ID", "0") or 0)
        if ros_domain == config.domain_id and config.network_interface != "lo":
            raise ConfigError(f"unitree: ROS_DOMAIN_ID {ros_domain} equals the Go2's DDS domain "
                              f"{config.domain_id}: the dog's Cyclone DDS traffic would mix into the ROS "
                              f"graph; export ROS_DOMAIN_ID=1 (any value but {config.domain_id}) before "
                              "starting ROS")
        super().__init__(name, base_limits=base_limits)
        self.config = config
        self._lock = threading.RLock()
        self._bridge: _Bridge | None = None
        self._moving = False  # a Move was sent since the last StopMove
        self._stop_failed = ""  # the last StopMove's failure, resent on the next stop()
        self.stop_moves_sent = 0
        self.moves_sent = 0
        self.last_refusal = ""

    # --- lifecycle ------------------------------------------------------------------------------------
    def bridge_command(self) -> list[str]:
        """The command line of the SDK bridge process."""
        c = self.config
        return [c.python or sys.executable, "-m", _BRIDGE_MODULE, "--interface", c.network_interface,
                "--domain", str(c.domain_id), "--state-rate", str(c.state_rate_hz),
                "--request-timeout", str(c.request_timeout_s)]

    @property
    def bridge_pid(self) -> int | None:
        """The SDK bridge's process id while one runs (tests end it to cut the link)."""
        bridge = self._bridge
        return bridge.pid if bridge is not None and bridge.alive else None

    def _where(self) -> str:
        return f"Go2 on interface '{self.config.network_interface}', DDS domain {self.config.domain_id}"

    def _connect(self) -> None:
        c = self.config
        with self._lock:
            try:
                bridge = _Bridge(self.bridge_command(), self._on_async_reply)
            except OSError as e:
                raise DeviceDisconnectedError(f"{self._where()}: cannot start the SDK bridge "
                                              f"{self.bridge_command()} ({e}); check "
                                              "backends.unitree.python") from e
            try:
                deadline = time.monotonic() + c.connect_timeout_s
                while not bridge.ready.is_set():
                    if not bridge.alive:
                        raise DeviceDisconnectedError(f"{self._where()}: {bridge.why_down()}")
                    if time.monotonic() > deadline:
                        raise DeviceDisconnectedError(f"{self._where()}: the SDK bridge did not finish its "
                                                      f"set-up within {c.connect_timeout_s} s "
                                                      f"({bridge.why_down()})")
                    bridge.ready.wait(0.02)
                while bridge.sport is None:
                    if not bridge.alive:
                        raise DeviceDisconnectedError(f"{self._where()}: {bridge.why_down()}")
                    if time.monotonic() > deadline:
                        raise DeviceDisconnectedError(
                            f"{self._where()}: no rt/sportmodestate within {c.connect_timeout_s} s; is the "
                            "dog on and in sport mode, the cable in, and is the interface right "
                            "(`ip -br addr`; this computer needs an address in 192.168.123.0/24)?")
                    time.sleep(0.01)
            except BaseException:
                bridge.close(1.0)
                raise
            self._bridge = bridge
            self._moving, self._stop_failed = False, ""
            if c.stand_on_connect and not self._ready_to_walk(bridge.sport.data):
                try:
                    self._stand()
                except DeviceFaultError as e:  # status() and the next command say why; the link is up
                    self.last_refusal = str(e)

    def _disconnect(self) -> None:
        with self._lock:
            bridge, self._bridge = self._bridge, None
            self._moving = False
            if bridge is not None:
                bridge.close(2 * self.config.request_timeout_s + 2.0)

    def reconnect(self) -> None:
        """Drop whatever is left of the bridge and connect again (a fresh SDK process)."""
        with self._lock:
            self._disconnect()
            self._connected = False
            self.connect()

    # --- state ---------------------------------------------------------------------------------------
    def _require_bridge(self) -> _Bridge:
        bridge = self._bridge
        if bridge is None:
            raise DeviceDisconnectedError(f"{self._where()}: not connected; reconnect()")
        if not bridge.alive:
            raise DeviceDisconnectedError(f"{self._where()}: {bridge.why_down()}; the driver reconnects by "
                                          "itself (reconnect() by hand)")
        return bridge

    def _sport(self, bridge: _Bridge) -> dict[str, Any]:
        sport = bridge.sport
        age = time.monotonic() - sport.mono if sport is not None else math.inf
        if age > self.config.state_timeout_s:
            raise DeviceDisconnectedError(f"{self._where()}: no rt/sportmodestate for {age:.2f} s (more than "
                                          f"state_timeout_s {self.config.state_timeout_s} s): check the "
                                          "cable and that the dog is on; the driver reconnects by itself")
        assert sport is not None
        return sport.data

    def _read_state(self) -> RobotState:
        bridge = self._require_bridge()
        s = self._sport(bridge)
        sport = bridge.sport
        assert sport is not None
        w, x, y, z = s["quaternion"]
        yaw = s["rpy"][2]
        vx, vy, vz = s["velocity"]  # odom frame in the SDK: into base_link by the heading
        c, sn = math.cos(yaw), math.sin(yaw)
        gyro = np.asarray(s["gyroscope"], dtype=np.float64)
        state = RobotState(
            stamp=sport.wall,
            base_pose=np.array([*s["position"], x, y, z, w], dtype=np.float64),
            base_twist=np.array([c * vx + sn * vy, -sn * vx + c * vy, vz, gyro[0], gyro[1], s["yaw_speed"]]),
            imu=ImuReading(orientation_xyzw=np.array([x, y, z, w], dtype=np.float64), angular_velocity=gyro,
                           linear_acceleration=np.asarray(s["accelerometer"], dtype=np.float64)))
        low = bridge.low
        if low is not None and time.monotonic() - low.mono <= self.config.state_timeout_s:
            state.joint_names = list(GO2_JOINTS)
            state.joint_positions = np.asarray(low.data["q"], dtype=np.float64)
            state.joint_velocities = np.asarray(low.data["dq"], dtype=np.float64)
            state.joint_efforts = np.asarray(low.data["tau"], dtype=np.float64)
        return state

    def _fallen(self, s: dict[str, Any]) -> bool:
        roll, pitch = s["rpy"][0], s["rpy"][1]
        return max(abs(roll), abs(pitch)) > self.config.fall_tilt_rad

    def _ready_to_walk(self, s: dict[str, Any]) -> bool:
        return (not self._fallen(s) and s["mode"] in WALKING_MODES
                and s["body_height"] >= self.config.stand_height_m)

    # --- commands ------------------------------------------------------------------------------------
    def _write_base_velocity(self, command: BaseVelocity) -> None:
        with self._lock:
            bridge = self._require_bridge()
            s = self._sport(bridge)
            if self._fallen(s):
                raise DeviceFaultError(f"{self._where()} has fallen (roll {s['rpy'][0]:.2f}, pitch "
                                       f"{s['rpy'][1]:.2f} rad): check the dog and its surroundings, then "
                                       "clear_errors() (RecoveryStand + BalanceStand)")
            if not self._ready_to_walk(s):
                mode = SPORT_MODES.get(s["mode"], str(s["mode"]))
                raise DeviceFaultError(f"{self._where()} is not standing to walk (mode {mode}, body "
                                       f"{s['body_height']:.2f} m): Move would be ignored; clear_errors() "
                                       "stands it up (StandUp + BalanceStand), or set "
                                       "backends.unitree.stand_on_connect")
            bridge.send({"op": "move", "vx": command.vx, "vy": command.vy, "wz": command.wz})
            self._moving = True
            self.moves_sent += 1

    def _stop(self) -> None:
        """StopMove once after motion (and again if the dog said it failed); nothing to do when the
        dog is not walking or the bridge is gone (it then hears nothing to keep walking on)."""
        with self._lock:
            bridge = self._bridge
            if bridge is None or not bridge.alive or not (self._moving or self._stop_failed):
                return
            self._moving, self._stop_failed = False, ""
            bridge.call("StopMove", timeout_s=None)
            self.stop_moves_sent += 1

    def _on_async_reply(self, msg: dict[str, Any]) -> None:
        if msg.get("api") == "StopMove" and int(msg.get("code", 0)) != 0:
            self._stop_failed = describe_code(int(msg["code"]))

    def sport_call(self, api: str) -> str:
        """A sport-mode request/response API (:data:`~embodied_stack.robots.go2.sdk_bridge.CALLS`), waiting
        for the dog's answer. Raises :class:`DeviceFaultError` when the dog refuses,
        :class:`DeviceDisconnectedError` when it does not answer."""
        if api not in CALLS:
            raise ValueError(f"unknown sport API {api!r}; available: {sorted(CALLS)}")
        bridge = self._require_bridge()
        code = bridge.call(api, timeout_s=self.config.request_timeout_s + 1.0)
        if code is None or code in _LINK_CODES:
            why = "no answer from the SDK bridge" if code is None else describe_code(code)
            raise DeviceDisconnectedError(f"{self._where()}: {api} failed ({why}); check the link")
        if code != 0:
            raise DeviceFaultError(f"{self._where()}: {api} refused ({describe_code(code)})")
        if api == "StopMove":
            self._moving = False
        return f"{api}: ok"

    def stand_up(self) -> str:
        """StandUp: rise and lock the joints (Move needs :meth:`balance_stand` after it)."""
        return self.sport_call("StandUp")

    def balance_stand(self) -> str:
        """BalanceStand: stand balancing, ready to walk on Move."""
        return self.sport_call("BalanceStand")

    def stand_down(self) -> str:
        """StandDown: lie down (motors stay on)."""
        return self.sport_call("StandDown")

    def damp(self) -> str:
        """Damp: all motors soft -- the dog sinks to the ground. Unitree's emergency stop."""
        return self.sport_call("Damp")

    def recovery_stand(self) -> str:
        """RecoveryStand: get up after a fall (or from lying)."""
        return self.sport_call("RecoveryStand")

    def _wait_for(self, condition: Callable[[dict[str, Any]], bool], what: str) -> None:
        deadline = time.monotonic() + self.config.stand_timeout_s
        while True:
            s = self._sport(self._require_bridge())
            if condition(s):
                return
            if time.monotonic() > deadline:
                mode = SPORT_MODES.get(s["mode"], s["mode"])
                raise DeviceFaultError(f"{self._where()}: waited {self.config.stand_timeout_s} s for {what}; "
                                       f"now mode {mode}, body {s['body_height']:.2f} m, "
                                       f"roll {s['rpy'][0]:.2f}, pitch {s['rpy'][1]:.2f} rad: check the dog")
            time.sleep(0.01)

    def _stand(self) -> str:
        """Stand ready to walk: RecoveryStand after a fall, StandUp from lying, then BalanceStand."""
        s = self._sport(self._require_bridge())
        done = []
        if self._fallen(s):
            done.append(self.recovery_stand())
            self._wait_for(lambda s: not self._fallen(s) and s["body_height"] >= self.config.stand_height_m,
                           "the body upright at stand height after RecoveryStand")
        elif s["body_height"] < self.config.stand_height_m:
            done.append(self.stand_up())
            self._wait_for(lambda s: s["body_height"] >= self.config.stand_height_m,
                           "stand height after StandUp")
        done.append(self.balance_stand())
        self._wait_for(self._ready_to_walk, "a walking mode after BalanceStand")
        self.last_refusal = ""
        return ", ".join(done)

    # --- recovery and diagnostics ----------------------------------------------------------------------
    def _clear_errors(self) -> str:
        """The operator's acknowledgement after a fall or with the dog down: stand it up ready to
        walk (RecoveryStand after a fall, StandUp from lying, then BalanceStand)."""
        with self._lock:
            return f"{self._where()}: standing, ready to walk ({self._stand()})"

    def status(self) -> dict[str, str]:
        """The dog's state in words for /diagnostics (never raises). ``level`` is OK, WARN or ERROR
        and ``message`` says what is wrong and the fix."""
        c = self.config
        out = {"interface": c.network_interface, "domain_id": str(c.domain_id), "connected": "false",
               "level": "ERROR", "moves_sent": str(self.moves_sent),
               "stop_moves_sent": str(self.stop_moves_sent)}
        bridge = self._bridge
        if bridge is None or not self._connected:
            out["message"] = "not connected: call connect()"
            return out
        if not bridge.alive:
            out["message"] = f"{bridge.why_down()}: reconnecting"
            return out
        out["bridge_pid"] = str(bridge.pid)
        sport = bridge.sport
        age = time.monotonic() - sport.mono if sport is not None else math.inf
        if sport is None or age > c.state_timeout_s:
            out["message"] = f"no rt/sportmodestate for {age:.1f} s: check the cable and the dog"
            return out
        s = sport.data
        out.update(connected="true", mode=SPORT_MODES.get(s["mode"], f"UNKNOWN({s['mode']})"),
                   body_height=f"{s['body_height']:.3f}", roll=f"{s['rpy'][0]:.3f}",
                   pitch=f"{s['rpy'][1]:.3f}",
                   sport_error_code=str(s["error_code"]), fallen=str(self._fallen(s)).lower(),
                   walking=str(self._moving).lower())
        low = bridge.low
        soc = None
        if low is not None:
            soc = float(low.data["soc"])
            out.update(battery_percent=f"{soc:.0f}", power_v=f"{low.data['power_v']:.2f}")
        else:
            out["battery_percent"] = "unknown (no rt/lowstate)"
        if self._fallen(s):
            out.update(message=f"fallen (roll {s['rpy'][0]:.2f}, pitch {s['rpy'][1]:.2f} rad): check the "
                       "dog, then ~/clear_errors (RecoveryStand + BalanceStand)")
        elif soc is not None and soc <= c.critical_battery_percent:
            out.update(message=f"battery critical: {soc:.0f} % (<= {c.critical_battery_percent:.0f} %): "
                       "lie the dog down and charge it")
        elif self._stop_failed:
            out.update(message=f"StopMove failed ({self._stop_failed}); resent on the next stop")
        elif soc is not None and soc <= c.low_battery_percent:
            out.update(level="WARN", message=f"battery low: {soc:.0f} % (<= {c.low_battery_percent:.0f} %)")
        elif s["error_code"]:
            out.update(level="WARN", message=f"sport mode reports error code {s['error_code']}")
        elif not self._ready_to_walk(s):
            why = f"; {self.last_refusal}" if self.last_refusal else ""
            out.update(level="WARN", message=f"not standing to walk (mode {out['mode']}): ~/clear_errors "
                       f"stands it up{why}")
        else:
            out.update(level="OK", message="walking" if self._moving else "standing, ready")
        return out


def make_robot(description: RobotDescription, settings: dict[str, Any]) -> Go2Robot:
    """Registry factory (backend ``unitree``): a described Go2 with its backend settings. The driver
    node's device override ``port`` names the network interface here."""
    settings = dict(settings)
    if "port" in settings:
        settings["network_interface"] = settings.pop("port")
    if description.base is None:
        raise ConfigError(f"{description.source}: a Go2 needs base limits (base: max_vx, max_vy, max_wz)")
    config = Go2Config.from_settings(settings, source=f"{description.source} backends.unitree")
    return Go2Robot(config, description.base, name=description.name)
