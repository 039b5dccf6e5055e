"""Guided calibration (`embodied-stack motors calibrate`) and motor set-up on an emulated Feetech bus.

The CLI runs in its own process with the real SDK; this test plays the operator: it answers
the prompts on stdin and "moves the joints by hand" in the emulator between them.
"""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time

import yaml

from embodied_stack import paths
from embodied_stack.motors.bus import Motor, load_calibration
from embodied_stack.motors.feetech import FeetechBus
from embodied_stack.robots.bus_servo.calibration import setup_motor
from emulators.feetech_bus import FeetechBusEmulator

NAMES = ["shoulder_pan", "shoulder_lift", "elbow_flex", "wrist_flex", "wrist_roll", "gripper"]


def _description(tmp_path, port: str) -> str:
    data = yaml.safe_load(paths.resolve("config/robots/so101.yaml").read_text())
    data["backends"]["feetech"].update(port=port, reply_timeout_ms=100.0)
    path = tmp_path / "so101_emulated.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return str(path)


class Cli:
    """The CLI process with its output on a queue, so the test waits for prompts."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "embodied_stack.cli", *args],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True,
                                     env={**os.environ, "PYTHONUNBUFFERED": "1"})
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=lambda: [self.lines.put(x) for x in iter(self.proc.stdout.readline, "")],
                         daemon=True).start()

    def expect(self, text: str, timeout: float = 20.0) -> str:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                line = self.lines.get(timeout=0.1)
            except queue.Empty:
                continue
            self.seen.append(line)
            if text in line:
                return line
        raise AssertionError(f"'{text}' never printed; output so far:\n{''.join(self.seen)}")

    def enter(self) -> None:
        self.proc.stdin.write("\n")
        self.proc.stdin.flush()


def test_guided_calibration_writes_offsets_ranges_and_drive_modes(tmp_path):
    start = {1: 1500, 2: 2600, 3: 2048, 4: 900, 5: 3900, 6: 2048}  # wherever the arm was assembled
    with FeetechBusEmulator(dict.fromkeys(range(1, 7), "sts3215"), positions=start) as emu:
        out = tmp_path / "so101_follower.yaml"
        cli = Cli("motors", "calibrate", "--robot", _description(tmp_path, emu.port), "--backend", "feetech",
                  "--out", str(out), "--invert", "elbow_flex")
        cli.expect("MIDDLE")
        cli.enter()
        cli.expect("EVERY joint")
        for sign in (-1, 1):  # sweep every joint 600 ticks each way from the middle pose
            for i, actual in start.items():
                emu.set_actual_position(i, actual + sign * 600)
            cli.expect("shoulder_pan:")  # a progress line sampled after the move
            cli.expect("shoulder_pan:")
        for i, actual in start.items():
            emu.set_actual_position(i, actual)
        cli.enter()
        cli.expect("saved to")
        assert cli.proc.wait(timeout=20) == 0, "".join(cli.seen)
        cal = load_calibration(out)
        assert list(cal) == NAMES
        for (i, actual), name in zip(start.items(), NAMES, strict=True):
            c = cal[name]
            assert c.homing_offset == actual - 2048, (name, c)
            assert emu.register(i, "Homing_Offset") == c.homing_offset  # written into the servo
            if name == "wrist_roll":
                assert (c.range_min, c.range_max) == (0, 4095)  # full turn
            else:
                assert abs(c.range_min - 1448) <= 2 and abs(c.range_max - 2648) <= 2, (name, c)
            assert c.drive_mode == (1 if name == "elbow_flex" else 0)
        # the middle pose now reads 0 rad through the calibrated bus
        bus = FeetechBus(emu.port, {n: Motor(i, "sts3215") for i, n in enumerate(NAMES, 1)}, calibration=cal,
                         reply_timeout_ms=100.0)
        bus.connect()
        try:
            ticks = bus.sync_read("Present_Position")
            assert all(abs(bus.to_radians(n, ticks[n])) < 0.01 for n in NAMES[:4]), ticks
        finally:
            bus.disconnect()


def test_calibration_refuses_a_joint_that_never_moved(tmp_path):
    with FeetechBusEmulator(dict.fromkeys(range(1, 7), "sts3215")) as emu:
        cli = Cli("motors", "calibrate", "--robot", _description(tmp_path, emu.port), "--backend", "feetech",
                  "--out", str(tmp_path / "cal.yaml"))
        cli.expect("MIDDLE")
        cli.enter()
        cli.expect("EVERY joint")
        cli.enter()
        cli.expect("joint 'shoulder_pan' moved only")
        assert cli.proc.wait(timeout=20) == 1
        assert "Traceback" not in "".join(cli.seen)
        assert not (tmp_path / "cal.yaml").exists()


def test_setup_gives_a_factory_servo_its_id_and_the_bus_baud_rate():
    with FeetechBusEmulator({1: "sts3215"}) as emu:  # a new servo: id 1, 1 Mbaud
        bus = FeetechBus(emu.port, {"gripper": Motor(6, "sts3215")}, reply_timeout_ms=100.0)
        bus.connect(handshake=False)
        try:
            report = setup_motor(bus, "gripper", 1_000_000, [500_000, 1_000_000], ids=range(0, 8))
            assert "id 1" in report and "id 6" in report, report
            assert bus.ping(6) == "sts3215" and bus.ping(1) is None
            assert emu.ids == [6]
        finally:
            bus.disconnect()
