"""Sim bridge node: a MuJoCo world that looks like hardware on ROS 2.

Publishes what real drivers publish (names from ``config/nodes/sim_bridge.yaml``):
  arms   ``/joint_states`` (JointState; arm joints + ``gripper`` opening 0..1)
  bases  ``/odom`` (Odometry, odom -> base_link), ``/imu/data`` (Imu), ``/scan`` (LaserScan)
  every camera <ns>: ``<ns>/color/image_raw`` (rgb8), ``<ns>/color/camera_info``,
         ``<ns>/depth/image_rect_raw`` (16UC1, mm, aligned to colour), ``<ns>/depth/camera_info``
  ``/diagnostics``; ``/clock`` when ``publish_clock`` (then run consumers with use_sim_time)
  evaluation only: ``/sim/ground_truth/objects`` (DetectedObjectArray), ``/sim/ground_truth/people``
Accepts what real drivers accept:
  ``/arm_controller/joint_trajectory`` (JointTrajectory; arm joints + optional ``gripper``),
  ``/cmd_vel`` (Twist; watchdog: stale -> stop), services ``~/estop`` (SetBool) and ``~/reset`` (Trigger).

Physics, rendering and command application all run in one loop thread that owns
MuJoCo's data; ROS callbacks only hand commands over through a lock.
"""

from __future__ import annotations

import threading
import time

import numpy as np
from diagnostic_msgs.msg import DiagnosticArray, KeyValue
from embodied_stack_interfaces.msg import (
    DetectedObject,
    DetectedObjectArray,
    TrackedPerson,
    TrackedPersonArray,
)
from geometry_msgs.msg import Twist
from nav_msgs.msg import Odometry
from rclpy.callback_groups import ReentrantCallbackGroup
from rclpy.node import Node
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import CameraInfo, Image, Imu, JointState, LaserScan
from std_srvs.srv import SetBool, Trigger
from trajectory_msgs.msg import JointTrajectory

from embodied_stack.common.rate_meter import RateMeter
from embodied_stack.hardware import BaseVelocity, CameraFrame, CommandRejected, Robot
from embodied_stack.hardware.trajectory import GRIPPER_JOINT, TrajectoryFollower, TrajectoryPoint
from embodied_stack.ros import diagnostics, qos
from embodied_stack.ros.images import numpy_to_image
from embodied_stack.ros.node_main import run_node
from embodied_stack.ros.params import Parameters, ParamSpec
from embodied_stack.ros.time import from_sec, to_sec
from embodied_stack.sim_bridge.pacer import RealTimePacer
from embodied_stack.sim_bridge.worlds import WORLDS, make_world


def _camera_topics(value: list[str]) -> str | None:
    for item in value:
        if item and (":" not in item or not item.split(":", 1)[1].startswith("/")):
            return f"entry '{item}' must look like 'camera_name:/topic/namespace'"
    return None


SPECS = [
    ParamSpec("world", "tabletop", "world to simulate", choices=sorted(WORLDS), read_only=True),
    ParamSpec("world_config", "", "world YAML (''= the world's default under config/sim/)", read_only=True),
    ParamSpec("seed", 0, "world reset seed", min=0, max=2**31 - 1),
    ParamSpec("real_time_factor", 1.0, "sim seconds per wall second (0 = as fast as possible)",
              min=0.0, max=100.0),
    ParamSpec("publish_clock", False, "publish /clock and stamp with sim time (consumers: use_sim_time)"),
    ParamSpec("state_rate_hz", 50.0, "joint_states / odom / imu rate (capped by the control rate), Hz",
              min=1.0, max=1000.0),
    ParamSpec("camera_rate_hz", 15.0, "camera publish rate, Hz", min=0.1, max=60.0),
    ParamSpec("ground_truth_rate_hz", 5.0, "ground-truth publish rate, Hz (0 = off)", min=0.0, max=100.0),
    ParamSpec("cmd_vel_timeout_s", 0.5, "cmd_vel older than this stops the base, s", min=0.05, max=10.0),
    ParamSpec("trajectory_stale_s", 0.5, "reject trajectories that ended longer ago than this, s",
              min=0.01, max=10.0),
    ParamSpec("camera_topics", ["scene:/camera", "wrist:/wrist_camera", "front_camera:/camera"],
              "camera name -> topic namespace, 'name:/ns'", check=_camera_topics),
    ParamSpec("frame_prefix", "", "prefix for frame ids (multi-robot setups)"),
    ParamSpec("calibrated_cameras", True,
              "keep cameras at their nominal pose (the extrinsics consumers read from config, as on a "
              "calibrated robot); false keeps the world's camera-pose randomisation", read_only=True),
]


