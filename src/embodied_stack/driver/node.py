"""robot_driver: one ROS 2 node for any robot behind :class:`~embodied_stack.hardware.Robot`.

The thin rclpy adapter of :class:`~embodied_stack.driver.core.DriverCore`, in the
ros2_control style (Jazzy lifecycle semantics):

  configure   build the robot from its description (``config/robots/<robot>.yaml``) and the
              ``backend``, connect, read state; the read/write loop starts and state is published
  activate    commands are accepted
  deactivate  the robot holds; commands are dropped (counted)
  cleanup     the loop stops and the robot disconnects
``autostart`` (default) runs configure + activate at start-up, like a ros2_control hardware
component with ``activate`` set.

Topics (relative names: namespace the node or remap, never edit code):
  out  ``joint_states`` (JointState: arm joints + ``gripper`` opening 0..1), ``odom`` (Odometry),
       ``imu/data`` (Imu), ``scan`` (LaserScan), cameras ``<ns>/color|depth/...``,
       ``/tf`` + ``/tf_static`` (links from the description's kinematic model, odom -> base_link,
       sensor sites and camera extrinsics: a robot_state_publisher built in),
       ``~/estop_state`` (Bool, latched), ``/diagnostics``
  in   ``arm_controller/joint_trajectory`` (JointTrajectory), ``cmd_vel`` (Twist),
       ``/estop`` (Bool, latched: ``true`` engages; ``false`` never clears)
  srv  ``~/estop`` (SetBool: true engages, false = the explicit reset), ``~/clear_errors``
       (Trigger: acknowledge a device fault -- protective stop, latched error -- after inspection),
       and ``~/stand_up``, ``~/stand_down``, ``~/damp``, ``~/recovery_stand``, ``~/balance_stand`` (Trigger)
       for robots that have those postures (the Go2's sport mode)
"""

from __future__ import annotations

import threading
import time

import numpy as np
from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import Twist
from nav_msgs.msg import Odometry
from rclpy.callback_groups import ReentrantCallbackGroup
from rclpy.lifecycle import LifecycleNode, LifecycleState, TransitionCallbackReturn
from sensor_msgs.msg import CameraInfo, Image, Imu, JointState, LaserScan
from std_msgs.msg import Bool
from std_srvs.srv import SetBool, Trigger
from trajectory_msgs.msg import JointTrajectory

from embodied_stack.common.rate_meter import RateMeter
from embodied_stack.config import ConfigError
from embodied_stack.driver.core import DriverConfig, DriverCore, TrajectoryCommand
from embodied_stack.driver.estop import EStopLatch
from embodied_stack.hardware import BaseVelocity, CameraFrame, Robot
from embodied_stack.robots import RobotDescription, load_description, make_robot
from embodied_stack.robots.description import PartSpec, load_parts
from embodied_stack.ros import diagnostics, qos
from embodied_stack.ros.images import numpy_to_image
from embodied_stack.ros.node_main import run_node
from embodied_stack.ros.params import Parameters, ParamSpec
from embodied_stack.ros.time import from_sec, to_sec
from embodied_stack.sim_bridge.pacer import RealTimePacer

_LEVELS = {"OK": diagnostics.OK, "WARN": diagnostics.WARN, "ERROR": diagnostics.ERROR}
#: robot methods served as ``~/<name>`` (std_srvs/Trigger) when the robot has them
SPORT_COMMANDS = ("stand_up", "stand_down", "damp", "recovery_stand", "balance_stand")

