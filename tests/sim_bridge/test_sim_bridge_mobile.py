"""The sim bridge running the mobile-manipulation world, started by the launch runner, is two drivers in
one: the arm on /joint_states + JointTrajectory and the base on /odom + cmd_vel, commanded together."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
from builtin_interfaces.msg import Duration
from geometry_msgs.msg import Twist
from nav_msgs.msg import Odometry
from sensor_msgs.msg import Image, JointState, LaserScan
from trajectory_msgs.msg import JointTrajectory, JointTrajectoryPoint

from embodied_stack.ros import qos
from embodied_stack.sim import so_arm
from ros_testing import RosHarness, stop_process


@pytest.fixture
def harness():
    h = RosHarness()
    yield h
    h.close()


def test_mobile_bridge_drives_arm_and_base_together(harness, tmp_path):
    stack = tmp_path / "mobile.yaml"
    stack.write_text(textwrap.dedent("""
        environment: {MUJOCO_GL: egl}
        nodes:
          - name: sim_bridge
            executable: sim_bridge
            params_files: [config/nodes/robot_driver.yaml, config/nodes/sim_bridge.yaml]
            parameters: {world: mobile_manipulation, camera_rate_hz: 5.0}
    """))
    proc = subprocess.Popen([sys.executable, "-m", "embodied_stack.cli", "launch", str(stack)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"}, start_new_session=True)
    topics = {"/joint_states": JointState, "/odom": Odometry, "/scan": LaserScan,
              "/camera/color/image_raw": Image, "/wrist_camera/color/image_raw": Image}
    msgs: dict[str, list] = {t: [] for t in topics}
    for topic, msg_type in topics.items():
        harness.node.create_subscription(msg_type, topic, msgs[topic].append, qos.SENSOR)
    traj_pub = harness.node.create_publisher(JointTrajectory, "/arm_controller/joint_trajectory", qos.COMMAND)
    cmd_pub = harness.node.create_publisher(Twist, "/cmd_vel", qos.COMMAND)
    try:
        counts = {t: len(m) for t, m in msgs.items()}
        assert harness.spin_until(lambda: all(msgs.values()), timeout=60), counts
        js = msgs["/joint_states"][-1]
        assert list(js.name) == [*so_arm.JOINT_NAMES, "gripper"]  # unprefixed, as on the tabletop
        assert msgs["/wrist_camera/color/image_raw"][-1].header.frame_id == "wrist_optical_frame"

        def pan() -> float:
            return msgs["/joint_states"][-1].position[0]

        def xy() -> np.ndarray:
            p = msgs["/odom"][-1].pose.pose.position
            return np.array([p.x, p.y])

        pan0, xy0 = pan(), xy()
        target = np.array(js.position[:5])
        target[0] += 0.5
        traj_pub.publish(JointTrajectory(joint_names=list(so_arm.JOINT_NAMES), points=[JointTrajectoryPoint(
            positions=[float(v) for v in target], time_from_start=Duration(sec=1))]))
        twist = Twist()
        twist.linear.x = 0.4
        end = time.monotonic() + 15.0  # cmd_vel at 20 Hz while the arm follows its trajectory
        while time.monotonic() < end and (abs(pan() - target[0]) >= 0.05
                                          or np.linalg.norm(xy() - xy0) <= 0.3):
            cmd_pub.publish(twist)
            harness.spin_for(0.05)
        assert abs(pan() - target[0]) < 0.05, (pan0, pan(), target[0])
        assert np.linalg.norm(xy() - xy0) > 0.3, (xy0, xy())
    finally:
        code, out = stop_process(proc, signal.SIGINT, timeout=30)
    assert code == 0, out
    assert "Traceback" not in out, out
