"""GoalRunner without ROS: one goal on the indoor world's map from plan to result, with a kinematic robot
(it moves exactly as commanded) and people placed by the test. Every outcome ends with a code and a
reason: reached, person too close, blocked, stale input, timeout, bad goal."""

import math

import numpy as np
import pytest

from embodied_stack.navigation.controller import MotionLimits
from embodied_stack.navigation.goal_runner import (
    ErrorCode,
    GoalRunner,
    NavigationError,
    RunnerConfig,
    RunnerInput,
    plan_path,
)
from embodied_stack.navigation.navigator import Navigator
from embodied_stack.navigation.occupancy import box_segments, indoor_grid, indoor_obstacle_boxes
from embodied_stack.navigation.planners import make_planner
from embodied_stack.robots import load_description

DT = 0.05


@pytest.fixture(scope="module")
def world():
    boxes = indoor_obstacle_boxes()
    return indoor_grid(), box_segments(boxes)


def _runner(world, **config) -> GoalRunner:
    grid, walls = world
    limits = MotionLimits.from_base(load_description("go2").base, 0.8)
    return GoalRunner(Navigator(grid, walls, make_planner("dwa")), limits, RunnerConfig(**config), DT)


def _drive(runner: GoalRunner, pose, people=lambda now, pose: np.zeros((0, 2)), stale=lambda now: "",
           limit_s: float = 90.0):
    """Step the runner with a robot that moves exactly as commanded; returns the last output and a log
    of (time, pose, twist, output)."""
    pose, now, log = np.array(pose, dtype=np.float64), 0.0, []
    velocity = np.zeros(3)
    while now < limit_s:
        out = runner.step(RunnerInput(now, pose.copy(), velocity, people_position=people(now, pose),
                                      people_velocity=np.zeros_like(people(now, pose)), stale=stale(now)))
        log.append((now, pose.copy(), out))
        if out.finished:
            return out, log
        t = out.twist
        c, s = math.cos(pose[2]), math.sin(pose[2])
        pose += np.array([c * t.vx - s * t.vy, s * t.vx + c * t.vy, t.wz]) * DT
        velocity = np.array([t.vx, t.vy, t.wz])
        now += DT
    raise AssertionError(f"no result within {limit_s} s: {log[-1]}")


def test_plan_path_names_what_is_wrong(world):
    grid, _ = world
    with pytest.raises(NavigationError) as e:
        plan_path(grid, np.array([-1.5, -1.0]), np.array([0.0, 0.0]), 0.3)  # inside the middle wall
    assert e.value.code == ErrorCode.GOAL_OCCUPIED and "free space" in str(e.value)
    with pytest.raises(NavigationError) as e:
        plan_path(grid, np.array([-1.5, -1.0]), np.array([20.0, 0.0]), 0.3)
    assert e.value.code == ErrorCode.GOAL_OUTSIDE_MAP and "outside the map" in str(e.value)
    # squeezed against a wall (inside the inflation): planned from the nearest free cell, start kept
    path = plan_path(grid, np.array([-0.25, -0.5]), np.array([-2.0, -0.5]), 0.3)
    np.testing.assert_allclose(path[0], [-0.25, -0.5])
    assert np.linalg.norm(path[1] - path[0]) < 0.5


def test_reaches_a_goal_in_another_room_and_turns_to_its_heading(world):
    runner = _runner(world)
    runner.start(np.array([2.0, -2.3]), math.pi / 2, np.array([-1.5, -1.0, 0.0]), 0.0)
    out, log = _drive(runner, [-1.5, -1.0, 0.0])
    assert out.succeeded and out.error_code == ErrorCode.NONE, out.error_msg
    _, pose, _ = log[-1]
    assert np.linalg.norm(pose[:2] - [2.0, -2.3]) < 0.25
    assert abs(math.remainder(pose[2] - math.pi / 2, 2 * math.pi)) < 0.25
    assert any(o.state == "aligning" for _, _, o in log)
    # within the base's limits, and never faster-changing than the acceleration limit allows
    limits = runner.limits
    twists = [o.twist for _, _, o in log[:-1]]  # the last is the stop at the goal, never rate-limited
    assert max(abs(t.vx) for t in twists) <= limits.max_vx + 1e-9
    assert max(abs(t.vy) for t in twists) <= limits.max_vy + 1e-9
    steps = [math.hypot(b.vx - a.vx, b.vy - a.vy) for a, b in zip(twists, twists[1:], strict=False)]
    assert max(steps) <= limits.max_decel * DT + 1e-9
    distances = [o.distance_remaining for _, _, o in log[:-1]]
    assert distances[0] > 3.5 and distances[-1] < 0.3  # 3.7 m through the doorway


