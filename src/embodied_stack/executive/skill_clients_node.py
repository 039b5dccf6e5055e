"""The executive's clients of skill servers and of perception's grounding, on a private node.

Why a private node with its own executor thread: the executive's ``~/execute_instruction`` callback holds
an executor thread for a whole task (two while a new instruction preempts a running one). If the
answers of the skill servers (goal accepted, feedback, result, cancel confirmed) had to wait for those
same threads, a preemption on a 2-core machine would starve them. Nav2's bt_navigator keeps its action
clients on a separate client node for the same reason. The node is ``<executive>_skill_clients`` in the
executive's namespace; the process's remappings apply to it too.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import Any

from action_msgs.msg import GoalStatus
from diagnostic_msgs.msg import KeyValue
from embodied_stack_interfaces.action import ExecuteSkill
from embodied_stack_interfaces.srv import GroundObject
from geometry_msgs.msg import PoseStamped
from nav2_msgs.action import NavigateToPose
from rclpy.action import ActionClient
from rclpy.node import Node

from embodied_stack.executive.grounding import PoseTarget
from embodied_stack.executive.routing import EXECUTE_SKILL, NAVIGATE_TO_POSE, Route
from embodied_stack.planner.types import StepOutcome
from embodied_stack.ros.side_node import SideNode

_POLL_S = 0.02  # s between checks of a future
_STATUS = {GoalStatus.STATUS_SUCCEEDED: "succeeded", GoalStatus.STATUS_ABORTED: "aborted",
           GoalStatus.STATUS_CANCELED: "cancelled"}


class _Goal:
    """One goal in flight: its handle once accepted, and the flags cancel and the runner share."""

    def __init__(self) -> None:
        self.handle: Any = None
        self.result: Any = None  # the get_result future
        self.cancel = threading.Event()  # cancel as soon as it is accepted
        self.abandon = threading.Event()  # stop waiting for the result
        self.finished = threading.Event()  # the runner returned


class SkillClients:
    """Action clients for every routed server, a GroundObject client, and one goal at a time."""

    def __init__(self, parent: Node, routes: dict[str, Route], server_wait_s: float, cancel_wait_s: float,
                 grounding_service: str = "perception/ground_object") -> None:
        self._side = SideNode(parent, "skill_clients")
        self.node = self._side.node
        self.server_wait_s, self.cancel_wait_s = server_wait_s, cancel_wait_s
        self.clients: dict[tuple[str, str], ActionClient] = {}
        for route in routes.values():
            key = (route.kind, route.action)
            if route.kind == EXECUTE_SKILL and key not in self.clients:
                self.clients[key] = ActionClient(self.node, ExecuteSkill, route.action)
            elif route.kind == NAVIGATE_TO_POSE and key not in self.clients:
                self.clients[key] = ActionClient(self.node, NavigateToPose, route.action)
        self.grounding = self.node.create_client(GroundObject, grounding_service)
        self._lock = threading.Lock()
        self._goal: _Goal | None = None
        self._executor = self._side.executor
        self._side.start()

    # --- queries ---------------------------------------------------------------------------
    def action_name(self, route: Route) -> str:
        """The fully resolved action name (for messages)."""
        try:
            return self.node.resolve_topic_name(route.action)
        except Exception:  # noqa: BLE001 - an unresolvable name is reported as written
            return route.action

    def ready(self) -> dict[str, bool]:
        """Resolved action name -> whether a server is up (for /diagnostics)."""
        return {self.action_name(Route(k, a)): c.server_is_ready() for (k, a), c in self.clients.items()}

    def ground(self, phrase: str, timeout_s: float) -> tuple[str | None, str]:
        """Perception's GroundObject for ``phrase``: (object id, message), or (None, why not)."""
        if not self.grounding.wait_for_service(timeout_sec=timeout_s):
            return None, f"grounding service {self.grounding.srv_name} is not available"
        future = self.grounding.call_async(GroundObject.Request(phrase=phrase))
        if not _wait(future, timeout_s) or future.result() is None:
            return None, f"no answer from {self.grounding.srv_name} within {timeout_s:g} s"
        r = future.result()
        if r.status != GroundObject.Response.FOUND:
            return None, r.message or "not found"
        return r.object_id, r.message

    # --- goals -----------------------------------------------------------------------------
    def run_skill(self, route: Route, skill: str, arguments: dict[str, str], instruction: str,
                  timeout_s: float, on_feedback: Callable[[float, str], None]) -> StepOutcome:
        """Send an ExecuteSkill goal and wait for its result (or for ``cancel``)."""
        goal = ExecuteSkill.Goal(skill=skill, instruction=instruction, timeout_s=float(timeout_s),
                                 arguments=[KeyValue(key=k, value=v) for k, v in arguments.items()])
        done = self._run(route, goal, lambda fb: on_feedback(float(fb.progress), fb.state))
        if isinstance(done, StepOutcome):
            return done
        status, result = done
        if status == GoalStatus.STATUS_SUCCEEDED and result.success:
            return StepOutcome(True, result.message)
        why = result.message or _STATUS.get(status, f"status {status}")
        return StepOutcome(False, why)

    def run_pose(self, route: Route, target: PoseTarget,
                 on_feedback: Callable[[float, str], None]) -> StepOutcome:
        """Send a Nav2 NavigateToPose goal and wait for its result (or for ``cancel``)."""
        pose = PoseStamped()
        pose.header.frame_id = target.frame  # stamp 0: the latest transform
        pose.pose.position.x, pose.pose.position.y = float(target.x), float(target.y)
        pose.pose.orientation.z = math.sin(target.yaw / 2.0)
        pose.pose.orientation.w = math.cos(target.yaw / 2.0)
        done = self._run(route, NavigateToPose.Goal(pose=pose),
                         lambda fb: on_feedback(0.0, f"{fb.distance_remaining:.2f} m to go"))
        if isinstance(done, StepOutcome):
            return done
        status, result = done
        if status == GoalStatus.STATUS_SUCCEEDED and result.error_code == 0:
            return StepOutcome(True, "arrived")
        why = result.error_msg or f"navigation {_STATUS.get(status, f'status {status}')}"
        return StepOutcome(False, f"{why} (error code {result.error_code})" if result.error_code else why)

    def cancel(self) -> None:
        """Cancel the goal in flight and wait up to ``cancel_wait_s`` for the server to end it (so that
        the next goal does not find the server still busy with this one)."""
        with self._lock:
            goal = self._goal
        if goal is None:
            return
        goal.cancel.set()
        end = time.monotonic() + self.cancel_wait_s
        while goal.handle is None and not goal.finished.is_set() and time.monotonic() < end:
            time.sleep(_POLL_S)  # the goal is on its way: cancel it once accepted
        if goal.handle is not None:
            self._in_spin(goal.handle.cancel_goal_async)
            _wait(goal.result, max(end - time.monotonic(), 0.0))
        goal.abandon.set()

    def _run(self, route: Route, msg: Any, feedback: Callable[[Any], None]) -> StepOutcome | tuple[int, Any]:
        goal = _Goal()
        with self._lock:
            self._goal = goal
        try:
            return self._send(route, msg, feedback, goal)
        finally:
            goal.finished.set()
            with self._lock:
                if self._goal is goal:
                    self._goal = None

    def _send(self, route: Route, msg: Any, feedback: Callable[[Any], None],
              goal: _Goal) -> StepOutcome | tuple[int, Any]:
        client = self.clients[(route.kind, route.action)]
        name = self.action_name(route)
        end = time.monotonic() + self.server_wait_s
        while not client.server_is_ready():
            if goal.cancel.is_set():
                return StepOutcome(False, "cancelled")
            if time.monotonic() > end:
                return StepOutcome(False, f"action server {name} is not available "
                                          f"(none answered within {self.server_wait_s:g} s)")
            time.sleep(_POLL_S)
        on_feedback = lambda m: feedback(m.feedback)  # noqa: E731
        sent = self._in_spin(lambda: client.send_goal_async(msg, feedback_callback=on_feedback))
        if sent is None or not _wait(sent, self.server_wait_s, goal.abandon) or sent.result() is None:
            return StepOutcome(False, f"{name} did not answer the goal within {self.server_wait_s:g} s")
        handle = sent.result()
        if not handle.accepted:
            return StepOutcome(False, f"{name} rejected the goal")
        goal.result = self._in_spin(handle.get_result_async)
        if goal.result is None:
            return StepOutcome(False, f"could not ask {name} for the result (shutting down)")
        goal.handle = handle
        if goal.cancel.is_set():  # cancelled while the goal was on its way
            self._in_spin(handle.cancel_goal_async)
        while not goal.result.done():
            if goal.abandon.is_set():
                return StepOutcome(False, "cancelled")
            time.sleep(_POLL_S)
        response = goal.result.result()
        return int(response.status), response.result

    def _in_spin(self, call: Callable[[], Any]) -> Any:
        """``call()`` run in the spin thread, its return value (None when the executor is gone).

        Why: rclpy 7's ActionClient sends a request and only then records it as pending; called from
        another thread, the answer can be taken by the spin thread in between and is dropped ("Ignoring
        unexpected goal response"), leaving the future unfinished forever. In the spin thread the two
        cannot interleave."""
        try:
            task = self._executor.create_task(call)
        except Exception:  # noqa: BLE001 - executor shut down
            return None
        if not _wait(task, 10.0):
            return None
        return task.result()

    def close(self) -> None:
        self._side.close()


def _wait(future: Any, timeout_s: float, abandon: threading.Event | None = None) -> bool:
    end = time.monotonic() + timeout_s
    while not future.done() and time.monotonic() < end:
        if abandon is not None and abandon.is_set():
            return False
        time.sleep(_POLL_S)
    return future.done()

