"""A policy with a goal input never moves without a grounded goal: the node parses no
instruction itself (grounding is the executive's), aborts a skill whose arguments lack the
target and place positions or give invalid ones, and runs when they carry them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import rclpy
from diagnostic_msgs.msg import KeyValue
from rclpy.action import ActionClient
from sensor_msgs.msg import Image, JointState
from trajectory_msgs.msg import JointTrajectory

from embodied_stack.sim import so_arm
from embodied_stack.vla.checkpoint import save_checkpoint
from embodied_stack.vla.config import ModelConfig, VLAConfig
from embodied_stack.vla.model import VLANet
from ros_testing import stop_process


@pytest.fixture
def goal_checkpoint(tmp_path) -> str:
    model = ModelConfig(cameras=["scene", "wrist"], image_size=(32, 32), state_dim=6, action_dim=6,
                        chunk_size=4, cnn_channels=(8, 16), cnn_strides=(4, 2), d_model=32, n_heads=2,
                        n_encoder_layers=1, ff_dim=64, action_space="joint_position", relative_dims=5,
                        goal_dim=4)
    return str(save_checkpoint(tmp_path / "ckpt", VLANet(model), VLAConfig(model=model), tasks=[]))


def test_goal_policy_aborts_without_grounded_arguments_and_runs_with_them(goal_checkpoint):
    from embodied_stack_interfaces.action import ExecuteSkill

    proc = subprocess.Popen(
        [sys.executable, "-m", "embodied_stack.vla.node", "--ros-args",
         "-p", f"checkpoint:={goal_checkpoint}",
         "-p", "control_rate_hz:=20.0"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env={**os.environ})
    rclpy.init()
    node = rclpy.create_node("vla_goal_test")
    got: list[JointTrajectory] = []
    try:
        img_pubs = [node.create_publisher(Image, t, 10)
                    for t in ("/camera/color/image_raw", "/wrist_camera/color/image_raw")]
        js = node.create_publisher(JointState, "/joint_states", 10)
        node.create_subscription(JointTrajectory, "/arm_controller/joint_trajectory", got.append, 10)
        client = ActionClient(node, ExecuteSkill, "/vla_policy/execute_skill")
        image = Image(height=32, width=32, encoding="rgb8", step=96, data=bytes(32 * 32 * 3))
        q = np.array(so_arm.HOME_QPOS, dtype=float)

        def spin(seconds: float) -> None:
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                for p in img_pubs:
                    p.publish(image)
                js.publish(JointState(name=[*so_arm.JOINT_NAMES, "gripper"], position=[*q, 0.5]))
                rclpy.spin_once(node, timeout_sec=0.02)

        def run(goal, seconds: float):
            """Send a goal and wait for its result (None if none came in time)."""
            future = client.send_goal_async(goal)
            end = time.monotonic() + seconds
            while time.monotonic() < end and not future.done():
                spin(0.05)
            result = future.result().get_result_async()
            while time.monotonic() < end and not result.done():
                spin(0.05)
            return result.result().result if result.done() else None

        deadline = time.monotonic() + 60
        while not client.server_is_ready() and time.monotonic() < deadline:
            assert proc.poll() is None, proc.stdout.read()
            spin(0.2)
        assert client.server_is_ready()

        result = run(ExecuteSkill.Goal(skill="pick_place", instruction="put the red cube in the bowl"), 5.0)
        assert result is not None and not result.success, result
        assert "target_position and place_position" in result.message and "executive" in result.message
        only_target = [KeyValue(key="target_position", value="0.2,0.0")]
        result = run(ExecuteSkill.Goal(skill="pick_place", instruction="put the red cube in the bowl",
                                       arguments=only_target), 5.0)
        assert result is not None and not result.success and "grounded place_position" in result.message
        assert got == [], "the arm was commanded without a grounded goal"

        bad = [KeyValue(key="target_position", value="0.2,nan"),
               KeyValue(key="place_position", value="0,0.1")]
        result = run(ExecuteSkill.Goal(skill="pick_place", instruction="put the red cube in the bowl",
                                       arguments=bad), 5.0)
        assert result is not None and not result.success and "finite" in result.message and got == []

        args = [KeyValue(key="target_position", value="0.18,-0.05,0.02"),
                KeyValue(key="place_position", value="0.15,0.12")]
        future = client.send_goal_async(ExecuteSkill.Goal(
            skill="pick_place", instruction="put the red cube in the bowl", arguments=args, timeout_s=10.0))
        end = time.monotonic() + 30.0  # a loaded machine may take a while for the first inference
        while (len(got) <= 5 or not future.done()) and time.monotonic() < end:
            spin(0.1)
        assert future.done() and future.result().accepted and len(got) > 5, \
            "no commands with a goal from the arguments"
    finally:
        node.destroy_node()
        rclpy.try_shutdown()
        _, out = stop_process(proc, signal.SIGTERM, timeout=20)
    assert proc.returncode == 0, out