DRIVER_SPECS = [
    ParamSpec("robot", "so101", "robot description: a name under config/robots/ or a YAML path",
              read_only=True),
    ParamSpec("backend", "feetech", "implementation that talks to the robot (see config/robots/<robot>.yaml "
              "'backends')", read_only=True),
    ParamSpec("port", "", "override the backend's device (serial port, host); '' = the description's",
              read_only=True),
    ParamSpec("rate_hz", 100.0, "read/write loop rate, Hz", min=1.0, max=1000.0, read_only=True),
    # the three timings below are applied when the node configures (the driver core holds them)
    ParamSpec("command_timeout_s", 0.1, "cmd_vel older than this stops the base, s", min=0.01, max=10.0,
              read_only=True),
    ParamSpec("trajectory_stale_s", 0.1, "reject trajectories that ended longer ago than this, s",
              min=0.0, max=10.0, read_only=True),
    ParamSpec("reconnect_period_s", 1.0, "time between reconnection attempts of a lost device, s",
              min=0.05, max=60.0, read_only=True),
    ParamSpec("autostart", True, "configure and activate at start-up", read_only=True),
    ParamSpec("camera_rate_hz", 15.0, "camera publish rate of robots with cameras, Hz", min=0.1, max=60.0),
    ParamSpec("frame_prefix", "", "prefix for frame ids (multi-robot setups)", read_only=True),
    ParamSpec("diagnostics_period_s", 1.0, "period of /diagnostics, s", min=0.05, max=60.0, read_only=True),
]


