"""The one e-stop, end to end: the browser console's E-STOP stops an arm that another node is
streaming commands to, a node publishing ``false`` cannot clear it, and only the console's
reset (which calls the driver's ``~/estop`` service) lets the arm move again.

Real parts only: the sim bridge (= the robot_driver node around MuJoCo) and the teleop node
serving the console are started by the launch runner; Debian's Chromium is driven by
Playwright; the test process streams JointTrajectory like a policy does.
"""

from __future__ import annotations

import math
import re
import shutil
import signal
import subprocess
import time

from playwright import sync_api
from sensor_msgs.msg import JointState
from std_msgs.msg import Bool
from trajectory_msgs.msg import JointTrajectory, JointTrajectoryPoint

from embodied_stack.ros import qos
from ros_testing import RosHarness, launch_stack, stop_process

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]


def _launch(tmp_path) -> tuple[subprocess.Popen, list[str]]:
    return launch_stack(tmp_path / "estop_stack.yaml", """
        environment: {MUJOCO_GL: egl}
        nodes:
          - name: sim_bridge
            executable: sim_bridge
            params_files: [config/nodes/robot_driver.yaml, config/nodes/sim_bridge.yaml]
            parameters: {world: tabletop, camera_rate_hz: 2.0, ground_truth_rate_hz: 0.0}
          - name: teleop
            executable: teleop
            params_files: [config/teleop/teleop.yaml]
            parameters: {device: web, console_port: 0, recorder_ns: "",
                         driver_estop_service: /sim_bridge/estop}
    """)


def test_console_estop_stops_a_streamed_arm_until_reset(tmp_path):
    proc, lines = _launch(tmp_path)
    h = RosHarness()
    joints: list[JointState] = []
    driver_estop: list[bool] = []
    h.node.create_subscription(JointState, "/joint_states", joints.append, qos.SENSOR)
    h.node.create_subscription(Bool, "/sim_bridge/estop_state", lambda m: driver_estop.append(m.data),
                               qos.LATCHED)
    traj = h.node.create_publisher(JointTrajectory, "/arm_controller/joint_trajectory", qos.COMMAND)
    estop_topic = h.node.create_publisher(Bool, "/estop", qos.LATCHED)
    try:
        assert h.spin_until(lambda: joints and any("console at" in line for line in lines), timeout=60), \
            "".join(lines[-30:])
        url = re.search(r"console at (http://\S+)", "".join(lines)).group(1).rstrip("/")
        names = [n for n in joints[-1].name if n != "gripper"]
        home = list(joints[-1].position[: len(names)])
        t0 = time.monotonic()

        def stream(seconds: float) -> None:
            """Like a policy: a new target every 40 ms, the pan joint sweeping +-0.5 rad."""
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                target = list(home)
                target[0] = home[0] + 0.5 * math.sin(2.0 * (time.monotonic() - t0))
                msg = JointTrajectory(joint_names=names)
                msg.header.stamp = h.node.get_clock().now().to_msg()
                msg.points = [JointTrajectoryPoint(positions=[float(v) for v in target])]
                traj.publish(msg)
                h.spin_for(0.04)

        def pan_range(seconds: float) -> float:
            n0 = len(joints)
            stream(seconds)
            pans = [m.position[0] for m in joints[n0:]]
            return max(pans) - min(pans)

        assert pan_range(1.5) > 0.2, "the streamed arm does not move"
        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
            page = browser.new_page()
            page.goto(url)
            page.click("#estop")
            stream(0.5)  # still streaming while the e-stop travels console -> teleop -> /estop -> driver
            assert h.spin_until(lambda: driver_estop and driver_estop[-1], timeout=10), "driver never latched"
            stream(0.3)
            assert pan_range(1.5) < 0.01, "the arm kept moving after the console's e-stop"
            # a node starting up and publishing false must not clear someone else's e-stop
            estop_topic.publish(Bool(data=False))
            assert pan_range(1.0) < 0.01, "a 'false' on /estop cleared the e-stop"
            # the explicit reset: the console's reset button calls the driver's ~/estop (false)
            page.click("#reset")
            assert h.spin_until(lambda: driver_estop and not driver_estop[-1], timeout=10), \
                "reset not applied"
            browser.close()
        assert pan_range(1.5) > 0.2, "the arm does not move again after the reset"
    finally:
        h.close()
        code, _ = stop_process(proc, signal.SIGINT, timeout=30)
    out = "".join(lines)
    assert code == 0, out
    assert "Traceback" not in out, out
    assert "E-STOP engaged by /estop topic" in out, out
