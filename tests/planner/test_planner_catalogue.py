"""The skill catalogue: what config/skills.yaml must contain, its errors, and merging pick+place."""

from __future__ import annotations

import pytest
import yaml

from embodied_stack.config import ConfigError
from embodied_stack.planner.catalogue import load_catalogue, merge_composites
from embodied_stack.planner.types import PlanResult, PlanStep, format_number

REQUIRED = {
    "navigate_to": ["target"],
    "pick": ["object"],
    "place": ["object", "target"],
    "look_for": ["object"],
    "follow": ["person"],
    "handover": ["object", "person"],
    "say": ["text"],
    "wait": ["seconds"],
    "stop": [],
}


def test_catalogue_has_the_skills_of_the_issue(catalogue):
    for name, args in REQUIRED.items():
        skill = catalogue[name]
        assert skill.arg_names == args, skill
        assert skill.timeout_s > 0 and skill.plannable
    assert not catalogue["pick_place"].plannable and catalogue["pick_place"].composite_of == ("pick", "place")
    assert set(catalogue.plannable_names) == set(REQUIRED)


def test_wait_timeout_adds_its_seconds(catalogue):
    wait = catalogue["wait"]
    assert wait.timeout_for(PlanStep("wait", {"seconds": "30"})) == pytest.approx(wait.timeout_s + 30.0)


def test_unknown_skill_error_names_the_valid_ones(catalogue):
    with pytest.raises(KeyError, match="valid skills: pick, place, navigate_to"):
        catalogue["teleport"]


@pytest.mark.parametrize(
    "change,message",
    [
        ({"pick": {"arguments": {"object": {"type": "thing"}}}}, "needs a type in"),
        (
            {"pick": {"arguments": {"object": {"type": "object"}}, "effects": ["holding(obj)"]}},
            "not arguments",
        ),
        ({"pick": {"arguments": {}, "effects": ["levitating"]}}, "unknown predicate"),
        ({"pick": {"arguments": {}, "timeout_s": -1}}, "positive number of seconds"),
        ({"pick": {"arguments": {}, "implies": ["fly"]}}, "unknown skill 'fly'"),
        ({"pick": {"arguments": {}, "colour": "red"}}, "unknown key"),
    ],
)
def test_bad_catalogue_is_rejected_with_the_fix(tmp_path, change, message):
    path = tmp_path / "skills.yaml"
    path.write_text(yaml.safe_dump(change))
    with pytest.raises(ConfigError, match=message):
        load_catalogue(path)


def test_merge_composites_joins_pick_and_place_of_the_same_object(catalogue):
    steps = [
        PlanStep("navigate_to", {"target": "kitchen"}),
        PlanStep("pick", {"object": "obj_1"}),
        PlanStep("place", {"object": "obj_1", "target": "obj_5"}),
        PlanStep("pick", {"object": "obj_2"}),
        PlanStep("navigate_to", {"target": "person_1"}),
        PlanStep("handover", {"object": "obj_2", "person": "person_1"}),
    ]
    merged = merge_composites(steps, catalogue)
    assert merged[1] == PlanStep("pick_place", {"object": "obj_1", "target": "obj_5"})
    assert merged[0] == steps[0] and merged[2:] == steps[3:]  # a pick not followed by its place stays


def test_merge_composites_keeps_steps_of_different_objects(catalogue):
    steps = [PlanStep("pick", {"object": "obj_1"}), PlanStep("place", {"object": "obj_2", "target": "obj_5"})]
    assert merge_composites(steps, catalogue) == steps


def test_plan_json_is_the_cli_contract():
    result = PlanResult("plan", [PlanStep("say", {"text": "你好"})], "ok", backend="x", notes=["n"])
    assert result.to_dict() == {
        "status": "plan",
        "steps": [{"skill": "say", "arguments": {"text": "你好"}}],
        "message": "ok",
    }
    assert "你好" in result.to_json()
    with pytest.raises(ValueError, match="not one of"):
        PlanResult("maybe")
    assert [format_number(v) for v in (5.0, 0.5, 120.0)] == ["5", "0.5", "120"]


def test_json_schema_allows_only_plannable_skills(catalogue):
    schema = catalogue.plan_json_schema()
    names = {v["properties"]["skill"]["const"] for v in schema["properties"]["steps"]["items"]["anyOf"]}
    assert names == set(catalogue.plannable_names)
