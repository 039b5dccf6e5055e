"""navigation: a Nav2-compatible navigation node over the ROS-free :class:`GoalRunner`.

Nav2 clients (``nav2_simple_commander``, ``ros2 action send_goal``) and RViz's "Nav2 Goal" / "2D Goal
Pose" tools drive it exactly as they drive Nav2's bt_navigator:

  action  ``navigate_to_pose`` (nav2_msgs/NavigateToPose): goal in ``map`` (or ``odom``, or any frame /tf
          connects to ``map``); feedback every control period (current_pose, navigation_time,
          estimated_time_remaining, number_of_recoveries, distance_remaining); result ``error_code`` +
          ``error_msg`` (codes: :class:`~embodied_stack.navigation.goal_runner.ErrorCode`). A new goal
          preempts the running one (which aborts with PREEMPTED); a cancel sends zero velocity at once.
  in      ``goal_pose`` (PoseStamped: sends itself a NavigateToPose goal, like bt_navigator),
          ``odom`` (Odometry), ``scan`` (LaserScan), ``perception/people`` (TrackedPersonArray: people as
          perception tracks them -- never ground truth), ``/tf`` + ``/tf_static`` (frames other than map/odom)
  out     ``cmd_vel`` (Twist) at ``rate_hz`` while a goal runs, ``map`` (OccupancyGrid, latched like
          map_server), ``plan`` (Path), ``/tf_static`` map -> odom (identity, when ``publish_map_to_odom``:
          the simulator's odometry is its world frame), ``/diagnostics``

Tracked people whose centre lies inside a wall of the map (a door jamb's end) or where the latest scan
sees straight through (a lost track coasting into free space) are ignored and counted on /diagnostics.
The robot's velocity limits come from its description (``robot`` -> ``config/robots/<robot>.yaml``);
acceleration limits, tolerances, the hard-stop gap, the progress checker and the recoveries from
``config/nodes/navigation.yaml``. Topic names are relative: remap them in the stack, never edit code.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
from builtin_interfaces.msg import Duration
from diagnostic_msgs.msg import DiagnosticArray
from embodied_stack_interfaces.msg import TrackedPersonArray
from geometry_msgs.msg import PoseStamped, Twist
from nav2_msgs.action import NavigateToPose
from nav_msgs.msg import OccupancyGrid, Odometry, Path
from rclpy.action import ActionClient, ActionServer, CancelResponse, GoalResponse
from rclpy.node import Node
from rclpy.task import Future
from sensor_msgs.msg import LaserScan

from embodied_stack.common.rate_meter import RateMeter
from embodied_stack.navigation import types
from embodied_stack.navigation.controller import MotionLimits, robot_scan, scan_points, seen_through
from embodied_stack.navigation.goal_runner import (
    RECOVERIES,
    ErrorCode,
    GoalRunner,
    NavigationError,
    RunnerConfig,
    RunnerInput,
    RunnerOutput,
)
from embodied_stack.navigation.navigator import Navigator, NavigatorConfig
from embodied_stack.navigation.occupancy import OccupancyGrid as Grid
from embodied_stack.navigation.occupancy import box_segments, indoor_obstacle_boxes
from embodied_stack.navigation.planners import PLANNERS, make_planner
from embodied_stack.robots import load_description
from embodied_stack.ros import diagnostics, qos
from embodied_stack.ros.node_main import run_node
from embodied_stack.ros.params import InvalidParameterError, Parameters, ParamSpec
from embodied_stack.ros.tf import StaticTransformBroadcaster, TransformListener
from embodied_stack.tf import Transform, TransformError


def _recoveries_check(value: object) -> str | None:
    bad = [v for v in value if v not in RECOVERIES] if isinstance(value, list) else ["not a list"]
    return None if value and not bad else f"use a non-empty list of {list(RECOVERIES)}"


SPECS = [
    ParamSpec("planner", "dwa", "local (social) planner, parameters in config/navigation/planners.yaml",
              choices=PLANNERS, read_only=True),
    ParamSpec("robot", "go2", "robot description (config/robots/): its base velocity limits", read_only=True),
    ParamSpec("speed_fraction", 0.8, "fraction of the base's velocity limits used while navigating",
              min=0.05, max=1.0, read_only=True),
    ParamSpec("max_accel", 1.5, "linear acceleration limit, m/s^2", min=0.05, max=20.0, read_only=True),
    ParamSpec("max_decel", 3.0, "linear deceleration limit (a stop ignores it), m/s^2", min=0.05, max=20.0,
              read_only=True),
    ParamSpec("max_angular_accel", 3.0, "yaw acceleration limit, rad/s^2", min=0.05, max=50.0,
              read_only=True),
    ParamSpec("rate_hz", 20.0, "control and cmd_vel rate while a goal runs, Hz", min=2.0, max=100.0,
              read_only=True),
    ParamSpec("robot_radius_m", 0.3, "robot footprint radius (map inflation, planners, hard stop), m",
              min=0.05, max=2.0, read_only=True),
    ParamSpec("person_radius_m", 0.25, "body radius given to every tracked person, m", min=0.05, max=1.0,
              read_only=True),
    ParamSpec("map.model", "sim/worlds/indoor.xml", "MJCF world whose wall_*/furniture_* boxes are the map",
              read_only=True),
    ParamSpec("map.resolution_m", 0.05, "map cell size, m", min=0.01, max=1.0, read_only=True),
    ParamSpec("map.frame_id", "map", "global frame of the map, goals and the plan", read_only=True),
    ParamSpec("publish_map_to_odom", True, "publish map -> odom as identity (no localisation: the odometry "
              "frame is the map frame, as in the simulator)", read_only=True),
    ParamSpec("lookahead_m", 2.0, "distance along the path of the local planner's goal, m", min=0.2, max=10.0,
              read_only=True),
    ParamSpec("replan_distance_m", 1.0, "replan when this far off the path, m", min=0.1, max=10.0,
              read_only=True),
    ParamSpec("goal.xy_tolerance_m", 0.25, "goal reached within this distance, m", min=0.01, max=5.0),
    ParamSpec("goal.yaw_tolerance_rad", 0.25, "and within this heading error, rad", min=0.01, max=math.pi),
    ParamSpec("goal.timeout_s", 120.0, "abort a goal after this long (0 = never), s", min=0.0, max=3600.0),
    ParamSpec("safety.stop_gap_m", 0.3, "hard stop while a person's body is this close to the robot's, m",
              min=0.0, max=3.0),
    ParamSpec("safety.stop_hold_s", 1.0, "a hard stop holds this long; then only moving away is allowed, s",
              min=0.0, max=30.0),
    ParamSpec("safety.clutter_margin_m", 0.1, "tracked people this deep inside a wall or furniture of the "
              "map are clutter (a door jamb taken for a person) and ignored, m", min=0.0, max=1.0,
              read_only=True),
    ParamSpec("safety.odom_stale_s", 0.5, "odometry older than this stops the robot, s", min=0.05, max=10.0),
    ParamSpec("safety.people_stale_s", 1.0, "tracked people older than this stop the robot, s", min=0.05,
              max=10.0),
    ParamSpec("safety.input_timeout_s", 5.0, "stale input for this long aborts the goal, s", min=0.1,
              max=60.0),
    ParamSpec("progress.radius_m", 0.3, "progress = moving this far ...", min=0.01, max=5.0),
    ParamSpec("progress.time_s", 6.0, "... within this time, else the next recovery, s", min=0.5, max=120.0),
    ParamSpec("recovery.sequence", list(RECOVERIES), "recoveries tried in turn when progress fails",
              check=_recoveries_check),
    ParamSpec("recovery.max_count", 6, "recoveries per goal before it aborts", min=0, max=100),
    ParamSpec("recovery.wait_s", 2.0, "'wait' stands still this long, s", min=0.1, max=60.0),
    ParamSpec("recovery.backup_distance_m", 0.3, "'backup' reverses this far, m", min=0.05, max=3.0),
    ParamSpec("recovery.backup_speed", 0.2, "'backup' speed, m/s", min=0.05, max=1.0),
    ParamSpec("recovery.reroute_range_m", 3.0, "'reroute' plans around people and scan returns this near, m",
              min=0.5, max=20.0),
    ParamSpec("diagnostics_period_s", 1.0, "period of /diagnostics, s", min=0.1, max=60.0, read_only=True),
]


@dataclass
class _ActiveGoal:
    """The goal the control timer is running; ``done`` completes with its final RunnerOutput."""

    handle: object
    started: float  # s, node clock
    done: Future = field(default_factory=Future)
    latest: RunnerOutput | None = None
    canceled: bool = False


def _yaw(q) -> float:
    return math.atan2(2.0 * (q.w * q.z + q.x * q.y), 1.0 - 2.0 * (q.y * q.y + q.z * q.z))


def _planar(t: Transform) -> np.ndarray:
    """(x, y, yaw) of a transform (its roll and pitch dropped: a base moves in the plane)."""
    x, y, z, w = t.quat_xyzw
    return np.array([t.xyz[0], t.xyz[1], math.atan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z))])


def _duration(seconds: float) -> Duration:
    seconds = max(float(seconds), 0.0)
    return Duration(sec=int(seconds), nanosec=int((seconds % 1.0) * 1e9))


class NavigationNode(Node):
    def __init__(self) -> None:
        super().__init__("navigation")
        self.params = p = Parameters(self, SPECS, on_change=lambda _n, _v: self._apply_runtime_params())
        try:  # a wrong robot, map or planner checkpoint is a parameter error: exit 2 with the reason
            base = load_description(p["robot"]).base
            if base is None:
                raise ValueError(f"robot description '{p['robot']}' has no 'base' limits: navigation drives "
                                 "a mobile base; set 'robot' to a base's description (e.g. go2)")
            limits = MotionLimits.from_base(base, p["speed_fraction"], p["max_accel"], p["max_decel"],
                                            p["max_angular_accel"])
            boxes = indoor_obstacle_boxes(p["map.model"])
            self.grid = Grid.from_boxes(boxes, p["map.resolution_m"])
            self.planner = make_planner(p["planner"])
        except (ValueError, OSError) as e:
            raise InvalidParameterError(f"node 'navigation': {e}") from e
        nav_config = NavigatorConfig(lookahead=p["lookahead_m"], replan_distance=p["replan_distance_m"])
        navigator = Navigator(self.grid, box_segments(boxes), self.planner, nav_config)
        self.period = 1.0 / p["rate_hz"]
        self.runner = GoalRunner(navigator, limits, self._runner_config(), self.period)
        self.map_frame = p["map.frame_id"]
        self._active: _ActiveGoal | None = None
        self._odom: Odometry | None = None
        self._people: TrackedPersonArray | None = None
        self._scan: LaserScan | None = None
        self._received = {"odom": -math.inf, "people": -math.inf, "scan": -math.inf}
        self._laser_offset: np.ndarray | None = None
        self.counts = {"succeeded": 0, "aborted": 0, "canceled": 0, "preempted": 0}
        self.last_error = ""
        self.cycle_max_s = 0.0  # longest control cycle (diagnostics)
        self.seen_through = 0  # tracked people dropped because the scan sees through them (diagnostics)
        self.loop_meter = RateMeter(100)
        self.create_subscription(Odometry, "odom", lambda m: self._store("odom", m), qos.SENSOR)
        self.create_subscription(LaserScan, "scan", lambda m: self._store("scan", m), qos.SENSOR)
        self.create_subscription(TrackedPersonArray, "perception/people", lambda m: self._store("people", m),
                                 qos.EVENTS)
        self.create_subscription(PoseStamped, "goal_pose", self._on_goal_pose, qos.EVENTS)
        self.pub_cmd = self.create_publisher(Twist, "cmd_vel", qos.COMMAND)
        self.pub_map = self.create_publisher(OccupancyGrid, "map", qos.LATCHED)
        self.pub_plan = self.create_publisher(Path, "plan", qos.LATCHED)
        self.pub_diag = self.create_publisher(DiagnosticArray, "/diagnostics", qos.EVENTS)
        self.tf = TransformListener(self)
        self._static_tf = StaticTransformBroadcaster(self)
        if p["publish_map_to_odom"]:
            self._static_tf.send(Transform.identity(self.map_frame, "odom"))
        self.pub_map.publish(self._map_message())
        self.action_server = ActionServer(self, NavigateToPose, "navigate_to_pose", self._execute,
                                          goal_callback=lambda _g: GoalResponse.ACCEPT,
                                          cancel_callback=self._on_cancel)
        self._self_client = ActionClient(self, NavigateToPose, "navigate_to_pose")
        self.create_timer(self.period, self._control)
        self.create_timer(p["diagnostics_period_s"], self._publish_diagnostics)
        self.get_logger().info(
            f"navigation ready: planner {p['planner']}, limits vx {limits.max_vx:.2f} vy {limits.max_vy:.2f} "
            f"m/s wz {limits.max_wz:.2f} rad/s ({p['robot']} x {p['speed_fraction']}), map "
            f"{self.grid.shape[1]}x{self.grid.shape[0]} @ {self.grid.resolution} m, {p['rate_hz']} Hz")

    # --- parameters -------------------------------------------------------------------------------
    def _runner_config(self) -> RunnerConfig:
        p = self.params
        return RunnerConfig(
            robot_radius=p["robot_radius_m"], person_radius=p["person_radius_m"],
            stop_gap=p["safety.stop_gap_m"],
            xy_tolerance=p["goal.xy_tolerance_m"], yaw_tolerance=p["goal.yaw_tolerance_rad"],
            goal_timeout=p["goal.timeout_s"], input_timeout=p["safety.input_timeout_s"],
            progress_radius=p["progress.radius_m"], progress_time=p["progress.time_s"],
            recoveries=tuple(p["recovery.sequence"]), max_recoveries=p["recovery.max_count"],
            wait_time=p["recovery.wait_s"], backup_distance=p["recovery.backup_distance_m"],
            backup_speed=p["recovery.backup_speed"], reroute_range=p["recovery.reroute_range_m"],
            clutter_margin=p["safety.clutter_margin_m"], stop_hold=p["safety.stop_hold_s"])

    def _apply_runtime_params(self) -> None:
        self.runner.config = self._runner_config()
        self.runner.progress.radius = self.runner.config.progress_radius
        self.runner.progress.time_s = self.runner.config.progress_time

    # --- inputs -----------------------------------------------------------------------------------
    def _store(self, kind: str, msg: object) -> None:
        setattr(self, f"_{kind}", msg)
        self._received[kind] = time.monotonic()

    def _to_map(self, frame: str) -> np.ndarray:
        """(x, y, yaw) of ``frame`` in the map frame; raises NavigationError(TF_ERROR) naming the fix."""
        if frame in ("", self.map_frame) or (frame == "odom" and self.params["publish_map_to_odom"]):
            return np.zeros(3)
        try:
            return _planar(self.tf.buffer.lookup(self.map_frame, frame))
        except TransformError as e:
            raise NavigationError(ErrorCode.TF_ERROR,
                                  f"no transform {self.map_frame} -> '{frame}' ({e}); "
                                  f"give the goal in '{self.map_frame}' or 'odom'") from None

    @staticmethod
    def _compose(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        c, s = math.cos(a[2]), math.sin(a[2])
        return np.array([a[0] + c * b[0] - s * b[1], a[1] + s * b[0] + c * b[1], a[2] + b[2]])

    def _robot_pose(self) -> np.ndarray:
        odom = self._odom
        if odom is None:
            raise NavigationError(ErrorCode.INPUT_LOST, "no odometry received on 'odom' yet; start the base "
                                                        "driver (or remap odom)")
        pose = odom.pose.pose
        local = np.array([pose.position.x, pose.position.y, _yaw(pose.orientation)])
        return self._compose(self._to_map(odom.header.frame_id), local)

    def _inputs(self, now: float) -> RunnerInput:
        mono = time.monotonic()
        ages = {k: mono - v for k, v in self._received.items()}
        p = self.params
        stale = []
        if ages["odom"] > p["safety.odom_stale_s"]:
            stale.append(f"odometry {ages['odom']:.1f} s old")
        if ages["people"] > p["safety.people_stale_s"]:
            stale.append(f"tracked people {ages['people']:.1f} s old")
        if stale or self._odom is None:
            return RunnerInput(now, np.zeros(3), np.zeros(3), stale="; ".join(stale) or "no odometry")
        try:
            pose = self._robot_pose()
            people_frame = self._to_map(self._people.header.frame_id)
        except NavigationError as e:
            return RunnerInput(now, np.zeros(3), np.zeros(3), stale=str(e))
        tw = self._odom.twist.twist
        people = self._people.people
        xy = np.array([[q.position.x, q.position.y] for q in people]).reshape(-1, 2)
        v = np.array([[q.velocity.x, q.velocity.y] for q in people]).reshape(-1, 2)
        c, s = math.cos(people_frame[2]), math.sin(people_frame[2])
        rot = np.array([[c, -s], [s, c]])
        xy, v = xy @ rot.T + people_frame[:2], v @ rot.T
        inp = RunnerInput(now, pose, np.array([tw.linear.x, tw.linear.y, tw.angular.z]))
        scan = self._scan
        if scan is not None and ages["scan"] < 1.0:
            ranges = np.asarray(scan.ranges, dtype=np.float64)
            laser = self._compose(pose, self._laser_pose(scan.header.frame_id))
            inp.scan_xy = scan_points(ranges, scan.angle_min, scan.angle_increment, laser, scan.range_max)
            # a body's worth of beams around each track, widened by how far a walker gets in one scan
            ghost = seen_through(xy, laser, ranges, scan.angle_min, scan.angle_increment,
                                 p["person_radius_m"] + 0.1)
            self.seen_through += int(ghost.sum())
            xy, v = xy[~ghost], v[~ghost]
            wanted = self.planner.scan_input
            if wanted is not None:
                inp.scan_beams = robot_scan(inp.scan_xy, pose, wanted.beams, wanted.range,
                                            abs(scan.angle_increment))
        elif self.planner.scan_input is not None and self.planner.scan_input.required:
            inp.stale = f"no recent scan (the {self.planner.name} planner reads one)"
        inp.people_position, inp.people_velocity = xy, v
        return inp

    def _laser_pose(self, frame: str) -> np.ndarray:
        """The laser's (x, y, yaw) on base_link from /tf_static, looked up once; base_link's origin until
        it is known (a few cm off for re-routing, which is what the scan is used for)."""
        if self._laser_offset is None:
            try:
                self._laser_offset = _planar(self.tf.buffer.lookup("base_link", frame or "laser"))
            except TransformError:
                return np.zeros(3)
        return self._laser_offset

    # --- control loop -----------------------------------------------------------------------------
    def _now(self) -> float:
        return self.get_clock().now().nanoseconds * 1e-9

    def _control(self) -> None:
        """One control period: step the runner, send its command and the goal's feedback."""
        active = self._active
        if active is None:
            return
        began = time.monotonic()
        self.loop_meter.record(began)
        out = self.runner.step(self._inputs(self._now()))
        took = time.monotonic() - began
        self.cycle_max_s = max(self.cycle_max_s, took)
        if took > 2 * self.period:
            self.get_logger().warning(f"control cycle took {took * 1e3:.0f} ms ({out.state}), more than two "
                                      "periods", throttle_duration_sec=5.0)
        self._send(out.twist)
        active.latest = out
        if out.finished:
            self._end(active, out)
        else:
            active.handle.publish_feedback(self._feedback(active, out))

    def _send(self, twist: types.Twist) -> None:
        if not self.context.ok():
            return  # Ctrl-C / SIGTERM shut the context down first: the driver's watchdog stops the base
        msg = Twist()
        msg.linear.x, msg.linear.y, msg.angular.z = float(twist.vx), float(twist.vy), float(twist.wz)
        self.pub_cmd.publish(msg)

    def _end(self, active: _ActiveGoal, out: RunnerOutput) -> None:
        """Finish ``active``: zero velocity, and its execute callback resumes with ``out``."""
        self._send(types.Twist())
        if self._active is active:
            self._active = None
        if not active.done.done():
            active.done.set_result(out)

    # --- action -----------------------------------------------------------------------------------
    # Everything runs in one thread (SingleThreadedExecutor): the execute callback is a coroutine that
    # awaits its goal's end, so it holds no thread while the control timer drives the robot. (A blocking
    # execute in rclpy's MultiThreadedExecutor starved it: with one of two workers held, queued callback
    # tasks were resubmitted every spin -- thousands of futures, control cycles of seconds, measured.)
    def _on_goal_pose(self, msg: PoseStamped) -> None:
        """RViz's goal tool: navigate there through our own action server (as bt_navigator does)."""
        self.get_logger().info(f"goal_pose ({msg.pose.position.x:.2f}, {msg.pose.position.y:.2f}) in "
                               f"'{msg.header.frame_id}': sending it as a NavigateToPose goal")
        self._self_client.send_goal_async(NavigateToPose.Goal(pose=msg))

    def _on_cancel(self, handle) -> CancelResponse:
        active = self._active
        if active is not None and active.handle is handle:
            active.canceled = True
            self._end(active, self.runner.stop(ErrorCode.NONE, "cancelled"))  # zero velocity now
        return CancelResponse.ACCEPT

    def _start(self, handle) -> tuple[_ActiveGoal, np.ndarray]:
        """Plan the goal of ``handle`` and make it the active one (preempting the previous)."""
        pose_msg = handle.request.pose
        frame = self._to_map(pose_msg.header.frame_id)
        q = pose_msg.pose.orientation
        has_yaw = math.sqrt(q.x * q.x + q.y * q.y + q.z * q.z + q.w * q.w) > 1e-6  # all-zero: any heading
        goal = self._compose(frame, np.array([pose_msg.pose.position.x, pose_msg.pose.position.y,
                                              _yaw(q) if has_yaw else 0.0]))
        now = self._now()
        path = self.runner.start(goal[:2], goal[2] if has_yaw else None, self._robot_pose(), now)
        previous = self._active
        if previous is not None:
            self._active = None
            previous.done.set_result(RunnerOutput(types.Twist(), "preempted", finished=True,
                                                  error_code=int(ErrorCode.PREEMPTED),
                                                  error_msg="preempted by a newer goal"))
        self._active = _ActiveGoal(handle, now)
        self.pub_plan.publish(self._path_message(path))
        self.get_logger().info(f"goal ({goal[0]:.2f}, {goal[1]:.2f}) accepted: path of {len(path)} points")
        return self._active, path

    async def _execute(self, handle) -> NavigateToPose.Result:
        result = NavigateToPose.Result()
        try:
            active, _ = self._start(handle)
        except NavigationError as e:
            return self._abort(handle, result, e.code, str(e))
        out: RunnerOutput = await active.done
        result.error_code, result.error_msg = int(out.error_code), out.error_msg
        if active.canceled:
            handle.canceled()  # the cancel callback has returned: rclpy marked the goal CANCELING
            self.counts["canceled"] += 1
            self.get_logger().info("goal cancelled: stopped")
        elif out.succeeded:
            handle.succeed()
            self.counts["succeeded"] += 1
            self.get_logger().info(f"goal reached ({out.recoveries} recoveries)")
        else:
            kind = "preempted" if out.error_code == ErrorCode.PREEMPTED else "aborted"
            return self._abort(handle, result, ErrorCode(out.error_code), out.error_msg, kind)
        return result

    def _abort(self, handle, result: NavigateToPose.Result, code: ErrorCode, message: str,
               kind: str = "aborted") -> NavigateToPose.Result:
        handle.abort()
        result.error_code, result.error_msg = int(code), message
        self.counts[kind] += 1
        self.last_error = f"{code.name} ({int(code)}): {message}"
        self.get_logger().warning(f"goal aborted: {self.last_error}")
        return result

    def _feedback(self, active: _ActiveGoal, out: RunnerOutput) -> NavigateToPose.Feedback:
        fb = NavigateToPose.Feedback()
        now = self._now()
        fb.current_pose.header.frame_id = self.map_frame
        fb.current_pose.header.stamp = self.get_clock().now().to_msg()
        try:
            x, y, yaw = self._robot_pose()
            fb.current_pose.pose.position.x, fb.current_pose.pose.position.y = float(x), float(y)
            fb.current_pose.pose.orientation.z = math.sin(yaw / 2)
            fb.current_pose.pose.orientation.w = math.cos(yaw / 2)
        except NavigationError:
            pass  # no odometry: the pose stays at the origin and the runner reports the stale input
        fb.navigation_time = _duration(now - active.started)
        fb.estimated_time_remaining = _duration(out.time_remaining)
        fb.number_of_recoveries = int(out.recoveries)
        fb.distance_remaining = float(out.distance_remaining)
        return fb

    # --- messages ---------------------------------------------------------------------------------
    def _map_message(self) -> OccupancyGrid:
        msg = OccupancyGrid()
        msg.header.frame_id = self.map_frame
        msg.header.stamp = self.get_clock().now().to_msg()
        msg.info.map_load_time = msg.header.stamp
        msg.info.resolution = float(self.grid.resolution)
        msg.info.height, msg.info.width = (int(v) for v in self.grid.shape)
        msg.info.origin.position.x, msg.info.origin.position.y = (float(v) for v in self.grid.origin)
        msg.info.origin.orientation.w = 1.0
        msg.data = self.grid.data.astype(np.int8).ravel().tolist()  # row-major from the origin: ROS's layout
        return msg

    def _path_message(self, path: np.ndarray) -> Path:
        msg = Path()
        msg.header.frame_id = self.map_frame
        msg.header.stamp = self.get_clock().now().to_msg()
        for x, y in path:
            ps = PoseStamped(header=msg.header)
            ps.pose.position.x, ps.pose.position.y = float(x), float(y)
            ps.pose.orientation.w = 1.0
            msg.poses.append(ps)
        return msg

    def _publish_diagnostics(self) -> None:
        hw = self.get_fully_qualified_name()
        mono = time.monotonic()
        active, runner = self._active, self.runner
        latest = active.latest if active is not None else None
        state = latest.state if latest is not None else ("idle" if active is None else "starting")
        values = {"state": state, "hard_stops": runner.hard_stops, "planner": self.params["planner"],
                  "people_ignored_as_map_clutter": runner.ignored_people,
                  "people_ignored_as_seen_through": self.seen_through,
                  "control_cycle_max_ms": f"{self.cycle_max_s * 1e3:.1f}",
                  **{f"goals_{k}": v for k, v in self.counts.items()},
                  **{f"{k}_age_s": f"{mono - t:.2f}" for k, t in self._received.items()}}
        if latest is not None:
            values.update(recoveries=latest.recoveries, hard_stop=latest.hard_stop,
                          distance_remaining_m=f"{latest.distance_remaining:.2f}")
        level = diagnostics.WARN if state == "waiting_for_input" else diagnostics.OK
        message = f"{state}; last error: {self.last_error}" if self.last_error else state
        statuses = [diagnostics.status(f"{self.get_name()}: navigation", hw, level, message, values)]
        if active is not None:
            statuses.append(diagnostics.stream_status(
                f"{self.get_name()}: control loop", hw, self.loop_meter, mono,
                diagnostics.StreamExpectation(0.8 / self.period, 1.0)))
        self.pub_diag.publish(diagnostics.array(self.get_clock(), statuses))

    def close(self) -> None:
        """At exit: stop the robot and end any goal with a result."""
        if self._active is not None:
            self._end(self._active, self.runner.stop(ErrorCode.INPUT_LOST, "navigation node shutting down"))


def main(args: list[str] | None = None) -> int:
    return run_node(NavigationNode, args)


if __name__ == "__main__":
    raise SystemExit(main())
