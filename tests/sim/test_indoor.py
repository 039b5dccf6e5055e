"""IndoorWorld: the quadruped base obeys and refuses commands like hardware; LiDAR, IMU, pedestrians."""

import os

os.environ.setdefault("MUJOCO_GL", "egl")

import math

import numpy as np
import pytest

from embodied_stack.hardware import BaseVelocity, CommandRejected
from embodied_stack.sim.indoor import IndoorConfig, IndoorWorld


def _world(**overrides) -> IndoorWorld:
    config = IndoorConfig.from_yaml()
    for key, value in overrides.items():
        section, _, name = key.partition("__")
        setattr(getattr(config, section), name, value)
    return IndoorWorld(config)


@pytest.fixture(scope="module")
def still_world():
    """Robot at a fixed pose facing +x, no pedestrians: geometry checks."""
    world = _world(randomize__robot_start=False, pedestrians__count=0)
    yield world
    world.close()


def test_lidar_sees_wall_at_right_distance(still_world):
    w = still_world
    w.config.robot.start_pose = [-3.0, -1.0, 0.0]
    w.reset(0)
    scan = w.robot.read_scan()
    assert scan.ranges.shape == (720,)
    assert scan.angle_increment == pytest.approx(math.radians(0.5))
    x_laser = -3.0 + 0.15  # laser site 0.15 m ahead of base_link
    # beam 0 deg hits the middle wall's west face at x = -0.05; 180 deg the west wall at x = -5.0
    front = scan.ranges[360]  # angle_min + 360 * 0.5 deg = 0
    back = scan.ranges[0]  # angle_min = -pi
    assert front == pytest.approx(-0.05 - x_laser, abs=0.01)
    assert back == pytest.approx(x_laser + 5.0, abs=0.01)
    w.config.robot.start_pose = [-1.5, -1.0, 0.0]


def test_base_moves_when_commanded_and_reports_odometry(still_world):
    w = still_world
    w.reset(0)
    start = w.base_pose_2d()
    applied = w.robot.send_base_velocity(BaseVelocity(vx=5.0, vy=0.0, wz=0.0))
    assert applied.vx == w.robot.base_limits.max_vx  # clamped to the limit, and the clamp is returned
    for _ in range(25):  # 0.5 s, the watchdog timeout
        w.robot.send_base_velocity(BaseVelocity(vx=0.4))
        w.step()
    moved = w.base_pose_2d() - start
    assert 0.15 < moved[0] < 0.21 and abs(moved[1]) < 1e-3
    state = w.robot.read_state()
    assert state.base_twist[0] == pytest.approx(0.4, abs=0.02)
    assert state.base_pose[2] == pytest.approx(0.28)
    # like a real IMU, the accelerometer reads gravity as +9.81 m/s^2 up
    np.testing.assert_allclose(state.imu.linear_acceleration, [0, 0, 9.81], atol=0.5)


def test_base_stops_on_rejected_command_and_on_timeout(still_world):
    w = still_world
    w.reset(0)
    w.robot.send_base_velocity(BaseVelocity(vx=0.5, wz=0.5))
    for _ in range(10):
        w.step()
    with pytest.raises(CommandRejected):
        w.robot.send_base_velocity(BaseVelocity(vx=float("nan")))
    for _ in range(10):  # 0.2 s: the velocity servo (time constant 0.04 s) brakes to a stop
        w.step()
    assert np.allclose(w.robot.read_state().base_twist, 0, atol=0.01)

    w.robot.send_base_velocity(BaseVelocity(vx=0.5))
    for _ in range(40):  # 0.8 s without a new command: the 0.5 s watchdog stops the base
        w.step()
    assert w.robot.read_state().base_twist[0] == pytest.approx(0.0, abs=1e-3)


def test_pedestrians_walk_and_keep_apart():
    w = _world(pedestrians__count=8)
    start = np.array([p.position for p in w.ground_truth_people()])
    gaps = []
    for _ in range(1500):  # 30 s
        w.step()
        p = w.crowd.position
        d = np.linalg.norm(p[:, None] - p[None], axis=2)
        np.fill_diagonal(d, np.inf)
        gaps.append(d.min())
    end = np.array([p.position for p in w.ground_truth_people()])
    assert np.median(np.linalg.norm(end - start, axis=1)) > 1.0  # they walk between places
    assert min(gaps) > 0.3  # centres of 0.25 m-radius people: they avoid each other
    boxes = w.obstacle_boxes()
    closest = np.clip(end[:, None, :], boxes[None, :, :2], boxes[None, :, 2:])
    assert np.linalg.norm(end[:, None] - closest, axis=2).min() > 0.05  # and stay out of walls
    w.close()


def test_same_seed_same_trajectory():
    def run(seed):
        w = _world(pedestrians__count=3)
        w.reset(seed)
        out = []
        for i in range(100):
            w.robot.send_base_velocity(BaseVelocity(vx=0.3, wz=0.3 * math.sin(i / 10)))
            w.step()
            out.append(np.concatenate([w.base_pose_2d(), w.crowd.position.ravel()]))
        w.close()
        return np.array(out)

    np.testing.assert_array_equal(run(3), run(3))
    assert not np.array_equal(run(3), run(4))


def test_bad_config_names_the_key():
    with pytest.raises(ValueError, match="count"):
        _world(pedestrians__count=9)
    from embodied_stack.config import ConfigError

    with pytest.raises(ConfigError, match="pedestrain"):
        IndoorConfig.from_dict({"pedestrain": {}})


def test_front_camera_rgbd(still_world):
    frames = still_world.robot.read_cameras()
    frame = frames["front_camera"]
    assert frame.rgb.shape == (240, 320, 3) and frame.depth.shape == (240, 320)
    assert frame.depth.max() > 0.5


def test_mobile_manipulation_world_carries_the_arm():
    """The indoor world code runs the mobile-manipulation MJCF unchanged; the arm rides on the base."""
    w = IndoorWorld(IndoorConfig.from_yaml(model="sim/worlds/mobile_manipulation.xml"))
    base, arm = w.model.body("base_link").id, w.model.body("arm_base_link").id
    for _ in range(100):
        w.robot.send_base_velocity(BaseVelocity(vx=0.4, wz=0.6))
        w.step()
    rot = w.data.xmat[base].reshape(3, 3)
    offset = rot.T @ (w.data.xpos[arm] - w.data.xpos[base])
    np.testing.assert_allclose(offset, [0.1, 0.0, 0.057], atol=0.005)
    assert w.base_pose_2d()[2] > 0.5  # it turned, arm and all
    w.close()
