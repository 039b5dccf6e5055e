"""A Unitree Go2 sport-mode peer on Cyclone DDS, for tests: built on the SDK's own classes.

Why its own process: the SDK's ``ChannelFactory`` is a per-process singleton bound to one domain
and interface, and the tests that drive ROS must not load Cyclone DDS next to Fast DDS. So the peer
runs as ``python tests/emulators/go2_sport.py --domain N`` and the test holds a
:class:`Go2SportPeer` that starts it and talks to it over its stdin/stdout (JSON lines): query the
emulated body and the request log, inject a low battery, a fall or silence, or kill it outright.

    domain, lock = claim_unitree_domain()           # a DDS domain no parallel test process uses
    with Go2SportPeer(domain) as dog:               # Cyclone on "lo" only
        ...                                         # SportClient / the driver on the same domain
        dog.requests()                              # [{"api": 1004, "name": "StandUp", "t": ...}, ...]

Reproduced (from unitree_sdk2py 1.0.3 / the dimos fork and Unitree's sport-mode documentation):

* the ``sport`` service on the SDK's RPC :class:`unitree_sdk2py.rpc.server.Server` (requests on
  ``rt/api/sport/request``, answers on ``rt/api/sport/response``): Damp 1001, BalanceStand 1002,
  StopMove 1003, StandUp 1004, StandDown 1005, RecoveryStand 1006, Move 1008 (``{"x","y","z"}``,
  sent with ``noreply``), API version 1.0.0.1; other ids answer "not implemented" (3203);
* ``rt/sportmodestate`` (SportModeState_) and ``rt/lowstate`` (LowState_) at ``rate_hz`` from a
  simple base model: the body rises/sinks at 0.5 m/s between lying (0.08 m) and standing (0.32 m);
  Move only walks in balance stand / locomotion (modes 1, 3) and is ignored otherwise, as on the
  dog; body velocity follows the newest Move with a 0.1 s lag, integrated in the odometry frame
  (``position``, ``velocity`` in odom, ``yaw_speed``); like the real dog, a Move keeps it walking
  for ``move_hold_s`` (1 s) unless StopMove comes first; IMU quaternion (w, x, y, z), rpy,
  gyroscope, gravity in ``accelerometer``; 12 leg joints interpolated between a lying and a
  standing pose; battery state of charge in ``bms_state.soc``.
* sport modes: 5 lie down (start), 6 joint lock after StandUp, 1 balance stand, 3 locomotion while
  walking, 7 damping (Damp, or after a fall).

Fault injection: :meth:`Go2SportPeer.set_battery`, :meth:`Go2SportPeer.fall` (rolled onto its side,
damping), :meth:`Go2SportPeer.silence` (no state, requests unanswered and not applied: a cut link),
:meth:`Go2SportPeer.kill`.

Not reproduced: leases, gaits and tricks (Sit, Hello, flips...), obstacle avoidance, foot forces,
the low-level (``rt/lowcmd``) interface, video.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

DAMP, BALANCE_STAND, STOP_MOVE, STAND_UP, STAND_DOWN, RECOVERY_STAND = 1001, 1002, 1003, 1004, 1005, 1006
MOVE = 1008
API_NAMES = {DAMP: "Damp", BALANCE_STAND: "BalanceStand", STOP_MOVE: "StopMove", STAND_UP: "StandUp",
             STAND_DOWN: "StandDown", RECOVERY_STAND: "RecoveryStand", MOVE: "Move"}
SPORT_API_VERSION = "1.0.0.1"
MODE_BALANCE, MODE_LOCOMOTION, MODE_LIE, MODE_LOCK, MODE_DAMP = 1, 3, 5, 6, 7
STAND_HEIGHT, LIE_HEIGHT = 0.32, 0.08
RISE_SPEED = 0.5  # m/s of body height
VELOCITY_TAU = 0.1  # s
STAND_POSE = [0.0, 0.67, -1.3] * 4  # hip, thigh, calf per leg (FR, FL, RR, RL)
LIE_POSE = [0.0, 1.2, -2.7] * 4
GRAVITY = 9.81
UNITREE_DOMAINS = (201, 232)  # above the ROS_DOMAIN_IDs the test suite claims (1..200)


def claim_unitree_domain() -> tuple[int, IO[str]]:
    """A Cyclone DDS domain for the emulator and the SDK bridge that no parallel test process holds,
    from a range apart from the ROS domains (same lock files); keep the file open while in use."""
    from embodied_stack.common.ros_domain import claim_domain_id

    return claim_domain_id(*UNITREE_DOMAINS)


class Go2SportModel:
    """The emulated body and the sport service's rules (SDK-free, thread-safe)."""

    def __init__(self, move_hold_s: float = 1.0) -> None:
        self.lock = threading.Lock()
        self.move_hold_s = move_hold_s
        self.mode = MODE_LIE
        self.height, self.height_target = LIE_HEIGHT, LIE_HEIGHT
        self.x = self.y = self.yaw = 0.0
        self.roll = self.pitch = 0.0
        self.cmd = [0.0, 0.0, 0.0]  # body vx, vy, wz from the newest Move
        self.vel = [0.0, 0.0, 0.0]  # body vx, vy, wz now
        self.last_move = -math.inf
        self.soc = 90
        self.silent = False
        self.log: list[dict[str, Any]] = []

    @property
    def fallen(self) -> bool:
        return max(abs(self.roll), abs(self.pitch)) > 0.8

    def handle(self, api: int, parameter: str) -> int:
        """Apply one request; returns the code the sport service answers."""
        now = time.monotonic()
        with self.lock:
            entry: dict[str, Any] = {"api": api, "name": API_NAMES.get(api, str(api)), "t": now,
                                     "param": parameter, "applied": True}
            self.log.append(entry)
            if api == MOVE:
                p = json.loads(parameter or "{}")
                if self.mode in (MODE_BALANCE, MODE_LOCOMOTION) and not self.fallen:
                    self.cmd = [float(p.get("x", 0.0)), float(p.get("y", 0.0)), float(p.get("z", 0.0))]
                    self.mode, self.last_move = MODE_LOCOMOTION, now
                else:
                    entry["applied"] = False  # the dog ignores Move unless balancing
            elif api == STOP_MOVE:
                self.cmd = [0.0, 0.0, 0.0]
                if self.mode == MODE_LOCOMOTION:
                    self.mode = MODE_BALANCE
            elif api == STAND_UP:
                self._halt()
                self.mode, self.height_target = MODE_LOCK, STAND_HEIGHT
            elif api == BALANCE_STAND:
                if self.fallen:
                    entry["applied"] = False
                else:
                    self.mode, self.height_target = MODE_BALANCE, STAND_HEIGHT
            elif api == STAND_DOWN:
                self._halt()
                self.mode, self.height_target = MODE_LIE, LIE_HEIGHT
            elif api == DAMP:
                self._halt()
                self.mode, self.height_target = MODE_DAMP, LIE_HEIGHT
            elif api == RECOVERY_STAND:
                self._halt()
                self.roll = self.pitch = 0.0
                self.mode, self.height_target = MODE_BALANCE, STAND_HEIGHT
            return 0

    def _halt(self) -> None:
        self.cmd, self.vel = [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]

    def fall(self) -> None:
        with self.lock:
            self._halt()
            self.roll, self.mode = 1.5, MODE_DAMP
            self.height = self.height_target = 0.12

    def step(self, dt: float) -> None:
        now = time.monotonic()
        with self.lock:
            if self.mode == MODE_LOCOMOTION and now - self.last_move > self.move_hold_s:
                self.cmd, self.mode = [0.0, 0.0, 0.0], MODE_BALANCE  # the dog's own Move timeout
            a = min(1.0, dt / VELOCITY_TAU)
            self.vel = [v + a * (c - v) for v, c in zip(self.vel, self.cmd, strict=True)]
            if max(abs(v) for v in self.vel) < 1e-4 and not any(self.cmd):
                self.vel = [0.0, 0.0, 0.0]
            step = RISE_SPEED * dt
            self.height += max(-step, min(step, self.height_target - self.height))
            c, s = math.cos(self.yaw), math.sin(self.yaw)
            vx, vy, wz = self.vel
            self.x += (c * vx - s * vy) * dt
            self.y += (s * vx + c * vy) * dt
            self.yaw = math.atan2(math.sin(self.yaw + wz * dt), math.cos(self.yaw + wz * dt))

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            c, s = math.cos(self.yaw), math.sin(self.yaw)
            vx, vy, wz = self.vel
            up = (self.height - LIE_HEIGHT) / (STAND_HEIGHT - LIE_HEIGHT)
            up = max(0.0, min(1.0, up))
            return {"mode": self.mode, "x": self.x, "y": self.y, "z": self.height, "yaw": self.yaw,
                    "roll": self.roll, "pitch": self.pitch, "body_velocity": [vx, vy, wz],
                    "odom_velocity": [c * vx - s * vy, s * vx + c * vy, 0.0], "cmd": list(self.cmd),
                    "soc": self.soc, "fallen": self.fallen, "silent": self.silent,
                    "joints": [lie + up * (stand - lie)
                               for lie, stand in zip(LIE_POSE, STAND_POSE, strict=True)]}