def test_a_person_stepping_in_front_stops_the_robot_at_once(world):
    runner = _runner(world, stop_hold=1.0)
    start = np.array([-1.5, -1.0, math.pi])
    runner.start(np.array([-3.8, -1.0]), None, start, 0.0)
    seen = {}

    def person(now, pose):  # steps in 0.8 m ahead of the robot at t = 1.5 s, leaves at t = 4.5 s
        if not 1.5 <= now < 4.5:
            return np.zeros((0, 2))
        seen.setdefault("at", pose[:2] + 0.8 * np.array([math.cos(pose[2]), math.sin(pose[2])]))
        return seen["at"][None]

    out, log = _drive(runner, start, people=person)
    assert out.succeeded, out.error_msg
    during = [o for t, _, o in log if 1.5 <= t < 2.5]  # the first stop_hold second: zero, not braking
    assert during and all(o.hard_stop and o.twist.vx == o.twist.vy == o.twist.wz == 0.0 for o in during)
    # then it gives way: backs off until clear of the stop gap (+ margin), and goes on once they left
    gap = [np.linalg.norm(pose[:2] - seen["at"]) - 0.55 for t, pose, _ in log if 1.5 <= t < 4.5]
    assert gap[0] < 0.3 and max(gap) > 0.45


def test_a_person_who_stays_ends_the_goal_with_a_reason(world):
    runner = _runner(world, progress_time=2.0, wait_time=0.5, max_recoveries=3, stop_hold=100.0)
    start = np.array([-1.5, -1.0, math.pi])
    runner.start(np.array([-3.8, -1.0]), None, start, 0.0)
    out, log = _drive(runner, start, people=lambda now, pose: np.array([[-2.2, -1.0]]))
    assert not out.succeeded and out.error_code == ErrorCode.PERSON_TOO_CLOSE, out.error_msg
    assert "-2.2" in out.error_msg and out.recoveries == 3
    states = {o.state for _, _, o in log}
    assert {"wait", "backup"} <= states  # and a re-route in between (instant: no state of its own)


def test_blocked_without_people_is_failed_to_make_progress(world):
    runner = _runner(world, progress_time=1.0, wait_time=0.2, max_recoveries=2)
    start = np.array([-1.5, -1.0, 0.0])
    runner.start(np.array([-3.0, -1.0]), None, start, 0.0)
    stuck = start.copy()
    now, out = 0.0, None
    while out is None or not out.finished:  # a robot that does not move whatever it is told (a wall?)
        out = runner.step(RunnerInput(now, stuck, np.zeros(3)))
        now += DT
        assert now < 30
    assert out.error_code == ErrorCode.FAILED_TO_MAKE_PROGRESS and "blocked" in out.error_msg


def test_stale_input_stops_then_aborts_and_the_time_limit_holds(world):
    runner = _runner(world, input_timeout=1.0)
    start = np.array([-1.5, -1.0, 0.0])
    runner.start(np.array([-3.0, -1.0]), None, start, 0.0)
    out, log = _drive(runner, start, stale=lambda now: "odometry 0.8 s old" if now > 1.0 else "")
    assert out.error_code == ErrorCode.INPUT_LOST and "odometry" in out.error_msg
    assert all(o.twist.vx == o.twist.vy == 0.0 for t, _, o in log if t > 1.0)
    runner = _runner(world, goal_timeout=1.0)
    runner.start(np.array([2.0, -2.3]), None, start, 0.0)
    out, _ = _drive(runner, start)
    assert out.error_code == ErrorCode.TIMEOUT and "goal_timeout" in out.error_msg


def test_people_inside_walls_are_map_clutter(world):
    runner = _runner(world)
    start = np.array([-0.5, -1.6, 0.0])  # in the doorway; a door jamb's end "tracked" inside the wall
    runner.start(np.array([1.5, -1.6]), None, start, 0.0)
    out, log = _drive(runner, start, people=lambda now, pose: np.array([[0.0, -2.3]]))
    assert out.succeeded and not any(o.hard_stop for _, _, o in log)
    assert runner.ignored_people > 0


def test_the_learned_planner_drives_the_same_runner_with_its_scan(world):
    """`planner: learned` in the node: the shipped policy, fed the scan as the beams it was trained on."""
    from embodied_stack.navigation.scan import ray_scan

    grid, walls = world
    learned = make_planner("learned")
    runner = GoalRunner(Navigator(grid, walls, learned),
                        MotionLimits.from_base(load_description("go2").base, 0.8), RunnerConfig(), DT)
    pose, now = np.array([-1.5, -1.0, 0.0]), 0.0
    runner.start(np.array([2.0, -2.3]), None, pose, now)
    out = None
    while out is None or not out.finished:
        beams = ray_scan(pose[:2], pose[2], learned.layout.scan_beams, learned.layout.scan_range,
                         np.zeros((0, 2)), np.zeros(0), walls)
        out = runner.step(RunnerInput(now, pose.copy(), np.zeros(3), scan_beams=beams))
        t = out.twist
        c, s = math.cos(pose[2]), math.sin(pose[2])
        pose += np.array([c * t.vx - s * t.vy, s * t.vx + c * t.vy, t.wz]) * DT
        now += DT
        assert now < 30, f"no result: {pose}"
    assert out.succeeded, out.error_msg
