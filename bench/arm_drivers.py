"""Arm drivers against their emulators: ``python bench/arm_drivers.py [--seconds 5] [--trials 10]``.

Runs the UR driver (ur_rtde) at 500 Hz and 125 Hz and the xArm driver (xarm-python-sdk) at 100
and 250 Hz, each against its protocol emulator in a child process, with the loop the driver
node runs: ``read_state`` + ``send_joint_command`` once per period (absolute deadlines,
``time.sleep``). Prints two tables:

1. loop: achieved rate, period p50/p99/max, jitter p99 (|period - nominal|), time in the two
   driver calls p50/p99, and the share of periods over 1.5x nominal (missed deadlines);
2. stale command -> stopped: the arm moves at ``--speed``; commands stop; a
   :class:`CommandWatchdog` (``--watchdog`` s) trips and calls ``robot.stop()``. Reported: the
   ``stop()`` call itself, and trip -> the driver *measures* every joint at rest
   (|qd| < 1e-3 rad/s), p50/p99 over ``--trials``.

Numbers depend on the machine's load (the emulators are Python processes on the same cores).
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the emulators live with the tests

from embodied_stack.hardware.robot import JointCommand, Robot  # noqa: E402
from embodied_stack.hardware.safety import CommandWatchdog  # noqa: E402
from embodied_stack.robots import load_description  # noqa: E402

UR_HOME = np.array([0.0, -math.pi / 2, math.pi / 2, -math.pi / 2, -math.pi / 2, 0.0])


@contextmanager
def ur_robot(frequency: float) -> Iterator[Robot]:
    from embodied_stack.robots.ur import make_robot
    from emulators.ur_rtde import URControllerEmulator

    with URControllerEmulator(q0=UR_HOME) as emu:
        description = load_description("ur5e")
        robot = make_robot(description, {**description.backend("ur_rtde"), "host": emu.host,
                                         "frequency": frequency})
        robot.connect()
        try:
            yield robot
        finally:
            robot.disconnect()


def _serve_xarm(conn: Connection) -> None:
    """Child process: an xArm emulator until the parent says stop (it must not share our GIL)."""
    from emulators.xarm import XArmEmulator

    with XArmEmulator():
        conn.send("ready")
        conn.recv()


@contextmanager
def xarm_robot(frequency: float) -> Iterator[Robot]:
    from embodied_stack.robots.xarm import make_robot

    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_serve_xarm, args=(child,), daemon=True)
    proc.start()
    if not parent.poll(150.0):
        proc.kill()
        raise RuntimeError("the xArm emulator did not start within 150 s (another one holds its lock?)")
    parent.recv()
    description = load_description("xarm6")
    settings = {**description.backend("xarm"), "host": "127.0.0.1", "frequency": frequency}
    robot = make_robot(description, settings)
    robot.connect()
    try:
        yield robot
    finally:
        robot.disconnect()
        parent.send("stop")
        proc.join(timeout=10.0)


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def run_loop(robot: Robot, rate: float, seconds: float) -> dict[str, float]:
    """The driver node's cycle at ``rate``: small sinusoid on every joint around the start pose."""
    period = 1.0 / rate
    start_q = robot.read_state().joint_positions
    starts: list[float] = []
    io: list[float] = []
    t0 = time.perf_counter()
    deadline = t0
    while deadline - t0 < seconds:
        now = time.perf_counter()
        starts.append(now)
        phase = 2 * math.pi * 0.5 * (now - t0)
        robot.read_state()
        robot.send_joint_command(JointCommand(start_q + 0.05 * math.sin(phase)))
        io.append(time.perf_counter() - now)
        deadline += period
        delay = deadline - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
    periods = np.diff(starts)
    ms = 1e3
    return {"achieved": (len(starts) - 1) / (starts[-1] - starts[0]),
            "p50": pct(list(periods), 50) * ms, "p99": pct(list(periods), 99) * ms,
            "max": float(periods.max()) * ms,
            "jitter99": pct(list(np.abs(periods - period)), 99) * ms,
            "io50": pct(io, 50) * ms, "io99": pct(io, 99) * ms,
            "missed": float(np.mean(periods > 1.5 * period)) * 100}


