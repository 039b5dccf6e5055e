"""The executive node against real action servers in another process (executive_skill_peer.py):
a failed step is replanned and the task completes; a cancel stops the running step at its server; a
timed-out skill is cancelled at its server and the task ends with the reason; a new instruction
preempts the running one; ``say`` publishes its text.

The test process plays perception (it publishes DetectedObjectArray on /perception/objects: the
executive's world model and the positions it grounds skill goals to) and the user.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import yaml
from diagnostic_msgs.msg import DiagnosticArray, KeyValue
from embodied_stack_interfaces.action import ExecuteInstruction
from embodied_stack_interfaces.msg import DetectedObject, DetectedObjectArray, TaskPlan
from rclpy.action import ActionClient
from std_msgs.msg import String

from embodied_stack.config import load_yaml
from embodied_stack.paths import resolve
from embodied_stack.ros import qos
from ros_testing import RosHarness, start_node_process, stop_process

HERE = Path(__file__).resolve().parent
PICK_TIMEOUT_S = 3.0
#: id, colour, shape, position (m, base_link)
SCENE = [("obj_1", "red", "cube", (0.18, -0.05, 0.016)), ("obj_2", "green", "cube", (0.15, 0.08, 0.016)),
         ("obj_5", "white", "bowl", (0.08, 0.19, 0.02)), ("obj_6", "blue", "bin", (0.08, -0.19, 0.018))]


def _pump(proc: subprocess.Popen, lines: list[str]) -> None:
    for line in proc.stdout:
        lines.append(line)


class Bench:
    """The test's side: fake-free perception input, the user's topic and action, what comes back."""

    def __init__(self, peer_lines: list[str], executive_lines: list[str]) -> None:
        self.peer_lines, self.executive_lines = peer_lines, executive_lines
        self.h = RosHarness("executive_test")
        node = self.h.node
        self.status: list[dict] = []
        self.plans: list[TaskPlan] = []
        self.said: list[str] = []
        self.diagnostics: dict[str, dict[str, str]] = {}  # status name -> values
        node.create_subscription(String, "/executive/status",
                                 lambda m: self.status.append(json.loads(m.data)), qos.LATCHED)
        node.create_subscription(TaskPlan, "/executive/plan", self.plans.append, qos.EVENTS)
        node.create_subscription(String, "/say", lambda m: self.said.append(m.data), qos.EVENTS)
        node.create_subscription(DiagnosticArray, "/diagnostics", self._on_diagnostics, qos.EVENTS)
        self.instruction = node.create_publisher(String, "/instruction", qos.EVENTS)
        self.objects = node.create_publisher(DetectedObjectArray, "/perception/objects", qos.EVENTS)
        self.client = ActionClient(node, ExecuteInstruction, "/executive/execute_instruction")
        node.create_timer(0.2, self._publish_objects)

    def _on_diagnostics(self, msg: DiagnosticArray) -> None:
        for st in msg.status:
            self.diagnostics[st.name] = {kv.key: kv.value for kv in st.values}

    def _publish_objects(self) -> None:
        msg = DetectedObjectArray()
        msg.header.frame_id = "base_link"
        for oid, color, shape, (x, y, z) in SCENE:
            o = DetectedObject(id=oid, label=shape, confidence=1.0, visible=True)
            o.attributes = [_kv("color", color), _kv("shape", shape)]
            o.pose.position.x, o.pose.position.y, o.pose.position.z = x, y, z
            o.size.x = o.size.y = o.size.z = 0.03
            msg.objects.append(o)
        self.objects.publish(msg)

    def events(self, **match) -> list[dict]:
        """The peer's JSON events that have every key/value of ``match``."""
        out = []
        for line in list(self.peer_lines):
            if line.startswith("{"):
                e = json.loads(line)
                if all(e.get(k) == v for k, v in match.items()):
                    out.append(e)
        return out

    def send(self, instruction: str, feedback: list | None = None):
        """Send an instruction goal; the accepted goal handle."""
        fb = (lambda m: feedback.append(m.feedback)) if feedback is not None else None
        future = self.client.send_goal_async(ExecuteInstruction.Goal(instruction=instruction),
                                             feedback_callback=fb)
        assert self.h.spin_until(future.done, 10), "the executive did not answer the goal"
        handle = future.result()
        assert handle.accepted
        return handle

    def result(self, handle, timeout: float):
        future = handle.get_result_async()
        assert self.h.spin_until(future.done, timeout), f"no result in {timeout} s:\n{self.log()}"
        return future.result()

    def final_status(self, instruction: str, timeout: float) -> dict:
        ends = ("succeeded", "failed", "cancelled", "not_planned", "preempted")
        def ended() -> list[dict]:
            return [s for s in self.status if s["instruction"] == instruction and s["state"] in ends]

        assert self.h.spin_until(lambda: bool(ended()), timeout), \
            f"'{instruction}' never ended:\n{self.log()}"
        return ended()[-1]

    def log(self) -> str:
        return "".join(self.executive_lines[-30:]) + "--- peer ---\n" + "".join(self.peer_lines[-20:])


