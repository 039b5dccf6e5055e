"""Skill servers for the executive tests, in their own process: the VLA policy's ``ExecuteSkill`` action
(``/vla_policy/execute_skill``) and Nav2's ``NavigateToPose`` (``/navigate_to_pose``), with scripted
behaviour, and every goal, cancel and result printed as one JSON line for the test to read.

    python executive_skill_peer.py --fail-once obj_1 --hang obj_2

ExecuteSkill: a goal whose ``object`` argument is in ``--fail-once`` fails the first time ("the cube
slipped"), one in ``--hang`` runs until cancelled, every other goal succeeds at once. NavigateToPose runs
until cancelled (feedback: distance remaining).
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import rclpy
from embodied_stack_interfaces.action import ExecuteSkill
from nav2_msgs.action import NavigateToPose
from rclpy.action import ActionServer, CancelResponse, GoalResponse
from rclpy.callback_groups import ReentrantCallbackGroup
from rclpy.executors import ExternalShutdownException, MultiThreadedExecutor
from rclpy.node import Node


def emit(**event) -> None:
    print(json.dumps(event), flush=True)


class SkillPeer(Node):
    def __init__(self, fail_once: list[str], hang: list[str]) -> None:
        super().__init__("executive_skill_peer")
        self.fail_once, self.hang = set(fail_once), set(hang)
        group = ReentrantCallbackGroup()
        accept = lambda _goal: GoalResponse.ACCEPT  # noqa: E731
        self.skill = ActionServer(self, ExecuteSkill, "vla_policy/execute_skill", self._skill,
                                  goal_callback=accept, cancel_callback=self._on_cancel, callback_group=group)
        self.nav = ActionServer(self, NavigateToPose, "navigate_to_pose", self._navigate,
                                goal_callback=accept, cancel_callback=self._on_cancel, callback_group=group)

    def _on_cancel(self, _handle) -> CancelResponse:
        return CancelResponse.ACCEPT

    def _skill(self, handle):
        goal = handle.request
        args = {kv.key: kv.value for kv in goal.arguments}
        emit(event="goal", server="execute_skill", skill=goal.skill, arguments=args,
             instruction=goal.instruction, timeout_s=goal.timeout_s)
        obj = args.get("object", "")
        result = ExecuteSkill.Result()
        if obj in self.hang:
            while not handle.is_cancel_requested:
                handle.publish_feedback(ExecuteSkill.Feedback(progress=0.5, state="grasping"))
                time.sleep(0.05)
            handle.canceled()
            emit(event="cancelled", server="execute_skill", skill=goal.skill, object=obj)
            result.message = "cancelled"
            return result
        if obj in self.fail_once:
            self.fail_once.discard(obj)
            handle.abort()
            result.message = "the cube slipped out of the gripper"
        else:
            handle.succeed()
            result.success, result.message = True, "placed"
        emit(event="result", server="execute_skill", skill=goal.skill, object=obj, success=result.success)
        return result

    def _navigate(self, handle):
        pose = handle.request.pose
        emit(event="goal", server="navigate_to_pose", frame=pose.header.frame_id,
             x=pose.pose.position.x, y=pose.pose.position.y)
        while not handle.is_cancel_requested:
            handle.publish_feedback(NavigateToPose.Feedback(distance_remaining=2.5))
            time.sleep(0.05)
        handle.canceled()
        emit(event="cancelled", server="navigate_to_pose")
        return NavigateToPose.Result()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fail-once", nargs="*", default=[])
    parser.add_argument("--hang", nargs="*", default=[])
    args = parser.parse_args()
    rclpy.init()
    node = SkillPeer(args.fail_once, args.hang)
    executor = MultiThreadedExecutor(num_threads=4)  # hanging goals hold a thread each
    executor.add_node(node)
    emit(event="ready")
    try:
        executor.spin()
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        node.destroy_node()
        rclpy.try_shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
