"""The DWA's safety filter for a robot people do not see: it steps out of the way of people walking at it,
sees in the scan the people the tracker has not confirmed yet, assumes a person may stop while a command
is held, and when caught between people takes the move that keeps a way out.

The small scenes step people at constant velocity, blind to the robot (CrowdNav's invisible robot), and
measure the robot-to-person gap swept over each step as the env does.
"""

import numpy as np
import pytest

from embodied_stack.navigation.env import _min_gap_swept
from embodied_stack.navigation.evaluate import load_eval_config, make_env, run_episode
from embodied_stack.navigation.planners import make_planner
from embodied_stack.navigation.planners.dwa import DWAConfig, DWAPlanner
from embodied_stack.navigation.scan import ray_scan
from embodied_stack.navigation.types import NavObservation, RobotKinematics

DT = 0.25
BEAMS = DWAConfig().scan_beams  # the scan the DWA reads (Planner.scan_input)


def _obs(people_xy, people_v, robot_v=(1.0, 0.0), goal=(8.0, 0.0)) -> NavObservation:
    xy = np.asarray(people_xy, float).reshape(-1, 2)
    return NavObservation(robot_pose=np.zeros(3), robot_velocity=np.asarray(robot_v, float),
                          goal=np.asarray(goal, float), kinematics=RobotKinematics(), dt=DT,
                          people_position=xy, people_velocity=np.asarray(people_v, float).reshape(-1, 2),
                          people_radius=np.full(len(xy), 0.3))


def _blind_walk(planner, people_xy, people_v, goal=(8.0, 0.0), seconds=8.0, tracked_after=0,
                scan=False) -> float:
    """Smallest gap (m) between the robot and anyone while people walk straight through where it is.

    tracked_after: steps before the people list reports them (a tracker confirming a new track);
    scan: the planner also gets a ``BEAMS``-beam scan that shows them from the start.
    """
    k = RobotKinematics()
    pose, velocity = np.zeros(3), np.zeros(2)
    xy = np.asarray(people_xy, float).reshape(-1, 2).copy()
    v = np.asarray(people_v, float).reshape(-1, 2)
    radius = np.full(len(xy), 0.3)
    worst = np.inf
    for i in range(int(seconds / DT)):
        shown = i >= tracked_after
        ranges = ray_scan(pose[:2], float(pose[2]), BEAMS, 6.0, xy, radius, np.zeros((0, 4))) \
            if scan else None
        obs = NavObservation(pose.copy(), velocity.copy(), np.asarray(goal, float), k, DT,
                             xy if shown else np.zeros((0, 2)), v if shown else np.zeros((0, 2)),
                             radius if shown else np.zeros(0), scan=ranges)
        twist = planner.act(obs)
        velocity = twist.world_velocity(float(pose[2]))
        gaps = _min_gap_swept(pose[:2], velocity * DT, xy, v * DT) - radius - k.radius
        worst = min(worst, float(gaps.min()))
        pose[:2] += velocity * DT
        pose[2] += twist.wz * DT
        xy = xy + v * DT
    return worst


@pytest.mark.parametrize("speed", [0.8, 1.3])
@pytest.mark.parametrize("offset", [0.0, 0.3])
def test_a_person_walking_straight_at_a_standing_robot_is_avoided(speed, offset):
    # the robot is at its goal; someone walks straight through that spot, faster than the robot can move
    gap = _blind_walk(DWAPlanner(), [(3.0, offset)], [(-speed, 0.0)], goal=(0.0, 0.0), seconds=5.0)
    assert gap > 0.1, f"the robot let a person walking at {speed} m/s come within {gap:.2f} m"


@pytest.mark.parametrize(("where", "velocity"), [((1.4, 0.0), (-1.0, 0.0)), ((1.2, 0.2), (-1.2, 0.0)),
                                                 ((0.6, 0.9), (0.0, -1.0))])
