"""KinematicTree (our robot_state_publisher) against MuJoCo's own forward kinematics."""

import mujoco
import numpy as np
import pytest

from embodied_stack.sim import quadruped, so_arm
from embodied_stack.sim.rendering import CameraRig, camera_optical_pose
from embodied_stack.tf import KinematicTree

ROBOT_FILES = {"so_arm": so_arm.arm_xml_path(), "quadruped": quadruped.robot_xml()}


def _robot_path(robot: str):
    return ROBOT_FILES[robot]


def _world_pose(data: mujoco.MjData, body: int) -> np.ndarray:
    m = np.eye(4)
    m[:3, :3] = data.xmat[body].reshape(3, 3)
    m[:3, 3] = data.xpos[body]
    return m


def _random_state(model: mujoco.MjModel, data: mujoco.MjData, rng: np.random.Generator) -> dict[str, float]:
    """Random joint values (a little beyond the limits: kinematics must not care) and, for a
    floating base, a random base pose, which the tree must be independent of."""
    data.qpos[:] = model.qpos0
    joints = {}
    for j in range(model.njnt):
        adr = model.jnt_qposadr[j]
        if model.jnt_type[j] == mujoco.mjtJoint.mjJNT_FREE:
            data.qpos[adr:adr + 3] = rng.normal(size=3)
            q = rng.normal(size=4)
            data.qpos[adr + 3:adr + 7] = q / np.linalg.norm(q)
            continue
        lo, hi = model.jnt_range[j]
        joints[model.joint(j).name] = data.qpos[adr] = rng.uniform(lo - 0.3, hi + 0.3)
    mujoco.mj_kinematics(model, data)
    mujoco.mj_comPos(model, data)
    mujoco.mj_camlight(model, data)
    return joints


@pytest.mark.parametrize("robot", ["so_arm", "quadruped"])
def test_link_poses_match_mj_kinematics(robot):
    model = mujoco.MjModel.from_xml_path(str(_robot_path(robot)))
    data = mujoco.MjData(model)
    tree = KinematicTree(model)
    root = model.body(tree.root_body).id
    rng = np.random.default_rng(7)
    checked = 0
    for _ in range(25):
        joints = _random_state(model, data, rng)
        poses = tree.forward(joints)
        base_inv = np.linalg.inv(_world_pose(data, root))
        for b in range(1, model.nbody):
            if b == root:
                continue
            expected = base_inv @ _world_pose(data, b)
            got = poses[model.body(b).name].matrix()
            np.testing.assert_allclose(got[:3, 3], expected[:3, 3], atol=1e-6, err_msg=model.body(b).name)
            np.testing.assert_allclose(got[:3, :3], expected[:3, :3], atol=1e-6, err_msg=model.body(b).name)
            checked += 1
    assert checked == 25 * (model.nbody - 2)  # every body but the world and the root, every time


@pytest.mark.parametrize("robot", ["so_arm", "quadruped"])
def test_camera_optical_frames_match_the_renderer_convention(robot):
    model = mujoco.MjModel.from_xml_path(str(_robot_path(robot)))
    data = mujoco.MjData(model)
    tree = KinematicTree(model)
    root = model.body(tree.root_body).id
    rng = np.random.default_rng(3)
    names = [model.camera(c).name for c in range(model.ncam)]
    assert names, f"{robot} has no camera to check"
    for _ in range(10):
        poses = tree.forward(_random_state(model, data, rng))
        base_inv = np.linalg.inv(_world_pose(data, root))
        for cam in names:
            rot, pos = camera_optical_pose(model, data, cam)
            world = np.eye(4)
            world[:3, :3], world[:3, 3] = rot, pos
            expected = base_inv @ world
            np.testing.assert_allclose(poses[f"{cam}_optical_frame"].matrix(), expected, atol=1e-9)
    # the optical convention itself: z along the camera's view direction (MuJoCo's -z), y down (-y)
    cam = names[0]
    t = next(t for t in tree.static_transforms() if t.child == f"{cam}_optical_frame")
    cam_rot = np.empty(9)
    mujoco.mju_quat2Mat(cam_rot, model.cam_quat[model.camera(cam).id])
    np.testing.assert_allclose(t.rotation(), cam_rot.reshape(3, 3) @ np.diag([1.0, -1.0, -1.0]), atol=1e-12)


