"""Feetech bus round trip: ``python bench/motor_bus_feetech.py [--reads 500 --servos 6]``.

Times ``FeetechBus.sync_read("Present_Position")`` of N servos (one SYNC_READ, N status
packets) against the pty emulator, p50/p99 over ``--reads`` calls, with the client's CPU
time per read. Rows: the emulator in a thread of this process (as in the tests) and in a
separate process (as a driver node sees it); each with our blocking wait and with the
SDK's own busy-wait ``readPort``. The emulator has no wire time: at 1 Mbaud the real bus
adds ~10 us per byte (instruction 14 B + 6 x 8 B replies, about 0.6 ms) plus the USB
adapter's latency timer (1-16 ms) -- these numbers are the software overhead only.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

import scservo_sdk as scs

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from embodied_stack.motors.bus import Motor  # noqa: E402
from embodied_stack.motors.feetech import FeetechBus, _PortHandler  # noqa: E402
from emulators.feetech_bus import FeetechBusEmulator  # noqa: E402


def run(port: str, n_servos: int, reads: int, sdk_wait: bool) -> tuple[float, float, float]:
    """p50 ms, p99 ms, client CPU ms per read."""
    original = _PortHandler.readPort
    if sdk_wait:
        _PortHandler.readPort = scs.PortHandler.readPort  # type: ignore[method-assign]
    try:
        bus = FeetechBus(port, {f"m{i}": Motor(i, "sts3215") for i in range(1, n_servos + 1)})
        bus.connect()
        for _ in range(20):  # warm-up
            bus.sync_read("Present_Position")
        times = []
        cpu0 = time.process_time()
        for _ in range(reads):
            t = time.perf_counter()
            bus.sync_read("Present_Position")
            times.append(time.perf_counter() - t)
        cpu = (time.process_time() - cpu0) / reads
        bus.disconnect()
    finally:
        _PortHandler.readPort = original  # type: ignore[method-assign]
    times.sort()
    return statistics.median(times) * 1e3, times[int(0.99 * (len(times) - 1))] * 1e3, cpu * 1e3


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reads", type=int, default=500)
    ap.add_argument("--servos", type=int, default=6)
    args = ap.parse_args()
    ids = list(range(1, args.servos + 1))
    rows = []
    with FeetechBusEmulator({i: "sts3215" for i in ids}) as emu:
        for sdk_wait in (False, True):
            rows.append(("thread", "SDK busy-wait" if sdk_wait else "select()",
                         *run(emu.port, args.servos, args.reads, sdk_wait)))
    proc = subprocess.Popen([sys.executable, str(ROOT / "tests/emulators/feetech_bus.py"), *map(str, ids)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        port = proc.stdout.readline().strip()
        for sdk_wait in (False, True):
            rows.append(("process", "SDK busy-wait" if sdk_wait else "select()",
                         *run(port, args.servos, args.reads, sdk_wait)))
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait(timeout=10)
    print(f"sync_read Present_Position, {args.servos} servos, {args.reads} reads")
    print(f"{'emulator':<9} {'client wait':<14} {'p50 ms':>7} {'p99 ms':>7} {'CPU ms/read':>12}")
    for where, wait, p50, p99, cpu in rows:
        print(f"{where:<9} {wait:<14} {p50:7.3f} {p99:7.3f} {cpu:12.3f}")


if __name__ == "__main__":
    main()
