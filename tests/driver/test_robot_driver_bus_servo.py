"""robot_driver against byte-exact servo-bus emulators, with the vendors' SDKs as clients.

For SO-101 (Feetech STS3215, feetech-servo-sdk) and Koch (Dynamixel X, dynamixel-sdk): the node
in its own process opens the emulator's pty like a USB adapter, publishes /joint_states, follows
/arm_controller/joint_trajectory (the emulated servos move), clamps a command beyond the limits
and says so on /diagnostics, retries and counts corrupted replies, rejects a stale trajectory,
obeys /estop until the explicit reset, reports an overloaded servo and a lost bus, reconnects
without a restart, and exits cleanly.
"""

from __future__ import annotations

import math
import signal
import sys
import time
from dataclasses import dataclass
from typing import Any

import pytest
import yaml
from builtin_interfaces.msg import Duration
from diagnostic_msgs.msg import DiagnosticArray
from sensor_msgs.msg import JointState
from std_msgs.msg import Bool
from std_srvs.srv import SetBool
from trajectory_msgs.msg import JointTrajectory, JointTrajectoryPoint

from embodied_stack import paths
from embodied_stack.motors.bus import MotorCalibration, save_calibration
from embodied_stack.ros import qos
from emulators.dynamixel_bus import OVERLOAD as DXL_OVERLOAD
from emulators.dynamixel_bus import DynamixelBusEmulator
from emulators.feetech_bus import FeetechBusEmulator
from ros_testing import RosHarness, start_node_process, stop_process


@dataclass
class Arm:
    """One arm family: its description, backend and the emulator's fault switches."""

    robot: str
    backend: str
    emulator: Any
    options: dict[str, Any]

    def unplug(self) -> None:
        if isinstance(self.emulator, FeetechBusEmulator):
            self.emulator.disconnect()
        else:
            self.emulator.unplug()

    def replug(self) -> None:
        if isinstance(self.emulator, FeetechBusEmulator):
            self.emulator.reconnect()
        else:
            self.emulator.replug()

    def overload(self, servo_id: int, on: bool) -> None:
        if isinstance(self.emulator, FeetechBusEmulator):
            self.emulator.set_error_bits(servo_id, 32 if on else 0)
        elif on:
            self.emulator.set_hardware_error(servo_id, DXL_OVERLOAD)
        else:
            self.emulator.clear_hardware_error(servo_id)


def _arm(kind: str) -> Arm:
    if kind == "feetech":
        emu = FeetechBusEmulator(dict.fromkeys(range(1, 7), "sts3215")).start()
        return Arm("so101", "feetech", emu, {"reply_timeout_ms": 100.0})
    models = {1: "xl430-w250", 2: "xl430-w250", 3: "xl330-m288", 4: "xl330-m288", 5: "xl330-m288",
              6: "xl330-m288"}
    emu = DynamixelBusEmulator(models, positions=dict.fromkeys(models, 2048)).start()
    return Arm("koch", "dynamixel", emu, {"latency_timer_ms": 60.0})


def _write_description(tmp_path, arm: Arm) -> str:
    """The shipped description with this emulator's port and a calibration in tmp."""
    data = yaml.safe_load(paths.resolve(f"config/robots/{arm.robot}.yaml").read_text())
    backend = data["backends"][arm.backend]
    cal = {name: MotorCalibration(id=m["id"], range_min=0, range_max=4095)
           for name, m in backend["motors"].items()}
    cal["gripper"].range_min, cal["gripper"].range_max = 1000, 3000
    save_calibration(tmp_path / "cal.yaml", cal)
    backend.update({"port": arm.emulator.port, "calibration": str(tmp_path / "cal.yaml"), **arm.options})
    path = tmp_path / f"{arm.robot}_emulated.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return str(path)


class Driver:
    """The test's view of one robot_driver process."""

    def __init__(self, h: RosHarness) -> None:
        self.h = h
        self.joints: list[JointState] = []
        self.diag: dict[str, str] = {}
        self.level = -1
        self.message = ""
        h.node.create_subscription(JointState, "/joint_states", self.joints.append, qos.SENSOR)
        h.node.create_subscription(DiagnosticArray, "/diagnostics", self._on_diag, qos.EVENTS)
        self.traj = h.node.create_publisher(JointTrajectory, "/arm_controller/joint_trajectory", qos.COMMAND)
        self.estop = h.node.create_publisher(Bool, "/estop", qos.LATCHED)
        self.estop_srv = h.node.create_client(SetBool, "/robot_driver/estop")

    def _on_diag(self, msg: DiagnosticArray) -> None:
        for s in msg.status:
            if s.name == "robot_driver: driver":
                self.diag = {kv.key: kv.value for kv in s.values}
                level = s.level  # a byte in Python messages (b'\x00' = OK)
                self.level, self.message = (level[0] if isinstance(level, bytes) else int(level)), s.message

    @property
    def q(self) -> list[float]:
        return list(self.joints[-1].position)

    def send(self, positions: list[float], seconds: float = 0.3, stamp_offset: float = 0.0) -> None:
        names = [n for n in self.joints[-1].name if n != "gripper"]
        msg = JointTrajectory(joint_names=names)
        msg.header.stamp = (self.h.node.get_clock().now().to_msg() if not stamp_offset
                            else _stamp(time.time() + stamp_offset))
        msg.points = [JointTrajectoryPoint(positions=[float(v) for v in positions],
                                           time_from_start=Duration(sec=int(seconds),
                                                                    nanosec=int(seconds % 1 * 1e9)))]
        self.traj.publish(msg)

    def until(self, what, timeout: float = 15.0, message: str = "") -> None:
        assert self.h.spin_until(what, timeout=timeout), message or f"timed out; diagnostics {self.diag}"


