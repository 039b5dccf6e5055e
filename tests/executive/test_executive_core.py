"""The executive's ROS-free parts: routing from the catalogue, grounding steps to positions (and
re-finding a re-tracked object), the policy's phrasing, perception -> world model, composite plans."""

from __future__ import annotations

import dataclasses

import pytest

from embodied_stack.executive import (
    ComposingPlanner,
    GroundingError,
    PerceivedObject,
    WorldFeed,
    describe_step,
    language_of,
    person_dict,
    policy_instruction,
    pose_target,
    routes_for,
    skill_arguments,
)
from embodied_stack.executive.routing import EXECUTE_SKILL, NAVIGATE_TO_POSE, SELF
from embodied_stack.planner import Planner, PlanStep, WorldModel, load_catalogue, load_places
from embodied_stack.planner.config import load_planner_config

RED = PerceivedObject("obj_1", "cube", {"color": "red", "shape": "cube"}, (0.18, -0.05, 0.016),
                      (0.03, 0.03, 0.03))
BOWL = PerceivedObject("obj_5", "bowl", {"color": "white", "shape": "bowl"}, (0.08, 0.19, 0.02),
                       (0.1, 0.1, 0.04))


@pytest.fixture
def world() -> WorldModel:
    feed = WorldFeed(object_place="table")
    feed.set_objects([RED, BOWL], "base_link", now=10.0)
    feed.set_people([person_dict(3, (1.0, 2.0, 0.0))], "odom")
    w = WorldModel(places=load_places(), robot_at="table")
    feed.observe(w)
    return w


def test_routes_follow_the_catalogue_servers():
    routes = routes_for(load_catalogue())
    kind_action = {name: (r.kind, r.action) for name, r in routes.items()}
    assert kind_action["pick_place"] == (EXECUTE_SKILL, "vla_policy/execute_skill")
    assert kind_action["navigate_to"] == (NAVIGATE_TO_POSE, "navigate_to_pose")
    assert routes["say"].kind == routes["wait"].kind == routes["stop"].kind == SELF


def test_a_skill_nobody_can_run_is_refused_with_the_fix():
    catalogue = load_catalogue().with_skill("look_for", server="")
    with pytest.raises(ValueError, match="skill 'look_for' has no server.*give it a server"):
        routes_for(catalogue)


def test_perception_feeds_the_world_model(world):
    red = world.objects["obj_1"]
    assert (red.color, red.shape, red.place, red.visible, red.position) == (
        "red", "cube", "table", True, (0.18, -0.05, 0.016))
    assert world.people["person_3"].position == (1.0, 2.0, 0.0)


def test_a_manipulation_step_gets_current_positions_and_the_training_phrasing(world):
    step = PlanStep("pick_place", {"object": "obj_1", "target": "obj_5"})
    moved = {"obj_1": (0.2, 0.0, 0.016), "obj_5": BOWL.position}  # perception now, not at planning time
    args = skill_arguments(step, world, moved.get)
    assert args == {"object": "obj_1", "target": "obj_5", "target_position": "0.2000,0.0000,0.0160",
                    "place_position": "0.0800,0.1900,0.0200"}
    assert policy_instruction(step, world) == "put the red cube in the bowl"


def test_a_retracked_object_is_found_again_through_perception(world):
    step = PlanStep("pick_place", {"object": "obj_1", "target": "obj_5"})
    now = {"obj_9": (0.21, 0.01, 0.016), "obj_5": BOWL.position}  # obj_1 lost, re-tracked as obj_9
    asked: list[str] = []

    def reground(phrase: str):
        asked.append(phrase)
        return "obj_9", f"'{phrase}' -> obj_9"

    args = skill_arguments(step, world, now.get, reground)
    assert asked == ["red cube"] and args["object"] == "obj_9"
    assert args["target_position"] == "0.2100,0.0100,0.0160"
    why = r"obj_1 \(red cube\) is not in view and perception cannot find it: no red cube"
    with pytest.raises(GroundingError, match=why):
        skill_arguments(step, world, now.get, lambda phrase: (None, "no red cube"))


def test_navigation_targets_are_poses(world):
    kitchen = pose_target(PlanStep("navigate_to", {"target": "kitchen"}), world, "map", "base_link", "odom",
                          lambda _i: None)
    assert (kitchen.frame, kitchen.x, kitchen.y, kitchen.yaw) == ("map", -2.0, 0.0, 0.0)
    person = pose_target(PlanStep("navigate_to", {"target": "person_3"}), world, "map", "base_link", "odom",
                         lambda _i: None)
    assert (person.frame, person.x, person.y) == ("odom", 1.0, 2.0)
    with pytest.raises(GroundingError, match="'garage' is not a place, object or person"):
        pose_target(PlanStep("navigate_to", {"target": "garage"}), world, "map", "base_link", "odom",
                    lambda _i: None)


def test_steps_in_words_and_languages(world):
    step = PlanStep("pick_place", {"object": "obj_1", "target": "obj_5"})
    assert describe_step(step, world, "zh") == "把红色方块放到白色碗"
    assert describe_step(step, world, "en") == "put the red cube in the white bowl"
    assert describe_step(PlanStep("navigate_to", {"target": "kitchen"}), world, "zh") == "去厨房"
    texts = ("把红色方块放到碗里", "put it in the bowl", "把 red cube 放到碗里", "42")
    assert [language_of(t) for t in texts] == ["zh", "en", "mul", "und"]


def test_composing_planner_merges_pick_and_place_for_every_plan(world):
    config = load_planner_config()
    rules_only = dataclasses.replace(config.embedded, use_sentence_model=False)
    config = dataclasses.replace(config, embedded=rules_only)
    seen = []
    planner = ComposingPlanner(Planner(config), merge=True, on_plan=seen.append)
    result = planner.plan("把红色方块放到碗里", world)
    assert [str(s) for s in result.steps] == ["pick_place(object=obj_1, target=obj_5)"]
    assert seen == [result] and planner.catalogue is planner.planner.catalogue
