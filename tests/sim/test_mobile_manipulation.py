"""MobileManipulationWorld: the arm obeys joint commands while the base drives, both through the Robot
interface; invalid commands are refused; a seed fixes the trajectory."""

import os

os.environ.setdefault("MUJOCO_GL", "egl")

import math

import numpy as np
import pytest

from embodied_stack.config import ConfigError
from embodied_stack.hardware import BaseVelocity, CommandRejected, JointCommand
from embodied_stack.sim import so_arm
from embodied_stack.sim.mobile_manipulation import MobileManipulationConfig, MobileManipulationWorld


@pytest.fixture(scope="module")
def world():
    w = MobileManipulationWorld()
    yield w
    w.close()


def _mount_offset(w: MobileManipulationWorld) -> np.ndarray:
    """Arm base position in the base_link frame (m)."""
    base, arm = w.model.body("base_link").id, w.model.body("arm_base_link").id
    return w.data.xmat[base].reshape(3, 3).T @ (w.data.xpos[arm] - w.data.xpos[base])


def test_both_robots_with_unprefixed_names(world):
    robots = world.robots
    assert set(robots) == {"quadruped", "so_arm"}
    assert {"arm", "gripper"} <= robots["so_arm"].capabilities and "base" in robots["quadruped"].capabilities
    assert robots["so_arm"].joint_names == list(so_arm.JOINT_NAMES)
    assert robots["so_arm"].camera_names == ["wrist"]  # the mobile arm has no scene camera
    frames = robots["so_arm"].read_cameras()
    assert list(frames) == ["wrist"] and frames["wrist"].frame_id == "wrist_optical_frame"
    assert frames["wrist"].rgb.shape == (128, 128, 3) and frames["wrist"].depth.max() > 0.1


def test_reset_mounts_the_arm_on_the_jittered_base(world):
    for seed in (1, 2):
        world.reset(seed)
        np.testing.assert_allclose(_mount_offset(world), [0.1, 0.0, 0.057], atol=0.002)
        np.testing.assert_allclose(world.arm.read_state().joint_positions, so_arm.HOME_QPOS, atol=1e-9)


def test_arm_follows_joint_commands_while_the_base_drives(world):
    world.reset(0)
    base0 = world.base_pose_2d()
    target = so_arm.HOME_QPOS + np.array([0.6, 0.2, -0.3, 0.0, 0.5])
    for _ in range(75):  # 1.5 s
        world.robot.send_base_velocity(BaseVelocity(vx=0.4, wz=0.4))
        world.arm.send_joint_command(JointCommand(positions=target, gripper=0.0))
        world.step()
    arm = world.arm.read_state()
    base = world.robot.read_state()
    np.testing.assert_allclose(arm.joint_positions, target, atol=0.03)
    assert arm.gripper < 0.1
    moved = world.base_pose_2d() - base0
    assert np.linalg.norm(moved[:2]) > 0.4 and moved[2] > 0.4  # drove and turned, arm and all
    assert base.base_twist[0] == pytest.approx(0.4, abs=0.03)
    np.testing.assert_allclose(_mount_offset(world), [0.1, 0.0, 0.057], atol=0.005)


def test_nan_commands_are_refused_and_nothing_moves(world):
    world.reset(0)
    world.robot.send_base_velocity(BaseVelocity(vx=0.5))
    for _ in range(10):
        world.step()
    held = world.arm.read_state().joint_positions
    bad = held.copy()
    bad[2] = math.nan
    with pytest.raises(CommandRejected):
        world.arm.send_joint_command(JointCommand(positions=bad))
    with pytest.raises(CommandRejected):
        world.robot.send_base_velocity(BaseVelocity(vx=math.nan))
    for _ in range(15):  # 0.3 s: the base servo brakes to a stop, the arm holds its last valid target
        world.step()
    np.testing.assert_allclose(world.arm.read_state().joint_positions, held, atol=0.01)
    assert np.allclose(world.robot.read_state().base_twist, 0, atol=0.01)


def test_same_seed_same_trajectory():
    def run(seed):
        w = MobileManipulationWorld()
        w.reset(seed)
        out = []
        for i in range(60):
            w.robot.send_base_velocity(BaseVelocity(vx=0.3, wz=0.3 * math.sin(i / 10)))
            q = so_arm.HOME_QPOS + 0.3 * math.sin(i / 15) * np.ones(5)
            w.arm.send_joint_command(JointCommand(positions=q, gripper=0.5))
            w.step()
            out.append(np.concatenate([w.base_pose_2d(), w.arm.read_state().joint_positions,
                                       w.crowd.position.ravel()]))
        w.close()
        return np.array(out)

    np.testing.assert_array_equal(run(3), run(3))
    assert not np.array_equal(run(3), run(4))


def test_config_extends_the_indoor_yaml(tmp_path):
    config = MobileManipulationConfig.from_yaml()
    assert config.indoor.model == "sim/worlds/mobile_manipulation.xml"
    assert config.indoor.lidar.num_beams == 720  # from config/sim/indoor.yaml
    bad = tmp_path / "bad.yaml"
    bad.write_text("base: config/sim/indoor.yaml\nlidr: {}\n")
    with pytest.raises(ConfigError, match="lidr"):
        MobileManipulationConfig.from_yaml(bad)


def test_mounted_arm_does_not_shadow_the_lidar(world):
    """Every beam sees a wall or a person indoors; an arm in the scan plane would leave the
    rear beams at inf (it sits closer than range_min)."""
    ranges = np.asarray(world.robot.read_scan().ranges)
    assert np.isfinite(ranges).all(), f"{int((~np.isfinite(ranges)).sum())} beams see nothing"
