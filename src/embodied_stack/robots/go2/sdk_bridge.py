"""The Unitree SDK's side of the Go2 driver: a small ROS-free process that speaks Cyclone DDS.

Why a process of its own: the Go2 speaks Cyclone DDS (through ``unitree_sdk2py``) while our ROS
graph speaks Fast DDS. Two DDS implementations in one process would share signal handlers,
threads and (on the same domain) ports; here the SDK lives alone, bound to one network interface
and the dog's domain, and the driver (:class:`~embodied_stack.robots.go2.robot.Go2Robot`) talks to
it over this process's stdin/stdout, one JSON object per line:

driver -> bridge (stdin)
    ``{"op": "move", "vx": .., "vy": .., "wz": ..}``  SportClient.Move (no reply, like the SDK's)
    ``{"op": "call", "id": n, "api": "StopMove"}``  a request/response API (:data:`CALLS`)
    ``{"op": "quit"}``  exit (so does the end of stdin: a dead driver never leaves a bridge behind)
bridge -> driver (stdout)
    ``{"type": "ready", ...}`` once the SDK is set up; ``{"type": "error", "message": ..}`` when it
    cannot be (then the bridge exits non-zero);
    ``{"type": "sport", ...}`` rt/sportmodestate and ``{"type": "low", ...}`` rt/lowstate, each at
    most ``--state-rate`` per second; ``{"type": "reply", "id": n, "api": .., "code": c}``.

SDK calls run in one worker thread in the order they arrived (a StopMove is never overtaken by a
Move), with consecutive Moves coalesced to the newest: request/response calls block for up to the
SDK's timeout, and a queue of stale velocities must never play out after them. The SDK prints to
stdout; the protocol gets a private copy of the stdout descriptor and everything else goes to
stderr, which the driver keeps for its error messages.

Run it by hand to check a connection: ``python -m embodied_stack.robots.go2.sdk_bridge
--interface enp3s0 --domain 0`` prints the dog's state as JSON lines.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import sys
import threading
import time
from typing import IO, Any

#: request/response sport APIs the bridge forwards: SportClient method name -> API id (sport_api.py)
CALLS: dict[str, int] = {"Damp": 1001, "BalanceStand": 1002, "StopMove": 1003, "StandUp": 1004,
                         "StandDown": 1005, "RecoveryStand": 1006}
MOVE_API = 1008
#: exit codes
EXIT_NO_SDK, EXIT_DDS = 3, 4


class _Out:
    """The protocol's stdout: one JSON object per line, written whole from any thread."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream
        self._lock = threading.Lock()

    def send(self, obj: dict[str, Any]) -> None:
        line = json.dumps(obj, separators=(",", ":")) + "\n"
        with self._lock:
            try:
                self._stream.write(line)
                self._stream.flush()
            except (BrokenPipeError, ValueError):
                os._exit(0)  # the driver is gone: nothing left to report to


def _take_stdout() -> IO[str]:
    """A private stream on the real stdout for the protocol; fd 1 (and ``print``) go to stderr so
    the SDK's own prints cannot corrupt a line."""
    proto = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return proto


class _Throttle:
    """Forwards at most ``rate_hz`` messages per second; the newest state wins."""

    def __init__(self, rate_hz: float) -> None:
        self._period = 1.0 / rate_hz
        self._next = 0.0

    def ready(self) -> bool:
        now = time.monotonic()
        if now < self._next:
            return False
        self._next = now + self._period
        return True


def _floats(values: Any) -> list[float]:
    return [float(v) for v in values]


def sport_to_dict(m: Any) -> dict[str, Any]:
    """A ``unitree_go.msg.dds_.SportModeState_`` as plain JSON values (quaternion w, x, y, z as the
    SDK orders it; position and velocity in the dog's odometry frame)."""
    imu = m.imu_state
    return {"type": "sport", "stamp": m.stamp.sec + m.stamp.nanosec * 1e-9, "mode": int(m.mode),
            "progress": float(m.progress), "gait_type": int(m.gait_type), "error_code": int(m.error_code),
            "position": _floats(m.position), "velocity": _floats(m.velocity), "yaw_speed": float(m.yaw_speed),
            "body_height": float(m.body_height), "quaternion": _floats(imu.quaternion),
            "gyroscope": _floats(imu.gyroscope), "accelerometer": _floats(imu.accelerometer),
            "rpy": _floats(imu.rpy), "foot_force": [int(f) for f in m.foot_force]}


def low_to_dict(m: Any) -> dict[str, Any]:
    """A ``unitree_go.msg.dds_.LowState_``: the 12 leg motors (FR, FL, RR, RL; hip, thigh, calf)
    and the battery."""
    motors = m.motor_state[:12]
    return {"type": "low", "q": [float(s.q) for s in motors], "dq": [float(s.dq) for s in motors],
            "tau": [float(s.tau_est) for s in motors], "soc": int(m.bms_state.soc),
            "power_v": float(m.power_v), "power_a": float(m.power_a)}