def _quaternion_wxyz(roll: float, pitch: float, yaw: float) -> list[float]:
    cr, sr = math.cos(roll / 2), math.sin(roll / 2)
    cp, sp = math.cos(pitch / 2), math.sin(pitch / 2)
    cy, sy = math.cos(yaw / 2), math.sin(yaw / 2)
    return [cr * cp * cy + sr * sp * sy, sr * cp * cy - cr * sp * sy,
            cr * sp * cy + sr * cp * sy, cr * cp * sy - sr * sp * cy]


def serve(domain: int, interface: str, rate_hz: float, move_hold_s: float) -> int:
    """The emulator process: the sport service, the state publishers and the control loop on stdin."""
    proto = os.fdopen(os.dup(1), "w", buffering=1)  # the SDK prints to stdout: keep ours apart
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    from unitree_sdk2py.core.channel import ChannelFactoryInitialize, ChannelPublisher
    from unitree_sdk2py.idl.default import unitree_go_msg_dds__LowState_, unitree_go_msg_dds__SportModeState_
    from unitree_sdk2py.idl.unitree_go.msg.dds_ import LowState_, SportModeState_
    from unitree_sdk2py.rpc.server import Server

    ChannelFactoryInitialize(domain, interface)
    model = Go2SportModel(move_hold_s)
    heard = threading.Event()
    heard.set()

    class SportServer(Server):
        """The Go2's ``sport`` service: one handler per API id, as Unitree's servers register them."""

        def Init(self) -> None:  # noqa: N802 - the SDK's method name
            self._SetApiVersion(SPORT_API_VERSION)
            for api in API_NAMES:
                self._RegistHandler(api, lambda parameter, api=api: self._handle(api, parameter), False)

        def _handle(self, api: int, parameter: str) -> tuple[int, str]:
            if model.silent:  # a cut link: the request never arrived, nothing answers
                heard.wait(60.0)
                return 3201, ""
            return model.handle(api, parameter), ""

    server = SportServer("sport")
    server.Init()
    server.Start(False)
    sport_pub = ChannelPublisher("rt/sportmodestate", SportModeState_)
    sport_pub.Init()
    low_pub = ChannelPublisher("rt/lowstate", LowState_)
    low_pub.Init()
    sport_msg, low_msg = unitree_go_msg_dds__SportModeState_(), unitree_go_msg_dds__LowState_()

    def publish_loop() -> None:
        period, last = 1.0 / rate_hz, time.monotonic()
        while True:
            time.sleep(period)
            now = time.monotonic()
            model.step(now - last)
            last = now
            if model.silent:
                continue
            s = model.snapshot()
            wall = time.time()
            sport_msg.stamp.sec, sport_msg.stamp.nanosec = int(wall), int((wall % 1) * 1e9)
            sport_msg.mode = s["mode"]
            sport_msg.position = [s["x"], s["y"], s["z"]]
            sport_msg.body_height = s["z"]
            sport_msg.velocity = s["odom_velocity"]
            sport_msg.yaw_speed = s["body_velocity"][2]
            imu = sport_msg.imu_state
            imu.quaternion = _quaternion_wxyz(s["roll"], s["pitch"], s["yaw"])
            imu.rpy = [s["roll"], s["pitch"], s["yaw"]]
            imu.gyroscope = [0.0, 0.0, s["body_velocity"][2]]
            cr, sr = math.cos(s["roll"]), math.sin(s["roll"])
            cp, sp = math.cos(s["pitch"]), math.sin(s["pitch"])
            imu.accelerometer = [-GRAVITY * sp, GRAVITY * sr * cp, GRAVITY * cr * cp]
            sport_pub.Write(sport_msg)
            for motor, q in zip(low_msg.motor_state[:12], s["joints"], strict=True):
                motor.q, motor.dq, motor.tau_est = q, 0.0, 0.0
            low_msg.bms_state.soc = int(s["soc"])
            low_msg.power_v = 22.0 + 7.4 * s["soc"] / 100.0
            low_msg.imu_state = imu
            low_pub.Write(low_msg)

    threading.Thread(target=publish_loop, name="go2_publish", daemon=True).start()
    proto.write(json.dumps({"ready": True, "pid": os.getpid(), "domain": domain}) + "\n")
    for line in sys.stdin:
        op = json.loads(line)
        kind, reply = op.get("op"), {"ok": True}
        if kind == "state":
            reply["state"] = model.snapshot()
        elif kind == "requests":
            since = float(op.get("since", -math.inf))
            with model.lock:
                reply["requests"] = [r for r in model.log if r["t"] > since]
        elif kind == "battery":
            with model.lock:
                model.soc = int(op["soc"])
        elif kind == "fall":
            model.fall()
        elif kind == "silence":
            model.silent = bool(op["on"])
            if model.silent:
                heard.clear()
            else:
                heard.set()
        elif kind != "quit":
            reply = {"ok": False, "error": f"unknown op {kind!r}"}
        proto.write(json.dumps(reply) + "\n")
        if kind == "quit":
            break
    os._exit(0)  # skip Cyclone's teardown of the SDK's daemon threads


