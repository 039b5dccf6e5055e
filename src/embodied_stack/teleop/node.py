"""Teleop node: drives the arm or the base from a keyboard, gamepad or SpaceMouse.

Publishes the same commands the planner and policies publish, so drivers apply the same
safety filters:
  arm mode   ``arm_topic`` (trajectory_msgs/JointTrajectory, COMMAND QoS): one point with
             the arm joint targets (rad) and ``gripper`` (opening 0..1), reached in one period;
             nothing while the dead-man is released (the arm holds its last target)
  base mode  ``cmd_vel_topic`` (geometry_msgs/Twist, COMMAND QoS) at ``rate_hz`` while enabled,
             one zero Twist on release
  both       ``estop_topic`` (std_msgs/Bool, LATCHED): true after the device's e-stop; every driver
             latches it. ``~/reset`` (and the console's reset) is the explicit reset: it calls the
             driver's ``driver_estop_service`` (SetBool false), then publishes false. The console shows
             the driver's own latch from ``<driver_estop_service>_state``.
Subscribes ``joint_states_topic`` (sensor_msgs/JointState) in arm mode: no command is sent
while it is older than ``state_timeout_s``.
Device events (start/stop/next/rerecord/discard) call the recorder's Trigger services
under ``recorder_ns``.
``device: web`` serves the browser console (cameras from ``console_camera_topics``,
recorder status from ``<recorder_ns>/status``; the task text typed there is published
on ``instruction_topic`` before start/next).
Parameters: config/teleop/teleop.yaml.
"""

from __future__ import annotations

import json
import time

import numpy as np
from geometry_msgs.msg import Twist
from rclpy.duration import Duration
from rclpy.node import Node
from sensor_msgs.msg import Image, JointState
from std_msgs.msg import Bool, String
from std_srvs.srv import SetBool, Trigger
from trajectory_msgs.msg import JointTrajectory, JointTrajectoryPoint

from embodied_stack.recording.convert import select_joints
from embodied_stack.ros import qos
from embodied_stack.ros.images import ImageDecodeError, rgb_from_image
from embodied_stack.ros.node_main import run_node
from embodied_stack.ros.params import InvalidParameterError, Parameters, ParamSpec
from embodied_stack.teleop import DEVICES, BaseTeleop, EndEffectorTeleop, make_device
from embodied_stack.teleop.web import ConsoleServer, WebTeleop

SPECS = [
    ParamSpec("device", "keyboard", "input device ('web' = browser console, 'leader_arm' = a leader arm)",
              choices=sorted([*DEVICES, "web", "leader_arm"])),
    ParamSpec("leader_backend", "feetech_leader",
              "leader_arm: the bus section of the robot description (feetech_leader, dynamixel_leader)"),
    ParamSpec("device_path", "", "device node (/dev/input/eventN, /dev/hidrawN); '' = default / stdin"),
    ParamSpec("mode", "arm", "what to drive", choices=["arm", "base"]),
    ParamSpec("rate_hz", 30.0, "command rate, Hz", min=1.0, max=200.0),
    ParamSpec("arm_topic", "/arm_controller/joint_trajectory", "arm command topic"),
    ParamSpec("joint_states_topic", "/joint_states", "measured joint positions"),
    ParamSpec("cmd_vel_topic", "/cmd_vel", "base velocity topic"),
    ParamSpec("estop_topic", "/estop", "e-stop state topic (std_msgs/Bool, latched)"),
    ParamSpec("driver_estop_service", "/robot_driver/estop",
              "the driver's e-stop service (std_srvs/SetBool); reset calls it with false"),
    ParamSpec("robot", "so101", "robot description (config/robots/) of the arm: joint names, IK model"),
    ParamSpec("recorder_ns", "/recorder", "namespace of the recorder services ('' = no recording events)"),
    ParamSpec("state_timeout_s", 0.5, "joint states older than this stop arm commands, s", min=0.01),
    ParamSpec("max_linear", 0.1, "end-effector speed at full deflection, m/s", min=0.0, max=1.0),
    ParamSpec("max_angular", 0.8, "end-effector rotation rate at full deflection, rad/s", min=0.0, max=5.0),
    ParamSpec("base_max_linear", 0.5, "base speed at full deflection, m/s", min=0.0, max=3.0),
    ParamSpec("base_max_angular", 1.0, "base yaw rate at full deflection, rad/s", min=0.0, max=5.0),
    ParamSpec("model", "", "MJCF of the arm for IK ('' = the SO-arm in sim/robots)"),
    ParamSpec("instruction_topic", "/instruction",
              "where the console publishes the task text (std_msgs/String)"),
    ParamSpec("console_host", "127.0.0.1", "browser console bind address; non-local binds require the token"),
    ParamSpec("console_port", 8080, "browser console port", min=0, max=65535),
    ParamSpec("console_token", "", "console token for non-local binds ('' = generate one and log the URL)"),
    ParamSpec("console_camera_topics", ["/camera/color/image_raw"], "camera topics shown in the console"),
]


