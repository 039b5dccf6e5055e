"""The demo's operator: one pick-and-place task through ROS, judged and recorded.

Talks to the stack only through its public interfaces: ``/sim/ground_truth/objects``
(to choose a feasible task and judge it -- evaluation topics, never fed to the
policy), ``/perception/ground_object`` (GroundObject) and ``/perception/objects`` (where the
grounded object and container are), ``/vla_policy/execute_skill`` (ExecuteSkill, with the
grounded ``target_position``/``place_position`` the policy needs: it parses no instruction
itself) and ``/camera/color/image_raw`` (recorded). It publishes ``/sim/task_success``
(std_msgs/Bool) so the policy's skill ends when the judge says so. The language planner path
(``/instruction`` -> executive -> grounding -> the same skill) is the executive's; the demo
sends one skill directly so that it shows the policy on the held-out phrasings.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import rclpy
from diagnostic_msgs.msg import KeyValue
from embodied_stack_interfaces.action import ExecuteSkill
from embodied_stack_interfaces.msg import DetectedObjectArray
from embodied_stack_interfaces.srv import GroundObject
from rclpy.action import ActionClient
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from rclpy.node import Node
from sensor_msgs.msg import Image
from std_msgs.msg import Bool

from embodied_stack.bringup.runner import StackRunner
from embodied_stack.bringup.stack import load_stack
from embodied_stack.datasets.video import VideoEncoder
from embodied_stack.executive.grounding import format_position
from embodied_stack.ros import qos
from embodied_stack.ros.images import ImageDecodeError, rgb_from_image
from embodied_stack.ros.node_main import destroy_node
from embodied_stack.sim.instructions import sample_instruction
from embodied_stack.sim.judge import SUCCESS_HOLD_S, LastingSuccess, pick_place_success
from embodied_stack.sim.world import GroundTruthObject
from embodied_stack.vla.grounded_goal import split_instruction

GRASPABLE = ("cube", "cylinder", "sphere")


@dataclass
class DemoResult:
    instruction: str = ""
    target: str = ""
    grounded: str = ""
    success: bool = False
    message: str = ""
    duration_s: float = 0.0
    video: Path | None = None
    frames: int = 0
    perception_objects: int = 0
    rates_hz: dict[str, float] = field(default_factory=dict)


def _gt_from_msg(msg: DetectedObjectArray) -> list[GroundTruthObject]:
    out = []
    for o in msg.objects:
        p, q = o.pose.position, o.pose.orientation
        attrs = {kv.key: kv.value for kv in o.attributes}
        out.append(GroundTruthObject(name=o.id, label=o.label, color=attrs.get("color", ""),
                                     position=np.array([p.x, p.y, p.z]),
                                     quaternion_xyzw=np.array([q.x, q.y, q.z, q.w]),
                                     size=np.array([o.size.x, o.size.y, o.size.z])))
    return out


class DemoOperator(Node):
    def __init__(self) -> None:
        super().__init__("demo_operator")
        self.ground_truth: list[GroundTruthObject] = []
        self.frames: list[np.ndarray] = []
        self.recording = False
        self.image_count = 0
        self.perception_objects = 0
        self.perceived: dict[str, tuple[float, float, float]] = {}  # visible object id -> position, m
        self.task: tuple[str, str] | None = None
        self.create_subscription(DetectedObjectArray, "/sim/ground_truth/objects", self._on_gt, qos.EVENTS)
        self.create_subscription(DetectedObjectArray, "/perception/objects", self._on_perceived, qos.EVENTS)
        self.create_subscription(Image, "/camera/color/image_raw", self._on_image, qos.SENSOR)
        self.success_pub = self.create_publisher(Bool, "/sim/task_success", qos.COMMAND)
        # success ends the skill only once the object stayed in the container (the evaluation's rule;
        # ground truth carries no contacts, so "released" is not checked here)
        self._lasting = LastingSuccess(SUCCESS_HOLD_S)
        self.skill = ActionClient(self, ExecuteSkill, "/vla_policy/execute_skill")
        self.grounding = self.create_client(GroundObject, "/perception/ground_object")
        self.create_timer(0.1, self._publish_success)
        self.executor_ = SingleThreadedExecutor(context=self.context)
        self.executor_.add_node(self)

    # --- callbacks ---------------------------------------------------------------------------------
    def _on_gt(self, msg: DetectedObjectArray) -> None:
        self.ground_truth = _gt_from_msg(msg)

    def _on_perceived(self, msg: DetectedObjectArray) -> None:
        self.perception_objects = len(msg.objects)
        self.perceived = {o.id: (o.pose.position.x, o.pose.position.y, o.pose.position.z)
                          for o in msg.objects if o.visible}

    def _on_image(self, msg: Image) -> None:
        self.image_count += 1
        if self.recording:
            try:
                self.frames.append(rgb_from_image(msg).copy())
            except ImageDecodeError as e:
                self.get_logger().warning(f"unrecordable image: {e}", throttle_duration_sec=2.0)

    def judge(self) -> bool:
        return (self.task is not None and bool(self.ground_truth)
                and pick_place_success(self.ground_truth, *self.task))

    def _publish_success(self) -> None:
        if self.task is not None:
            self.success_pub.publish(Bool(data=self._lasting.update(time.monotonic(), self.judge())))

    # --- flow --------------------------------------------------------------------------------------
    def spin_until(self, predicate: Callable[[], bool], timeout: float) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if predicate():
                return True
            self.executor_.spin_once(timeout_sec=0.05)
        return predicate()

    def ground(self, phrase: str) -> tuple[str | None, str]:
        """Perception's GroundObject: (object id or None, what it said)."""
        if not self.grounding.wait_for_service(timeout_sec=5.0):
            return None, "perception's grounding service is not available"
        fut = self.grounding.call_async(GroundObject.Request(phrase=phrase))
        if not self.spin_until(fut.done, 10.0) or fut.result() is None:
            return None, f"no answer from perception for {phrase!r}"
        r = fut.result()
        status = {0: "FOUND", 1: "NOT_FOUND", 2: "AMBIGUOUS"}.get(r.status, str(r.status))
        found = r.object_id if r.status == GroundObject.Response.FOUND else None
        return found, f"{status} {r.object_id} (score {r.score:.2f}): {r.message}"

    def choose_task(self, rng: np.random.Generator, language: str) -> tuple[GroundTruthObject, str]:
        objects = [o for o in self.ground_truth if o.label in GRASPABLE]
        target = objects[int(rng.integers(len(objects)))]
        text = sample_instruction("pick_place", rng, target.color, target.label, place="bowl",
                                  language=language, split="eval").text
        return target, text

    def run(self, seed: int, language: str, timeout_s: float, out_dir: Path, wait_s: float = 180.0,
            log: Callable[[str], None] = print) -> DemoResult:
        result = DemoResult()
        log("waiting for the stack (ground truth, camera, policy action server) ...")
        ready = self.spin_until(lambda: bool(self.ground_truth) and self.image_count > 0
                                and self.skill.server_is_ready(), wait_s)
        if not ready:
            raise RuntimeError(f"stack not ready after {wait_s:.0f} s: "
                               f"ground truth={bool(self.ground_truth)}, "
                               f"images={self.image_count}, policy server={self.skill.server_is_ready()}")
        target, text = self.choose_task(np.random.default_rng(seed), language)
        self.task = (target.name, "bowl")
        self._lasting.reset()
        result.instruction, result.target = text, target.name
        log(f"task: '{text}'  (target {target.name}: {target.color} {target.label})")

        phrase, container = split_instruction(text)
        self.spin_until(lambda: len(self.perceived) > 1, 10.0)  # tracks are confirmed over a few frames
        target_id, result.grounded = self.ground(phrase)
        log(f"perception grounding: {result.grounded}")
        place_id, grounded_place = self.ground(f"the {container or 'bowl'}")
        log(f"perception grounding of the {container or 'bowl'}: {grounded_place}")
        ids = [i for i in (target_id, place_id) if i]
        if len(ids) < 2 or not self.spin_until(lambda: all(i in self.perceived for i in ids), 5.0):
            result.message = "perception did not ground the object and the container; the policy was not run"
            return result
        arguments = {"object": target_id, "target": place_id,
                     "target_position": format_position(self.perceived[target_id]),
                     "place_position": format_position(self.perceived[place_id])}

        self.frames, self.recording = [], True
        t0 = time.monotonic()
        goal = ExecuteSkill.Goal(skill="pick_place", instruction=text, timeout_s=timeout_s,
                                 arguments=[KeyValue(key=k, value=v) for k, v in arguments.items()])
        send = self.skill.send_goal_async(goal,
                                          feedback_callback=lambda f: None)
        if not self.spin_until(send.done, 10.0) or not send.result().accepted:
            raise RuntimeError("the VLA policy rejected the goal")
        done = send.result().get_result_async()
        self.spin_until(done.done, timeout_s + 15.0)
        self.recording = False
        result.duration_s = time.monotonic() - t0
        if done.done():
            r = done.result().result
            result.message = r.message
        else:
            result.message = "no result from the policy in time"
        self.spin_until(lambda: False, 0.5)  # last ground truth
        result.success = self.judge()
        result.perception_objects = self.perception_objects
        result.frames = len(self.frames)
        if self.frames:
            h, w = self.frames[0].shape[:2]
            fps = max(1, round(len(self.frames) / max(result.duration_s, 1e-3)))
            result.video = out_dir / f"demo_seed{seed}.mp4"
            enc = VideoEncoder(result.video, w, h, fps)
            for f in self.frames:
                enc.add(f)
            enc.close()
        return result