class SimBridgeNode(Node):
    def __init__(self) -> None:
        super().__init__("sim_bridge")
        self.params = Parameters(self, SPECS)
        p = self.params
        self.world = make_world(p["world"], p["world_config"])
        randomization = getattr(getattr(self.world, "config", None), "randomization", None)
        if p["calibrated_cameras"] and randomization is not None and hasattr(randomization, "camera_pose"):
            # no /tf on a pip install: perception's camera extrinsics come from config, so a jittered
            # camera would put every grounded object 1-2 cm off (measured in the demo)
            randomization.camera_pose = False
        self.world.reset(p["seed"])
        self.robots: dict[str, Robot] = self.world.robots
        self.arm = next((r for r in self.robots.values() if "arm" in r.capabilities), None)
        self.base = next((r for r in self.robots.values() if "base" in r.capabilities), None)
        self._lock = threading.Lock()
        self._estop = False
        self._reset_requested = False
        self._pending_trajectory: JointTrajectory | None = None
        self._twist: tuple[float, BaseVelocity] | None = None  # (receive time, command)
        self.rejected = 0
        self.follower = (TrajectoryFollower(self.arm.joint_names, p["trajectory_stale_s"])
                         if self.arm else None)
        self.loop_meter = RateMeter(100)
        self.camera_meter = RateMeter(30)
        self.pacer = RealTimePacer(self.world.control_dt, p["real_time_factor"])

        group = ReentrantCallbackGroup()
        self.pub_diag = self.create_publisher(DiagnosticArray, "/diagnostics", qos.EVENTS)
        self.pub_clock = self.create_publisher(Clock, "/clock", 10) if p["publish_clock"] else None
        self.pub_joints = self.create_publisher(JointState, "/joint_states", qos.SENSOR) if self.arm else None
        if self.arm:
            self.create_subscription(JointTrajectory, "/arm_controller/joint_trajectory", self._on_trajectory,
                                     qos.COMMAND, callback_group=group)
        if self.base:
            self.pub_odom = self.create_publisher(Odometry, "/odom", qos.SENSOR)
            self.pub_imu = self.create_publisher(Imu, "/imu/data", qos.SENSOR)
            self.pub_scan = (self.create_publisher(LaserScan, "/scan", qos.SENSOR)
                             if self.base.has_lidar else None)
            self.create_subscription(Twist, "/cmd_vel", self._on_twist, qos.COMMAND, callback_group=group)
        namespaces = dict(item.split(":", 1) for item in p["camera_topics"] if item)
        self.camera_pubs = {}
        for robot in self.robots.values():
            for cam in robot.camera_names:
                ns = namespaces.get(cam, f"/{cam}")
                self.camera_pubs[cam] = tuple(self.create_publisher(t, f"{ns}/{s}", qos.SENSOR) for t, s in (
                    (Image, "color/image_raw"), (CameraInfo, "color/camera_info"),
                    (Image, "depth/image_rect_raw"), (CameraInfo, "depth/camera_info")))
        self.pub_gt_objects = self.create_publisher(DetectedObjectArray, "/sim/ground_truth/objects",
                                                    qos.EVENTS)
        self.pub_gt_people = self.create_publisher(TrackedPersonArray, "/sim/ground_truth/people", qos.EVENTS)
        self.create_service(SetBool, "~/estop", self._on_estop, callback_group=group)
        self.create_service(Trigger, "~/reset", self._on_reset, callback_group=group)
        self.create_timer(1.0, self._publish_diagnostics, callback_group=group)
        self._running = True
        self._thread = threading.Thread(target=self._loop, name="sim_loop", daemon=True)
        self._thread.start()
        self.get_logger().info(
            f"world '{p['world']}' at {1 / self.world.control_dt:.0f} Hz control, "
            f"robots {list(self.robots)}, "
            f"cameras {list(self.camera_pubs)}, real_time_factor {p['real_time_factor']}")

    # --- time ---------------------------------------------------------------------------------
    def stack_time(self) -> float:
        """The clock every stamp and trajectory time uses: sim time with /clock, else wall time."""
        return self.world.time if self.pub_clock is not None else time.time()

    def _frame(self, name: str) -> str:
        return f"{self.params['frame_prefix']}{name}"

    # --- command callbacks (executor threads) ---------------------------------------------------
    def _on_trajectory(self, msg: JointTrajectory) -> None:
        with self._lock:
            self._pending_trajectory = msg

    def _on_twist(self, msg: Twist) -> None:
        cmd = BaseVelocity(msg.linear.x, msg.linear.y, msg.angular.z)
        with self._lock:
            self._twist = (time.monotonic(), cmd)

    def _on_estop(self, req: SetBool.Request, res: SetBool.Response) -> SetBool.Response:
        with self._lock:
            self._estop = bool(req.data)
            self._pending_trajectory, self._twist = None, None
        self.get_logger().warning(f"e-stop {'ENGAGED' if req.data else 'released'}")
        res.success = True
        res.message = "e-stop engaged: all commands ignored" if req.data else "e-stop released"
        return res

    def _on_reset(self, req: Trigger.Request, res: Trigger.Response) -> Trigger.Response:
        with self._lock:
            self._reset_requested = True
        res.success, res.message = True, "world reset requested"
        return res

    # --- loop (sim thread) ------------------------------------------------------------------------
    def _loop(self) -> None:
        state_every = max(1, round(1.0 / (self.params["state_rate_hz"] * self.world.control_dt)))
        self._next_camera = self._next_gt = 0.0
        step = 0
        while self._running and self.context.ok():
            try:
                self._apply_commands()
                self.world.step()
                step += 1
                self._publish_step(step, state_every)
            except Exception as e:  # noqa: BLE001 - keep the simulated robot alive, report why
                if not self.context.ok() or not self._running:
                    break  # shutting down: publishers are gone
                self.get_logger().error(f"sim step failed: {e!r}", throttle_duration_sec=1.0)
                time.sleep(0.1)
            self.pacer.real_time_factor = self.params["real_time_factor"]
            self.pacer.wait()

    def _publish_step(self, step: int, state_every: int) -> None:
        self.loop_meter.record(time.monotonic())
        now = self.stack_time()
        if self.pub_clock is not None:
            self.pub_clock.publish(Clock(clock=from_sec(now)))
        if step % state_every == 0:
            self._publish_state(now)
        sim_t = self.world.time
        if sim_t >= self._next_camera:
            self._next_camera = sim_t + 1.0 / self.params["camera_rate_hz"]
            self._publish_cameras(now)
        gt_rate = self.params["ground_truth_rate_hz"]
        if gt_rate > 0 and sim_t >= self._next_gt:
            self._next_gt = sim_t + 1.0 / gt_rate
            self._publish_ground_truth(now)

    def _apply_commands(self) -> None:
        with self._lock:
            traj, self._pending_trajectory = self._pending_trajectory, None
            twist, estop = self._twist, self._estop
            if self._reset_requested:
                self._reset_requested = False
                self.world.reset(self.params["seed"])
                if self.follower:
                    self.follower.clear()
        now = self.stack_time()
        if self.arm is not None:
            if estop:
                self.follower.clear()
                self.arm.stop()
            elif traj is not None:
                self._accept_trajectory(traj, now)
            cmd = self.follower.sample(now) if not estop else None
            if cmd is not None:
                try:
                    self.arm.send_joint_command(cmd)
                except CommandRejected as e:
                    self._reject(f"joint command: {e}")
                    self.follower.clear()
                    self.arm.stop()
        if self.base is not None:
            fresh = twist is not None and time.monotonic() - twist[0] <= self.params["cmd_vel_timeout_s"]
            if estop or not fresh:
                self.base.stop()
            else:
                try:
                    self.base.send_base_velocity(twist[1])
                except CommandRejected as e:
                    self._reject(f"cmd_vel: {e}")
                    with self._lock:
                        self._twist = None
                    self.base.stop()

    def _accept_trajectory(self, msg: JointTrajectory, now: float) -> None:
        try:
            if not msg.points:
                raise CommandRejected("trajectory has no points")
            start = to_sec(msg.header.stamp)
            if start == 0.0:
                start = now
            points = []
            for pt in msg.points:
                positions, gripper = self.follower.order(msg.joint_names, list(pt.positions))
                points.append(TrajectoryPoint(start + to_sec(pt.time_from_start), positions, gripper))
            state = self.arm.read_state()
            self.follower.set(points, now, state.joint_positions, state.gripper)
        except CommandRejected as e:
            self._reject(f"trajectory: {e}")

    def _reject(self, reason: str) -> None:
        self.rejected += 1
        self.get_logger().warning(f"rejected {reason}", throttle_duration_sec=1.0)

    # --- publishing -------------------------------------------------------------------------------
    def _header(self, msg, now: float, frame: str):
        msg.header.stamp = from_sec(now)
        msg.header.frame_id = self._frame(frame)
        return msg

    def _publish_state(self, now: float) -> None:
        if self.arm is not None:
            s = self.arm.read_state()
            js = self._header(JointState(), now, "")
            js.name = list(s.joint_names) + ([GRIPPER_JOINT] if s.gripper is not None else [])
            js.position = ([float(v) for v in s.joint_positions]
                           + ([float(s.gripper)] if s.gripper is not None else []))
            js.velocity = [float(v) for v in s.joint_velocities] + ([0.0] if s.gripper is not None else [])
            js.effort = [float(v) for v in s.joint_efforts] + ([0.0] if s.gripper is not None else [])
            self.pub_joints.publish(js)
        if self.base is not None:
            s = self.base.read_state()
            if s.base_pose is not None:
                odom = self._header(Odometry(), now, "odom")
                odom.child_frame_id = self._frame("base_link")
                p, q = s.base_pose[:3], s.base_pose[3:]
                pos = odom.pose.pose.position
                pos.x, pos.y, pos.z = map(float, p)
                o = odom.pose.pose.orientation
                o.x, o.y, o.z, o.w = map(float, q)
                if s.base_twist is not None:
                    t = odom.twist.twist
                    (t.linear.x, t.linear.y, t.linear.z,
                     t.angular.x, t.angular.y, t.angular.z) = map(float, s.base_twist)
                self.pub_odom.publish(odom)
            if s.imu is not None:
                imu = self._header(Imu(), now, "imu_link")
                o = imu.orientation
                o.x, o.y, o.z, o.w = map(float, s.imu.orientation_xyzw)
                g, a = imu.angular_velocity, imu.linear_acceleration
                g.x, g.y, g.z = map(float, s.imu.angular_velocity)
                a.x, a.y, a.z = map(float, s.imu.linear_acceleration)
                self.pub_imu.publish(imu)
            if self.pub_scan is not None:
                scan = self.base.read_scan()
                if scan is not None:
                    self._publish_scan(scan, now)

    def _publish_scan(self, scan, now: float) -> None:
        msg = self._header(LaserScan(), now, "laser")
        msg.angle_min = float(scan.angle_min)
        msg.angle_increment = float(scan.angle_increment)
        msg.angle_max = float(scan.angle_min + scan.angle_increment * (len(scan.ranges) - 1))
        msg.range_min, msg.range_max = float(scan.range_min), float(scan.range_max)
        msg.ranges = np.asarray(scan.ranges, dtype=np.float32).tolist()
        self.pub_scan.publish(msg)

    def _publish_cameras(self, now: float) -> None:
        for robot in self.robots.values():
            if not robot.camera_names:
                continue
            for name, frame in robot.read_cameras().items():
                if name in self.camera_pubs:
                    self._publish_camera(self.camera_pubs[name], frame, now)
        self.camera_meter.record(time.monotonic())

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
        info.k = [float(v) for v in np.asarray(frame.intrinsics).reshape(-1)]
        info.r = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]
        k = np.asarray(frame.intrinsics)
        info.p = [float(k[0, 0]), 0.0, float(k[0, 2]), 0.0, 0.0, float(k[1, 1]), float(k[1, 2]), 0.0,
                  0.0, 0.0, 1.0, 0.0]
        return info

    def _publish_ground_truth(self, now: float) -> None:
        objects = self.world.ground_truth_objects()
        if objects:
            arr = self._header(DetectedObjectArray(), now, "world")
            for o in objects:
                d = DetectedObject(id=o.name, label=o.label, confidence=1.0, visible=True)
                d.header = arr.header
                d.attributes = [KeyValue(key="color", value=o.color)] + [
                    KeyValue(key=k, value=str(v)) for k, v in o.attributes.items()]
                d.pose.position.x, d.pose.position.y, d.pose.position.z = map(float, o.position)
                q = d.pose.orientation
                q.x, q.y, q.z, q.w = map(float, o.quaternion_xyzw)
                d.size.x, d.size.y, d.size.z = map(float, o.size)
                arr.objects.append(d)
            self.pub_gt_objects.publish(arr)
        people = self.world.ground_truth_people()
        if people:
            arr = self._header(TrackedPersonArray(), now, "odom")
            for person in people:
                tp = TrackedPerson(id=int(person.id), confidence=1.0)
                tp.position.x, tp.position.y = map(float, person.position[:2])
                tp.velocity.x, tp.velocity.y = map(float, person.velocity[:2])
                arr.people.append(tp)
            self.pub_gt_people.publish(arr)

    # --- diagnostics / shutdown -------------------------------------------------------------------
    def _publish_diagnostics(self) -> None:
        hw = self.get_fully_qualified_name()
        mono = time.monotonic()
        level = diagnostics.WARN if self._estop else diagnostics.OK
        factor = self.pacer.achieved_factor()
        statuses = [
            diagnostics.status(f"{self.get_name()}: simulation", hw, level,
                               "E-STOP engaged" if self._estop else f"running at {factor:.2f}x real time",
                               {"achieved_real_time_factor": f"{factor:.3f}", "overruns": self.pacer.overruns,
                                "sim_time_s": f"{self.world.time:.2f}", "rejected_commands": self.rejected,
                                "estop": self._estop}),
            diagnostics.stream_status(f"{self.get_name()}: control loop", hw, self.loop_meter, mono,
                                      diagnostics.StreamExpectation(0.8 / self.world.control_dt, 1.0)),
        ]
        if self.camera_pubs:
            statuses.append(diagnostics.stream_status(
                f"{self.get_name()}: cameras", hw, self.camera_meter, mono,
                diagnostics.StreamExpectation(0.5 * self.params["camera_rate_hz"], 2.0)))
        self.pub_diag.publish(diagnostics.array(self.get_clock(), statuses))

    def close(self) -> None:
        self._running = False
        self._thread.join(timeout=5.0)
        for robot in self.robots.values():
            robot.stop()
        self.world.close()


def main(args: list[str] | None = None) -> int:
    return run_node(SimBridgeNode, args, multithreaded=True)


if __name__ == "__main__":
    raise SystemExit(main())
