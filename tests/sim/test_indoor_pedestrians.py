"""The social-force crowd on its own (no MuJoCo): routing over the waypoint graph, avoidance, errors."""

import numpy as np
import pytest

from embodied_stack.sim.pedestrians import PedestrianCrowd, WaypointGraph

NODES = {"a": [0.0, 0.0], "b": [4.0, 0.0], "c": [4.0, 4.0], "d": [0.0, 4.0], "far": [10.0, 10.0]}
EDGES = [["a", "b"], ["b", "c"], ["c", "d"], ["d", "a"], ["c", "far"]]


def test_shortest_path_over_the_graph():
    graph = WaypointGraph(NODES, EDGES, places=["a", "c", "far"])
    assert graph.path("a", "far") in (["b", "c", "far"], ["d", "c", "far"])
    assert graph.path("a", "b") == ["b"]


def test_bad_graph_names_the_problem():
    with pytest.raises(ValueError, match="nowhere"):
        WaypointGraph(NODES, [["a", "nowhere"]], places=["a", "b"])
    with pytest.raises(ValueError, match="places"):
        WaypointGraph(NODES, EDGES, places=["a"])
    with pytest.raises(ValueError, match="speed_range"):
        PedestrianCrowd(2, WaypointGraph(NODES, EDGES, ["a", "c"]), np.zeros((0, 4)), speed_range=(1.0, 0.5))


def test_two_walkers_head_on_pass_each_other_and_the_robot():
    graph = WaypointGraph({"w": [0.0, 0.0], "e": [6.0, 0.0]}, [["w", "e"]], places=["w", "e"])
    crowd = PedestrianCrowd(2, graph, np.zeros((0, 4)), speed_range=(1.0, 1.0))
    crowd.reset(np.random.default_rng(0))
    crowd._pause[:] = 0.0
    robot = np.array([3.0, 0.3])
    gap_people, gap_robot = np.inf, np.inf
    for _ in range(400):  # 8 s at 50 Hz: both cross the corridor, past the robot standing in it
        crowd.step(0.02, robot_xy=robot)
        gap_people = min(gap_people, np.linalg.norm(crowd.position[0] - crowd.position[1]))
        gap_robot = min(gap_robot, np.linalg.norm(crowd.position - robot, axis=1).min())
    assert gap_people > 0.3 and gap_robot > 0.35
    assert crowd.position[0, 0] > 3.5 and crowd.position[1, 0] < 2.5  # both got past the robot
