"""Every scenario builds at 0 and 20 people, with nobody overlapping anybody at the start."""

import numpy as np
import pytest

from embodied_stack.navigation.scenarios import SCENARIOS, ScenarioConfig, build_scenario


@pytest.mark.parametrize("name", SCENARIOS)
@pytest.mark.parametrize("n", [0, 20])
def test_scenario_builds(name, n):
    c = ScenarioConfig()
    for seed in range(3):
        layout = build_scenario(name, n, np.random.default_rng(seed), c)
        crowd = layout.crowd
        assert crowd.n == n and crowd.goal.shape == (n, 2) and layout.goal_offset.shape == (n, 2)
        assert np.linalg.norm(layout.robot_goal - layout.robot_start[:2]) > 5.0
        if n:
            d = np.linalg.norm(crowd.position[:, None] - crowd.position[None], axis=2) + np.eye(n) * 99
            assert d.min() >= 2 * c.person_radius, f"{name}: people overlap at the start"
            to_robot = np.linalg.norm(crowd.position - layout.robot_start[:2], axis=1)
            assert to_robot.min() >= c.clearance, f"{name}: someone starts on the robot"
            assert np.all(crowd.speed[~crowd.static] > 0)


def test_static_groups_stand_in_groups_and_walkers_form_groups():
    layout = build_scenario("static_groups", 20, np.random.default_rng(0))
    assert layout.crowd.static.all() and (layout.crowd.group >= 0).sum() >= 10
    grouped = [build_scenario("parallel_traffic", 20, np.random.default_rng(s)).crowd.group for s in range(5)]
    assert any((g >= 0).any() for g in grouped), "some walkers must walk in groups"


def test_unknown_scenario_lists_the_valid_ones():
    with pytest.raises(ValueError, match="circle_crossing"):
        build_scenario("mall", 5, np.random.default_rng(0))
