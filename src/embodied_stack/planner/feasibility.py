"""SayCan-style feasibility: when words fit several plans, prefer the one the robot can most likely do.

Why: "bring me the cup" with one cup in view and another last seen an hour ago in another room is not
really ambiguous to a person; a plan's score multiplies, over its steps, whether the step's preconditions
hold (0 or 1, from the catalogue) and how likely each object is still where the world model remembers it
(1 in view, ``exp(-age / memory_tau_s)`` out of view). The best plan is taken only when it beats the
runner-up by ``choose_ratio``; otherwise the planner asks, listing the candidates.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from embodied_stack.planner.catalogue import SkillCatalogue
from embodied_stack.planner.config import FeasibilityConfig
from embodied_stack.planner.state import BeliefState
from embodied_stack.planner.types import PlanStep
from embodied_stack.planner.world import WorldModel


def object_affordance(object_id: str, world: WorldModel, config: FeasibilityConfig) -> float:
    """Probability-like belief that the object is where remembered (1 when in view)."""
    if object_id not in world.objects:
        return 0.0
    age = world.age(object_id)
    return 1.0 if age == 0.0 else math.exp(-age / config.memory_tau_s)


def plan_score(
    steps: Sequence[PlanStep],
    world: WorldModel,
    catalogue: SkillCatalogue,
    config: FeasibilityConfig,
    state: BeliefState | None = None,
) -> float:
    """Product over steps of precondition feasibility and object affordance (0 = impossible)."""
    st = (state or BeliefState.from_world(world)).copy()
    score = 1.0
    for step in steps:
        if step.skill not in catalogue:
            return 0.0
        skill = catalogue[step.skill]
        if st.unmet(skill, step, world):
            return 0.0
        for spec in skill.arguments:
            value = step.arguments.get(spec.name, "")
            if spec.type == "object" and value not in st.seen:
                score *= object_affordance(value, world, config)
        st.apply(skill, step)
    return score


def choose(scores: Sequence[float], config: FeasibilityConfig) -> int | None:
    """Index of the clearly best candidate (``choose_ratio`` times the next), or None to ask."""
    if not scores:
        return None
    ranked = sorted(range(len(scores)), key=lambda i: -scores[i])
    best = scores[ranked[0]]
    if best <= 0.0:
        return None
    if len(ranked) == 1 or best >= config.choose_ratio * scores[ranked[1]]:
        return ranked[0]
    return None