class _Worker:
    """Runs SDK calls in arrival order in one thread; consecutive Moves collapse to the newest."""

    def __init__(self, client: Any, out: _Out) -> None:
        self._client, self._out = client, out
        self._queue: collections.deque[dict[str, Any]] = collections.deque()
        self._cond = threading.Condition()
        self._busy = False
        self.moving = False  # a Move went out since the last StopMove
        threading.Thread(target=self._run, name="sdk_calls", daemon=True).start()

    def put(self, op: dict[str, Any]) -> None:
        with self._cond:
            if op["op"] == "move" and self._queue and self._queue[-1]["op"] == "move":
                self._queue[-1] = op
            else:
                self._queue.append(op)
            self._cond.notify_all()

    def drain(self, timeout_s: float) -> None:
        """Wait (bounded) until every queued call was made: a StopMove sent just before ``quit``
        still reaches the dog."""
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while (self._queue or self._busy) and time.monotonic() < deadline:
                self._cond.wait(0.05)

    def _run(self) -> None:
        while True:
            with self._cond:
                self._busy = False
                self._cond.notify_all()
                while not self._queue:
                    self._cond.wait()
                op = self._queue.popleft()
                self._busy = True
            if op["op"] == "move":
                self._client.Move(float(op["vx"]), float(op["vy"]), float(op["wz"]))
                self.moving = True
                continue
            api = op["api"]
            if api == "StopMove":
                self.moving = False
            try:
                code = int(getattr(self._client, api)())
            except Exception as e:  # noqa: BLE001 - an SDK failure is an answer the driver reports
                print(f"[sdk_bridge] {api} raised {e!r}", file=sys.stderr)
                code = -1
            self._out.send({"type": "reply", "id": op["id"], "api": api, "code": code})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--interface", required=True, help="network interface on the Go2's network ('lo': "
                        "the emulator)")
    parser.add_argument("--domain", type=int, default=0, help="the Go2's DDS domain (0 on the robot)")
    parser.add_argument("--state-rate", type=float, default=100.0, help="states forwarded per second, at "
                        "most")
    parser.add_argument("--request-timeout", type=float, default=1.0, help="SDK request timeout, s")
    args = parser.parse_args(argv)
    out = _Out(_take_stdout())
    try:
        from unitree_sdk2py.core.channel import ChannelFactoryInitialize, ChannelSubscriber
        from unitree_sdk2py.go2.sport.sport_client import SportClient
        from unitree_sdk2py.idl.unitree_go.msg.dds_ import LowState_, SportModeState_
    except ImportError as e:
        out.send({"type": "error", "message": f"unitree_sdk2py cannot be imported ({e}) by {sys.executable}; "
                  "install it with scripts/setup_unitree.sh"})
        return EXIT_NO_SDK
    try:
        ChannelFactoryInitialize(args.domain, args.interface)
    except Exception as e:  # noqa: BLE001 - the SDK raises a bare Exception
        out.send({"type": "error", "message": f"Cyclone DDS could not start on interface "
                  f"'{args.interface}', domain {args.domain} ({e}); check the name with `ip -br addr`"})
        return EXIT_DDS
    sport_gate, low_gate = _Throttle(args.state_rate), _Throttle(args.state_rate)

    def on_sport(msg: Any) -> None:
        if sport_gate.ready():
            out.send(sport_to_dict(msg))

    def on_low(msg: Any) -> None:
        if low_gate.ready():
            out.send(low_to_dict(msg))

    subscribers = []
    for topic, kind, handler in (("rt/sportmodestate", SportModeState_, on_sport),
                                 ("rt/lowstate", LowState_, on_low)):
        sub = ChannelSubscriber(topic, kind)
        sub.Init(handler, 10)
        subscribers.append(sub)
    client = SportClient()
    client.SetTimeout(args.request_timeout)
    client.Init()
    worker = _Worker(client, out)
    out.send({"type": "ready", "pid": os.getpid(), "domain": args.domain, "interface": args.interface})
    quit_asked = False
    for line in sys.stdin:
        try:
            op = json.loads(line)
        except json.JSONDecodeError:
            print(f"[sdk_bridge] not JSON: {line!r}", file=sys.stderr)
            continue
        kind = op.get("op")
        if kind == "quit":
            quit_asked = True
            break
        if kind == "move" or (kind == "call" and op.get("api") in CALLS):
            worker.put(op)
        elif kind == "call":
            out.send({"type": "reply", "id": op.get("id"), "api": op.get("api"), "code": -2,
                      "message": f"unknown API {op.get('api')!r}; the bridge forwards {sorted(CALLS)}"})
        else:
            print(f"[sdk_bridge] unknown op {kind!r}", file=sys.stderr)
    if not quit_asked and worker.moving:  # the driver died mid-motion: do not leave the dog walking
        print("[sdk_bridge] driver gone while walking: StopMove", file=sys.stderr)
        worker.put({"op": "call", "id": None, "api": "StopMove"})
    worker.drain(2 * args.request_timeout + 1.0)  # a StopMove sent just before quit still goes out
    sys.stderr.flush()
    os._exit(0)  # skip Cyclone's and the SDK's thread teardown: the process is done either way


if __name__ == "__main__":
    raise SystemExit(main())