def _stamp(t: float):
    from builtin_interfaces.msg import Time

    return Time(sec=int(t), nanosec=int(t % 1 * 1e9))


@pytest.mark.parametrize("kind", ["feetech", "dynamixel"])
def test_robot_driver_drives_an_emulated_bus_servo_arm(kind, tmp_path):
    arm = _arm(kind)
    # a stale goal left in the pan servo from an earlier session: connecting must not jump there
    arm.emulator.set_register(1, "Goal_Position", 3000)
    description = _write_description(tmp_path, arm)
    # -p only: the shipped params file's node-specific 'robot' would win over a -p (wildcard) value
    proc = start_node_process("embodied_stack.driver.node", "-p", f"robot:={description}",
                              "-p", f"backend:={arm.backend}",
                              "-p", "rate_hz:=50.0", "-p", "diagnostics_period_s:=0.2",
                              "-p", "reconnect_period_s:=0.3")
    h = RosHarness()
    d = Driver(h)
    try:
        d.until(lambda: d.joints and d.diag and d.diag.get("active") == "True"
                and d.traj.get_subscription_count() > 0, timeout=30, message="no joint_states/diagnostics")
        assert [n for n in d.joints[-1].name] == ["shoulder_pan", "shoulder_lift", "elbow_flex", "wrist_flex",
                                                  "wrist_roll", "gripper"]
        q0 = d.q[:5]
        assert max(abs(v) for v in q0) < 0.01, q0  # servos at mid-travel read 0 rad
        d.h.spin_for(0.5)  # torque is on: a jump to the stale goal would show by now
        assert abs(arm.emulator.actual_position(1) - 2048) < 5 and abs(d.q[0]) < 0.01, "jumped on connect"
        # 1. follow a trajectory: the emulated servo moves and /joint_states follows
        target = list(q0)
        target[0] = 0.4
        d.send(target, seconds=0.4)
        d.until(lambda: abs(d.q[0] - 0.4) < 0.02, message="pan did not reach 0.4 rad")
        assert abs(arm.emulator.actual_position(1) - (2048 + 0.4 * 4096 / (2 * math.pi))) < 15
        # 2. beyond the limit (shoulder_pan upper 2.0 rad): clamped, reported, never exceeded
        far = list(target)
        far[0] = 3.0
        d.send(far, seconds=0.2)
        d.until(lambda: int(d.diag.get("clamped_commands", 0)) > 0
                and "position limit" in d.diag["last_clamp"])
        d.until(lambda: d.q[0] > 1.9, message="did not approach the limit")
        d.h.spin_for(0.5)
        assert max(m.position[0] for m in d.joints[-20:]) <= 2.0 + 0.02
        # 3. corrupted replies are retried and counted; the device stays up
        before = int(d.diag.get(f"{arm.robot}.bus_checksum_errors", 0))
        arm.emulator.corrupt_next_replies(2)
        d.until(lambda: int(d.diag.get(f"{arm.robot}.bus_checksum_errors", 0)) > before)
        assert d.diag["device_faults"] == "0", d.diag
        # 4. a stale trajectory (ended 2 s ago) is rejected and the arm holds
        held = d.q[0]
        d.send([0.0] * 5, seconds=0.0, stamp_offset=-2.0)
        d.until(lambda: "stale" in d.diag.get("last_rejection", ""))
        assert abs(d.q[0] - held) < 0.02
        # 5. /estop latches: commands are dropped until the explicit reset
        d.estop.publish(Bool(data=True))
        d.until(lambda: d.diag.get("estop") == "True")
        d.send([0.0] * 5, seconds=0.2)
        d.h.spin_for(0.6)
        assert abs(d.q[0] - held) < 0.02, "moved while e-stopped"
        d.until(lambda: d.estop_srv.service_is_ready())
        fut = d.estop_srv.call_async(SetBool.Request(data=False))
        d.until(lambda: fut.done() and d.diag.get("estop") == "False")
        d.send([0.0] * 5, seconds=0.3)
        d.until(lambda: abs(d.q[0]) < 0.02, message="no motion after the reset")
        # 6. an overloaded servo reaches /diagnostics; clearing it recovers
        arm.overload(3, True)
        d.until(lambda: "overload" in (d.message + str(d.diag)).lower())
        arm.overload(3, False)
        d.until(lambda: d.diag.get("device_ok") == "True" and d.level == 0, timeout=20)
        # 7. the bus disappears: reported, then reconnected without a restart, and it moves again
        arm.unplug()
        d.until(lambda: d.diag.get("device_ok") == "False", message="lost bus not reported")
        assert d.level == 2 and "device down" in d.message
        arm.replug()
        d.until(lambda: d.diag.get("device_ok") == "True" and int(d.diag["reconnects"]) >= 1, timeout=20)
        d.send([0.3, 0.0, 0.0, 0.0, 0.0], seconds=0.3)
        d.until(lambda: abs(d.q[0] - 0.3) < 0.02, message="no motion after reconnecting")
    finally:
        h.close()
        code, out = stop_process(proc, signal.SIGINT, timeout=20)
        arm.emulator.stop()
    assert code == 0, out
    assert "Traceback" not in out, out


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
