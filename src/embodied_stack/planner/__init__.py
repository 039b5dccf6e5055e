"""Language planner (ROS-free core): instructions in English, Chinese or both -> validated skill plans.

Public entry points (nothing here imports ROS; torch only when the transformers backend or the MiniLM
synonym matcher is used):

* ``Planner`` (facade.py) - the backend from config/planner.yaml, one deadline, one validator, the
  embedded planner as fallback: ``Planner().plan(instruction, world) -> PlanResult``;
* ``PlanExecutor`` (executor.py) - runs a plan through a ``run_step(step) -> StepOutcome`` callable,
  replanning after failures, with cancel and per-step timeouts;
* ``WorldModel`` / ``load_scene`` (world.py), ``SkillCatalogue`` / ``load_catalogue`` (catalogue.py),
  ``validate`` (validate.py), ``merge_composites`` (pick + place -> pick_place);
* ``PlanResult``, ``PlanStep``, ``StepOutcome`` (types.py); ``PlanResult.to_json()`` is the CLI contract.

Layout: parse.py reads sentences into frames, resolve.py grounds phrases against the world model,
embedded.py expands frames into skills, safety.py refuses harm and injection, state.py simulates
preconditions and effects, feasibility.py settles ambiguity SayCan-style, semantic.py matches unknown
verbs with MiniLM, http_backend.py / lm_backend.py are the LLM backends, prompts.py their prompts.
"""

from embodied_stack.planner.catalogue import SkillCatalogue, load_catalogue, merge_composites
from embodied_stack.planner.executor import ExecutionReport, PlanExecutor
from embodied_stack.planner.facade import Planner
from embodied_stack.planner.types import PlanResult, PlanStep, StepOutcome
from embodied_stack.planner.validate import validate
from embodied_stack.planner.world import WorldModel, load_places, load_scene

__all__ = [
    "ExecutionReport", "PlanExecutor", "PlanResult", "PlanStep", "Planner", "SkillCatalogue", "StepOutcome",
    "WorldModel", "load_catalogue", "load_places", "load_scene", "merge_composites", "validate",
]
