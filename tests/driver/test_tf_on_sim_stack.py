"""/tf on the simulated tabletop stack: the driver (sim bridge) publishes base -> links -> cameras from
the robot description's kinematic model, and perception takes its camera extrinsics from /tf.

The wrist camera's TF pose is checked against where MuJoCo renders that camera in the *world* model at
the same joint angles (a different file from the robot model TF is built from), so a wrong joint axis,
offset or optical-frame convention fails here.
"""

from __future__ import annotations

import signal
import subprocess

import mujoco
import numpy as np
from diagnostic_msgs.msg import DiagnosticArray
from sensor_msgs.msg import JointState

from embodied_stack.robots import load_description
from embodied_stack.ros import qos
from embodied_stack.ros.tf import TransformListener
from embodied_stack.sim.rendering import camera_optical_pose
from embodied_stack.sim.tabletop import TabletopWorld
from embodied_stack.tf import TransformError
from ros_testing import RosHarness, launch_stack, stop_process


def _launch(tmp_path) -> tuple[subprocess.Popen, list[str]]:
    return launch_stack(tmp_path / "tf_stack.yaml", """
        environment: {MUJOCO_GL: egl}
        nodes:
          - name: sim_bridge
            executable: sim_bridge
            params_files: [config/nodes/robot_driver.yaml, config/nodes/sim_bridge.yaml]
            parameters: {world: tabletop, camera_rate_hz: 5.0, ground_truth_rate_hz: 0.0}
          - name: perception
            executable: perception
            params_files: [config/nodes/perception.yaml]
    """)


def test_tf_carries_links_and_cameras_and_perception_uses_it(tmp_path):
    proc, lines = _launch(tmp_path)
    h = RosHarness()
    tf = TransformListener(h.node)
    joints: list[JointState] = []
    extrinsics: dict[str, str] = {}
    h.node.create_subscription(JointState, "/joint_states", joints.append, qos.SENSOR)

    def on_diag(msg: DiagnosticArray) -> None:
        for s in msg.status:
            extrinsics.update({kv.key: kv.value for kv in s.values if kv.key.endswith("_extrinsics")})

    h.node.create_subscription(DiagnosticArray, "/diagnostics", on_diag, qos.EVENTS)

    def lookup(target: str, source: str):
        try:
            return tf.buffer.lookup(target, source)
        except TransformError:
            return None

    try:
        assert h.spin_until(lambda: joints and lookup("base_link", "wrist_optical_frame")
                            and lookup("base_link", "scene_optical_frame"), timeout=60), \
            (tf.buffer.frames(), "".join(lines[-30:]))
        # the fixed scene camera: exactly the description's extrinsics
        scene = lookup("base_link", "scene_optical_frame")
        spec = load_description("so101").camera("scene")
        assert np.allclose(scene.xyz, spec.xyz)
        assert np.allclose(np.abs(scene.quat_xyzw), np.abs(spec.quat_xyzw))
        # the wrist camera: where the world model renders it at the published joint angles
        js = joints[-1]
        q = dict(zip(js.name, js.position, strict=True))
        world = TabletopWorld()
        world.config.randomization.camera_pose = False  # as the bridge runs it (calibrated_cameras)
        world.reset(0)
        world.arm.set_pose(np.array([q[n] for n in world.arm.joint_names]), q["gripper"])
        mujoco.mj_forward(world.model, world.data)
        rot, pos = camera_optical_pose(world.model, world.data, "wrist")
        world.close()
        wrist = lookup("base_link", "wrist_optical_frame")
        assert np.linalg.norm(np.asarray(wrist.xyz) - pos) < 1e-3, (wrist.xyz, pos)
        assert np.allclose(wrist.rotation(), rot, atol=1e-3)
        # perception takes the camera pose from /tf (config is only the fallback)
        assert h.spin_until(lambda: extrinsics.get("camera_extrinsics", "").startswith("tf ("), timeout=60), \
            extrinsics
    finally:
        h.close()
        code, _ = stop_process(proc, signal.SIGINT, timeout=30)
    out = "".join(lines)
    assert code == 0, out
    assert "Traceback" not in out, out


def test_mobile_manipulator_tf_hangs_the_arm_on_the_dog(tmp_path):
    """The composite go2_so101 on the mobile-manipulation world: the dog's tree from base_link, the arm's
    tree from its mount frame (arm_base_link), odom -> base_link from the base, and the wrist camera where
    MuJoCo renders it relative to the dog's trunk; the tabletop scene camera is not on this robot."""
    from embodied_stack.sim.mobile_manipulation import MobileManipulationWorld

    proc, lines = launch_stack(tmp_path / "tf_mm_stack.yaml", """
        environment: {MUJOCO_GL: egl}
        nodes:
          - name: sim_bridge
            executable: sim_bridge
            params_files: [config/nodes/robot_driver.yaml, config/nodes/sim_bridge.yaml]
            parameters: {world: mobile_manipulation, camera_rate_hz: 1.0, ground_truth_rate_hz: 0.0}
    """)
    h = RosHarness()
    tf = TransformListener(h.node)
    joints: list[JointState] = []
    h.node.create_subscription(JointState, "/joint_states", joints.append, qos.SENSOR)

    def lookup(target: str, source: str):
        try:
            return tf.buffer.lookup(target, source)
        except TransformError:
            return None

    try:
        assert h.spin_until(lambda: joints and lookup("base_link", "wrist_optical_frame")
                            and lookup("odom", "wrist_optical_frame") and lookup("base_link", "laser"),
                            timeout=60), (tf.buffer.frames(), "".join(lines[-30:]))
        mount = lookup("base_link", "arm_base_link")
        spec = load_description("go2_so101").part("arm")
        assert np.allclose(mount.xyz, spec.xyz) and np.allclose(mount.quat_xyzw, spec.quat_xyzw)
        assert "scene_optical_frame" not in tf.buffer.frames()
        js = joints[-1]
        q = dict(zip(js.name, js.position, strict=True))
        world = MobileManipulationWorld()
        world.reset(0)
        world.arm.set_pose(np.array([q[n] for n in world.arm.joint_names]), q["gripper"])
        mujoco.mj_forward(world.model, world.data)
        rot, pos = camera_optical_pose(world.model, world.data, "arm_wrist")
        base = world.data.body("base_link")
        base_rot = base.xmat.reshape(3, 3)
        rel_pos, rel_rot = base_rot.T @ (pos - base.xpos), base_rot.T @ rot
        world.close()
        wrist = lookup("base_link", "wrist_optical_frame")
        assert np.linalg.norm(np.asarray(wrist.xyz) - rel_pos) < 5e-3, (wrist.xyz, rel_pos)
        assert np.allclose(wrist.rotation(), rel_rot, atol=1e-2)
    finally:
        h.close()
        code, _ = stop_process(proc, signal.SIGINT, timeout=30)
    out = "".join(lines)
    assert code == 0, out
    assert "Traceback" not in out, out
