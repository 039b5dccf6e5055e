"""Every planner reaches the goal in an empty scene; planners are made by name from config."""

import numpy as np
import pytest

from embodied_stack.navigation.env import SocialNavEnv
from embodied_stack.navigation.evaluate import run_episode
from embodied_stack.navigation.planners import PLANNERS, make_planner
from embodied_stack.navigation.planners.dwa import DWAPlanner
from embodied_stack.navigation.types import NavObservation, RobotKinematics


@pytest.mark.parametrize("name", PLANNERS)
@pytest.mark.parametrize("kinematics", ["holonomic", "unicycle"])
def test_reaches_the_goal_in_an_empty_scene(name, kinematics):
    planner = make_planner(name)
    if name == "learned" and kinematics != planner.trained_kinematics:
        with pytest.raises(ValueError, match="trained for"):
            run_episode(SocialNavEnv(people=0, kinematics=kinematics), planner, 0, "random_goals", 0)
        return
    scan = planner.scan_input  # the scan the planner reads (the learned policy sees walls in it)
    env = SocialNavEnv(people=0, kinematics=kinematics, scan_beams=scan.beams if scan else 0,
                       scan_range=scan.range if scan else 6.0)
    for scenario in ("circle_crossing", "doorway"):
        traj = run_episode(env, planner, 5, scenario, 0)
        assert traj.outcome == "success", f"{name} ({kinematics}) failed {scenario}: {traj.outcome}"


def _obs(people_xy, people_v, kind="holonomic"):
    return NavObservation(robot_pose=np.array([0.0, 0.0, 0.0]), robot_velocity=np.array([0.8, 0.0]),
                          goal=np.array([8.0, 0.0]), kinematics=RobotKinematics(kind=kind), dt=0.25,
                          people_position=np.asarray(people_xy, float).reshape(-1, 2),
                          people_velocity=np.asarray(people_v, float).reshape(-1, 2),
                          people_radius=np.full(len(people_xy), 0.3))


def test_dwa_passes_an_oncoming_person_on_their_left():
    # a person walking straight at the robot: their left is the robot's right (-y)
    twist = make_planner("dwa").act(_obs([(3.0, 0.0)], [(-1.0, 0.0)]))
    assert twist.vy < 0 or twist.wz < 0, f"expected a move to the robot's right, got {twist}"


def test_dwa_does_not_cut_through_a_group():
    planner = DWAPlanner()
    group = [(2.0, 0.7), (2.0, -0.7)]  # two people talking across the robot's straight line
    total, velocities, terms = planner.costs(_obs(group, [(0, 0), (0, 0)]))
    straight = int(np.argmin(np.linalg.norm(velocities - [1.0, 0.0], axis=1)))
    assert terms["group_space"][straight] > 0
    chosen = velocities[int(np.argmin(total))]
    assert abs(chosen[1]) > 0.1, f"DWA went through the group: {chosen}"


def test_learned_planner_refuses_to_drive_without_its_scan():
    planner = make_planner("learned")
    with pytest.raises(ValueError, match="scan"):
        planner.act(_obs([(3.0, 0.0)], [(-1.0, 0.0)]))


def test_planner_rejects_malformed_people_and_unknown_names():
    obs = _obs([(3.0, 0.0)], [(-1.0, 0.0)])
    obs.people_radius = np.zeros(3)
    with pytest.raises(ValueError, match="people arrays disagree"):
        make_planner("social_force").act(obs)
    with pytest.raises(ValueError, match="social_force"):
        make_planner("teleport")
    with pytest.raises(Exception, match="not_a_weight"):
        make_planner("dwa", {"not_a_weight": 1.0})
