"""VLA policy node: cameras + joint states + an instruction -> arm commands at control rate.

Topics
  subscribes ``image_topics`` (sensor_msgs/Image, sensor QoS), one per model camera, in the
             checkpoint's camera order (``camera_names``)
  subscribes ``joint_states_topic`` (sensor_msgs/JointState): the joints + gripper of the ``robot``
             description (config/robots/<robot>.yaml)
  subscribes ``success_topic`` (std_msgs/Bool, optional): the task-success signal (sim / perception)
  publishes  ``command_topic`` (trajectory_msgs/JointTrajectory, COMMAND QoS): one point per control
             period, clamped to the description's joint limits and max step from the measured position
  publishes  ``/diagnostics``: "<node>: command out" - command rate, camera->command latency
             p50/p99 (wall time at publish - header stamp of the newest image behind the chunk
             that command came from; not measured under use_sim_time), inference time per chunk
Actions
  ``~/execute_skill`` (embodied_stack_interfaces/ExecuteSkill): ``instruction`` (English or Chinese)
  runs until the success signal, the timeout or a cancel; feedback: progress (elapsed / timeout)
  and state ("waiting for inputs" | "running" | "holding: <reason>").
  For a policy with a goal input (``ModelConfig.goal_dim``: where the target and the place are),
  the goal's ``arguments`` must carry ``target_position`` (the object to grasp) and
  ``place_position`` (where it goes), "x,y[,z]" in m in the base frame: the skill executive
  (embodied_stack.executive) grounds the plan's objects through perception and sends them. The
  node parses no instruction itself; a goal without them is aborted with the reason before the
  arm moves - it never guesses a target.
Parameters (config/vla/vla_policy_node.yaml): see SPECS.

Inference runs in the runner's worker thread (embodied_stack.vla.runner), so the
control timer never waits on the model; stale/invalid inputs or a cancel stop
commands within one control period.

``chunk_driven``: on a fixed timer a fresh chunk waits 0..1 control period for the next
tick (half a period on average: 20 ms at 25 Hz, most of a 30 ms camera->command budget).
With it on, the worker ticks as soon as it adds a chunk inferred from a new camera frame
(every camera's image newer than those behind the last command) and the timer is
re-phased to that tick; the timer still fires when no fresher chunk comes
(slow camera), and two commands are never closer than ``min_command_gap`` periods. The
cost: when the camera rate is not a multiple of the control rate, the early ticks raise
the command rate above ``control_rate_hz`` (bench/vla_ros_latency.py measures both).
"""

from __future__ import annotations

import threading
import time

import numpy as np
from diagnostic_msgs.msg import DiagnosticArray
from rclpy.action import ActionServer, CancelResponse, GoalResponse
from rclpy.duration import Duration
from rclpy.node import Node
from sensor_msgs.msg import Image, JointState
from std_msgs.msg import Bool
from trajectory_msgs.msg import JointTrajectory, JointTrajectoryPoint

from embodied_stack.common.rate_meter import RateMeter
from embodied_stack.ros import diagnostics, qos
from embodied_stack.ros.images import ImageDecodeError, rgb_from_image
from embodied_stack.ros.node_main import run_node
from embodied_stack.ros.params import Parameters, ParamSpec
from embodied_stack.ros.side_node import SideNode
from embodied_stack.ros.time import to_sec

