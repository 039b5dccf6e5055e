"""``embodied-stack motors``: set up, scan and calibrate the servos of bus-servo arms.

    embodied-stack motors setup     --robot so101 --backend feetech          # ids + baud, one servo at a time
    embodied-stack motors calibrate --robot so101 --backend feetech          # follower
    embodied-stack motors calibrate --robot so101 --backend feetech_leader   # leader arm
    embodied-stack motors scan      --robot so101 --backend feetech --port /dev/ttyACM0

``--backend`` names a section of ``config/robots/<robot>.yaml`` ``backends`` (its port, motors
and calibration file); ``--port`` overrides the port.
"""

from __future__ import annotations

import argparse
import sys
import threading

from embodied_stack.cli import CommandRegistry


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--robot", default="so101", help="robot description under config/robots/")
    parser.add_argument("--backend", default="feetech",
                        help="its bus section: feetech, feetech_leader, dynamixel, dynamixel_leader")
    parser.add_argument("--port", default="", help="serial port (default: the description's)")


def _bus(args: argparse.Namespace, with_calibration: bool):
    from embodied_stack.robots import load_description
    from embodied_stack.robots.bus_servo.arm import make_bus

    desc = load_description(args.robot)
    settings = desc.backend(args.backend)
    if args.port:
        settings["port"] = args.port
    kind = args.backend.split("_")[0]
    if kind not in ("feetech", "dynamixel"):
        raise SystemExit(f"--backend {args.backend}: not a bus-servo backend (feetech*/dynamixel*)")
    bus, cfg = make_bus(kind, desc, settings, with_calibration=with_calibration)
    return desc, bus, cfg


def _terminal_operator():
    from embodied_stack.robots.bus_servo.calibration import Operator

    def wait(message: str) -> None:
        print(message, flush=True)
        sys.stdin.readline()

    def start_recording(message: str):
        print(message, flush=True)
        done = threading.Event()
        threading.Thread(target=lambda: (sys.stdin.readline(), done.set()), daemon=True).start()
        return done.is_set

    return Operator(wait=wait, start_recording=start_recording, show=lambda t: print(t, flush=True))


def _calibrate(args: argparse.Namespace) -> int:
    from embodied_stack import paths
    from embodied_stack.motors.bus import MotorBusError, save_calibration
    from embodied_stack.robots.bus_servo.calibration import CalibrationError, calibrate_arm

    _, bus, cfg = _bus(args, with_calibration=False)
    out = args.out or str(paths.resolve(cfg.calibration))
    inverted = [j for j in args.invert.split(",") if j]
    try:
        bus.connect(handshake=True)
        calibration = calibrate_arm(bus, _terminal_operator(), inverted=inverted)
    except (CalibrationError, MotorBusError, ValueError) as e:
        print(f"[error] {e}", flush=True)
        return 1
    finally:
        bus.disconnect()
    save_calibration(out, calibration)
    print(f"calibration of {len(calibration)} motors saved to {out}", flush=True)
    return 0


def _setup(args: argparse.Namespace) -> int:
    from embodied_stack.robots.bus_servo.calibration import setup_motor

    _, bus, cfg = _bus(args, with_calibration=False)
    operator = _terminal_operator()
    bauds = [int(b) for b in args.baudrates.split(",")]
    bus.connect(handshake=False)
    try:
        for name in reversed(list(bus.motors)):  # gripper first, like LeRobot: the base is wired last
            operator.wait(f"Connect ONLY the '{name}' motor (id {bus.motors[name].id}) to the bus, "
                          "then press Enter")
            print(setup_motor(bus, name, cfg.baudrate, bauds), flush=True)
    finally:
        bus.disconnect()
    return 0


def _scan(args: argparse.Namespace) -> int:
    _, bus, _ = _bus(args, with_calibration=False)
    bus.connect(handshake=False)
    try:
        found = bus.scan_ids(range(0, args.max_id + 1))
    finally:
        bus.disconnect()
    listed = ", ".join(f"id {i}: {m}" for i, m in found.items()) or "nothing"
    print(f"{bus.port} @ {bus.baudrate}: {listed}")
    return 0 if found else 1


def register(registry: CommandRegistry) -> None:
    def cal_args(p: argparse.ArgumentParser) -> None:
        _common(p)
        p.add_argument("--out", default="", help="calibration file (default: the description's)")
        p.add_argument("--invert", default="",
                       help="comma-separated joints mounted mirror-wise (drive mode 1)")

    def setup_args(p: argparse.ArgumentParser) -> None:
        _common(p)
        p.add_argument("--baudrates", default="1000000,500000,115200,57600",
                       help="baud rates to look for a new servo at, comma-separated")

    def scan_args(p: argparse.ArgumentParser) -> None:
        _common(p)
        p.add_argument("--max-id", type=int, default=20)

    registry.add(("motors", "calibrate"), configure=cal_args, run=_calibrate,
                 help="guided calibration of an arm (homing offsets, ranges, drive modes)")
    registry.add(("motors", "setup"), configure=setup_args, run=_setup,
                 help="give each servo its id and the bus baud rate, one servo at a time")
    registry.add(("motors", "scan"), configure=scan_args, run=_scan, help="list the servos that answer")