class Go2SportPeer:
    """The test's handle on an emulated Go2 running in its own process (no SDK in the caller).

    Args:
        domain: the Cyclone DDS domain (see :func:`claim_unitree_domain`).
        interface: the only interface Cyclone may use (``lo``: nothing leaves the machine).
        rate_hz: rate of ``rt/sportmodestate`` and ``rt/lowstate``.
        move_hold_s: how long one Move keeps the dog walking without another.
    """

    def __init__(self, domain: int, interface: str = "lo", rate_hz: float = 100.0, move_hold_s: float = 1.0,
                 start_timeout_s: float = 60.0) -> None:
        self.domain = domain
        self._cmd = [sys.executable, str(Path(__file__).resolve()), "--domain", str(domain), "--interface",
                     interface, "--rate", str(rate_hz), "--move-hold", str(move_hold_s)]
        self._timeout = start_timeout_s
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._lock = threading.Lock()
        self.proc: subprocess.Popen | None = None
        self.stderr_path: Path | None = None

    def start(self) -> Go2SportPeer:
        import tempfile

        self._stderr = tempfile.NamedTemporaryFile("w+", prefix="go2_emulator_", suffix=".log", delete=False)  # noqa: SIM115
        self.stderr_path = Path(self._stderr.name)
        self.proc = subprocess.Popen(self._cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self._stderr, text=True, bufsize=1,
                                     env={**os.environ, "PYTHONUNBUFFERED": "1"}, start_new_session=True)
        threading.Thread(target=self._read, daemon=True).start()
        first = self._next(self._timeout)
        if not json.loads(first).get("ready"):
            raise RuntimeError(f"Go2 emulator did not start: {first}")
        return self

    def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def _next(self, timeout_s: float) -> str:
        try:
            line = self._lines.get(timeout=timeout_s)
        except queue.Empty:
            raise AssertionError(f"the Go2 emulator did not answer within {timeout_s} s; log: "
                                 f"{self.log_tail()}") from None
        if line is None:
            raise AssertionError(f"the Go2 emulator exited ({self.proc.poll() if self.proc else None}); log: "
                                 f"{self.log_tail()}")
        return line

    def log_tail(self, n: int = 15) -> str:
        if self.stderr_path is None or not self.stderr_path.exists():
            return ""
        return " | ".join(self.stderr_path.read_text(errors="replace").splitlines()[-n:])

    def _ask(self, op: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            assert self.proc is not None and self.proc.stdin is not None, "start() the emulator first"
            self.proc.stdin.write(json.dumps(op) + "\n")
            self.proc.stdin.flush()
            return json.loads(self._next(10.0))

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def state(self) -> dict[str, Any]:
        """The emulated body now: mode, x, y, z (body height), yaw, roll, pitch, body_velocity, cmd, soc..."""
        return self._ask({"op": "state"})["state"]

    def requests(self, name: str | None = None, since: float | None = None) -> list[dict[str, Any]]:
        """Every request the sport service heard (after monotonic time ``since``), in order: api id,
        name, ``t`` (time.monotonic() in the emulator: the same clock as this process's on Linux), param,
        applied."""
        op: dict[str, Any] = {"op": "requests"} if since is None else {"op": "requests", "since": since}
        log = self._ask(op)["requests"]
        return [r for r in log if name is None or r["name"] == name]

    def set_battery(self, soc: int) -> None:
        self._ask({"op": "battery", "soc": soc})

    def fall(self) -> None:
        self._ask({"op": "fall"})

    def silence(self, on: bool = True) -> None:
        self._ask({"op": "silence", "on": on})

    def kill(self) -> None:
        """The dog is gone at once (SIGKILL: no goodbye on the wire)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def close(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            with contextlib.suppress(AssertionError, BrokenPipeError, OSError, ValueError):
                self._ask({"op": "quit"})
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self._stderr.close()

    def __enter__(self) -> Go2SportPeer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="an emulated Unitree Go2 sport-mode peer")
    parser.add_argument("--domain", type=int, required=True)
    parser.add_argument("--interface", default="lo")
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--move-hold", type=float, default=1.0)
    args = parser.parse_args(argv)
    return serve(args.domain, args.interface, args.rate, args.move_hold)


if __name__ == "__main__":
    raise SystemExit(main())
