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
