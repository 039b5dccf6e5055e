"""The command-shaping pieces of the navigation node, without ROS: limits, smoothing, the hard-stop test,
the progress checker, path geometry and scan resampling."""

import math

import numpy as np
import pytest

from embodied_stack.navigation.controller import (
    MotionLimits,
    ProgressChecker,
    distance_to_path,
    people_inside,
    remaining_length,
    robot_scan,
    scan_points,
    seen_through,
)
from embodied_stack.navigation.types import Twist
from embodied_stack.robots import load_description

LIMITS = MotionLimits(max_vx=1.0, max_vy=0.5, max_wz=1.5, max_accel=1.0, max_decel=2.0, max_angular_accel=2.0)


def test_limits_come_from_the_robot_description():
    base = load_description("go2").base
    limits = MotionLimits.from_base(base, fraction=0.5)
    assert (limits.max_vx, limits.max_vy, limits.max_wz) == (base.max_vx / 2, base.max_vy / 2,
                                                             base.max_wz / 2)
    with pytest.raises(ValueError, match="fraction"):
        MotionLimits.from_base(base, fraction=1.5)
    with pytest.raises(ValueError, match="max_accel"):
        MotionLimits(1.0, 0.5, 1.5, max_accel=0.0)


def test_clamp_keeps_the_direction_of_travel():
    out = LIMITS.clamp(Twist(1.0, 1.0, 3.0))
    assert out.vy == pytest.approx(0.5) and out.vx == pytest.approx(0.5)  # 45 deg kept, vy at its limit
    assert out.wz == 1.5
    out = LIMITS.clamp(Twist(-2.0, 0.1, 0.0))
    assert out.vx == pytest.approx(-1.0) and out.vy == pytest.approx(0.05)


def test_smooth_limits_acceleration_and_lets_braking_be_harder():
    dt = 0.1
    up = LIMITS.smooth(Twist(1.0, 0.0, 1.0), Twist(), dt)
    assert up.vx == pytest.approx(0.1) and up.wz == pytest.approx(0.2)
    down = LIMITS.smooth(Twist(), Twist(1.0, 0.0, 0.0), dt)
    assert down.vx == pytest.approx(0.8)  # max_decel 2 m/s^2
    turn = LIMITS.smooth(Twist(0.0, 0.5, 0.0), Twist(0.5, 0.0, 0.0), dt)  # a change of direction
    assert math.hypot(turn.vx - 0.5, turn.vy) == pytest.approx(0.1)
    with pytest.raises(ValueError, match="dt"):
        LIMITS.smooth(Twist(), Twist(), 0.0)


def test_people_inside_measures_body_to_body():
    people = np.array([[0.8, 0.0], [0.0, 0.9], [-3.0, 0.0]])
    inside = people_inside(np.zeros(2), people, robot_radius=0.3, person_radius=0.25, gap=0.3)
    assert inside.tolist() == [True, False, False]  # gaps 0.25, 0.35, 2.45 m
    assert people_inside(np.zeros(2), np.zeros((0, 2)), 0.3, 0.25, 0.3).shape == (0,)


def test_progress_checker_fails_only_after_the_allowance():
    checker = ProgressChecker(radius=0.3, time_s=2.0)
    assert checker.check(np.zeros(2), 0.0)
    assert checker.check(np.array([0.2, 0.0]), 1.9)
    assert not checker.check(np.array([0.2, 0.0]), 2.1)
    assert checker.check(np.array([0.4, 0.0]), 2.2)  # moved: progress again, the clock restarts
    assert checker.check(np.array([0.4, 0.0]), 4.1)
    checker.reset()
    assert checker.check(np.array([0.4, 0.0]), 10.0)
    with pytest.raises(ValueError, match="radius"):
        ProgressChecker(0.0, 1.0)


def test_path_geometry():
    path = np.array([[0.0, 0.0], [2.0, 0.0], [2.0, 2.0]])
    assert distance_to_path(path, np.array([1.0, 0.5])) == pytest.approx(0.5)
    assert remaining_length(path, np.array([1.0, 0.0])) == pytest.approx(3.0)
    assert remaining_length(path, np.array([2.5, 1.0])) == pytest.approx(1.5)  # 0.5 onto it + 1 along


def test_robot_scan_casts_rays_from_the_robot_centre_along_its_heading():
    # a robot at (1, 1) facing +y with its LiDAR 0.15 m ahead; a wall across its way 1 m ahead of the
    # LiDAR (seen over +-60 deg). From the centre the wall is 1.15 m ahead, 1.15 / cos 45 deg along the
    # 45 deg rays, and nothing is to the sides or behind
    pose = np.array([1.0, 1.0, math.pi / 2])
    laser = np.array([1.0, 1.15, math.pi / 2])
    increment = math.radians(0.5)
    angles = -math.pi + increment * np.arange(720)
    ranges = np.where(np.abs(angles) <= math.radians(60), 1.0 / np.cos(angles), np.inf)
    points = scan_points(ranges, -math.pi, increment, laser, 12.0)
    beams = robot_scan(points, pose, beams=8, max_range=6.0, tolerance=increment)
    wall = 1.15 / math.cos(math.pi / 4)
    # (a ray reads the nearest return within the tolerance: up to r tan(45 deg) x 0.5 deg short, 1.4 cm)
    np.testing.assert_allclose(beams, [1.15, wall, 6.0, 6.0, 6.0, 6.0, 6.0, wall], atol=0.015)
    assert robot_scan(np.zeros((0, 2)), pose, 4, 6.0, increment).tolist() == [6.0] * 4
    with pytest.raises(ValueError, match="beams"):
        robot_scan(points, pose, beams=0, max_range=6.0, tolerance=increment)


def test_scan_points_are_in_the_world_frame():
    pts = scan_points(np.array([1.0, np.inf, 2.0]), 0.0, math.pi / 2, np.array([1.0, 1.0, math.pi / 2]), 6.0)
    np.testing.assert_allclose(pts, [[1.0, 2.0], [1.0, -1.0]], atol=1e-9)


def test_seen_through_drops_only_tracks_the_scan_shows_empty():
    increment = math.radians(0.5)
    ranges = np.full(720, 10.0)  # open space all round...
    angles = -math.pi + increment * np.arange(720)
    ranges[np.abs(angles) < math.radians(4)] = 2.8  # ...but a body 3 m ahead (near surface 2.8 m)
    ranges[np.abs(angles - math.pi / 2) < math.radians(5)] = 1.0  # and a wall 1 m to the left
    people = np.array([[3.0, 0.0],   # the body the scan sees: kept
                       [0.0, -2.0],  # free space on the right: a ghost
                       [0.0, 2.5]])  # behind the wall on the left: occluded, kept
    ghost = seen_through(people, np.zeros(3), ranges, -math.pi, increment, body_radius=0.3)
    assert ghost.tolist() == [False, True, False]
    assert seen_through(np.zeros((0, 2)), np.zeros(3), ranges, -math.pi, increment, 0.3).shape == (0,)
