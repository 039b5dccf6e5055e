"""Skill executive: runs the language planner's plans on the robot's skill servers.

ROS-free parts (usable and testable without ROS):

* ``WorldFeed`` / ``PerceivedObject`` (perceived.py) - perception's latest view, copied into each task's
  world model;
* ``skill_arguments`` / ``pose_target`` (grounding.py) - a planned step's object ids -> positions now;
* ``policy_instruction`` / ``describe_step`` / ``language_of`` (describe.py) - the policy's training
  phrasing, plan steps in words;
* ``routes_for`` (routing.py) - which server runs each skill (config/skills.yaml ``server``);
* ``TaskStatus`` / ``ComposingPlanner`` (task.py) - the ``~/status`` record and the replanning planner.

The node (node.py, ``embodied-stack-executive``) wires them to topics, the ``ExecuteInstruction`` action
and the skill servers' actions (skill_clients_node.py).
"""

from embodied_stack.executive.describe import describe_step, language_of, policy_instruction
from embodied_stack.executive.grounding import GroundingError, PoseTarget, pose_target, skill_arguments
from embodied_stack.executive.perceived import PerceivedObject, WorldFeed, person_dict
from embodied_stack.executive.routing import Route, routes_for
from embodied_stack.executive.task import ComposingPlanner, TaskStatus

__all__ = [
    "ComposingPlanner", "GroundingError", "PerceivedObject", "PoseTarget", "Route", "TaskStatus", "WorldFeed",
    "describe_step", "language_of", "person_dict", "policy_instruction", "pose_target", "routes_for",
    "skill_arguments",
]
