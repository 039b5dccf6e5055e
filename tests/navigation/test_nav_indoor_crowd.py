"""The navigation crowd models drive the indoor world's walkers: RoutedCrowd is a drop-in for
PedestrianCrowd (people cross rooms through doorways without walking through walls)."""

import numpy as np
import pytest

from embodied_stack.config import load_yaml
from embodied_stack.navigation.indoor_crowd import RoutedCrowd
from embodied_stack.navigation.occupancy import indoor_grid, indoor_obstacle_boxes
from embodied_stack.sim.pedestrians import WaypointGraph


@pytest.mark.parametrize("model", ["social_force", "orca"])
def test_routed_crowd_walks_the_indoor_graph(model):
    pc = load_yaml("config/sim/indoor.yaml")["pedestrians"]
    crowd = RoutedCrowd(4, WaypointGraph(pc["nodes"], pc["edges"], pc["places"]), indoor_obstacle_boxes(),
                        speed_range=tuple(pc["speed"]), model=model)
    crowd.reset(np.random.default_rng(1))
    start = crowd.position.copy()
    grid = indoor_grid()
    walls = grid.data >= 100
    sides = [set() for _ in range(4)]
    for _ in range(1500):  # 30 s at 50 Hz
        crowd.step(0.02, robot_xy=np.array([-1.5, -1.0]))
        for i, x in enumerate(crowd.position[:, 0]):
            sides[i].add(bool(x > 0))
        assert not any(walls[grid.cell(p)] for p in crowd.position), "someone walked into a wall"
    assert np.linalg.norm(crowd.position - start, axis=1).max() > 2.0
    assert any(s == {True, False} for s in sides), "someone must cross between the west and east rooms"
    assert np.linalg.norm(crowd.position - [-1.5, -1.0], axis=1).min() > 0.3
