"""robot_driver on a mobile manipulator: an SO-101 (Feetech bus emulator) on a Go2 (sport-mode emulator),
one composite description (config/robots/go2_so101.yaml), one node, one loop, one e-stop.

The composite here is the shipped one with its parts pointed at the emulators (part descriptions as
paths). Through ROS only, the test sees: /joint_states from the arm and /odom from the dog; a
JointTrajectory moves the arm's emulated servo while cmd_vel walks the dog; /tf hangs the arm's links
from its mount on the trunk; /estop stops both (StopMove at the dog, the servo goal frozen) and drops
their commands until the reset; a clean SIGINT exit.
"""

from __future__ import annotations

import math
import signal

import yaml
from builtin_interfaces.msg import Duration
from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import Twist
from nav_msgs.msg import Odometry
from sensor_msgs.msg import JointState
from std_msgs.msg import Bool
from std_srvs.srv import SetBool
from trajectory_msgs.msg import JointTrajectory, JointTrajectoryPoint

from embodied_stack import paths
from embodied_stack.motors.bus import MotorCalibration, save_calibration
from embodied_stack.ros import qos
from embodied_stack.ros.tf import TransformListener
from embodied_stack.tf import TransformError
from emulators.feetech_bus import FeetechBusEmulator
from emulators.go2_sport import Go2SportPeer, claim_unitree_domain
from ros_testing import RosHarness, start_node_process, stop_process

TICKS_PER_RAD = 4096 / (2 * math.pi)


def _descriptions(tmp_path, servo_port: str, domain: int) -> str:
    """go2 + so101 pointed at the emulators, and the shipped composite naming them by path."""
    go2 = yaml.safe_load(paths.resolve("config/robots/go2.yaml").read_text())
    go2["kinematics"] = str(paths.resolve(go2["kinematics"]))
    go2["backends"]["unitree"].update(network_interface="lo", domain_id=domain, stand_on_connect=True,
                                      connect_timeout_s=30.0)
    arm = yaml.safe_load(paths.resolve("config/robots/so101.yaml").read_text())
    arm["kinematics"] = str(paths.resolve(arm["kinematics"]))
    bus = arm["backends"]["feetech"]
    cal = {name: MotorCalibration(id=m["id"], range_min=0, range_max=4095)
           for name, m in bus["motors"].items()}
    cal["gripper"].range_min, cal["gripper"].range_max = 1000, 3000
    save_calibration(tmp_path / "cal.yaml", cal)
    bus.update(port=servo_port, calibration=str(tmp_path / "cal.yaml"), reply_timeout_ms=100.0)
    combo = yaml.safe_load(paths.resolve("config/robots/go2_so101.yaml").read_text())
    for role, data in (("base", go2), ("arm", arm)):
        path = tmp_path / f"{data['name']}_emulated.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        part = combo["parts"][role]
        combo["parts"][role] = {**part, "robot": str(path)} if isinstance(part, dict) else str(path)
    path = tmp_path / "go2_so101_emulated.yaml"
    path.write_text(yaml.safe_dump(combo, sort_keys=False))
    return str(path)


