"""The policy node through ROS: commands only while a goal runs on fresh inputs, clamped;
a cancel stops them within a control period; the success topic ends the skill."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import rclpy  # noqa: E402 -- installed by scripts/setup.sh, never skipped
from rclpy.action import ActionClient  # noqa: E402
from sensor_msgs.msg import Image, JointState  # noqa: E402
from std_msgs.msg import Bool  # noqa: E402
from trajectory_msgs.msg import JointTrajectory  # noqa: E402

from embodied_stack.sim import so_arm  # noqa: E402
from embodied_stack.vla.checkpoint import save_checkpoint  # noqa: E402
from embodied_stack.vla.config import DataConfig, ModelConfig, TrainConfig, VLAConfig  # noqa: E402
from embodied_stack.vla.model import VLANet  # noqa: E402
from ros_testing import stop_process  # noqa: E402

RATE = 20.0


@pytest.fixture
def checkpoint(tmp_path) -> str:
    cfg = VLAConfig(model=ModelConfig(cameras=["scene", "wrist"], image_size=(32, 32), state_dim=6, action_dim=6,
                                      chunk_size=4, cnn_channels=(8, 16), cnn_strides=(4, 2), d_model=32,
                                      n_heads=2, n_encoder_layers=1, ff_dim=64),
                    data=DataConfig(), train=TrainConfig())
    return str(save_checkpoint(tmp_path / "ckpt", VLANet(cfg.model), cfg, tasks=[]))


def test_node_commands_clamps_stops_and_succeeds(checkpoint, monkeypatch):
    from embodied_stack_interfaces.action import ExecuteSkill

    domain = str(100 + os.getpid() % 100)
    monkeypatch.setenv("ROS_DOMAIN_ID", domain)
    proc = subprocess.Popen(
        [sys.executable, "-m", "embodied_stack.vla.node", "--ros-args", "-p", f"checkpoint:={checkpoint}",
         "-p", "success_topic:=/vla_test/success", "-p", f"control_rate_hz:={RATE}",
         "-p", "max_input_age_s:=0.3", "-p", "default_timeout_s:=30.0"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env={**os.environ})
    rclpy.init()
    node = rclpy.create_node("vla_node_test")
    got: list[tuple[float, JointTrajectory]] = []
    try:
        img_pubs = [node.create_publisher(Image, t, 10)
                    for t in ("/camera/color/image_raw", "/wrist_camera/color/image_raw")]
        js = node.create_publisher(JointState, "/joint_states", 10)
        success = node.create_publisher(Bool, "/vla_test/success", 10)
        node.create_subscription(JointTrajectory, "/arm_controller/joint_trajectory",
                                 lambda m: got.append((time.monotonic(), m)), 10)
        client = ActionClient(node, ExecuteSkill, "/vla_policy/execute_skill")
        q = np.array(so_arm.HOME_QPOS, dtype=float)
        image = Image(height=32, width=32, encoding="rgb8", step=96, data=bytes(32 * 32 * 3))

        def spin(seconds: float, publish: bool = True) -> None:
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                if publish:
                    for p in img_pubs:
                        p.publish(image)
                    js.publish(JointState(name=[*so_arm.JOINT_NAMES, "gripper"], position=[*q, 0.5]))
                rclpy.spin_once(node, timeout_sec=0.02)

        deadline = time.monotonic() + 60
        while not client.server_is_ready() and time.monotonic() < deadline:
            assert proc.poll() is None, proc.stdout.read()
            spin(0.2)
        assert client.server_is_ready(), "the node's execute_skill action never appeared"
        spin(0.5)
        assert got == []  # inputs but no goal: no motion

        goal_future = client.send_goal_async(ExecuteSkill.Goal(skill="pick_place",
                                                               instruction="把红色方块放进碗里"))
        spin(1.5)
        handle = goal_future.result()
        assert handle is not None and handle.accepted
        assert len(got) > 5, "no commands while a goal ran on fresh inputs"
        for _, msg in got:
            pos = np.array(msg.points[0].positions)
            assert np.all(pos[:5] >= so_arm.JOINT_LOWER) and np.all(pos[:5] <= so_arm.JOINT_UPPER)
            assert np.all(np.abs(pos[:5] - q) <= 0.25 + 1e-6) and 0.0 <= pos[5] <= 1.0

        spin(0.4, publish=False)  # inputs stop: commands stop once they are 0.3 s old
        n = len(got)
        spin(0.5, publish=False)
        assert len(got) == n, "commands continued on stale inputs"

        spin(1.0)  # fresh again
        assert len(got) > n
        cancel = handle.cancel_goal_async()
        while not cancel.done():
            spin(0.01)
        t_cancel = time.monotonic()
        spin(0.5)
        late = [t for t, _ in got if t > t_cancel + 1.0 / RATE]
        assert late == [], f"{len(late)} commands more than one period after the cancel"

        goal_future = client.send_goal_async(ExecuteSkill.Goal(skill="pick_place", instruction="open the drawer"))
        spin(0.5)
        handle = goal_future.result()
        result_future = handle.get_result_async()
        success.publish(Bool(data=True))
        end = time.monotonic() + 5
        while not result_future.done() and time.monotonic() < end:
            spin(0.05)
        assert result_future.done() and result_future.result().result.success
    finally:
        node.destroy_node()
        rclpy.try_shutdown()
        _, out = stop_process(proc, signal.SIGTERM, timeout=20)
    assert proc.returncode == 0, out
