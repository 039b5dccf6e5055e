"""The recorder node end to end: topics in, services for control, dataset (and MCAP) out."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import rclpy  # noqa: E402 -- installed by scripts/setup.sh, never skipped
from sensor_msgs.msg import Image, JointState  # noqa: E402
from std_msgs.msg import String  # noqa: E402
from std_srvs.srv import Trigger  # noqa: E402
from trajectory_msgs.msg import JointTrajectory, JointTrajectoryPoint  # noqa: E402

from embodied_stack.datasets import LeRobotDataset  # noqa: E402
from embodied_stack.ros import qos  # noqa: E402
from embodied_stack.ros.images import numpy_to_image  # noqa: E402
from embodied_stack.ros.time import from_sec  # noqa: E402
from ros_testing import stop_process  # noqa: E402

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


def _start_recorder(params: Path, *extra: str) -> subprocess.Popen:
    # The environment carries the ROS_DOMAIN_ID tests/conftest.py claimed for this process.
    return subprocess.Popen([sys.executable, "-m", "embodied_stack.recording.node", "--ros-args",
                             "--params-file", str(params), *extra], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


class _Robot:
    """Plays camera, joint states and commands into the recorder, and calls its services."""

    def __init__(self, node) -> None:
        self.node = node
        self.cam = node.create_publisher(Image, "/cam", 10)
        self.js = node.create_publisher(JointState, "/joint_states", 10)
        self.cmd = node.create_publisher(JointTrajectory, "/cmd", 10)
        self.instr = node.create_publisher(String, "/instruction", 10)
        self.clients = {n: node.create_client(Trigger, f"/recorder/{n}")
                        for n in ("start", "stop", "discard")}

    def wait_ready(self, proc: subprocess.Popen) -> None:
        """Wait for this recorder process's latched status: a killed predecessor can linger in
        discovery (its services look available) but cannot publish."""
        got: list[str] = []
        sub = self.node.create_subscription(String, "/recorder/status", lambda m: got.append(m.data),
                                            qos.LATCHED)
        deadline = time.monotonic() + 30
        while not got and time.monotonic() < deadline:
            assert proc.poll() is None, proc.stdout.read()
            rclpy.spin_once(self.node, timeout_sec=0.1)
        self.node.destroy_subscription(sub)
        assert got, "recorder never published its status"
        assert self.clients["start"].wait_for_service(timeout_sec=10)
        time.sleep(0.5)  # let the publishers' subscriptions match

    def call(self, name: str) -> Trigger.Response:
        """Call a service while the streams keep flowing, as on a robot: episode boundaries fall
        inside the data, never after its end. Retried, since a request can go to a just-killed
        server's endpoint."""
        client = self.clients[name]
        assert client.wait_for_service(timeout_sec=10), f"{client.srv_name} not available"
        for _ in range(3):
            future = client.call_async(Trigger.Request())
            end = time.monotonic() + 5.0
            while not future.done() and time.monotonic() < end:
                self._publish_once()
                rclpy.spin_once(self.node, timeout_sec=0.02)
            if future.done() and future.result() is not None:
                return future.result()
        raise AssertionError(f"/recorder/{name} did not answer")

    def _publish_once(self) -> None:
        """One sample per stream at 50 Hz (the command every third one, stamped like teleop/policy
        commands)."""
        if time.monotonic() < getattr(self, "_next_pub", 0.0):
            return
        self._next_pub = time.monotonic() + 0.02
        k = self._k = getattr(self, "_k", -1) + 1
        now = self.node.get_clock().now().nanoseconds * 1e-9
        img = numpy_to_image(np.full((24, 32, 3), k % 250, np.uint8), "rgb8")
        img.header.stamp = from_sec(now)
        self.cam.publish(img)
        msg = JointState(name=["c", "b", "a", "extra"], position=[3.0, 2.0, 1.0, 9.0])
        msg.header.stamp = from_sec(now)
        self.js.publish(msg)
        if k % 3 == 0:
            cmd = JointTrajectory(joint_names=JOINTS,
                                  points=[JointTrajectoryPoint(positions=[0.1, 0.2, float(k)])])
            cmd.header.stamp = from_sec(now)
            self.cmd.publish(cmd)

    def publish_for(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self._publish_once()
            rclpy.spin_once(self.node, timeout_sec=0.005)


def _assert_accounted(ds: LeRobotDataset, episode: int, message: str) -> None:
    """Every frame of the episode's time span is either in the dataset or counted as dropped, and an
    episode with too many drops is flagged: frames are never lost silently. (Whether a sample was
    dropped depends on the machine's load, so the count itself is not asserted.)"""
    row = ds.meta.episodes[episode]
    assert row["length"] + row["quality/dropped_frames"] == row["quality/expected_frames"], (row, message)
    too_many = row["quality/dropped_frames"] > 0.05 * row["quality/expected_frames"]
    assert row["quality/flagged"] == too_many, (row, message)


def test_node_records_episodes(tmp_path: Path):
    root, mcap = tmp_path / "ds", tmp_path / "raw.mcap"
    params = tmp_path / "recorder.yaml"
    params.write_text(PARAMS.format(root=root, mcap=mcap))
    proc = _start_recorder(params)
    rclpy.init()
    node = rclpy.create_node("recorder_test")
    robot = _Robot(node)
    try:
        status: list[dict] = []
        node.create_subscription(String, "/recorder/status", lambda m: status.append(json.loads(m.data)), 10)
        robot.wait_ready(proc)
        robot.instr.publish(String(data="wave at the camera"))
        rclpy.spin_once(node, timeout_sec=0.2)
        refused = robot.call("stop")
        assert not refused.success and "not recording" in refused.message
        assert robot.call("start").success
        robot.publish_for(1.5)
        stop = robot.call("stop")
        assert stop.success, stop.message
        assert robot.call("start").success
        robot.publish_for(0.5)
        assert robot.call("discard").success
        for _ in range(20):
            rclpy.spin_once(node, timeout_sec=0.05)
    finally:
        node.destroy_node()
        rclpy.try_shutdown()
        _, out = stop_process(proc, signal.SIGTERM, timeout=20)
    assert proc.returncode == 0, out
    ds = LeRobotDataset(root)
    assert ds.meta.total_episodes == 1, out
    _assert_accounted(ds, 0, stop.message)
    # >= 1.5 s at 10 fps (more when the stop call is slow on a loaded machine)
    assert ds.meta.episodes[0]["quality/expected_frames"] >= 14, stop.message
    item = ds[len(ds) // 2]
    np.testing.assert_allclose(item["observation.state"], [1.0, 2.0, 3.0])  # selected by joint name
    assert item["task"] == "wave at the camera" and item["action"][:2] == pytest.approx([0.1, 0.2])
    assert status and status[-1]["state"] == "idle" and status[-1]["episodes"] == 1

    from mcap_ros2.reader import read_ros2_messages

    topics = {m.channel.topic for m in read_ros2_messages(str(mcap))}
    assert {"/cam", "/joint_states", "/cmd", "/instruction"} <= topics


def test_kill_recorder_mid_episode_then_resume(tmp_path: Path):
    """kill -9 of the recorder node while recording: the saved episode survives, the dataset
    loads, and a restarted node with resume:=true appends the next episode."""
    root = tmp_path / "ds"
    params = tmp_path / "recorder.yaml"
    params.write_text(PARAMS.format(root=root, mcap="''"))
    rclpy.init()
    node = rclpy.create_node("recorder_kill_test")
    proc = _start_recorder(params, "-p", "default_task:=pour")
    robot = _Robot(node)
    try:
        robot.wait_ready(proc)
        assert robot.call("start").success
        robot.publish_for(1.0)
        first = robot.call("stop")
        assert first.success, first.message
        assert robot.call("start").success
        robot.publish_for(0.8)
        proc.kill()  # SIGKILL mid-episode: no cleanup runs
        proc.wait(10)
        ds = LeRobotDataset(root)
        # how many frames fall between the start and stop calls depends on service timing; what must
        # hold is that the 1 s recorded is accounted for, frame by frame, before and after the kill
        _assert_accounted(ds, 0, first.message)
        assert ds.meta.total_episodes == 1 and ds.meta.episodes[0]["quality/expected_frames"] >= 9, \
            first.message
        assert ds.episode_video(0, "observation.images.cam").shape[0] == len(ds)
        proc = _start_recorder(params, "-p", "default_task:=pour", "-p", "resume:=true")
        robot.wait_ready(proc)
        assert robot.call("start").success
        robot.publish_for(0.6)
        second = robot.call("stop")
        assert second.success, second.message
    finally:
        node.destroy_node()
        rclpy.try_shutdown()
        if proc.poll() is None:
            _, out = stop_process(proc, signal.SIGTERM, timeout=20)
    ds = LeRobotDataset(root)
    assert ds.meta.total_episodes == 2, out
    assert ds[len(ds) - 1]["episode_index"] == 1 and ds[0]["task"] == "pour"
