"""Simulating a plan over the catalogue's preconditions and effects.

Why simulate: "pick up the red cube and the blue cube" is wrong only in sequence (one gripper), and a
replan after a failed place must not pick up again what the robot already holds. The validator, the
embedded planner's expansions and the executor all step this one small state machine, driven by the
predicates written in ``config/skills.yaml``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from embodied_stack.planner.catalogue import Predicate, Skill
from embodied_stack.planner.types import PlanStep
from embodied_stack.planner.world import WorldModel


@dataclass
class BeliefState:
    holding: str | None = None
    robot_at: str | None = None
    object_at: dict[str, str] = field(default_factory=dict)
    seen: set[str] = field(default_factory=set)

    @classmethod
    def from_world(cls, world: WorldModel) -> BeliefState:
        return cls(
            holding=world.holding,
            robot_at=world.robot_at,
            seen={o.id for o in world.objects.values() if o.visible},
        )

    def copy(self) -> BeliefState:
        return BeliefState(self.holding, self.robot_at, dict(self.object_at), set(self.seen))

    # --- predicates ----------------------------------------------------------------------
    def holds(self, pred: Predicate, step: PlanStep, world: WorldModel) -> bool:
        args = [step.arguments.get(a, "") for a in pred.args]
        if pred.name == "hand_empty":
            return self.holding is None
        if pred.name == "holding":
            return self.holding == args[0]
        if pred.name == "known":
            return args[0] in world.objects
        if pred.name == "robot_at":
            return self.robot_at == args[0]
        if pred.name == "object_at":
            return self.object_at.get(args[0]) == args[1]
        if pred.name == "seen":
            return args[0] in self.seen
        raise ValueError(f"unknown predicate '{pred.name}'")

    def unmet(self, skill: Skill, step: PlanStep, world: WorldModel) -> list[str]:
        """Preconditions of ``step`` that do not hold, each said as a reason."""
        reasons = []
        for pred in skill.preconditions:
            if self.holds(pred, step, world):
                continue
            args = [step.arguments.get(a, "") for a in pred.args]
            if pred.name == "hand_empty":
                reasons.append(f"{step}: the gripper already holds {self.holding}; place it first")
            elif pred.name == "holding":
                held = self.holding or "nothing"
                reasons.append(f"{step}: needs {args[0]} in the gripper, which holds {held}; pick it first")
            elif pred.name == "known":
                reasons.append(f"{step}: {args[0]} is not in the world model")
            else:
                reasons.append(f"{step}: needs {pred} ({', '.join(args)})")
        return reasons

    def satisfied(self, skill: Skill, step: PlanStep, world: WorldModel) -> bool:
        """All effects already hold (running the step would change nothing), for skills that have any."""
        return bool(skill.effects) and all(self.holds(p, step, world) for p in skill.effects)

    def apply(self, skill: Skill, step: PlanStep) -> None:
        for pred in skill.effects:
            args = [step.arguments.get(a, "") for a in pred.args]
            if pred.name == "hand_empty":
                self.holding = None
            elif pred.name == "holding":
                self.holding = args[0]
                self.object_at.pop(args[0], None)
            elif pred.name == "robot_at":
                self.robot_at = args[0]
            elif pred.name == "object_at":
                self.object_at[args[0]] = args[1]
            elif pred.name == "seen":
                self.seen.add(args[0])