def test_robot_driver_drives_an_emulated_mobile_manipulator(tmp_path) -> None:
    domain, lock = claim_unitree_domain()
    dog = Go2SportPeer(domain).start()
    bus = FeetechBusEmulator(dict.fromkeys(range(1, 7), "sts3215")).start()
    proc = start_node_process("embodied_stack.driver.node",
                              "-p", f"robot:={_descriptions(tmp_path, bus.port, domain)}",
                              "-p", "backend:=hardware", "-p", "rate_hz:=50.0",
                              "-p", "diagnostics_period_s:=0.2")
    h = RosHarness()
    joints: list[JointState] = []
    odom: list[Odometry] = []
    diag: dict[str, str] = {}
    h.node.create_subscription(JointState, "/joint_states", joints.append, qos.SENSOR)
    h.node.create_subscription(Odometry, "/odom", odom.append, qos.SENSOR)
    h.node.create_subscription(DiagnosticArray, "/diagnostics", lambda m: diag.update(
        {kv.key: kv.value for s in m.status if s.name == "robot_driver: driver" for kv in s.values}),
        qos.EVENTS)
    traj = h.node.create_publisher(JointTrajectory, "/arm_controller/joint_trajectory", qos.COMMAND)
    cmd_vel = h.node.create_publisher(Twist, "/cmd_vel", qos.COMMAND)
    estop = h.node.create_publisher(Bool, "/estop", qos.LATCHED)
    reset = h.node.create_client(SetBool, "/robot_driver/estop")
    tf = TransformListener(h.node)

    def until(what, timeout: float = 20.0, message: str = "timed out") -> None:
        assert h.spin_until(what, timeout=timeout), f"{message}; diagnostics {diag}"

    def send_arm(pan: float, seconds: float = 0.4) -> None:
        msg = JointTrajectory(joint_names=[n for n in joints[-1].name if n != "gripper"])
        msg.header.stamp = h.node.get_clock().now().to_msg()
        msg.points = [JointTrajectoryPoint(positions=[pan, 0.0, 0.0, 0.0, 0.0],
                                           time_from_start=Duration(sec=int(seconds),
                                                                    nanosec=int(seconds % 1 * 1e9)))]
        traj.publish(msg)

    def drive_until(what, timeout: float = 20.0) -> None:
        def driving() -> bool:
            msg = Twist()
            msg.linear.x = 0.5
            cmd_vel.publish(msg)
            return what()
        until(driving, timeout, "the dog did not walk as commanded")

    def arm_on_dog() -> bool:
        try:
            tf.buffer.lookup("base_link", "gripper_link")
            return True
        except TransformError:
            return False

    try:
        # both parts up in one node: the arm's joints, the dog's odometry, the arm's tree on the trunk
        until(lambda: joints and odom and diag.get("active") == "True"
              and diag.get("go2.mode") == "balance_stand" and traj.get_subscription_count() > 0
              and cmd_vel.get_subscription_count() > 0, timeout=60,
              message="the composite driver did not come up")
        assert list(joints[-1].name)[:5] == ["shoulder_pan", "shoulder_lift", "elbow_flex", "wrist_flex",
                                             "wrist_roll"]
        until(arm_on_dog, message="no /tf from base_link to the arm's links")
        mount = tf.buffer.lookup("base_link", "arm_base_link")
        assert abs(mount.xyz[0] - 0.1) < 1e-9 and abs(mount.xyz[2] - 0.057) < 1e-9

        # the arm follows a trajectory while the dog walks on cmd_vel
        send_arm(0.4)
        until(lambda: abs(joints[-1].position[0] - 0.4) < 0.02, message="the arm did not reach 0.4 rad")
        assert abs(bus.actual_position(1) - (2048 + 0.4 * TICKS_PER_RAD)) < 15
        start = odom[-1].pose.pose.position.x
        drive_until(lambda: odom[-1].pose.pose.position.x > start + 0.2)
        assert dog.state()["x"] > 0.2

        # one e-stop holds both parts and drops both kinds of command until the reset
        stops = len(dog.requests("StopMove"))
        estop.publish(Bool(data=True))
        until(lambda: diag.get("estop") == "True" and len(dog.requests("StopMove")) > stops,
              message="no StopMove at the dog on /estop")
        until(lambda: dog.state()["body_velocity"] == [0.0, 0.0, 0.0], message="the dog did not halt")
        goal = bus.register(1, "Goal_Position")
        dropped = int(diag.get("dropped_while_estop", 0))
        moves = len(dog.requests("Move"))

        def commanding() -> bool:
            send_arm(0.0)
            cmd_vel.publish(Twist())
            return int(diag.get("dropped_while_estop", 0)) >= dropped + 20
        until(commanding, message="commands were not counted as dropped while e-stopped")
        assert bus.register(1, "Goal_Position") == goal, "the arm's goal changed while e-stopped"
        assert len(dog.requests("Move")) == moves, "a Move reached the dog while e-stopped"
        until(reset.service_is_ready)
        done = reset.call_async(SetBool.Request(data=False))
        until(lambda: done.done() and diag.get("estop") == "False")
        send_arm(0.0)
        until(lambda: abs(joints[-1].position[0]) < 0.02, message="the arm did not move after the reset")
        assert proc.poll() is None
    finally:
        h.close()
        code, out = stop_process(proc, signal.SIGINT, timeout=30)
        dog.close()
        bus.stop()
        lock.close()
    assert code == 0, out
    assert "Traceback" not in out, out
