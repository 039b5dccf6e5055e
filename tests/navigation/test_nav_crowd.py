"""Pedestrian models: people reach their goals without overlapping; groups stay together; the robot is
avoided only when visible; perception's confirmation delay and coasting."""

import numpy as np
import pytest

from embodied_stack.navigation.crowd import CrowdState, RobotBody, make_pedestrian_model
from embodied_stack.navigation.perceived import PerceivedPeople, PerceptionNoiseConfig


def _swap(n=4):
    angles = 2 * np.pi * np.arange(n) / n
    start = 3.0 * np.c_[np.cos(angles), np.sin(angles)]
    return CrowdState(position=start.copy(), velocity=np.zeros((n, 2)), goal=-start, speed=np.full(n, 1.0),
                      radius=np.full(n, 0.3), group=np.full(n, -1), static=np.zeros(n, bool))


@pytest.mark.parametrize("model", ["orca", "social_force"])
def test_people_swap_places_without_overlapping(model):
    state = _swap()
    m = make_pedestrian_model(model)
    m.reset(state)
    closest = np.inf
    for _ in range(80):
        m.step(state, 0.25, np.zeros((0, 4)), None)
        d = np.linalg.norm(state.position[:, None] - state.position[None], axis=2) + np.eye(4) * 99
        closest = min(closest, d.min())
    assert np.linalg.norm(state.position - state.goal, axis=1).max() < 0.6
    assert closest > 0.5, f"{model}: people overlapped (closest centres {closest:.2f} m)"


def test_social_force_groups_walk_together():
    state = CrowdState(position=np.array([[0.0, 0.0], [0.0, 0.75]]), velocity=np.zeros((2, 2)),
                       goal=np.array([[10.0, 0.0], [10.0, 0.75]]), speed=np.array([0.8, 1.3]),
                       radius=np.full(2, 0.3), group=np.array([0, 0]), static=np.zeros(2, bool))
    m = make_pedestrian_model("social_force")
    for _ in range(24):
        m.step(state, 0.25, np.zeros((0, 4)), None)
    assert np.linalg.norm(state.position[0] - state.position[1]) < 1.5, "the faster member walked off"


@pytest.mark.parametrize("visible", [False, True])
def test_people_avoid_only_a_visible_robot(visible):
    state = CrowdState(position=np.array([[-3.0, 0.0]]), velocity=np.zeros((1, 2)),
                       goal=np.array([[3.0, 0.0]]),
                       speed=np.array([1.0]), radius=np.array([0.3]), group=np.array([-1]),
                       static=np.zeros(1, bool))
    m = make_pedestrian_model("orca")
    m.reset(state)
    robot = RobotBody(np.zeros(2), np.zeros(2), 0.3) if visible else None
    closest = np.inf
    for _ in range(30):
        m.step(state, 0.25, np.zeros((0, 4)), robot)
        closest = min(closest, float(np.linalg.norm(state.position[0])))
    assert (closest > 0.6) == visible


def test_perception_confirms_late_and_coasts():
    config = PerceptionNoiseConfig(detection_probability=1.0)
    seen = PerceivedPeople(config)
    rng = np.random.default_rng(0)
    pos, vel = np.array([[2.0, 0.0], [50.0, 0.0]]), np.array([[1.0, 0.0], [0.0, 0.0]])
    shown = [seen.update(np.zeros(2), pos, vel, 0.25, rng)[0].tolist() for _ in range(3)]
    assert shown == [[], [], [0]], "a person appears after confirm_hits detections; one out of range never"
    _, p, _ = seen.update(np.zeros(2), pos, vel, 0.25, rng)
    assert abs(p[0, 0] - 2.0) < 5 * config.tracker.measurement_std_m
    seen.config = PerceptionNoiseConfig(detection_probability=1e-9)
    idx, p, _ = seen.update(np.zeros(2), pos, vel, 0.25, rng)
    assert idx.tolist() == [0] and p[0, 0] > 2.0, "an undetected track coasts forward"
    for _ in range(int(config.tracker.max_coast_s / 0.25) + 1):
        idx, _, _ = seen.update(np.zeros(2), pos, vel, 0.25, rng)
    assert idx.tolist() == [], "a track unseen for max_coast_s is dropped"
