"""The sim bridge, started by the launch runner, looks like hardware on ROS:
every topic at its rate, the arm follows JointTrajectory, the base follows cmd_vel,
and neither moves on invalid or stale commands."""

import math
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
from builtin_interfaces.msg import Duration
from embodied_stack_interfaces.msg import DetectedObjectArray, TrackedPersonArray
from geometry_msgs.msg import Twist
from nav_msgs.msg import Odometry
from sensor_msgs.msg import CameraInfo, Image, Imu, JointState, LaserScan
from std_srvs.srv import SetBool
from trajectory_msgs.msg import JointTrajectory, JointTrajectoryPoint

from embodied_stack.ros import qos
from embodied_stack.ros.images import depth_from_image, rgb_from_image
from ros_testing import RosHarness, stop_process


def _launch_bridge(tmp_path, world: str) -> subprocess.Popen:
    stack = tmp_path / f"{world}.yaml"
    stack.write_text(textwrap.dedent(f"""
        environment: {{MUJOCO_GL: egl}}
        nodes:
          - name: sim_bridge
            executable: sim_bridge
            params_files: [config/nodes/robot_driver.yaml, config/nodes/sim_bridge.yaml]
            parameters: {{world: {world}, camera_rate_hz: 10.0}}
    """))
    return subprocess.Popen([sys.executable, "-m", "embodied_stack.cli", "launch", str(stack)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"}, start_new_session=True)


class Latest:
    def __init__(self):
        self.msgs = []

    def __call__(self, msg):
        self.msgs.append(msg)

    @property
    def last(self):
        return self.msgs[-1] if self.msgs else None


@pytest.fixture
def harness():
    h = RosHarness()
    yield h
    h.close()


def _subscribe(h, topics):
    subs = {}
    for topic, msg_type in topics.items():
        subs[topic] = Latest()
        h.node.create_subscription(msg_type, topic, subs[topic], qos.SENSOR)
    return subs


def test_tabletop_bridge_publishes_and_obeys_the_arm(harness, tmp_path):
    proc = _launch_bridge(tmp_path, "tabletop")
    topics = {"/joint_states": JointState, "/camera/color/image_raw": Image,
              "/camera/color/camera_info": CameraInfo, "/camera/depth/image_rect_raw": Image,
              "/wrist_camera/color/image_raw": Image, "/wrist_camera/depth/image_rect_raw": Image}
    subs = _subscribe(harness, topics)
    gt = Latest()
    harness.node.create_subscription(DetectedObjectArray, "/sim/ground_truth/objects", gt, qos.EVENTS)
    traj_pub = harness.node.create_publisher(JointTrajectory, "/arm_controller/joint_trajectory", qos.COMMAND)
    estop = harness.node.create_client(SetBool, "/sim_bridge/estop")
    try:
        assert harness.spin_until(lambda: all(s.msgs for s in subs.values()) and gt.msgs, timeout=60), \
            {t: len(s.msgs) for t, s in subs.items()}
        harness.spin_for(2.0)
        n0 = {t: len(s.msgs) for t, s in subs.items()}
        harness.spin_for(2.0)
        rates = {t: (len(s.msgs) - n0[t]) / 2.0 for t, s in subs.items()}
        assert rates["/joint_states"] > 10, rates  # 25 Hz control on an idle machine
        assert rates["/camera/color/image_raw"] > 3, rates  # 10 Hz configured
        rgb = rgb_from_image(subs["/camera/color/image_raw"].last)
        depth = depth_from_image(subs["/camera/depth/image_rect_raw"].last)
        assert rgb.std() > 5 and 0.1 < np.median(depth[depth > 0]) < 3.0
        assert subs["/camera/color/camera_info"].last.k[0] > 0
        assert {o.label for o in gt.last.objects} >= {"cube"}

        js = subs["/joint_states"].last
        names = list(js.name)
        assert "gripper" in names
        arm = [n for n in names if n != "gripper"]
        start = np.array(js.position[: len(arm)])

        def send(positions, seconds=1.0):
            t = JointTrajectory(joint_names=arm)
            t.points = [JointTrajectoryPoint(positions=[float(v) for v in positions],
                                             time_from_start=Duration(sec=int(seconds),
                                                                      nanosec=int((seconds % 1) * 1e9)))]
            traj_pub.publish(t)

        target = start.copy()
        target[0] += 0.4
        send(target)

        def pan():
            return subs["/joint_states"].last.position[0]

        assert harness.spin_until(lambda: abs(pan() - target[0]) < 0.05, timeout=20), (pan(), target[0])

        # NaN is rejected: the arm stays where it is
        bad = target.copy()
        bad[1] = math.nan
        send(bad)
        harness.spin_for(1.5)
        assert abs(pan() - target[0]) < 0.05

        # e-stop: commands are ignored while engaged
        assert harness.spin_until(estop.service_is_ready, timeout=10)
        fut = estop.call_async(SetBool.Request(data=True))
        assert harness.spin_until(fut.done, timeout=10) and fut.result().success
        send(start)
        harness.spin_for(1.5)
        assert abs(pan() - target[0]) < 0.05, "arm moved during e-stop"
    finally:
        code, out = stop_process(proc, signal.SIGINT, timeout=30)
    assert code == 0, out
    assert "Traceback" not in out, out


def test_indoor_bridge_publishes_and_obeys_cmd_vel(harness, tmp_path):
    proc = _launch_bridge(tmp_path, "indoor")
    topics = {"/odom": Odometry, "/imu/data": Imu, "/scan": LaserScan, "/camera/color/image_raw": Image,
              "/camera/depth/image_rect_raw": Image}
    subs = _subscribe(harness, topics)
    people = Latest()
    harness.node.create_subscription(TrackedPersonArray, "/sim/ground_truth/people", people, qos.EVENTS)
    cmd = harness.node.create_publisher(Twist, "/cmd_vel", qos.COMMAND)
    try:
        assert harness.spin_until(lambda: all(s.msgs for s in subs.values()) and people.msgs, timeout=60), \
            {t: len(s.msgs) for t, s in subs.items()}
        scan = subs["/scan"].last
        assert len(scan.ranges) > 100 and scan.header.frame_id == "laser"
        assert abs(subs["/imu/data"].last.linear_acceleration.z - 9.81) < 1.0
        assert len(people.last.people) > 0

        def pose():
            p = subs["/odom"].last.pose.pose.position
            return np.array([p.x, p.y])

        p0 = pose()
        twist = Twist()
        twist.linear.x = 0.5
        end = time.monotonic() + 15.0  # 20 Hz commands until the base moved (slower on a loaded machine)
        while np.linalg.norm(pose() - p0) <= 0.2 and time.monotonic() < end:
            cmd.publish(twist)
            harness.spin_for(0.05)
        assert np.linalg.norm(pose() - p0) > 0.2, (p0, pose())
        # commands stop -> watchdog stops the base
        harness.spin_for(1.5)
        p1 = pose()
        harness.spin_for(1.0)
        assert np.linalg.norm(pose() - p1) < 0.05, "base kept moving on a stale command"
        # NaN -> no motion
        bad = Twist()
        bad.linear.x = math.nan
        for _ in range(10):
            cmd.publish(bad)
            harness.spin_for(0.05)
        assert np.linalg.norm(pose() - p1) < 0.05
    finally:
        code, out = stop_process(proc, signal.SIGINT, timeout=30)
    assert code == 0, out
    assert "Traceback" not in out, out