def _kv(key: str, value: str) -> KeyValue:
    return KeyValue(key=key, value=value)


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("executive")
    skills = load_yaml("config/skills.yaml")
    skills["pick_place"]["timeout_s"] = PICK_TIMEOUT_S
    (tmp / "skills.yaml").write_text(yaml.safe_dump(skills, allow_unicode=True), encoding="utf-8")
    planner = load_yaml("config/planner.yaml")
    planner.update(skills=str(tmp / "skills.yaml"), places=str(resolve("config/places.yaml")), max_replans=1)
    planner["embedded"]["use_sentence_model"] = False  # the rules cover these instructions; starts faster
    (tmp / "planner.yaml").write_text(yaml.safe_dump(planner, allow_unicode=True), encoding="utf-8")

    peer = subprocess.Popen([sys.executable, str(HERE / "executive_skill_peer.py"), "--fail-once", "obj_1",
                             "--hang", "obj_2"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"}, start_new_session=True)
    executive = start_node_process("embodied_stack.executive.node",
                                   "-p", f"planner_config:={tmp / 'planner.yaml'}",
                                   "-p", "robot_at:=table", "-p", "object_place:=table",
                                   "-p", "server_wait_s:=15.0")
    peer_lines: list[str] = []
    executive_lines: list[str] = []
    for proc, lines in ((peer, peer_lines), (executive, executive_lines)):
        threading.Thread(target=_pump, args=(proc, lines), daemon=True).start()
    b = Bench(peer_lines, executive_lines)
    try:
        ready = lambda: b.client.server_is_ready() and b.status and b.events(event="ready")  # noqa: E731
        assert b.h.spin_until(ready, 60), f"executive or peer not up:\n{b.log()}"
        yield b
    finally:
        b.h.close()
        try:
            code, _ = stop_process(executive, signal.SIGINT, timeout=20)
        finally:
            stop_process(peer, signal.SIGINT, timeout=10)
    out = "".join(executive_lines)
    assert code == 0 and "Traceback" not in out, out
    assert "Ignoring unexpected" not in out, out  # an answer of a skill server was dropped (see _in_spin)


def test_failed_step_is_replanned_and_the_task_completes(bench):
    feedback: list = []
    handle = bench.send("把红色方块放到碗里", feedback)
    r = bench.result(handle, 60).result
    assert r.success and r.status == "succeeded" and r.replans == 1, (r, bench.log())
    assert [(s.skill, {kv.key: kv.value for kv in s.arguments}) for s in r.plan.steps] == [
        ("pick_place", {"object": "obj_1", "target": "obj_5"})]
    goals = [g for g in bench.events(event="goal", server="execute_skill")
             if g["arguments"]["object"] == "obj_1"]
    assert len(goals) == 2, goals  # failed, then the same step from the new plan
    for g in goals:  # grounded: perception's positions, and the phrasing the policy was trained on
        assert g["skill"] == "pick_place" and g["instruction"] == "put the red cube in the bowl", g
        assert g["arguments"] == {"object": "obj_1", "target": "obj_5",
                                  "target_position": "0.1800,-0.0500,0.0160",
                                  "place_position": "0.0800,0.1900,0.0200"}, g
        assert g["timeout_s"] == PICK_TIMEOUT_S
    assert [e["success"] for e in bench.events(event="result", object="obj_1")] == [False, True]
    assert "replanning" in [f.state for f in feedback], [f.state for f in feedback]
    plan = bench.plans[-1]
    assert plan.language == "zh" and plan.steps[0].description.startswith("把红色方块放到"), plan


def test_cancel_stops_the_running_step(bench):
    feedback: list = []
    handle = bench.send("go to the kitchen", feedback)
    assert bench.h.spin_until(lambda: bench.events(event="goal", server="navigate_to_pose"), 20), bench.log()
    assert bench.h.spin_until(lambda: any(f.state == "2.50 m to go" for f in feedback), 10), \
        "the navigation server's feedback never reached the instruction's"
    goal = bench.events(event="goal", server="navigate_to_pose")[-1]
    assert (goal["frame"], goal["x"], goal["y"]) == ("map", -2.0, 0.0), goal  # config/places.yaml kitchen
    cancel = handle.cancel_goal_async()
    assert bench.h.spin_until(cancel.done, 10)
    r = bench.result(handle, 20)
    assert r.result.status == "cancelled" and not r.result.success, r.result
    assert bench.h.spin_until(lambda: bench.events(event="cancelled", server="navigate_to_pose"), 10), \
        "the navigation server never saw the cancel"


def test_a_timed_out_skill_is_cancelled_and_the_task_ends_with_the_reason(bench):
    bench.instruction.publish(String(data="put the green cube in the bin"))
    end = bench.final_status("put the green cube in the bin", 60)
    assert end["state"] == "failed" and end["replans"] == 1, end
    assert "gave up after 1 replan(s)" in end["message"], end
    assert f"timed out after {PICK_TIMEOUT_S:g} s" in end["message"], end
    assert bench.h.spin_until(lambda: len(bench.events(event="cancelled", object="obj_2")) == 2, 10), \
        f"the skill server did not see both timed-out goals cancelled:\n{bench.log()}"


def test_a_new_instruction_preempts_the_running_one(bench):
    handle = bench.send("go to the bedroom")
    n = len(bench.events(event="cancelled", server="navigate_to_pose"))
    bedroom = dict(event="goal", server="navigate_to_pose", x=2.5, y=-2.2)  # config/places.yaml
    assert bench.h.spin_until(lambda: bench.events(**bedroom), 20), bench.log()
    bench.instruction.publish(String(data="stop"))
    r = bench.result(handle, 20).result
    assert r.status == "preempted" and not r.success, r
    assert bench.final_status("stop", 20)["state"] == "succeeded"
    assert len(bench.events(event="cancelled", server="navigate_to_pose")) == n + 1


def test_say_publishes_the_text_and_diagnostics_count_tasks(bench):
    bench.instruction.publish(String(data="say hello"))
    assert bench.final_status("say hello", 20)["state"] == "succeeded"
    assert bench.h.spin_until(lambda: "hello" in bench.said, 5), bench.said

    def reported() -> bool:
        tasks = bench.diagnostics.get("executive: tasks", {})
        servers = tuple(tasks.get(f"server /{a}/execute_skill") for a in ("vla_policy", "navigation"))
        return int(tasks.get("tasks_succeeded", 0)) >= 1 and servers == ("up", "down")

    assert bench.h.spin_until(reported, 10), bench.diagnostics
    assert "executive: perception objects in" in bench.diagnostics