def stop_latency(robot: Robot, rate: float, speed: float, watchdog_s: float, trials: int) -> dict[str, float]:
    """Move at ``speed`` rad/s on joint 1, stop commanding, let a watchdog trip, time the stop."""
    period = 1.0 / rate
    calls: list[float] = []
    latencies: list[float] = []
    speeds: list[float] = []
    for trial in range(trials):
        direction = 1.0 if trial % 2 == 0 else -1.0
        tripped: list[float] = []
        watchdog = CommandWatchdog(watchdog_s, on_timeout=lambda t=tripped: t.append(time.perf_counter()),
                                   clock=time.perf_counter)
        state = robot.read_state()
        target = state.joint_positions.copy()
        t_end = time.perf_counter() + 0.6  # accelerate, then cruise
        while time.perf_counter() < t_end:
            target[0] += direction * speed * period
            robot.send_joint_command(JointCommand(target))
            watchdog.feed()
            time.sleep(period)
            state = robot.read_state()
        speeds.append(abs(float(state.joint_velocities[0])))
        while not tripped:  # commands have stopped: the loop keeps reading and checking
            robot.read_state()
            watchdog.check()
            time.sleep(period)
        t_call = time.perf_counter()
        robot.stop()
        calls.append(time.perf_counter() - t_call)
        give_up = time.perf_counter() + 5.0
        while np.any(np.abs(robot.read_state().joint_velocities) > 1e-3):
            if time.perf_counter() > give_up:
                raise RuntimeError(f"{robot.name} did not come to rest within 5 s of stop()")
            time.sleep(period / 4)
        latencies.append(time.perf_counter() - tripped[0])
    ms = 1e3
    return {"speed": float(np.mean(speeds)), "call50": pct(calls, 50) * ms, "call99": pct(calls, 99) * ms,
            "lat50": pct(latencies, 50) * ms, "lat99": pct(latencies, 99) * ms}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=5.0, help="loop duration per case (s)")
    ap.add_argument("--trials", type=int, default=10, help="stop trials per case")
    ap.add_argument("--speed", type=float, default=0.5, help="joint speed before the stop (rad/s)")
    ap.add_argument("--watchdog", type=float, default=0.05, help="command watchdog timeout (s)")
    args = ap.parse_args()
    cases: list[tuple[str, float, Callable[[float], object]]] = [
        ("UR (ur_rtde)", 500.0, ur_robot), ("UR (ur_rtde)", 125.0, ur_robot),
        ("xArm (xarm-sdk)", 100.0, xarm_robot), ("xArm (xarm-sdk)", 250.0, xarm_robot)]
    loops, stops = [], []
    for name, rate, factory in cases:
        with factory(rate) as robot:  # type: ignore[attr-defined]
            loops.append((name, rate, run_loop(robot, rate, args.seconds)))
            stops.append((name, rate, stop_latency(robot, rate, args.speed, args.watchdog, args.trials)))
    print(f"\nloop: read_state + send_joint_command per period, {args.seconds:g} s per case (periods in ms)")
    print(f"{'driver':16s} {'nominal Hz':>10s} {'achieved':>9s} {'p50':>7s} {'p99':>7s} {'max':>7s} "
          f"{'jitter99':>9s} {'io p50':>7s} {'io p99':>7s} {'missed %':>9s}")
    for name, rate, r in loops:
        print(f"{name:16s} {rate:10.0f} {r['achieved']:9.1f} {r['p50']:7.2f} {r['p99']:7.2f} {r['max']:7.2f} "
              f"{r['jitter99']:9.2f} {r['io50']:7.3f} {r['io99']:7.3f} {r['missed']:9.2f}")
    print(f"\nstale command -> stopped: watchdog {args.watchdog * 1e3:g} ms, {args.trials} trials (ms); "
          "latency = watchdog trip -> driver measures |qd| < 1e-3 rad/s on every joint")
    print(f"{'driver':16s} {'Hz':>5s} {'speed rad/s':>11s} {'stop() p50':>10s} {'stop() p99':>10s} "
          f"{'latency p50':>11s} {'latency p99':>11s}")
    for name, rate, r in stops:
        print(f"{name:16s} {rate:5.0f} {r['speed']:11.2f} {r['call50']:10.2f} {r['call99']:10.2f} "
              f"{r['lat50']:11.1f} {r['lat99']:11.1f}")


if __name__ == "__main__":
    main()