SPECS = [
    ParamSpec("checkpoint", "checkpoints/vla_tabletop",
              "VLA checkpoint folder, or lerobot:<folder>[?cameras=ours:theirs,...] (a LeRobot policy)",
              read_only=True),
    ParamSpec("camera_names", ["scene", "wrist"], "model camera names, same order as image_topics",
              read_only=True),
    ParamSpec("image_topics", ["/camera/color/image_raw", "/wrist_camera/color/image_raw"],
              "RGB image topic per camera", read_only=True),
    ParamSpec("joint_states_topic", "/joint_states", "sensor_msgs/JointState topic", read_only=True),
    ParamSpec("robot", "so101", "robot description (config/robots/): joint names in model order, gripper, "
              "position limits and max step", read_only=True),
    ParamSpec("command_topic", "/arm_controller/joint_trajectory", "JointTrajectory command topic",
              read_only=True),
    ParamSpec("success_topic", "", "std_msgs/Bool task-success topic ('' = none: skills end on timeout)",
              read_only=True),
    ParamSpec("control_rate_hz", 0.0, "command rate, Hz; 0 = the rate the checkpoint's demonstrations were "
              "recorded at (its fps), set it only for a policy that stores none", min=0.0, max=200.0,
              read_only=True),
    ParamSpec("max_input_age_s", 0.25, "inputs older than this stop commanding, s", min=0.01, max=5.0),
    ParamSpec("max_joint_delta", 0.08, "rad per step of a full +-1 joint action (training env's)",
              min=0.001, max=0.5),
    ParamSpec("default_timeout_s", 20.0, "skill timeout when the goal gives 0, s", min=0.1, max=600.0),
    ParamSpec("command_lead_s", 0.0,
              "time_from_start of each command point, s. 0 = the position target for this control period, "
              "the training env's semantics; > 0 makes the driver interpolate from the measured position, "
              "which holds the arm back by that much (a grasp then closes late)", min=0.0, max=1.0),
    ParamSpec("threads", 1, "torch threads for inference", min=1, max=16, read_only=True),
    ParamSpec("chunk_driven", True, "tick as soon as a chunk from a newer image is ready and re-phase the "
              "timer (false: fixed timer only; a fresh chunk waits up to one period)"),
    ParamSpec("min_command_gap", 0.5, "fewest control periods between two commands in chunk_driven mode",
              min=0.1, max=1.0),
    ParamSpec("max_latency_ms", 30.0, "camera->command p50 above this is a WARN on /diagnostics, ms",
              min=1.0, max=1000.0),
    ParamSpec("diagnostics_period_s", 1.0, "period of /diagnostics publication, s", min=0.1, max=10.0,
              read_only=True),
]


#: chunk_driven: the timer waits this many control periods after a chunk-driven tick before it commands
FALLBACK_PERIODS = 1.5


