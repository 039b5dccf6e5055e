"""The recorder node end to end: topics in, services for control, dataset (and MCAP) out."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

rclpy = pytest.importorskip("rclpy")

from sensor_msgs.msg import JointState  # noqa: E402
from std_msgs.msg import String  # noqa: E402
from std_srvs.srv import Trigger  # noqa: E402
from trajectory_msgs.msg import JointTrajectory, JointTrajectoryPoint  # noqa: E402

from embodied_stack.datasets import LeRobotDataset  # noqa: E402
from embodied_stack.ros.images import numpy_to_image  # noqa: E402
from embodied_stack.ros.time import from_sec  # noqa: E402

JOINTS = ["a", "b", "c"]
PARAMS = """
recorder:
  ros__parameters:
    root: {root}
    fps: 10
    min_free_mb: 1.0
    delay_s: 0.15
    mcap_path: {mcap}
    stream_names: [cam, state, action]
    streams:
      cam: {{feature: observation.images.cam, topic: /cam, msg_type: sensor_msgs/msg/Image,
            shape: [24, 32, 3]}}
      state: {{feature: observation.state, topic: /joint_states, msg_type: sensor_msgs/msg/JointState,
              shape: [3], names: [a, b, c]}}
      action: {{feature: action, topic: /cmd, msg_type: trajectory_msgs/msg/JointTrajectory, shape: [3],
               names: [a, b, c], max_age_s: 0.5}}
"""


def _call(node, client, timeout=10.0) -> Trigger.Response:
    assert client.wait_for_service(timeout_sec=timeout), f"{client.srv_name} not available"
    future = client.call_async(Trigger.Request())
    rclpy.spin_until_future_complete(node, future, timeout_sec=timeout)
    return future.result()


def test_node_records_episodes(tmp_path: Path):
    root, mcap = tmp_path / "ds", tmp_path / "raw.mcap"
    params = tmp_path / "recorder.yaml"
    params.write_text(PARAMS.format(root=root, mcap=mcap))
    env = dict(os.environ)  # tests/conftest.py gave this process its own ROS_DOMAIN_ID
    proc = subprocess.Popen([sys.executable, "-m", "embodied_stack.recording.node", "--ros-args",
                             "--params-file", str(params)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    rclpy.init()
    node = rclpy.create_node("recorder_test")
    try:
        cam = node.create_publisher(type(numpy_to_image(np.zeros((2, 2, 3), np.uint8), "rgb8")), "/cam", 10)
        js = node.create_publisher(JointState, "/joint_states", 10)
        cmd = node.create_publisher(JointTrajectory, "/cmd", 10)
        instr = node.create_publisher(String, "/instruction", 10)
        status: list[dict] = []
        node.create_subscription(String, "/recorder/status", lambda m: status.append(json.loads(m.data)), 10)
        clients = {n: node.create_client(Trigger, f"/recorder/{n}") for n in ("start", "stop", "discard")}
        ready = clients["start"].wait_for_service(timeout_sec=20)
        assert ready, proc.stdout.read() if proc.poll() is not None else "no service"
        time.sleep(0.5)  # let subscriptions match
        instr.publish(String(data="wave at the camera"))
        rclpy.spin_once(node, timeout_sec=0.2)

        def publish_for(seconds: float) -> None:
            end = time.monotonic() + seconds
            k = 0
            while time.monotonic() < end:
                now = node.get_clock().now().nanoseconds * 1e-9
                header_img = numpy_to_image(np.full((24, 32, 3), k % 250, np.uint8), "rgb8")
                header_img.header.stamp = from_sec(now)
                cam.publish(header_img)
                msg = JointState(name=["c", "b", "a", "extra"], position=[3.0, 2.0, 1.0, 9.0])
                msg.header.stamp = from_sec(now)
                js.publish(msg)
                if k % 3 == 0:
                    cmd.publish(JointTrajectory(joint_names=JOINTS, points=[JointTrajectoryPoint(
                        positions=[0.1, 0.2, float(k)])]))
                rclpy.spin_once(node, timeout_sec=0.0)
                time.sleep(0.02)
                k += 1

        refused = _call(node, clients["stop"])
        assert not refused.success and "not recording" in refused.message
        assert _call(node, clients["start"]).success
        publish_for(1.5)
        stop = _call(node, clients["stop"])
        assert stop.success, stop.message
        assert _call(node, clients["start"]).success
        publish_for(0.5)
        assert _call(node, clients["discard"]).success
        for _ in range(20):
            rclpy.spin_once(node, timeout_sec=0.05)
    finally:
        node.destroy_node()
        rclpy.try_shutdown()
        proc.terminate()
        out = proc.communicate(timeout=20)[0]
    assert proc.returncode == 0, out
    ds = LeRobotDataset(root)
    assert ds.meta.total_episodes == 1, out
    assert 12 <= len(ds) <= 16, stop.message  # ~1.5 s at 10 fps
    item = ds[len(ds) // 2]
    np.testing.assert_allclose(item["observation.state"], [1.0, 2.0, 3.0])  # selected by joint name
    assert item["task"] == "wave at the camera" and item["action"][:2] == pytest.approx([0.1, 0.2])
    assert status and status[-1]["state"] == "idle" and status[-1]["episodes"] == 1

    from mcap_ros2.reader import read_ros2_messages

    topics = {m.channel.topic for m in read_ros2_messages(str(mcap))}
    assert {"/cam", "/joint_states", "/cmd", "/instruction"} <= topics
