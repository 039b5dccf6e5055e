"""Teleop node end to end: keys typed into its terminal (a pty) become arm commands."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import rclpy  # noqa: E402 -- installed by scripts/setup.sh, never skipped
from sensor_msgs.msg import JointState  # noqa: E402
from std_msgs.msg import Bool  # noqa: E402
from trajectory_msgs.msg import JointTrajectory  # noqa: E402

from embodied_stack.sim import so_arm  # noqa: E402
from ros_testing import stop_process  # noqa: E402


def test_keyboard_drives_arm_through_node():
    master, slave = os.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "embodied_stack.teleop.node", "--ros-args",
                             "-p", "recorder_ns:=''", "-p", "rate_hz:=20.0"],
                            stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    os.close(slave)
    rclpy.init()
    node = rclpy.create_node("teleop_test")
    got: list[JointTrajectory] = []
    estop: list[bool] = []
    try:
        js = node.create_publisher(JointState, "/joint_states", 10)
        node.create_subscription(JointTrajectory, "/arm_controller/joint_trajectory", got.append, 10)
        node.create_subscription(Bool, "/estop", lambda m: estop.append(m.data), 10)

        def run(seconds: float, keys: bytes = b"") -> None:
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                js.publish(JointState(name=list(so_arm.JOINT_NAMES), position=list(so_arm.HOME_QPOS)))
                if keys:
                    os.write(master, keys)
                rclpy.spin_once(node, timeout_sec=0.05)

        deadline = time.monotonic() + 30
        while node.count_subscribers("/joint_states") == 0 and time.monotonic() < deadline:
            assert proc.poll() is None, proc.stdout.read()
            rclpy.spin_once(node, timeout_sec=0.1)
        run(1.0)
        assert got == []  # no key held: dead-man released, nothing commanded
        run(1.0, keys=b"w")  # hold 'w' (auto-repeat) -> move forward
        assert got, "no arm command while a motion key was held"
        last = got[-1]
        assert last.joint_names == [*so_arm.JOINT_NAMES, "gripper"]
        assert not np.allclose(last.points[0].positions[:5], so_arm.HOME_QPOS)
        n = len(got)
        run(1.2)  # released: commands stop within hold_s
        settled = len(got)
        run(0.5)
        assert len(got) == settled and settled - n < 20
        os.write(master, b"x")
        run(0.5)
        assert estop and estop[-1] is True
    finally:
        node.destroy_node()
        rclpy.try_shutdown()
        _, out = stop_process(proc, signal.SIGTERM, timeout=20)
        os.close(master)
    assert proc.returncode == 0, out


def test_browser_console_device_drives_arm_through_node():
    import json
    import re
    import urllib.request

    proc = subprocess.Popen([sys.executable, "-m", "embodied_stack.teleop.node", "--ros-args",
                             "-p", "device:=web", "-p", "console_port:=0", "-p", "recorder_ns:=''",
                             "-p", "rate_hz:=20.0"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    rclpy.init()
    node = rclpy.create_node("teleop_web_test")
    got: list[JointTrajectory] = []
    try:
        js = node.create_publisher(JointState, "/joint_states", 10)
        node.create_subscription(JointTrajectory, "/arm_controller/joint_trajectory", got.append, 10)
        url = None
        for line in proc.stdout:  # the node logs its console URL (port 0 = any free port)
            m = re.search(r"console at (http://\S+)", line)
            if m:
                url = m.group(1).rstrip("/")
                break
        assert url, "console URL not logged"

        def pad(held: bool) -> None:
            body = json.dumps({"twist": [1, 0, 0, 0, 0, 0], "gripper": 0, "held": held}).encode()
            urllib.request.urlopen(urllib.request.Request(url + "/api/pad", data=body), timeout=5).read()

        end = time.monotonic() + 20
        while not got and time.monotonic() < end:
            js.publish(JointState(name=list(so_arm.JOINT_NAMES), position=list(so_arm.HOME_QPOS)))
            pad(True)
            rclpy.spin_once(node, timeout_sec=0.05)
        assert got, "holding the console pad produced no arm command"
        state = json.loads(urllib.request.urlopen(url + "/api/state", timeout=5).read())
        assert state["mode"] == "arm" and "joints" in state
    finally:
        node.destroy_node()
        rclpy.try_shutdown()
        _, out = stop_process(proc, signal.SIGTERM, timeout=20)
    assert proc.returncode == 0, out