class TeleopNode(Node):
    def __init__(self) -> None:
        super().__init__("teleop")
        self.params = Parameters(self, SPECS)
        kwargs = {"path": self.params["device_path"]} if self.params["device_path"] else {}
        device = self.params["device"]
        if device == "leader_arm":
            from embodied_stack.teleop.leader_arm import LeaderArmTeleop

            self.device = LeaderArmTeleop(self.params["robot"], self.params["leader_backend"],
                                          self.params["device_path"])
        else:
            self.device = WebTeleop() if device == "web" else make_device(device, **kwargs)
        try:
            self.device.connect()
        except OSError as e:
            raise InvalidParameterError(f"teleop: {e}") from e
        self.period = 1.0 / self.params["rate_hz"]
        self.estopped = False
        self.driver_estopped: bool | None = None  # the driver's latch, as it reports it
        self.estop_pub = self.create_publisher(Bool, self.params["estop_topic"], qos.LATCHED)
        # "not requesting": drivers ignore false, only an explicit reset clears their latch
        self.estop_pub.publish(Bool(data=False))
        self.driver_estop = self.create_client(SetBool, self.params["driver_estop_service"])
        self.create_subscription(Bool, self.params["driver_estop_service"] + "_state", self._on_driver_estop,
                                 qos.LATCHED)
        self._was_enabled = False
        if self.params["mode"] == "arm":
            import mujoco

            from embodied_stack.robots import load_description
            from embodied_stack.sim.kinematics import ArmKinematics

            description = load_description(self.params["robot"])
            model_path = self.params["model"] or str(description.kinematics_path())
            self.joint_names = description.joint_names
            self.mapper = EndEffectorTeleop(ArmKinematics(mujoco.MjModel.from_xml_path(model_path)),
                                            max_linear=self.params["max_linear"],
                                            max_angular=self.params["max_angular"])
            self.q: np.ndarray | None = None
            self.q_stamp = -np.inf
            self.create_subscription(JointState, self.params["joint_states_topic"], self._on_joints,
                                     qos.SENSOR)
            self.arm_pub = self.create_publisher(JointTrajectory, self.params["arm_topic"], qos.COMMAND)
        else:
            from embodied_stack.robots import load_description

            # full deflection = the teleop's comfort speed, never beyond the robot's own base limits
            limits = load_description(self.params["robot"]).base
            linear, angular = self.params["base_max_linear"], self.params["base_max_angular"]
            if limits is not None:
                linear, angular = min(linear, limits.max_vx), min(angular, limits.max_wz)
            self.base = BaseTeleop(linear, angular)
            self.twist_pub = self.create_publisher(Twist, self.params["cmd_vel_topic"], qos.COMMAND)
        self.recorder_clients = {}
        if self.params["recorder_ns"]:
            ns = self.params["recorder_ns"].rstrip("/")
            for event in ("start", "stop", "next", "rerecord", "discard"):
                self.recorder_clients[event] = self.create_client(Trigger, f"{ns}/{event}")
        self.create_service(Trigger, "~/reset", self._reset)
        self.console = self._start_console() if isinstance(self.device, WebTeleop) else None
        self.create_timer(self.period, self._step)
        self.get_logger().info(f"{self.params['device']} teleop driving the {self.params['mode']}")

    def _on_joints(self, msg: JointState) -> None:
        try:
            self.q = select_joints(msg.name, msg.position, self.joint_names)
            self.q_stamp = time.monotonic()
        except ValueError as e:
            self.get_logger().warning(str(e), throttle_duration_sec=2.0)

    def _start_console(self) -> ConsoleServer:
        """Browser console: cameras and recorder status from topics, the pad as the device."""
        self.frames: dict[str, np.ndarray] = {}
        self.recorder_status: dict = {}
        self.instruction_pub = self.create_publisher(String, self.params["instruction_topic"], qos.COMMAND)
        names = []
        for topic in [t for t in self.params["console_camera_topics"] if t]:
            name = topic.strip("/").replace("/", "_")
            names.append(name)

            def on_image(msg: Image, name: str = name) -> None:
                try:
                    self.frames[name] = rgb_from_image(msg)
                except ImageDecodeError as e:
                    self.get_logger().warning(f"console camera {name}: {e}", throttle_duration_sec=5.0)

            self.create_subscription(Image, topic, on_image, qos.SENSOR)
        if self.params["recorder_ns"]:
            self.create_subscription(String, self.params["recorder_ns"].rstrip("/") + "/status",
                                     self._on_recorder_status, qos.LATCHED)
        console = ConsoleServer(self.device, self._console_state, self.frames.get, names,
                                host=self.params["console_host"], port=self.params["console_port"],
                                token=self.params["console_token"] or None,
                                on_reset=self._clear_estop).start()
        self.get_logger().info(f"console at {console.url}")
        return console

    def _on_recorder_status(self, msg: String) -> None:
        try:
            self.recorder_status = json.loads(msg.data)
        except json.JSONDecodeError:
            self.get_logger().warning("recorder status is not JSON", throttle_duration_sec=5.0)

    def _console_state(self) -> dict:
        state: dict = {"mode": self.params["mode"], "node_estop": self.estopped,
                       "driver_estop": self.driver_estopped,
                       "recording": self.recorder_status}
        if self.params["mode"] == "arm" and self.q is not None:
            state["joints"] = dict(zip(self.joint_names, np.round(self.q, 4).tolist(), strict=True))
        return state

    def _on_driver_estop(self, msg: Bool) -> None:
        self.driver_estopped = bool(msg.data)

    def _clear_estop(self) -> str:
        """The explicit reset: the driver's latch first, then ours."""
        if not self.driver_estop.service_is_ready():
            msg = (f"driver e-stop service {self.params['driver_estop_service']} is not available: "
                   "the driver stays e-stopped")
            self.get_logger().error(msg)
        else:
            future = self.driver_estop.call_async(SetBool.Request(data=False))
            future.add_done_callback(lambda f: self.get_logger().warning(f"driver: {f.result().message}"))
            msg = "e-stop reset requested from the driver"
        self.estopped = False
        self.estop_pub.publish(Bool(data=False))
        return msg

    def _reset(self, request: Trigger.Request, response: Trigger.Response) -> Trigger.Response:
        message = self._clear_estop()
        if isinstance(self.device, WebTeleop):
            self.device.reset_estop()
        response.success, response.message = "not available" not in message, message
        return response

    def _step(self) -> None:
        now = time.monotonic()
        if not self.device.is_connected:
            action = None
        else:
            action = self.device.get_action(now)
            for event in action.events:
                self._on_event(event)
        enabled = action is not None and action.enabled and not self.estopped
        if self.params["mode"] == "base":
            if enabled:
                v = self.base.command(action)
                self.twist_pub.publish(_twist(v.vx, v.vy, v.wz))
            elif self._was_enabled:
                self.twist_pub.publish(Twist())  # stop now; the driver's watchdog is the backup
        else:
            fresh = self.q is not None and now - self.q_stamp <= self.params["state_timeout_s"]
            if enabled and not fresh:
                self.get_logger().warning("no fresh joint states: not commanding the arm",
                                          throttle_duration_sec=2.0)
            if enabled and fresh and action.joint_positions is not None:  # a leader arm: joints 1:1
                self.arm_pub.publish(self._trajectory(action.joint_positions, action.gripper_opening))
                self._was_enabled = enabled
                return
            cmd = self.mapper.command(action, self.q, self.period) if enabled and fresh else None
            if not (enabled and fresh):
                self.mapper.release()
            if cmd is not None:
                self.arm_pub.publish(self._trajectory(cmd.positions, cmd.gripper))
        self._was_enabled = enabled

    def _on_event(self, event: str) -> None:
        if event == "estop":
            self.estopped = True
            self.estop_pub.publish(Bool(data=True))
            if self.params["mode"] == "base":
                self.twist_pub.publish(Twist())
            self.get_logger().warning("E-STOP from the teleop device; call ~/reset to resume")
            return
        client = self.recorder_clients.get(event)
        if client is None:
            return
        task = getattr(self.device, "task", "")
        if task and event in ("start", "next"):  # the console's task text goes to the recorder first
            self.instruction_pub.publish(String(data=task))
        if not client.service_is_ready():
            self.get_logger().warning(f"recorder service {client.srv_name} is not available")
            return
        future = client.call_async(Trigger.Request())
        future.add_done_callback(lambda f: self.get_logger().info(f"recorder {event}: {f.result().message}"))

    def _trajectory(self, q: np.ndarray, gripper: float | None) -> JointTrajectory:
        names = list(self.joint_names)
        positions = [float(x) for x in q]
        if gripper is not None:
            names.append("gripper")
            positions.append(float(gripper))
        msg = JointTrajectory(joint_names=names)
        msg.header.stamp = self.get_clock().now().to_msg()
        msg.points = [JointTrajectoryPoint(positions=positions,
                                           time_from_start=Duration(seconds=self.period).to_msg())]
        return msg

    def close(self) -> None:
        """Called by run_node at shutdown: restore the terminal / release the device."""
        if self.console is not None:
            self.console.stop()
        if self.params["mode"] == "base" and self._was_enabled:
            self.twist_pub.publish(Twist())
        self.device.disconnect()


def _twist(vx: float, vy: float, wz: float) -> Twist:
    msg = Twist()
    msg.linear.x, msg.linear.y, msg.angular.z = vx, vy, wz
    return msg


def main(args: list[str] | None = None) -> int:
    return run_node(TeleopNode, args)


if __name__ == "__main__":
    raise SystemExit(main())
