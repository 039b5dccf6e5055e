"""Skill executive node: instruction in, plan out, each step run by its skill server, replanned on failure.

Topics (relative names: remap them in the stack YAML)
  subscribes ``instruction`` (std_msgs/String, EVENTS QoS): plan and execute, no result (use the action)
  subscribes ``perception/objects`` (embodied_stack_interfaces/DetectedObjectArray): the world model's
             objects and the positions skill goals are grounded to; ``perception/people``
             (TrackedPersonArray): people as ``person_<id>``
  publishes  ``~/plan`` (embodied_stack_interfaces/TaskPlan, EVENTS): every plan, replans included
  publishes  ``~/status`` (std_msgs/String, LATCHED): JSON ``TaskStatus`` (executive/task.py) on change
  publishes  ``say`` (std_msgs/String): the ``say`` skill's text, also spoken with espeak-ng where installed
  publishes  ``/diagnostics``: perception input age and rate, tasks run and their outcome, servers up
Actions
  serves  ``~/execute_instruction`` (embodied_stack_interfaces/ExecuteInstruction): feedback per step,
          cancel stops the running step's goal; result: success, status, message, last plan, replans
  calls   each skill's ``server`` from config/skills.yaml (executive/routing.py): ExecuteSkill goals
          with grounded arguments (executive/grounding.py) and the policy's training phrasing
          (executive/describe.py); Nav2 NavigateToPose for ``navigate_to``; ``say``/``wait``/``stop`` here
Services
  calls   ``perception/ground_object`` (GroundObject) for an object perception has re-tracked under a new id
Parameters (config/nodes/executive.yaml): see SPECS.

One task at a time: a new instruction (topic or action) preempts the running one - its step's goal is
cancelled, its action goal ends "preempted" - which is also how "stop" stops the robot.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from diagnostic_msgs.msg import DiagnosticArray, KeyValue
from embodied_stack_interfaces.action import ExecuteInstruction
from embodied_stack_interfaces.msg import DetectedObjectArray, TaskPlan, TrackedPersonArray
from embodied_stack_interfaces.msg import PlanStep as PlanStepMsg
from rclpy.action import ActionServer, CancelResponse, GoalResponse
from rclpy.callback_groups import ReentrantCallbackGroup
from rclpy.node import Node
from std_msgs.msg import String

from embodied_stack.common.rate_meter import RateMeter
from embodied_stack.config import ConfigError
from embodied_stack.executive.describe import describe_step, language_of, policy_instruction
from embodied_stack.executive.grounding import GroundingError, pose_target, skill_arguments
from embodied_stack.executive.perceived import PerceivedObject, WorldFeed, person_dict
from embodied_stack.executive.routing import NAVIGATE_TO_POSE, SELF, routes_for
from embodied_stack.executive.skill_clients_node import SkillClients
from embodied_stack.executive.task import PLANNING, REPLANNING, RUNNING, ComposingPlanner, TaskStatus
from embodied_stack.planner.executor import CANCELLED, ExecutionReport, PlanExecutor
from embodied_stack.planner.types import PLAN, PlanResult, PlanStep, StepOutcome
from embodied_stack.planner.world import WorldModel
from embodied_stack.ros import diagnostics, qos
from embodied_stack.ros.node_main import run_node
from embodied_stack.ros.params import InvalidParameterError, Parameters, ParamSpec

PREEMPTED = "preempted"

SPECS = [
    ParamSpec("planner_config", "config/planner.yaml",
              "planner settings: backend, timeout_s, max_replans, the skills and places files",
              read_only=True),
    ParamSpec("backend", "", "planner backend overriding the config's ('' = the config's)",
              choices=["", "embedded", "http", "transformers"], read_only=True),
    ParamSpec("robot_at", "", "place id where the robot is ('' = unknown); 'table' for an arm at the table",
              read_only=True),
    ParamSpec("object_place", "", "place id given to every perceived object ('' = none); 'table' on the "
              "tabletop, so 'put X on the table' needs no navigation", read_only=True),
    ParamSpec("merge_composites", True, "merge pick + place into pick_place (skills.yaml composite_of) "
              "for a policy that does both in one go"),
    ParamSpec("map_frame", "map", "frame of the places' poses (config/places.yaml) in navigation goals",
              read_only=True),
    ParamSpec("world_wait_s", 5.0, "how long an instruction waits for perception's first objects "
              "before planning without them, s", min=0.0, max=60.0),
    ParamSpec("server_wait_s", 5.0, "how long a step waits for its action server, s", min=0.1, max=60.0),
    ParamSpec("cancel_wait_s", 3.0, "how long a cancelled step waits for its server to end the goal, s",
              min=0.1, max=30.0),
    ParamSpec("grounding_timeout_s", 3.0, "how long to wait for perception's GroundObject, s",
              min=0.1, max=30.0),
    ParamSpec("speak", True, "also speak say-texts with espeak-ng where it is installed"),
    ParamSpec("objects_stale_s", 2.0, "perception objects older than this are STALE on /diagnostics, s",
              min=0.1, max=60.0),
    ParamSpec("diagnostics_period_s", 1.0, "period of /diagnostics publication, s", min=0.1, max=10.0,
              read_only=True),
]


@dataclass
class _Task:
    """One instruction being executed (in its own worker thread)."""

    instruction: str
    status: TaskStatus
    feedback: Any = None  # callable(TaskStatus) for the action's feedback
    executor: PlanExecutor | None = None
    report: ExecutionReport | None = None
    plan_steps: list[PlanStep] = field(default_factory=list)
    world: WorldModel | None = None
    preempted: bool = False
    cancel_requested: threading.Event = field(default_factory=threading.Event)
    step_abort: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    started: float = field(default_factory=time.monotonic)

    def cancel(self, preempt: bool = False) -> None:
        with self.lock:
            self.preempted = self.preempted or preempt
            self.cancel_requested.set()
            executor = self.executor
        if executor is not None:
            executor.cancel()


class ExecutiveNode(Node):
    def __init__(self) -> None:
        super().__init__("executive")
        self.params = Parameters(self, SPECS)
        p = self.params
        from embodied_stack.planner.config import load_planner_config
        from embodied_stack.planner.facade import Planner

        try:
            self.planner = Planner(load_planner_config(p["planner_config"]), backend=p["backend"] or None)
            self.routes = routes_for(self.planner.catalogue)
        except (ConfigError, ValueError) as e:
            raise InvalidParameterError(f"node '{self.get_name()}': {e}") from e
        for key in ("robot_at", "object_place"):
            if p[key] and p[key] not in self.planner.places:
                raise InvalidParameterError(
                    f"node '{self.get_name()}': {key}='{p[key]}' is not a place id of "
                    f"{self.planner.config.places}; known: {sorted(self.planner.places)} (or '' for none)")
        self.planner.warm_up()  # the sentence model / local LM load now, not inside the first instruction
        self.feed = WorldFeed(p["object_place"])
        self.objects_meter = RateMeter(window=50)
        self.counts: dict[str, int] = {}
        self.last = TaskStatus()
        self._task: _Task | None = None
        self._task_lock = threading.Lock()
        self._closing = threading.Event()
        self._speech: list[subprocess.Popen] = []
        self._espeak = shutil.which("espeak-ng") if p["speak"] else None

        group = ReentrantCallbackGroup()
        self.create_subscription(String, "instruction", self._on_instruction, qos.EVENTS,
                                 callback_group=group)
        self.create_subscription(DetectedObjectArray, "perception/objects", self._on_objects, qos.EVENTS,
                                 callback_group=group)
        self.create_subscription(TrackedPersonArray, "perception/people", self._on_people, qos.EVENTS,
                                 callback_group=group)
        self.plan_pub = self.create_publisher(TaskPlan, "~/plan", qos.EVENTS)
        self.status_pub = self.create_publisher(String, "~/status", qos.LATCHED)
        self.say_pub = self.create_publisher(String, "say", qos.EVENTS)
        self.diag_pub = self.create_publisher(DiagnosticArray, "/diagnostics", qos.EVENTS)
        self.skills = SkillClients(self, self.routes, p["server_wait_s"], p["cancel_wait_s"])
        self.action_server = ActionServer(
            self, ExecuteInstruction, "~/execute_instruction", self._execute,
            goal_callback=self._on_goal, cancel_callback=lambda _g: CancelResponse.ACCEPT,
            callback_group=group)
        self.create_timer(p["diagnostics_period_s"], self._publish_diagnostics, callback_group=group)
        self.status_pub.publish(String(data=self.last.to_json()))
        servers = sorted({r.action for r in self.routes.values() if r.kind != SELF})
        self.get_logger().info(f"executive ready: planner '{self.planner.backend.name}', "
                               f"skill servers {servers}, robot at '{p['robot_at'] or '?'}'")

    # --- inputs ------------------------------------------------------------------------------
    def _on_objects(self, msg: DetectedObjectArray) -> None:
        objects = []
        for o in msg.objects:
            p, s = o.pose.position, o.size
            objects.append(PerceivedObject(o.id, o.label, {kv.key: kv.value for kv in o.attributes},
                                           (p.x, p.y, p.z), (s.x, s.y, s.z), bool(o.visible)))
        self.feed.set_objects(objects, msg.header.frame_id, time.time())
        self.objects_meter.record(time.time())

    def _on_people(self, msg: TrackedPersonArray) -> None:
        people = [person_dict(t.id, (t.position.x, t.position.y, t.position.z)) for t in msg.people]
        self.feed.set_people(people, msg.header.frame_id)

    def _on_instruction(self, msg: String) -> None:
        text = msg.data.strip()
        if not text:
            self.get_logger().warning("ignored an empty instruction")
            return
        self._start(text)

    # --- tasks -------------------------------------------------------------------------------
    def _start(self, instruction: str, feedback: Any = None) -> _Task:
        """Start ``instruction`` in a worker thread, preempting the running task."""
        task = _Task(instruction, TaskStatus(state=PLANNING, instruction=instruction,
                                                     language=language_of(instruction)), feedback)
        with self._task_lock:
            previous, self._task = self._task, task
        if previous is not None and not previous.done.is_set():
            self.get_logger().info(f"'{instruction}' preempts '{previous.instruction}'")
            previous.cancel(preempt=True)
        threading.Thread(target=self._work, args=(task, previous), name="executive-task", daemon=True).start()
        return task

    def _work(self, task: _Task, previous: _Task | None) -> None:
        try:
            if previous is not None:  # bounded: its step is cancelled within cancel_wait_s
                previous.done.wait(self.params["cancel_wait_s"] + self.planner.config.timeout_s + 5.0)
            task.report = self._run(task)
            task.status.state, task.status.message = task.report.status, task.report.message
            task.status.replans = task.report.replans
        except Exception as e:  # a bug must end the task with its reason, not leave it running forever
            self.get_logger().error(f"task '{task.instruction}' crashed: {type(e).__name__}: {e}")
            task.status.state, task.status.message = "failed", f"executive error: {type(e).__name__}: {e}"
        finally:
            if task.preempted and task.status.state == CANCELLED:
                task.status.state = PREEMPTED
            self.counts[task.status.state] = self.counts.get(task.status.state, 0) + 1
            task.done.set()
            self._publish_status(task)
            line = f"'{task.instruction}': {task.status.state}: {task.status.message}"
            if task.status.state == "succeeded":
                self.get_logger().info(line)
            else:
                self.get_logger().warning(line)

    def _run(self, task: _Task) -> ExecutionReport:
        self._publish_status(task)
        if not self.feed.has_objects and self.params["world_wait_s"] > 0:
            end = time.monotonic() + self.params["world_wait_s"]
            while not self.feed.wait_first(0.05) and time.monotonic() < end:
                if task.cancel_requested.is_set():
                    break
        world = WorldModel(places=dict(self.planner.places), robot_at=self.params["robot_at"] or None)
        task.world = world

        def observe(w: WorldModel) -> None:
            task.status.state, task.status.replans = REPLANNING, task.status.replans + 1
            self._publish_status(task)
            self.feed.observe(w)

        self.feed.observe(world)
        planner = ComposingPlanner(self.planner, self.params["merge_composites"],
                                   lambda result: self._on_plan(task, result, world))
        executor = PlanExecutor(planner, world, lambda step: self._run_step(task, step, world),
                                observe=observe, cancel_step=lambda _s: self._cancel_step(task))
        with task.lock:
            task.executor = executor
        if task.cancel_requested.is_set():
            executor.cancel()
        return executor.execute(task.instruction)

    def _on_plan(self, task: _Task, result: PlanResult, world: WorldModel) -> None:
        task.plan_steps = list(result.steps)
        task.status.plan = [s.to_dict() for s in result.steps]
        task.status.steps, task.status.step, task.status.skill = len(result.steps), 0, ""
        task.status.message = result.message
        if result.status == PLAN:
            self.plan_pub.publish(self._plan_msg(task.instruction, result, world))
        self._publish_status(task)

    def _plan_msg(self, instruction: str, result: PlanResult, world: WorldModel) -> TaskPlan:
        language = language_of(instruction)
        msg = TaskPlan(instruction=instruction, language=language)
        msg.header.stamp = self.get_clock().now().to_msg()
        msg.steps = [PlanStepMsg(skill=s.skill, description=describe_step(s, world, language),
                                 arguments=[KeyValue(key=k, value=v) for k, v in s.arguments.items()])
                     for s in result.steps]
        return msg

    # --- steps -------------------------------------------------------------------------------
    def _run_step(self, task: _Task, step: PlanStep, world: WorldModel) -> StepOutcome:
        """One step: the executive's own skills here, the rest grounded and sent to their server."""
        task.step_abort.clear()
        index = next((i for i in range(task.status.step, len(task.plan_steps))
                      if task.plan_steps[i] == step), task.status.step)
        task.status.state, task.status.step, task.status.skill = RUNNING, index + 1, step.skill
        task.status.progress, task.status.skill_state = 0.0, ""
        self._publish_status(task)
        route = self.routes[step.skill]
        if route.kind == SELF:
            return self._run_self(task, step)
        feedback = lambda progress, state: self._on_step_feedback(task, progress, state)  # noqa: E731
        try:
            if route.kind == NAVIGATE_TO_POSE:
                target = pose_target(step, world, self.params["map_frame"], self.feed.objects_frame,
                                     self.feed.people_frame, self.feed.position)
                return self.skills.run_pose(route, target, feedback)
            arguments = skill_arguments(step, world, self.feed.position, self._reground)
        except GroundingError as e:
            return StepOutcome(False, str(e))
        timeout = self.planner.catalogue[step.skill].timeout_for(step)
        return self.skills.run_skill(route, step.skill, arguments, policy_instruction(step, world),
                                      timeout, feedback)

    def _reground(self, phrase: str) -> tuple[str | None, str]:
        return self.skills.ground(phrase, self.params["grounding_timeout_s"])

    def _on_step_feedback(self, task: _Task, progress: float, state: str) -> None:
        """A skill server's feedback goes to the action's feedback only (``~/status`` changes per step)."""
        task.status.progress, task.status.skill_state = progress, state
        if task.feedback is not None:
            task.feedback(task.status)

    def _cancel_step(self, task: _Task) -> None:
        task.step_abort.set()
        self.skills.cancel()

    def _run_self(self, task: _Task, step: PlanStep) -> StepOutcome:
        if step.skill == "say":
            text = step.arguments.get("text", "")
            self.say_pub.publish(String(data=text))
            self._speak(text)
            return StepOutcome(True, f"said '{text}'")
        if step.skill == "wait":
            seconds = float(step.arguments.get("seconds", "0") or 0.0)
            if task.step_abort.wait(seconds):
                return StepOutcome(False, "cancelled")
            return StepOutcome(True, f"waited {seconds:g} s")
        # stop: the running task was preempted by this one; make sure no goal is left running
        self.skills.cancel()
        return StepOutcome(True, "stopped")

    def _speak(self, text: str) -> None:
        """espeak-ng in the background (never blocks the executor); finished ones are reaped here."""
        self._speech = [s for s in self._speech if s.poll() is None]
        if self._espeak and text:
            voice = "cmn" if language_of(text) in ("zh", "mul") else "en"
            try:
                self._speech.append(subprocess.Popen([self._espeak, "-v", voice, text],
                                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            except OSError as e:
                self.get_logger().warning(f"espeak-ng failed: {e}", throttle_duration_sec=30.0)

    # --- outputs -------------------------------------------------------------------------------
    def _publish_status(self, task: _Task) -> None:
        """``~/status`` for the current task (a preempted one is silent there), feedback for its goal."""
        with self._task_lock:
            current = task is self._task
        if current:
            self.last = task.status
            self.status_pub.publish(String(data=task.status.to_json()))
        if task.feedback is not None:
            task.feedback(task.status)

    def _publish_diagnostics(self) -> None:
        hw = self.get_fully_qualified_name()
        statuses = [diagnostics.stream_status(
            f"{self.get_name()}: perception objects in", hw, self.objects_meter, time.time(),
            diagnostics.StreamExpectation(stale_after_s=self.params["objects_stale_s"]))]
        ready = self.skills.ready()
        values = {"state": self.last.state, "instruction": self.last.instruction,
                  **{f"tasks_{k}": str(v) for k, v in sorted(self.counts.items())},
                  **{f"server {k}": "up" if v else "down" for k, v in sorted(ready.items())}}
        message = f"{self.last.state}" + (f": {self.last.message}" if self.last.message else "")
        statuses.append(diagnostics.status(f"{self.get_name()}: tasks", hw, diagnostics.OK, message, values))
        self.diag_pub.publish(diagnostics.array(self.get_clock(), statuses))

    # --- action ----------------------------------------------------------------------------------
    def _on_goal(self, goal: Any) -> GoalResponse:
        if not goal.instruction.strip():
            self.get_logger().warning("rejected an instruction goal without an instruction")
            return GoalResponse.REJECT
        return GoalResponse.ACCEPT

    def _execute(self, handle: Any) -> Any:
        def feedback(status: TaskStatus) -> None:
            handle.publish_feedback(ExecuteInstruction.Feedback(
                step=status.step, steps=status.steps, skill=status.skill,
                state=status.skill_state if status.state == RUNNING and status.skill_state else status.state,
                progress=float(status.progress), replans=status.replans))

        task = self._start(handle.request.instruction.strip(), feedback)
        while not task.done.wait(0.05):
            if handle.is_cancel_requested:
                task.cancel()
            if task.preempted or self._closing.is_set():
                break  # return now: the newer instruction's goal (or the shutdown) needs this thread
        result = ExecuteInstruction.Result(duration_s=float(time.monotonic() - task.started))
        report = task.report
        if report is not None:
            result.replans = report.replans
            if report.plan.status == PLAN and task.world is not None:
                result.plan = self._plan_msg(task.instruction, report.plan, task.world)
        result.status, result.message = task.status.state, task.status.message
        result.success = task.done.is_set() and task.status.state == "succeeded"
        if task.preempted or not task.done.is_set():
            result.status = PREEMPTED if task.preempted else CANCELLED
            result.message = "preempted by a newer instruction" if task.preempted else "the executive stopped"
            handle.abort()
        elif result.success:
            handle.succeed()
        elif handle.is_cancel_requested and result.status == CANCELLED:
            handle.canceled()
        else:
            handle.abort()
        return result

    def close(self) -> None:
        self._closing.set()
        with self._task_lock:
            task = self._task
        if task is not None and not task.done.is_set():
            task.cancel()
            task.done.wait(self.params["cancel_wait_s"] + 1.0)
        self.skills.close()


def main(args: list[str] | None = None) -> int:
    return run_node(ExecutiveNode, args, multithreaded=True)


if __name__ == "__main__":
    raise SystemExit(main())
