"""TabletopWorld, SimArm (hardware interface), CameraRig and ArmKinematics."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest

from embodied_stack.config import ConfigError
from embodied_stack.hardware import CommandRejected, JointCommand, RobotNotConnectedError
from embodied_stack.sim import so_arm
from embodied_stack.sim.kinematics import ArmKinematics, matrix_from_quat_xyzw, top_down_quat
from embodied_stack.sim.rendering import CameraRig
from embodied_stack.sim.tabletop import SimArm, TabletopConfig, TabletopWorld


@pytest.fixture(scope="module")
def world():
    w = TabletopWorld()
    yield w
    w.close()


def test_sim_arm_clamps_to_limits_and_max_step(world):
    world.reset(seed=0)
    arm = world.arm
    q = arm.read_state().joint_positions
    wild = q + np.array([5.0, -5.0, 0.1, 0.0, 0.0])
    sent = arm.send_joint_command(JointCommand(positions=wild, gripper=3.0))
    assert np.all(sent.positions <= so_arm.JOINT_UPPER) and np.all(sent.positions >= so_arm.JOINT_LOWER)
    assert np.all(np.abs(sent.positions - q) <= so_arm.DESCRIPTION.max_step + 1e-12)
    assert sent.gripper == 1.0
    np.testing.assert_allclose(arm.joint_targets, sent.positions)


def test_sim_arm_rejects_nan_and_keeps_last_target(world):
    world.reset(seed=0)
    before = world.arm.joint_targets
    with pytest.raises(CommandRejected):
        world.arm.send_joint_command(JointCommand(positions=np.array([np.nan, 0, 0, 0, 0])))
    with pytest.raises(CommandRejected):
        world.arm.send_joint_command(JointCommand(positions=np.zeros(3)))
    np.testing.assert_array_equal(world.arm.joint_targets, before)


def test_sim_arm_moves_toward_command_and_reports_state(world):
    world.reset(seed=0)
    arm = world.arm
    target = so_arm.HOME_QPOS + np.array([0.2, 0.1, -0.1, 0.0, 0.2])
    arm.send_joint_command(JointCommand(positions=target, gripper=0.0))
    for _ in range(25):
        world.step()
    state = arm.read_state()
    assert state.joint_names == list(so_arm.JOINT_NAMES)
    np.testing.assert_allclose(state.joint_positions, target, atol=0.02)
    assert state.gripper < 0.1 and state.stamp == pytest.approx(25 * world.control_dt)


def test_sim_arm_requires_connect():
    w = TabletopWorld()
    arm = SimArm(w.model, w.data)
    with pytest.raises(RobotNotConnectedError, match="connect"):
        arm.read_state()
    w.close()


def test_cameras_give_rgbd_with_intrinsics(world):
    world.reset(seed=0)
    frames = world.arm.read_cameras()
    assert set(frames) == {"wrist", "scene"}
    scene = frames["scene"]
    h, w = world.config.camera_height, world.config.camera_width
    assert scene.rgb.shape == (h, w, 3) and scene.depth.shape == (h, w) and scene.depth.dtype == np.float32
    assert scene.frame_id == "scene_optical_frame"
    assert 0.2 < np.median(scene.depth[scene.depth > 0]) < 2.0
    assert scene.intrinsics[0, 0] == scene.intrinsics[1, 1] and scene.intrinsics[0, 2] == (w - 1) / 2


def test_camera_rig_rejects_bad_setup(world):
    with pytest.raises(ValueError, match="unknown camera"):
        CameraRig(world.model, ["nope"], 32, 32)
    with pytest.raises(ValueError, match="offwidth"):
        CameraRig(world.model, ["scene"], 4000, 32)


def test_reset_is_deterministic_and_randomises(world):
    world.reset(seed=11)
    a = [(o.name, o.color, o.position.copy()) for o in world.ground_truth_objects()]
    light = world.model.light_diffuse.copy()
    world.reset(seed=11)
    b = [(o.name, o.color, o.position.copy()) for o in world.ground_truth_objects()]
    for (n1, c1, p1), (n2, c2, p2) in zip(a, b, strict=True):
        assert n1 == n2 and c1 == c2
        np.testing.assert_array_equal(p1, p2)
    np.testing.assert_array_equal(light, world.model.light_diffuse)
    world.reset(seed=12)
    c = [o.position for o in world.ground_truth_objects()]
    assert not np.allclose(a[0][2], c[0])


def test_randomisation_switch_off_gives_fixed_scene():
    cfg = TabletopConfig.from_yaml()
    cfg.randomization.enabled = False
    w = TabletopWorld(cfg)
    w.reset(seed=1)
    p1 = {o.name: o.position.copy() for o in w.ground_truth_objects()}
    w.reset(seed=2)
    p2 = {o.name: o.position.copy() for o in w.ground_truth_objects()}
    assert all(np.allclose(p1[k], p2[k]) for k in p1)
    assert [o.color for o in w.ground_truth_objects()][:4] == ["red", "green", "blue", "yellow"]
    w.close()


def test_config_rejects_unknown_keys():
    with pytest.raises(ConfigError, match="colour"):
        TabletopConfig.from_mapping({"randomization": {"colour": True}})


def test_kinematics_fk_ik_round_trip():
    model = mujoco.MjModel.from_xml_path(str(so_arm.arm_xml_path()))
    kin = ArmKinematics(model)
    target, quat = np.array([0.2, 0.05, 0.05]), top_down_quat(np.arctan2(0.05, 0.2) + np.pi)
    q = kin.ik(target, quat)
    pos_err, rot_err = kin.pose_error(q, target, quat)
    assert pos_err < 1e-3 and rot_err < 0.02
    pos, q_xyzw = kin.fk(q)
    np.testing.assert_allclose(pos, target, atol=1e-3)
    np.testing.assert_allclose(matrix_from_quat_xyzw(q_xyzw)[:, 2], [0, 0, -1], atol=0.02)
    assert np.all(q >= kin.lower) and np.all(q <= kin.upper)
    with pytest.raises(ValueError, match="target_pos"):
        kin.ik(np.array([np.nan, 0, 0]))