def test_a_person_not_yet_tracked_is_avoided_from_the_scan(where, velocity):
    # for the first three control periods the tracker has not confirmed them (as at the start of every
    # goal); the DWA without the scan drove into each of these people
    gap = _blind_walk(DWAPlanner(), [where], [velocity], tracked_after=3, scan=True)
    assert gap > 0.05, f"contact with an untracked person the scan showed: gap {gap:.2f} m"


def test_safety_assumes_a_person_ahead_may_stop_while_a_command_is_held():
    # a person 0.45 m ahead walks away faster than the robot: at constant velocity following at full
    # speed is safe, but if they stop now the robot closes 0.25 m before it can react
    planner = DWAPlanner()
    obs = _obs([(1.05, 0.0)], [(1.3, 0.0)])
    check = planner.safety(obs)
    _, velocities, _ = planner.costs(obs)
    ahead = int(np.argmin(np.linalg.norm(velocities - [1.0, 0.0], axis=1)))
    assert not check.passes[ahead] and check.passes[0]  # candidate 0 is the stop
    assert planner.act(obs).vx < 0.75


def test_caught_from_behind_by_a_faster_walker_it_steps_aside():
    # someone 0.3 m behind walks on at 1.3 m/s: no candidate keeps the margin, fleeing ahead at 1 m/s
    # only delays contact, stepping out of their path ends it
    planner = DWAPlanner()
    obs = _obs([(-0.9, 0.0)], [(1.3, 0.0)])
    assert not planner.safety(obs).passes.any()
    twist = planner.act(obs)
    assert abs(twist.vy) >= 0.45, f"expected a step out of the walker's path, got {twist}"


def test_fleeing_along_a_faster_walkers_path_is_a_collision_course():
    planner = DWAPlanner()
    _, velocities, terms = planner.costs(_obs([(-1.5, 0.0)], [(1.3, 0.0)], robot_v=(0.0, 0.0)))
    ahead = int(np.argmin(np.linalg.norm(velocities - [1.0, 0.0], axis=1)))
    aside = int(np.argmin(np.linalg.norm(velocities - [0.0, 1.0], axis=1)))
    back = int(np.argmin(np.linalg.norm(velocities - [-1.0, 0.0], axis=1)))
    assert terms["time_to_collision"][ahead] > 0 and terms["time_to_collision"][aside] == 0
    # and moving away from the goal costs what it gives up, not only its first step
    assert terms["regress"][back] == pytest.approx(planner.config.w_regress)
    assert terms["regress"][ahead] == 0


def test_a_wall_is_never_touched_to_get_away_from_people():
    # cornered against a wall (y = -0.35) by someone walking at the robot along it
    obs = _obs([(-0.9, 0.0)], [(1.3, 0.0)])
    obs.walls = np.array([[-5.0, -0.35, 5.0, -0.35]])
    planner = DWAPlanner()
    twist = planner.act(obs)
    end = twist.world_velocity(0.0) * DT
    assert end[1] > -0.06, f"the escape drives into the wall: {twist}"


# Episodes of the evaluation env (validation seeds, never the held-out ones) in which the DWA before the
# safety filter collided: tracker confirmation at the start (parallel_traffic 30029/30044, doorway 30043),
# close passes behind people who then slowed or turned (circle_crossing 30022, random_goals 30002/30027/
# 30031) and a robot herded backwards by an oncoming crowd (head_on 30045).
COLLIDED_BEFORE = [("circle_crossing", 30022), ("parallel_traffic", 30029), ("parallel_traffic", 30044),
                   ("head_on", 30045), ("doorway", 30043), ("random_goals", 30002), ("random_goals", 30027),
                   ("random_goals", 30031)]


@pytest.fixture(scope="module")
def eval_env():
    return make_env([make_planner("dwa")], load_eval_config()["env"])  # with the DWA's scan


@pytest.mark.parametrize(("scenario", "seed"), COLLIDED_BEFORE)
def test_episodes_that_ended_in_a_collision_do_not_any_more(eval_env, scenario, seed):
    traj = run_episode(eval_env, make_planner("dwa"), seed, scenario, 10)
    assert traj.outcome != "collision", f"{scenario} seed {seed}: {traj.collision_type}"
