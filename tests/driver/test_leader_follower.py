"""Leader-follower teleoperation, the way LeRobot users collect data, on emulated SO-101 arms.

Two Feetech buses behind ptys: the follower is driven by robot_driver, the leader (torque off)
is read by the teleop node (``device: leader_arm``) and "moved by hand" by this test; the
recorder writes a LeRobotDataset that must load with the motion in it. The leader's
shoulder_lift is calibrated with drive mode 1 (mounted mirror-wise), so the follower's joint
must turn the other way in encoder ticks.
"""

from __future__ import annotations

import json
import math
import signal
import subprocess
import textwrap

import yaml
from sensor_msgs.msg import JointState
from std_msgs.msg import String
from std_srvs.srv import Trigger

from embodied_stack import paths
from embodied_stack.datasets import LeRobotDataset
from embodied_stack.motors.bus import MotorCalibration, save_calibration
from embodied_stack.ros import qos
from emulators.feetech_bus import FeetechBusEmulator
from ros_testing import RosHarness, launch_stack, stop_process

TICKS_PER_RAD = 4096 / (2 * math.pi)


def _description(tmp_path, follower: str, leader: str) -> str:
    data = yaml.safe_load(paths.resolve("config/robots/so101.yaml").read_text())
    for backend, port in (("feetech", follower), ("feetech_leader", leader)):
        section = data["backends"][backend]
        cal = {n: MotorCalibration(id=m["id"], range_min=0, range_max=4095)
               for n, m in section["motors"].items()}
        cal["gripper"].range_min, cal["gripper"].range_max = 1000, 3000
        if backend == "feetech_leader":
            cal["shoulder_lift"].drive_mode = 1
        save_calibration(tmp_path / f"{backend}.yaml", cal)
        section.update(port=port, calibration=str(tmp_path / f"{backend}.yaml"), reply_timeout_ms=100.0)
    path = tmp_path / "so101_emulated.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return str(path)


def _launch(tmp_path, description: str) -> tuple[subprocess.Popen, list[str]]:
    recorder = tmp_path / "recorder.yaml"
    recorder.write_text(textwrap.dedent(f"""
        recorder:
          ros__parameters:
            root: {tmp_path / 'ds'}
            fps: 20
            robot_type: so101
            min_free_mb: 1.0
            delay_s: 0.15
            default_task: move the arm with the leader
            stream_names: [state, action]
            streams:
              state: {{feature: observation.state, topic: /joint_states,
                      msg_type: sensor_msgs/msg/JointState, shape: [6],
                      names: [shoulder_pan, shoulder_lift, elbow_flex, wrist_flex, wrist_roll, gripper]}}
              action: {{feature: action, topic: /arm_controller/joint_trajectory,
                       msg_type: trajectory_msgs/msg/JointTrajectory, shape: [6], max_age_s: 0.5,
                       names: [shoulder_pan, shoulder_lift, elbow_flex, wrist_flex, wrist_roll, gripper]}}
    """))
    return launch_stack(tmp_path / "leader_stack.yaml", f"""
        nodes:
          - name: robot_driver
            executable: robot_driver
            parameters: {{robot: {description}, backend: feetech, rate_hz: 50.0}}
          - name: teleop
            executable: teleop
            params_files: [config/teleop/teleop.yaml]
            parameters: {{device: leader_arm, robot: {description}, leader_backend: feetech_leader,
                         rate_hz: 20.0, recorder_ns: /recorder}}
          - name: recorder
            executable: recorder
            params_files: [{recorder}]
    """)


def test_leader_arm_drives_the_follower_and_the_recording_loads(tmp_path):
    follower = FeetechBusEmulator(dict.fromkeys(range(1, 7), "sts3215")).start()
    leader = FeetechBusEmulator(dict.fromkeys(range(1, 7), "sts3215")).start()
    proc, lines = _launch(tmp_path, _description(tmp_path, follower.port, leader.port))
    h = RosHarness()
    joints: list[JointState] = []
    status: list[dict] = []
    h.node.create_subscription(JointState, "/joint_states", joints.append, qos.SENSOR)
    h.node.create_subscription(String, "/recorder/status", lambda m: status.append(json.loads(m.data)),
                               qos.LATCHED)
    start = h.node.create_client(Trigger, "/recorder/start")
    stop = h.node.create_client(Trigger, "/recorder/stop")

    def call(client) -> Trigger.Response:
        assert h.spin_until(client.service_is_ready, timeout=20), f"{client.srv_name} not available"
        fut = client.call_async(Trigger.Request())
        assert h.spin_until(fut.done, timeout=10)
        return fut.result()

    try:
        assert h.spin_until(lambda: joints and status, timeout=60), "".join(lines[-40:])
        assert call(start).success
        # the operator moves the leader by hand: pan +0.5 rad, shoulder_lift raw +0.3 rad (drive mode 1)
        for i in range(1, 31):
            leader.set_actual_position(1, 2048 + round(i / 30 * 0.5 * TICKS_PER_RAD))
            leader.set_actual_position(2, 2048 + round(i / 30 * 0.3 * TICKS_PER_RAD))
            h.spin_for(0.05)
        pan_goal, lift_goal = 2048 + 0.5 * TICKS_PER_RAD, 2048 - 0.3 * TICKS_PER_RAD
        assert h.spin_until(lambda: abs(follower.actual_position(1) - pan_goal) < 15
                            and abs(follower.actual_position(2) - lift_goal) < 15, timeout=15), \
            (follower.actual_position(1), pan_goal, follower.actual_position(2), lift_goal,
             "".join(lines[-30:]))
        h.spin_for(0.5)
        response = call(stop)
        assert response.success, response.message
        assert h.spin_until(lambda: status and status[-1].get("episodes") == 1, timeout=20), status[-1:]
    finally:
        h.close()
        code, _ = stop_process(proc, signal.SIGINT, timeout=30)
        follower.stop()
        leader.stop()
    out = "".join(lines)
    assert code == 0, out
    assert "Traceback" not in out, out
    ds = LeRobotDataset(tmp_path / "ds")
    assert ds.meta.total_episodes == 1 and len(ds) >= 20, len(ds)  # >= 1 s at 20 fps
    first, last = ds[0], ds[len(ds) - 1]
    assert last["observation.state"][0] - first["observation.state"][0] > 0.4  # the follower's pan moved
    assert last["action"][1] < -0.25  # the mirrored leader joint commands the other direction
