"""One instruction's life in the executive: its status record and the planner the executor replans with.

Why ROS-free: ``~/status`` (JSON), the action's feedback and the diagnostics all read one ``TaskStatus``,
and the composite merge plus "tell me about every new plan" must apply to the first plan and to every
replan alike, which the ``PlanExecutor`` only allows through the planner it is given.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from embodied_stack.planner.catalogue import merge_composites
from embodied_stack.planner.types import PLAN, PlanResult
from embodied_stack.planner.world import WorldModel

IDLE, PLANNING, RUNNING, REPLANNING = "idle", "planning", "running", "replanning"


@dataclass
class TaskStatus:
    """What ``~/status`` says. ``state``: idle | planning | running | replanning, then the report's
    status (succeeded | failed | cancelled | not_planned | preempted); ``step`` is 1-based in ``plan``."""

    state: str = IDLE
    instruction: str = ""
    language: str = ""
    message: str = ""
    step: int = 0
    steps: int = 0
    skill: str = ""
    skill_state: str = ""  # the running step's server's own words ("grasping", "1.20 m to go")
    progress: float = 0.0  # the running step's, 0..1 as its server reports it
    replans: int = 0
    plan: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)


class ComposingPlanner:
    """Wraps a ``Planner``: merges composite skills into every plan (``merge``) and reports each plan to
    ``on_plan``. Exposes ``catalogue`` and ``config`` as the ``PlanExecutor`` expects."""

    def __init__(self, planner: Any, merge: bool, on_plan: Callable[[PlanResult], None]) -> None:
        self.planner, self.merge, self.on_plan = planner, merge, on_plan
        self.catalogue = planner.catalogue
        self.config = planner.config

    def plan(self, instruction: str, world: WorldModel, feedback: Sequence[str] = ()) -> PlanResult:
        result = self.planner.plan(instruction, world, feedback)
        if result.status == PLAN and self.merge:
            result.steps = merge_composites(result.steps, self.catalogue)
        self.on_plan(result)
        return result