class RobotDriverNode(LifecycleNode):
    """Publishes a robot's state and follows commands through :class:`DriverCore`.

    Subclasses (the sim bridge) override :meth:`build_robots`, :meth:`stack_time` and
    :meth:`_run_loop` to put a simulated world around the same core.
    """

    def __init__(self, node_name: str = "robot_driver", extra_specs: list[ParamSpec] | None = None,
                 drop_specs: tuple[str, ...] = ()) -> None:
        super().__init__(node_name)
        names = {s.name for s in extra_specs or []} | set(drop_specs)
        specs = [s for s in DRIVER_SPECS if s.name not in names] + list(extra_specs or [])
        self.params = Parameters(self, specs)
        self.estop = EStopLatch()
        self.core: DriverCore | None = None
        self.parts: list[tuple[PartSpec, RobotDescription]] = []  # (role and mount, description)
        self.loop_meter = RateMeter(200)
        self.camera_meter = RateMeter(30)
        self._loop_thread: threading.Thread | None = None
        self._running = False
        self._pubs_made = False
        self._group = ReentrantCallbackGroup()
        self.pub_diag = self.create_publisher(DiagnosticArray, "/diagnostics", qos.EVENTS)
        self.pub_estop_state = self.create_publisher(Bool, "~/estop_state", qos.LATCHED)
        self.pub_estop_state.publish(Bool(data=False))
        self.create_subscription(Bool, "/estop", self._on_estop_topic, qos.LATCHED,
                                 callback_group=self._group)
        self.create_service(SetBool, "~/estop", self._on_estop_service, callback_group=self._group)
        self.create_service(Trigger, "~/clear_errors", self._on_clear_errors, callback_group=self._group)
        self.create_timer(self.params["diagnostics_period_s"], self._publish_diagnostics,
                          callback_group=self._group)
        if self.params["autostart"]:
            self.trigger_configure()
            if self.core is not None:
                self.trigger_activate()

    # --- hooks for subclasses ----------------------------------------------------------------------
    def build_robots(self) -> tuple[Robot | None, Robot | None]:
        """(arm, base) of this driver; the same robot may be both. A composite description (a
        mobile manipulator) builds each part with the backend its ``backends.<backend>`` names."""
        desc = load_description(self.params["robot"])
        self.parts = load_parts(desc)
        if not desc.parts:
            robot = self._make_part_robot(desc, self.params["backend"], self.params["port"])
            arm = robot if "arm" in robot.capabilities else None
            base = robot if "base" in robot.capabilities else None
            return arm, base
        if self.params["port"]:
            raise ConfigError(f"robot '{desc.name}' is a composite: set each part's device in its own "
                              "description (backends.<backend>.port), not the port parameter")
        chosen = desc.part_backends(self.params["backend"])
        built = {part.role: self._make_part_robot(part_desc, chosen[part.role], "")
                 for part, part_desc in self.parts}
        return built.get("arm"), built.get("base")

    def _make_part_robot(self, desc: RobotDescription, backend: str, port: str) -> Robot:
        extra = {}
        if backend == "twist":  # a base behind its own ROS 2 driver, reached over topics
            from embodied_stack.ros.twist_link import RosTwistLink

            extra["link"] = RosTwistLink.of(self)
        return make_robot(desc, backend, port=port, **extra)

    @property
    def descriptions(self) -> list[RobotDescription]:
        """The described robots this node drives (a composite's parts, base first)."""
        return [d for _, d in self.parts]

    def stack_time(self) -> float:
        """The clock of every stamp and trajectory time (wall time; sim time in the sim bridge)."""
        return time.time()

    def loop_period(self) -> float:
        return 1.0 / self.params["rate_hz"]

    def _run_loop(self) -> None:
        pacer = RealTimePacer(self.loop_period(), 1.0)
        while self._running and self.context.ok():
            try:
                self.loop_step()
            except Exception as e:  # noqa: BLE001 - the loop must outlive any one bad cycle
                if not self.context.ok() or not self._running:
                    break  # shutting down: the publishers are gone (SIGINT raced this cycle)
                self.get_logger().error(f"driver cycle failed: {e!r}", throttle_duration_sec=1.0)
            pacer.wait()

    # --- lifecycle ---------------------------------------------------------------------------------
    def on_configure(self, state: LifecycleState) -> TransitionCallbackReturn:
        p = self.params
        try:
            arm, base = self.build_robots()
        except Exception as e:  # noqa: BLE001 - a wrong description/back-end is reported, not a crash
            self.get_logger().error(f"cannot build the robot: {e}")
            return TransitionCallbackReturn.FAILURE
        config = DriverConfig(command_timeout_s=p["command_timeout_s"],
                              trajectory_stale_s=p["trajectory_stale_s"],
                              reconnect_period_s=p["reconnect_period_s"])
        self.core = DriverCore(arm, base, config, clock=self.stack_time, estop=self.estop,
                               log=lambda m: self.get_logger().warning(m, throttle_duration_sec=1.0))
        try:
            self.core.connect()
        except Exception as e:  # noqa: BLE001 - start anyway: the loop keeps reconnecting
            self.core.device_ok = False
            self.core.counters.last_fault = f"{type(e).__name__}: {e}"
            self.get_logger().error(f"device not reachable at start-up ({e}); retrying every "
                                    f"{p['reconnect_period_s']} s")
        self._make_publishers()
        self._running = True
        self._loop_thread = threading.Thread(target=self._run_loop, name="driver_loop", daemon=True)
        self._loop_thread.start()
        names = [r.name for r in self.core.robots]
        self.get_logger().info(f"configured {names}: arm={arm is not None}, base={base is not None}, "
                               f"loop {1 / self.loop_period():.0f} Hz")
        return TransitionCallbackReturn.SUCCESS

    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        if self.core is not None:
            self.core.activate()
            self.get_logger().info("active: accepting commands")
        return super().on_activate(state)

    def on_deactivate(self, state: LifecycleState) -> TransitionCallbackReturn:
        if self.core is not None:
            self.core.deactivate()
            self.get_logger().info("inactive: holding, commands ignored")
        return super().on_deactivate(state)

    def on_cleanup(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._stop_loop()
        return TransitionCallbackReturn.SUCCESS

    def on_shutdown(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._stop_loop()
        return TransitionCallbackReturn.SUCCESS

    def _stop_loop(self) -> None:
        self._running = False
        if self._loop_thread is not None and self._loop_thread is not threading.current_thread():
            self._loop_thread.join(timeout=5.0)
        self._loop_thread = None
        if self.core is not None:
            self.core.deactivate()
            for r in self.core.robots:
                try:
                    r.stop()
                except Exception as e:  # noqa: BLE001
                    self.get_logger().warning(f"stop of '{r.name}' failed: {e!r}")
            self.core.disconnect()

    def close(self) -> None:
        """Called by run_node at exit: hold and disconnect."""
        self._stop_loop()

    # --- publishers / subscriptions made once the robot is known -----------------------------------
    def _make_publishers(self) -> None:
        if self._pubs_made or self.core is None:
            return
        self._pubs_made = True
        core = self.core
        self.pub_joints = self.pub_odom = self.pub_imu = self.pub_scan = None
        legs = core.arm is None and core.base_state is not None and bool(core.base_state.joint_names)
        if core.arm is not None or legs:  # a legged base reports its leg joints too
            self.pub_joints = self.create_publisher(JointState, "joint_states", qos.SENSOR)
        if core.arm is not None:
            self.create_subscription(JointTrajectory, "arm_controller/joint_trajectory", self._on_trajectory,
                                     qos.COMMAND, callback_group=self._group)
        for command in SPORT_COMMANDS:  # robot-specific posture commands (the Go2's sport mode)
            robot = next((r for r in core.robots if callable(getattr(r, command, None))), None)
            if robot is not None:
                self.create_service(Trigger, f"~/{command}", self._robot_command(robot, command),
                                    callback_group=self._group)
        if core.base is not None:
            self.pub_odom = self.create_publisher(Odometry, "odom", qos.SENSOR)
            self.pub_imu = self.create_publisher(Imu, "imu/data", qos.SENSOR)
            if core.base.has_lidar:
                self.pub_scan = self.create_publisher(LaserScan, "scan", qos.SENSOR)
            self.create_subscription(Twist, "cmd_vel", self._on_twist, qos.COMMAND,
                                     callback_group=self._group)
        namespaces = {c.name: c.topic_namespace for d in self.descriptions for c in d.cameras}
        self.camera_pubs: dict[str, tuple] = {}
        for robot in core.robots:
            for cam in robot.camera_names:
                ns = (namespaces.get(cam) or f"/{cam}").rstrip("/")
                self.camera_pubs[cam] = tuple(self.create_publisher(t, f"{ns}/{s}", qos.SENSOR) for t, s in (
                    (Image, "color/image_raw"), (CameraInfo, "color/camera_info"),
                    (Image, "depth/image_rect_raw"), (CameraInfo, "depth/camera_info")))
        self._next_camera = 0.0
        self._make_tf()

    def _make_tf(self) -> None:
        """/tf_static (fixed links, sensor sites, camera extrinsics, a part's mount) once and /tf
        (moving links, odom -> base_link) with every state: the robot_state_publisher of each
        part's kinematic model. A composite's arm tree hangs from its mount frame."""
        from embodied_stack.ros.tf import StaticTransformBroadcaster, TransformBroadcaster
        from embodied_stack.tf import KinematicTree, Transform

        self._trees: list[tuple[KinematicTree, str, object]] = []  # (tree, role, gripper)
        self._tf = TransformBroadcaster(self)
        self._static_tf = StaticTransformBroadcaster(self)
        statics: list[Transform] = []
        composite = len(self.parts) > 1
        for part, desc in self.parts:
            root = part.frame or desc.base_frame
            if composite and part.role == "arm":
                statics.append(Transform(part.parent, root, part.xyz, part.quat_xyzw))
            if desc.kinematics:
                try:
                    tree = KinematicTree.from_mjcf(desc.kinematics_path(), base_frame=root,
                                                   site_frames=desc.site_frames)
                    statics += tree.static_transforms()
                    self._trees.append((tree, part.role, desc.gripper))
                except (OSError, ValueError) as e:
                    self.get_logger().error(f"no /tf for the links of '{desc.name}': {e}")
            for cam in desc.cameras:
                if not cam.mjcf_camera:
                    parent = root if cam.parent == desc.base_frame else cam.parent
                    statics.append(Transform(parent, cam.frame_id, cam.xyz, cam.quat_xyzw))
        prefix = self.params["frame_prefix"]
        if prefix:
            statics = [Transform(prefix + t.parent, prefix + t.child, t.xyz, t.quat_xyzw) for t in statics]
        if statics:
            self._static_tf.send(statics)

    # --- command callbacks (executor threads) ------------------------------------------------------
    def _on_trajectory(self, msg: JointTrajectory) -> None:
        start = to_sec(msg.header.stamp)
        cmd = TrajectoryCommand(list(msg.joint_names),
                                [(to_sec(p.time_from_start), list(p.positions)) for p in msg.points],
                                start if start > 0.0 else None)
        if self.core is not None:
            self.core.submit_trajectory(cmd)

    def _on_twist(self, msg: Twist) -> None:
        if self.core is not None:
            self.core.submit_twist(BaseVelocity(msg.linear.x, msg.linear.y, msg.angular.z))

    def _on_estop_topic(self, msg: Bool) -> None:
        if msg.data:
            self._engage("/estop topic")

    def _on_estop_service(self, req: SetBool.Request, res: SetBool.Response) -> SetBool.Response:
        if req.data:
            self._engage("~/estop service")
            res.message = "e-stop engaged: the robot holds and all commands are ignored until reset"
        else:
            was = self.estop.reset("~/estop service")
            self.pub_estop_state.publish(Bool(data=False))
            self.get_logger().warning("e-stop RESET: commands accepted again" if was
                                      else "e-stop was not engaged")
            res.message = "e-stop reset" if was else "e-stop was not engaged"
        res.success = True
        return res

    def _on_clear_errors(self, req: Trigger.Request, res: Trigger.Response) -> Trigger.Response:
        if self.core is None:
            res.success, res.message = False, "not configured"
            return res
        try:
            res.message = self.core.clear_errors()
            res.success = True
        except Exception as e:  # noqa: BLE001 - the device's refusal goes back to the caller
            res.success, res.message = False, f"{type(e).__name__}: {e}"
            self.get_logger().error(f"clear_errors refused: {e}")
        return res

    def _robot_command(self, robot: Robot, command: str):
        def handler(req: Trigger.Request, res: Trigger.Response) -> Trigger.Response:
            if self.estop.engaged and command not in ("damp", "stand_down"):
                res.success, res.message = False, f"e-stop engaged: '{command}' refused until reset"
                return res
            try:
                result = getattr(robot, command)()
                res.success, res.message = True, str(result) if result is not None else f"{command} done"
            except Exception as e:  # noqa: BLE001 - the device's refusal goes back to the caller
                res.success, res.message = False, f"{type(e).__name__}: {e}"
            self.get_logger().info(f"{command}: {res.message}")
            return res

        return handler

    def _engage(self, source: str) -> None:
        if self.estop.engage(source):
            self.pub_estop_state.publish(Bool(data=True))
            self.get_logger().error(f"E-STOP engaged by {source}: holding; reset with the ~/estop service "
                                    "(false)")

    # --- loop (driver thread) ----------------------------------------------------------------------
    def loop_step(self) -> None:
        """One cycle: read, apply commands, publish state."""
        if self.core is None:
            return
        self.loop_meter.record(time.monotonic())
        self.core.cycle()
        if self.core.device_ok:
            self.publish_state(self.stack_time())

    def publish_state(self, now: float) -> None:
        core = self.core
        if core is None:
            return
        joint_state = core.arm_state if core.arm is not None else core.base_state
        if joint_state is not None and joint_state.joint_names and self.pub_joints is not None:
            s = joint_state
            js = self._header(JointState(), now, "")
            grip = s.gripper is not None
            js.name = list(s.joint_names) + (["gripper"] if grip else [])
            js.position = [float(v) for v in s.joint_positions] + ([float(s.gripper)] if grip else [])
            js.velocity = [float(v) for v in s.joint_velocities] + ([0.0] if grip else [])
            js.effort = [float(v) for v in s.joint_efforts] + ([0.0] if grip else [])
            if len(js.velocity) != len(js.name):
                js.velocity = []
            if len(js.effort) != len(js.name):
                js.effort = []
            self.pub_joints.publish(js)
        self._publish_tf(now)
        if core.base is not None and core.base_state is not None:
            self._publish_base(core.base_state, now)
            if self.pub_scan is not None:
                scan = core.base.read_scan()
                if scan is not None:
                    self._publish_scan(scan, now)

    def _publish_tf(self, now: float) -> None:
        from embodied_stack.tf import Transform

        core = self.core
        out: list[Transform] = []
        for tree, role, gripper in self._trees:
            s = core.arm_state if role == "arm" else core.base_state
            if s is None or not s.joint_names:
                continue
            q = {n: float(v) for n, v in zip(s.joint_names, s.joint_positions, strict=True)}
            if gripper is not None and s.gripper is not None:
                q.update(dict.fromkeys(gripper.mjcf_joints, float(s.gripper) * gripper.travel))
            out += tree.transforms(q, stamp=now)
        if core.base_state is not None and core.base_state.base_pose is not None:
            p = core.base_state.base_pose
            out.append(Transform("odom", "base_link", p[:3], p[3:], stamp=now))
        prefix = self.params["frame_prefix"]
        if prefix:
            out = [Transform(prefix + t.parent, prefix + t.child, t.xyz, t.quat_xyzw, stamp=now) for t in out]
        if out:
            self._tf.send(out, stamp=now)

    def publish_cameras(self, now: float) -> None:
        """Publish every camera of the driven robots (called at ``camera_rate_hz``)."""
        if self.core is None:
            return
        for robot in self.core.robots:
            if not robot.camera_names:
                continue
            for name, frame in robot.read_cameras().items():
                if name in self.camera_pubs:
                    self._publish_camera(self.camera_pubs[name], frame, now)
        self.camera_meter.record(time.monotonic())

    # --- message building --------------------------------------------------------------------------
    def frame(self, name: str) -> str:
        return f"{self.params['frame_prefix']}{name}"

    def _header(self, msg, now: float, frame: str):
        msg.header.stamp = from_sec(now)
        msg.header.frame_id = self.frame(frame) if frame else ""
        return msg

    def _publish_base(self, s, now: float) -> None:
        if s.base_pose is not None and self.pub_odom is not None:
            odom = self._header(Odometry(), now, "odom")
            odom.child_frame_id = self.frame("base_link")
            pos, o = odom.pose.pose.position, odom.pose.pose.orientation
            pos.x, pos.y, pos.z = map(float, s.base_pose[:3])
            o.x, o.y, o.z, o.w = map(float, s.base_pose[3:])
            if s.base_twist is not None:
                t = odom.twist.twist
                (t.linear.x, t.linear.y, t.linear.z,
                 t.angular.x, t.angular.y, t.angular.z) = map(float, s.base_twist)
            self.pub_odom.publish(odom)
        if s.imu is not None and self.pub_imu is not None:
            imu = self._header(Imu(), now, "imu_link")
            o = imu.orientation
            o.x, o.y, o.z, o.w = map(float, s.imu.orientation_xyzw)
            g, a = imu.angular_velocity, imu.linear_acceleration
            g.x, g.y, g.z = map(float, s.imu.angular_velocity)
            a.x, a.y, a.z = map(float, s.imu.linear_acceleration)
            self.pub_imu.publish(imu)

    def _publish_scan(self, scan, now: float) -> None:
        msg = self._header(LaserScan(), now, "laser")
        msg.angle_min = float(scan.angle_min)
        msg.angle_increment = float(scan.angle_increment)
        msg.angle_max = float(scan.angle_min + scan.angle_increment * (len(scan.ranges) - 1))
        msg.range_min, msg.range_max = float(scan.range_min), float(scan.range_max)
        msg.ranges = np.asarray(scan.ranges, dtype=np.float32).tolist()
        self.pub_scan.publish(msg)

    def _publish_camera(self, pubs, frame: CameraFrame, now: float) -> None:
        color_pub, color_info_pub, depth_pub, depth_info_pub = pubs
        info = self._camera_info(frame, now)
        if frame.rgb is not None:
            img = numpy_to_image(frame.rgb, "rgb8")
            img.header = info.header
            color_pub.publish(img)
            color_info_pub.publish(info)
        if frame.depth is not None:
            mm = np.clip(np.nan_to_num(frame.depth, nan=0.0, posinf=0.0) * 1000.0, 0, 65535).astype(np.uint16)
            img = numpy_to_image(mm, "16UC1")
            img.header = info.header
            depth_pub.publish(img)
            depth_info_pub.publish(info)

    def _camera_info(self, frame: CameraFrame, now: float) -> CameraInfo:
        h, w = (frame.rgb if frame.rgb is not None else frame.depth).shape[:2]
        info = self._header(CameraInfo(), now, frame.frame_id)
        info.height, info.width = int(h), int(w)
        info.distortion_model = "plumb_bob"
        info.d = [0.0] * 5
        k = np.asarray(frame.intrinsics)
        info.k = [float(v) for v in k.reshape(-1)]
        info.r = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]
        info.p = [float(k[0, 0]), 0.0, float(k[0, 2]), 0.0, 0.0, float(k[1, 1]), float(k[1, 2]), 0.0,
                  0.0, 0.0, 1.0, 0.0]
        return info

    # --- diagnostics -------------------------------------------------------------------------------
    def extra_statuses(self, hw: str, mono: float) -> list:
        """More DiagnosticStatus entries from subclasses (the sim bridge's simulation status)."""
        return []

    def device_status(self) -> dict[str, str]:
        """Device-specific state in words (bus counters, safety modes) from robots that report it."""
        out: dict[str, str] = {}
        if self.core is None:
            return out
        for r in self.core.robots:
            status = getattr(r, "status", None)
            if callable(status):
                try:
                    out.update({f"{r.name}.{k}": str(v) for k, v in status().items()})
                except Exception as e:  # noqa: BLE001 - a status read must never take the node down
                    out[f"{r.name}.status_error"] = repr(e)
        return out

    def _publish_diagnostics(self) -> None:
        hw = self.get_fully_qualified_name()
        mono = time.monotonic()
        statuses = []
        if self.core is None:
            statuses.append(diagnostics.status(f"{self.get_name()}: driver", hw, diagnostics.ERROR,
                                               "not configured (see the log for why)", {}))
        else:
            level, message, values = self.core.status()
            device = self.device_status()
            values.update(device)
            for key, value in device.items():  # a device's own level (UR safety mode, xArm error codes)
                if key.endswith(".level") and value in _LEVELS and _LEVELS[value] > _LEVELS[level]:
                    level = value
                    message += f"; {device.get(key[:-len('level')] + 'message', value)}"
            statuses.append(diagnostics.status(f"{self.get_name()}: driver", hw, _LEVELS[level], message,
                                               values))
            statuses.append(diagnostics.stream_status(
                f"{self.get_name()}: control loop", hw, self.loop_meter, mono,
                diagnostics.StreamExpectation(0.8 / self.loop_period(), 1.0)))
            if getattr(self, "camera_pubs", None):
                statuses.append(diagnostics.stream_status(
                    f"{self.get_name()}: cameras", hw, self.camera_meter, mono,
                    diagnostics.StreamExpectation(0.5 * self.params["camera_rate_hz"], 2.0)))
        statuses += self.extra_statuses(hw, mono)
        self.pub_diag.publish(diagnostics.array(self.get_clock(), statuses))


def main(args: list[str] | None = None) -> int:
    return run_node(RobotDriverNode, args, multithreaded=True)


if __name__ == "__main__":
    raise SystemExit(main())
