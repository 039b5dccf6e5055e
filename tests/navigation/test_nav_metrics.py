"""Metrics on hand-made trajectories whose answers are known."""

import math

import numpy as np
import pytest

from embodied_stack.navigation.metrics import (
    METRIC_NAMES,
    Trajectory,
    aggregate,
    collision_type,
    episode_metrics,
    wilson_interval,
)


def _line(xs, people_xy, outcome="success", collision="", yaw=0.0, dt=1.0):
    xy = np.c_[xs, np.zeros(len(xs))]
    vel = np.gradient(xy, dt, axis=0) if len(xs) > 1 else np.zeros((1, 2))
    return Trajectory(dt=dt, robot_xy=xy, robot_yaw=np.full(len(xs), yaw), robot_velocity=vel,
                      robot_wz=np.zeros(len(xs)), robot_radius=0.5,
                      people_xy=np.asarray(people_xy, dtype=float).reshape(len(xs), -1, 2),
                      people_radius=np.full(np.asarray(people_xy).reshape(len(xs), -1, 2).shape[1], 0.5),
                      goal=np.array([xs[-1], 0.0]), outcome=outcome, collision_type=collision)


def test_zones_and_distances():
    # robot at x = 0..3; one person fixed at (0, 3): centre distances 3, 3.16, 3.61, 4.24 -> gaps 2, 2.16, ...
    # a second person whose gap is 0.2 (intimate), 1.0 (personal), 3.0 (social), 5 (none)
    xs = [0.0, 1.0, 2.0, 3.0]
    second = [(0.0, -1.2), (1.0, -2.0), (2.0, -4.0), (3.0, -6.0)]
    people = [[(0.0, 3.0), s] for s in second]
    m = episode_metrics(_line(xs, people))
    assert set(m) == set(METRIC_NAMES)
    assert m["min_distance_to_person"] == pytest.approx(0.2)
    assert m["intimate_space_pct"] == pytest.approx(25.0)
    assert m["personal_space_pct"] == pytest.approx(25.0)
    # social (1.2-3.6 m): the first person at gaps 2.0, 2.16, 2.61, 3.24 is in it at every step
    assert m["social_space_pct"] == pytest.approx(100.0)
    closest = [0.2, 1.0, math.hypot(2, 3) - 1, math.hypot(3, 3) - 1]
    assert m["avg_distance_to_closest_person"] == pytest.approx(np.mean(closest))


def test_path_length_ratio_and_time_to_goal():
    straight = episode_metrics(_line([0.0, 1.0, 2.0, 3.0], np.zeros((4, 0, 2))))
    assert straight["path_length"] == pytest.approx(3.0)
    assert straight["path_length_ratio"] == pytest.approx(1.0)
    assert straight["time_to_goal"] == pytest.approx(3.0)
    assert math.isnan(straight["min_distance_to_person"])
    detour = Trajectory(dt=1.0, robot_xy=np.array([[0, 0], [0, 4], [3, 4], [3, 0]], float),
                        robot_yaw=np.zeros(4), robot_velocity=np.ones((4, 2)), robot_wz=np.zeros(4),
                        robot_radius=0.3, people_xy=np.zeros((4, 0, 2)), people_radius=np.zeros(0),
                        goal=np.array([3.0, 0.0]), outcome="success")
    assert episode_metrics(detour)["path_length_ratio"] == pytest.approx(11.0 / 3.0)
    timeout = episode_metrics(_line([0.0, 1.0], np.zeros((2, 0, 2)), outcome="timeout"))
    assert timeout["timeout"] == 1.0 and math.isnan(timeout["path_length_ratio"])


def test_collisions_by_type_and_who_ran_into_whom():
    m = episode_metrics(_line([0.0, 1.0], [[(5.0, 0.0)], [(1.9, 0.0)]], outcome="collision",
                              collision="person_on_robot"))
    assert (m["collision"], m["person_on_robot_collision"], m["robot_on_person_collision"]) == (1.0, 1.0, 0.0)
    assert m["min_distance_to_person"] == pytest.approx(-0.1)
    # robot driving at a standing person vs a person walking into a standing robot
    still, person = np.zeros(2), np.array([0.9, 0.0])
    assert collision_type(np.zeros(2), np.array([1.0, 0]), person, still) == "robot_on_person"
    assert collision_type(np.zeros(2), still, person, np.array([-1.0, 0])) == "person_on_robot"
    with pytest.raises(ValueError, match="collision_type"):
        _line([0.0, 1.0], np.zeros((2, 0, 2)), outcome="collision")


def test_time_not_moving_heading_changes_and_jerk():
    t = _line([0.0, 0.0, 0.0, 1.0, 2.0], np.zeros((5, 0, 2)))
    t.robot_velocity = np.array([[0, 0], [0, 0], [0, 0], [1, 0], [1, 0]], float)
    t.robot_yaw = np.array([0.0, 0.0, 0.5, 0.0, 0.0])
    m = episode_metrics(t)
    assert m["time_not_moving"] == pytest.approx(2.0)
    assert m["cumulative_heading_changes"] == pytest.approx(1.0)
    # x = 0, 0, 0, 1, 2: third differences 1 and -1 (m/s^3 at dt = 1)
    assert m["jerk"] == pytest.approx(1.0)


def test_aggregate_and_wilson():
    eps = [episode_metrics(_line([0.0, 1.0], np.zeros((2, 0, 2)), outcome=o)) for o in ("success", "timeout")]
    agg = aggregate(eps)
    assert agg["success"] == 0.5 and agg["episodes"] == 2 and agg["time_to_goal"] == pytest.approx(1.0)
    low, high = wilson_interval(20, 20)
    assert high == 1.0 and 0.8 < low < 0.85