def run_demo(stack_name: str, seed: int, language: str, timeout_s: float, out_dir: Path) -> int:
    """Launch ``stack_name`` (sim bridge seeded with ``seed``), run one task, stop the stack.
    Returns 0 when the task ran end to end (whatever its outcome), 1 when the stack failed."""
    stack = load_stack(stack_name)
    for node in stack.nodes:
        if node.executable == "sim_bridge":
            node.parameters["seed"] = seed
    runner = StackRunner(stack)
    runner_code: list[int] = []
    thread = threading.Thread(target=lambda: runner_code.append(runner.run()), name="stack", daemon=True)
    thread.start()
    rclpy.init()
    operator = DemoOperator()
    code = 1
    try:
        r = operator.run(seed, language, timeout_s, out_dir, log=lambda s: print(f"[demo] {s}", flush=True))
        print("\n[demo] ---------------- result ----------------")
        print(f"[demo] instruction : {r.instruction}")
        print(f"[demo] grounding   : {r.grounded or 'perception did not answer'}")
        print(f"[demo] policy      : {r.message} (skill ran {r.duration_s:.1f} s)")
        print(f"[demo] success     : {r.success} (judged from simulator ground truth)")
        print(f"[demo] perception  : {r.perception_objects} objects tracked")
        print(f"[demo] video       : {r.video} ({r.frames} frames)", flush=True)
        code = 0
    except RuntimeError as e:
        print(f"[demo] failed: {e}", flush=True)
    except (KeyboardInterrupt, ExternalShutdownException):
        code = 130
    finally:
        destroy_node(operator)
        rclpy.try_shutdown()
        runner.request_stop()
        thread.join(timeout=30)
    if runner_code and runner_code[0] != 0:
        print("[demo] a required node of the stack died; see its output above")
        return 1
    return code
