"""The indoor world's occupancy grid and A* through its doorways; the carrot follows the path."""

import numpy as np
import pytest

from embodied_stack.navigation.occupancy import OCCUPIED, OccupancyGrid, astar, carrot, indoor_grid


@pytest.fixture(scope="module")
def grid():
    return indoor_grid()


def test_grid_marks_the_middle_wall_and_leaves_its_doorway_free(grid):
    assert grid.data[grid.cell([0.0, 0.0])] == OCCUPIED  # wall_mid_center
    assert grid.data[grid.cell([0.0, 1.6])] == 0  # the north-east doorway
    assert grid.data[grid.cell([-2.0, 0.0])] == 0  # inside the west room


def test_astar_goes_through_a_doorway(grid):
    start, goal = np.array([-3.5, -2.0]), np.array([2.5, 2.0])  # west room -> north-east room
    path = astar(grid, start, goal, robot_radius=0.3)
    np.testing.assert_allclose(path[0], start)
    np.testing.assert_allclose(path[-1], goal)
    dense = np.concatenate([np.linspace(a, b, 50) for a, b in zip(path[:-1], path[1:], strict=True)])
    blocked = grid.inflated(0.3)
    assert not any(blocked[grid.cell(p)] for p in dense), "the path touches an inflated obstacle"
    crossing = dense[np.argmin(np.abs(dense[:, 0]))]
    assert 1.0 < crossing[1] < 2.2 or -2.2 < crossing[1] < -1.0, f"crossed x = 0 outside a door: {crossing}"


def test_astar_names_a_blocked_goal_and_a_closed_room():
    walls = OccupancyGrid.from_boxes(np.array([[-2, -2, 2, -1.9], [-2, 1.9, 2, 2], [-2, -2, -1.9, 2],
                                               [1.9, -2, 2, 2], [-0.05, -2, 0.05, 2]]))
    with pytest.raises(ValueError, match="no collision-free path"):
        astar(walls, np.array([-1.0, 0.0]), np.array([1.0, 0.0]), 0.3)
    with pytest.raises(ValueError, match="goal"):
        astar(walls, np.array([-1.0, 0.0]), np.array([0.0, 0.0]), 0.3)


def test_carrot_walks_along_the_path():
    path = np.array([[0.0, 0.0], [2.0, 0.0], [2.0, 2.0]])
    np.testing.assert_allclose(carrot(path, np.array([0.5, 0.1]), 1.0), [1.5, 0.0])
    np.testing.assert_allclose(carrot(path, np.array([1.5, 0.0]), 1.0), [2.0, 0.5])
    np.testing.assert_allclose(carrot(path, np.array([2.0, 1.9]), 5.0), [2.0, 2.0])


def test_navigator_drives_a_social_planner_through_the_rooms(grid):
    from embodied_stack.navigation.navigator import Navigator
    from embodied_stack.navigation.occupancy import box_segments, indoor_obstacle_boxes
    from embodied_stack.navigation.planners import make_planner
    from embodied_stack.navigation.types import NavObservation, RobotKinematics

    kin = RobotKinematics()
    walls = box_segments(indoor_obstacle_boxes())
    nav = Navigator(grid, walls, make_planner("dwa"))
    pose, goal = np.array([-3.5, -2.0, 0.0]), np.array([2.5, -2.2])  # west room -> south-east room
    nav.set_goal(pose, goal, kin.radius)
    blocked = grid.inflated(kin.radius - 0.05)
    for _ in range(200):
        obs = NavObservation(robot_pose=pose, robot_velocity=np.zeros(2), goal=goal, kinematics=kin, dt=0.25)
        twist = nav.act(obs)
        pose = pose + np.r_[twist.world_velocity(pose[2]) * 0.25, twist.wz * 0.25]
        assert not blocked[grid.cell(pose[:2])], f"the robot hit a wall at {pose[:2]}"
        if np.linalg.norm(pose[:2] - goal) < 0.3:
            break
    assert np.linalg.norm(pose[:2] - goal) < 0.3, f"stopped at {pose[:2]}"