class VLAPolicyNode(Node):
    def __init__(self) -> None:
        super().__init__("vla_policy")
        self.params = Parameters(self, SPECS, on_change=self._on_param_change)
        from embodied_stack.vla.adapters import load_policy
        from embodied_stack.vla.rollout import control_rate, policy_predict, runner_config
        from embodied_stack.vla.runner import PolicyRunner

        # our checkpoint folder, or lerobot:<folder>[?cameras=ours:theirs,...] (vla/adapters)
        self.policy = load_policy(self.params["checkpoint"], threads=self.params["threads"])
        cams = list(self.params["camera_names"])
        if cams != list(self.policy.cfg.model.cameras):
            raise ValueError(f"camera_names {cams} must equal the checkpoint's cameras "
                             f"{self.policy.cfg.model.cameras}")
        if len(self.params["image_topics"]) != len(cams):
            raise ValueError(f"image_topics has {len(self.params['image_topics'])} topics "
                             f"for {len(cams)} cameras")
        self.policy.warm_up()  # load the language model now, not inside the first goal
        from embodied_stack.robots import load_description

        self.robot = load_description(self.params["robot"])
        if self.robot.gripper is None:
            raise ValueError(f"robot '{self.robot.name}' has no gripper; the VLA commands joints + gripper")
        self.joint_names = self.robot.joint_names
        self.gripper_joint = self.robot.gripper.name
        self.goal_dim = int(getattr(self.policy, "goal_dim", 0))
        self._goal_vec: np.ndarray | None = None
        self.rate_hz = control_rate(self.policy, self.params["control_rate_hz"])
        self.runner = PolicyRunner(policy_predict(self.policy, lambda: self._goal_vec), runner_config(
            self.policy, self.robot, self.rate_hz, self.params["max_input_age_s"],
            self.params["max_joint_delta"]))  # the simulated rollout (vla.rollout) builds it the same way
        self.success = False
        self.state_label = "idle"
        # Header stamps are wall-clock capture times unless the graph runs on sim time, where
        # comparing them with the wall clock would be meaningless: then latency is not measured.
        self._sim_time = bool(self.get_parameter("use_sim_time").value)
        self._control_lock = threading.Lock()  # the timer and the worker both tick
        self._last_command = -np.inf  # monotonic time of the last published command
        self.chunk_ticks = 0  # commands published early by a fresh chunk
        self._chunk_ticked = False  # the last command was a chunk-driven tick
        self.command_meter = RateMeter(window=250)  # wall-clock arrivals, image stamps
        for cam, topic in zip(cams, self.params["image_topics"], strict=True):
            self.create_subscription(Image, topic, lambda m, c=cam: self._on_image(c, m), qos.SENSOR)
        self.create_subscription(JointState, self.params["joint_states_topic"], self._on_joints, qos.SENSOR)
        if self.params["success_topic"]:
            self.create_subscription(Bool, self.params["success_topic"], self._on_success, qos.COMMAND)
        self.pub = self.create_publisher(JointTrajectory, self.params["command_topic"], qos.COMMAND)
        self.period = 1.0 / self.rate_hz
        self.timer = self.create_timer(self.period, self._control)
        self.diag_pub = self.create_publisher(DiagnosticArray, "/diagnostics", qos.EVENTS)
        self.create_timer(self.params["diagnostics_period_s"], self._publish_diagnostics)
        self._rephase = self.create_guard_condition(self.timer.reset)
        self.runner.start_worker(time.monotonic, on_chunk=self._on_chunk)
        # The skill action lives on a private node with its own executor (two threads: the execute
        # callback holds one for the whole skill, the other answers goals, cancels and result requests),
        # and this node's images, joint states and ticks keep a SingleThreadedExecutor to themselves.
        # (On one MultiThreadedExecutor the held worker and the wait sets rebuilt under the GIL starved
        # them: in 3 of 4 runs of bench/vla_ros_latency.py one mode commanded at ~2 Hz with camera ->
        # command p50 of 0.4-1.4 s.) Nav2's bt_navigator keeps its action clients on a separate node for
        # the same reason.
        self._server = SideNode(self, "skill_server", threads=2)
        self.action_server = ActionServer(self._server.node, _execute_skill_type(),
                                          f"{self.get_fully_qualified_name()}/execute_skill", self._execute,
                                          goal_callback=self._on_goal, cancel_callback=self._on_cancel)
        self._server.start()
        self.get_logger().info(f"VLA policy ready: {self.params['checkpoint']}, cameras {cams}, "
                               f"{self.rate_hz:g} Hz")

    def _on_param_change(self, name: str, value: object) -> None:
        if name in ("max_input_age_s", "max_joint_delta"):
            setattr(self.runner.cfg, name, float(value))

    # --- inputs -------------------------------------------------------------------------
    def _on_image(self, camera: str, msg: Image) -> None:
        stamp = to_sec(msg.header.stamp)
        source = None if self._sim_time or stamp <= 0.0 else stamp  # 0: an unstamped image
        try:
            self.runner.observe_image(camera, rgb_from_image(msg), time.monotonic(), source)
        except ImageDecodeError as e:
            self.get_logger().warning(f"dropped image from {camera}: {e}", throttle_duration_sec=5.0)

    def _on_joints(self, msg: JointState) -> None:
        pos = dict(zip(msg.name, msg.position, strict=False))
        missing = [j for j in (*self.joint_names, self.gripper_joint) if j not in pos]
        if missing:
            self.get_logger().warning(f"JointState lacks {missing}", throttle_duration_sec=5.0)
            return
        state = np.array([pos[j] for j in self.joint_names] + [pos[self.gripper_joint]])
        self.runner.observe_state(state, time.monotonic())

    # --- goal arguments -----------------------------------------------------------------
    def _goal_from_arguments(self, arguments) -> tuple[np.ndarray | None, str]:
        """Target/place x, y for policies with a goal input, from the goal's grounded arguments."""
        args = {kv.key: kv.value for kv in arguments}
        missing = [k for k in ("target_position", "place_position") if k not in args]
        if missing:
            return None, (f"the policy needs grounded {' and '.join(missing)} arguments ('x,y[,z]', m, base "
                          "frame); send the instruction to the executive (/instruction or "
                          "/executive/execute_instruction), which grounds it through perception")
        try:
            xy = [np.array([float(v) for v in args[k].split(",")], dtype=np.float32)[:2]
                  for k in ("target_position", "place_position")]
        except ValueError as e:
            return None, f"goal arguments need target_position and place_position as 'x,y[,z]' ({e})"
        goal = np.concatenate(xy)
        if goal.shape != (4,) or not np.all(np.isfinite(goal)):
            return None, f"goal arguments give {goal.tolist()}, need finite x, y for target and place"
        where = ", ".join(f"{k}={args[k]}" for k in ("object", "target") if k in args)
        return goal, "from goal arguments" + (f" ({where})" if where else "")

    def _on_success(self, msg: Bool) -> None:
        self.success = bool(msg.data)

    # --- control ------------------------------------------------------------------------
    def _on_chunk(self, _source) -> None:
        """The worker added a chunk: tick now if it comes from a new frame (chunk_driven mode)."""
        if self.context.ok():  # not while shutting down: publishing would raise in the worker
            self._control(chunk_driven=True)

    def _control(self, chunk_driven: bool = False) -> None:
        """One control tick: from the timer, or (``chunk_driven``, in the inference worker) as soon
        as a chunk from a new frame is ready. The lock keeps the two from interleaving."""
        if chunk_driven and not self.params["chunk_driven"]:
            return
        with self._control_lock:
            now = time.monotonic()
            if now - self._last_command < self.params["min_command_gap"] * self.period:
                return  # just commanded (a timer tick racing an early one, a late timer, chunks too close)
            if chunk_driven and not self.runner.fresher_chunk_ready():
                return  # no new frame since the last command: the timer's tick will do
            if not chunk_driven and self._chunk_ticked and self.params["chunk_driven"] \
                    and now - self._last_command < FALLBACK_PERIODS * self.period:
                # the last command came from a fresh frame and the next frame's chunk is due about now:
                # let it tick. The timer is the fallback for a late camera; ticking first, it sent the
                # previous frame's chunk and its gap then held the new one back a whole period (camera
                # at the control rate on the sim_tabletop stack: camera->command 56 ms p50)
                return
            cmd, source = self.runner.tick_with_source(now)
            if cmd is None:
                if self.runner.active:
                    self.state_label = f"holding: {self.runner.last_error or 'waiting for the first chunk'}"
                return
            self.state_label = "running"
            self._publish_command(cmd)
            self._last_command = now
            self.command_meter.record(time.time(), None if source is None else source.image_stamp)
            self._chunk_ticked = chunk_driven
            if chunk_driven:
                self.chunk_ticks += 1
                self._rephase.trigger()  # re-phase the timer (reset in the executor's thread): next tick
                # one period after this one

    def _publish_command(self, cmd) -> None:
        lead = self.params["command_lead_s"]
        msg = JointTrajectory(joint_names=[*self.joint_names, self.gripper_joint])
        msg.header.stamp = self.get_clock().now().to_msg()
        msg.points = [JointTrajectoryPoint(positions=[*map(float, cmd.positions), float(cmd.gripper)],
                                           time_from_start=Duration(seconds=lead).to_msg())]
        self.pub.publish(msg)

    def _publish_diagnostics(self) -> None:
        """Command rate, camera->command latency and inference time, for /diagnostics and the bench."""
        infer_ms = np.array(self.runner.infer_seconds.copy()) * 1e3  # copy(): the worker appends
        i50, i99 = np.percentile(infer_ms, [50, 99]) if len(infer_ms) else (float("nan"),) * 2
        expect = diagnostics.StreamExpectation(
            min_rate_hz=0.8 * self.rate_hz if self.runner.active else 0.0,
            stale_after_s=max(1.0, 3 * self.period))
        st = diagnostics.stream_status(
            f"{self.get_name()}: command out", self.get_fully_qualified_name(), self.command_meter,
            time.time(), expect,
            {"mode": "chunk_driven" if self.params["chunk_driven"] else "timer",
             "chunk_driven_ticks": str(self.chunk_ticks), "latency_measured": str(not self._sim_time),
             "infer_p50_ms": f"{i50:.2f}", "infer_p99_ms": f"{i99:.2f}", "state": self.state_label})
        p50 = self.command_meter.latency_percentiles(50)[0] * 1e3
        if st.level == diagnostics.OK and p50 > self.params["max_latency_ms"]:
            st.level = diagnostics.WARN
            st.message += f"; camera->command p50 {p50:.1f} ms above {self.params['max_latency_ms']:.0f} ms"
        self.diag_pub.publish(diagnostics.array(self.get_clock(), [st]))

    # --- skill action -------------------------------------------------------------------
    def _on_goal(self, goal) -> GoalResponse:
        if not goal.instruction.strip():
            self.get_logger().warning("rejected a skill goal without an instruction")
            return GoalResponse.REJECT
        if self.runner.active:
            self.get_logger().warning("rejected a skill goal: another one is running")
            return GoalResponse.REJECT
        return GoalResponse.ACCEPT

    def _on_cancel(self, _goal) -> CancelResponse:
        """Stop commanding the moment a cancel is accepted, not at the execute loop's next check
        (up to a control period later); the lock lets a tick in progress finish first."""
        with self._control_lock:
            self.runner.cancel()
        return CancelResponse.ACCEPT

    def _execute(self, handle):
        action_type = _execute_skill_type()
        goal = handle.request
        timeout = goal.timeout_s if goal.timeout_s > 0 else self.params["default_timeout_s"]
        self.success = False
        began = time.monotonic()
        result = action_type.Result()
        if self.goal_dim:
            self._goal_vec, why = self._goal_from_arguments(goal.arguments)
            if self._goal_vec is None:
                self.get_logger().warning(f"skill aborted before moving: {why}")
                handle.abort()
                result.success, result.message = False, why
                result.duration_s = float(time.monotonic() - began)
                return result
            self.get_logger().info(f"skill goal {self._goal_vec.round(3).tolist()} ({why})")
        self.runner.start(goal.instruction)
        try:
            while True:
                elapsed = time.monotonic() - began
                if handle.is_cancel_requested:
                    self.runner.cancel()
                    handle.canceled()
                    result.success, result.message = False, "cancelled"
                    break
                if self.success:
                    handle.succeed()
                    result.success, result.message = True, "task success reported on the success topic"
                    break
                if elapsed > timeout:
                    handle.abort()
                    result.success = False
                    result.message = (f"timeout after {timeout:.1f} s"
                                      + (f"; last input problem: {self.runner.last_error}"
                                         if self.runner.last_error else ""))
                    break
                fb = action_type.Feedback(progress=float(min(1.0, elapsed / timeout)), state=self.state_label)
                handle.publish_feedback(fb)
                time.sleep(self.period)
        finally:
            self.runner.cancel()
        result.duration_s = float(time.monotonic() - began)
        return result

    def close(self) -> None:
        self.runner.cancel()
        self.runner.stop_worker()
        self._server.close()


def _execute_skill_type():
    from embodied_stack_interfaces.action import ExecuteSkill

    return ExecuteSkill


def main(args=None) -> int:
    return run_node(VLAPolicyNode, args)


if __name__ == "__main__":
    raise SystemExit(main())