def test_frame_names_equal_what_the_simulated_cameras_stamp():
    model = mujoco.MjModel.from_xml_path(str(_robot_path("quadruped")))
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    rig = CameraRig(model, [quadruped.FRONT_CAMERA], 16, 16, depth=False)
    try:
        frame_id = rig.render(data, 0.0)[quadruped.FRONT_CAMERA].frame_id
    finally:
        rig.close()
    tree = KinematicTree(model)
    assert frame_id in tree.frames
    arm = KinematicTree.from_mjcf(so_arm.arm_xml_path())
    assert f"{so_arm.WRIST_CAMERA}_optical_frame" in arm.frames  # SimArm stamps f"{camera}_optical_frame"


def test_frames_moving_and_static_split():
    arm = KinematicTree.from_mjcf(so_arm.arm_xml_path(), site_frames={so_arm.EE_SITE: "ee_link"})
    assert arm.root_body == "base_link" and arm.base_frame == "base_link"
    assert arm.joint_names == (*so_arm.JOINT_NAMES, *so_arm.FINGER_JOINTS)
    static = {t.child: t for t in arm.static_transforms()}
    assert set(static) == {"wrist_optical_frame", "ee_link"}
    assert static["ee_link"].parent == "gripper_link"
    np.testing.assert_allclose(static["ee_link"].xyz, [0.0, 0.0, 0.05])  # <site name="ee" pos="0 0 0.05">
    moving = arm.transforms(dict.fromkeys(arm.joint_names, 0.0), stamp=4.5)
    assert [t.child for t in moving] == ["shoulder_link", "upper_arm_link", "forearm_link", "wrist_link",
                                         "gripper_link", "finger_left", "finger_right"]
    assert all(t.stamp == 4.5 for t in moving)
    # the quadruped's free-floating trunk becomes base_link; its sensor sites become REP-105 frames
    sensors = {quadruped.IMU_SITE: "imu_link", quadruped.LASER_SITE: "laser"}
    dog = KinematicTree.from_mjcf(_robot_path("quadruped"), site_frames=sensors)
    assert dog.root_body == quadruped.ROOT_BODY and "trunk" not in dog.frames and "base_link" in dog.frames
    assert {t.child: t.parent for t in dog.static_transforms()} == {
        "front_camera_optical_frame": "base_link", "imu_link": "base_link", "laser": "base_link"}
    assert len(dog.joint_names) == 12


def test_partial_and_unknown_joint_positions():
    arm = KinematicTree.from_mjcf(so_arm.arm_xml_path())
    # like robot_state_publisher: links whose joint is missing are left out, unknown names ignored
    got = arm.transforms({"shoulder_pan": 0.5, "gripper": 0.8})
    assert [t.child for t in got] == ["shoulder_link"]
    np.testing.assert_allclose(got[0].quat_xyzw, [0.0, 0.0, np.sin(0.25), np.cos(0.25)], atol=1e-12)
    with pytest.raises(ValueError, match=r"missing \[.*'elbow_flex'.*unknown \['gripper'\]"):
        arm.transforms({"shoulder_pan": 0.5, "gripper": 0.8}, strict=True)
    with pytest.raises(ValueError, match="'shoulder_pan' position nan is not finite"):
        arm.transforms({"shoulder_pan": float("nan")})


def test_bad_models_are_refused_with_the_fix():
    two_robots = """<mujoco><worldbody>
        <body name="a"><joint type="hinge"/><geom size="0.1"/></body>
        <body name="b"><geom size="0.1"/></body></worldbody></mujoco>"""
    model = mujoco.MjModel.from_xml_string(two_robots)
    with pytest.raises(ValueError, match=r"2 top-level bodies \['a', 'b'\].*robot file on its own"):
        KinematicTree(model)
    assert KinematicTree(model, root_body="b").frames == ("base_link",)
    ball = """<mujoco><worldbody><body name="base"><geom size="0.1"/>
        <body name="link"><joint name="j" type="ball"/><geom size="0.1"/></body>
        </body></worldbody></mujoco>"""
    with pytest.raises(ValueError, match="joint 'j' of body 'link' is a ball joint"):
        KinematicTree(mujoco.MjModel.from_xml_string(ball))
    with pytest.raises(ValueError, match="site 'nope'.*sites: \\['ee'\\]"):
        KinematicTree.from_mjcf(so_arm.arm_xml_path(), site_frames={"nope": "x"})
    with pytest.raises(ValueError, match="frame name\\(s\\) \\['shoulder_link'\\] used twice"):
        KinematicTree.from_mjcf(so_arm.arm_xml_path(), base_frame="shoulder_link")
    with pytest.raises(FileNotFoundError, match="so_arm.xml"):
        KinematicTree.from_mjcf("/nonexistent/robot.xml")
