"""Dynamixel sync_read round trip against the pty emulator.

Run: ``python bench/motor_bus_dynamixel.py [--reads 500]``.

Times ``DynamixelBus.sync_read("Present_Position")`` of a 6-servo Koch arm (the real
dynamixel_sdk, pyserial and a pty; the emulator answers at once, so this is the software cost
of our stack + the SDK + the emulator, not the wire). Two layouts: the emulator in a thread of
the same process (how the unit tests run it: both share the GIL) and in its own process (how a
driver node talks to it in the ROS tests). On hardware at 1 Mbaud add the wire time: about
110 bytes (20 out, 6 x 15 back) = 1.1 ms plus each servo's Return_Delay_Time.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from embodied_stack.motors.bus import Motor  # noqa: E402
from embodied_stack.motors.dynamixel import DynamixelBus  # noqa: E402
from emulators.dynamixel_bus import DynamixelBusEmulator  # noqa: E402

KOCH = {
    "shoulder_pan": Motor(1, "xl430-w250"), "shoulder_lift": Motor(2, "xl430-w250"),
    "elbow_flex": Motor(3, "xl330-m288"), "wrist_flex": Motor(4, "xl330-m288"),
    "wrist_roll": Motor(5, "xl330-m288"), "gripper": Motor(6, "xl330-m077"),
}
SERVOS = {m.id: m.model for m in KOCH.values()}


def _serve(conn: mp.connection.Connection) -> None:
    with DynamixelBusEmulator(SERVOS) as emu:
        conn.send(emu.port)
        conn.recv()  # until the parent is done


def _time_reads(port: str, reads: int) -> list[float]:
    bus = DynamixelBus(port, KOCH)
    bus.connect()
    try:
        for _ in range(20):  # warm-up
            bus.sync_read("Present_Position")
        samples = []
        for _ in range(reads):
            t0 = time.perf_counter()
            bus.sync_read("Present_Position")
            samples.append(time.perf_counter() - t0)
        assert bus.stats.retries == 0, bus.stats
        return samples
    finally:
        bus.disconnect()


def _row(label: str, samples: list[float]) -> str:
    q = statistics.quantiles(samples, n=100)
    return (f"{label:<22} n={len(samples)}  p50 {q[49] * 1e3:6.3f} ms  p99 {q[98] * 1e3:6.3f} ms  "
            f"max {max(samples) * 1e3:6.3f} ms  -> {1 / statistics.median(samples):6.0f} reads/s")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reads", type=int, default=500)
    args = ap.parse_args()
    print("sync_read Present_Position, 6 servos (Koch), DynamixelBus -> dynamixel_sdk -> pty -> emulator")
    with DynamixelBusEmulator(SERVOS) as emu:
        print(_row("emulator in a thread", _time_reads(emu.port, args.reads)))
    parent, child = mp.Pipe()
    proc = mp.get_context("fork").Process(target=_serve, args=(child,), daemon=True)
    proc.start()
    try:
        port = parent.recv()
        print(_row("emulator in a process", _time_reads(port, args.reads)))
    finally:
        parent.send("stop")
        proc.join(timeout=10)


if __name__ == "__main__":
    main()
