"""Constants of the SO-arm model and the tabletop world (names, sites, paths).

Why a module of constants: the MJCF files, the SimArm driver, the IK, the envs and
the experts all refer to the same joints, sites and bodies; naming them once here
(as MuJoCo Playground's ``go1/go1_constants.py`` does) keeps a rename in the XML
from silently breaking one of them. Change ``sim/robots/so_arm/so_arm.xml`` and
this file together. The arm's joint names, limits, home pose and cameras are not
constants here: they come from its robot description ``config/robots/so101.yaml``
(the one place the simulator, the real driver and the policies read them).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from embodied_stack import paths
from embodied_stack.hardware import JointLimits
from embodied_stack.robots.description import load_description

ARM_XML = Path("robots/so_arm/so_arm.xml")  # relative to sim_dir()
TABLETOP_XML = Path("worlds/tabletop.xml")


def arm_xml_path() -> Path:
    return paths.sim_dir() / ARM_XML


def tabletop_xml_path() -> Path:
    return paths.sim_dir() / TABLETOP_XML


ROBOT_NAME = "so_arm"
#: The simulated arm is an SO-101: same description as the real one.
DESCRIPTION = load_description("so101")

#: Arm joints in command/state order (the order of ``JointCommand.positions``).
JOINT_NAMES: tuple[str, ...] = tuple(DESCRIPTION.joint_names)
#: Position actuators, same order as JOINT_NAMES, then the gripper.
ACTUATOR_NAMES: tuple[str, ...] = JOINT_NAMES + ("gripper",)
GRIPPER_ACTUATOR = "gripper"
FINGER_JOINTS: tuple[str, ...] = DESCRIPTION.gripper.mjcf_joints if DESCRIPTION.gripper else ()
#: Finger slide travel (m per finger, from the description): opening 1.0 = 35 mm per jaw = 72 mm
#: between pads.
FINGER_TRAVEL = DESCRIPTION.gripper.travel if DESCRIPTION.gripper else 0.0
FINGER_PADS: tuple[str, str] = ("finger_left_pad", "finger_right_pad")
GRIPPER_BODIES: tuple[str, ...] = ("gripper_link", "finger_left", "finger_right")

#: Joint position limits (rad), identical to the MJCF ranges (tests/robots checks both agree).
JOINT_LOWER = DESCRIPTION.lower
JOINT_UPPER = DESCRIPTION.upper

#: Ready pose: gripper above the workspace pointing down, jaws open.
HOME_QPOS = np.array(DESCRIPTION.home)

EE_SITE = "ee"  # between the finger pads, z axis = approach direction, x = jaw opening axis
WRIST_CAMERA = "wrist"
SCENE_CAMERA = "scene"
CAMERAS: tuple[str, ...] = (WRIST_CAMERA, SCENE_CAMERA)

# --- tabletop world ---------------------------------------------------------------------
# The graspable objects are not constants: each tabletop world has its own set (its config's
# ``objects``, read as ``TabletopWorld.objects``; the default four are tabletop.DEFAULT_OBJECTS).
#: Containers: body name -> (label, inner half-width in m (radius for the bowl), wall height in m).
TABLETOP_CONTAINERS: dict[str, tuple[str, float, float]] = {
    "bowl": ("bowl", 0.054, 0.04),
    "bin": ("bin", 0.051, 0.036),
}
GOAL_MARKER = "goal_marker"
TABLE_TOP_GEOM = "table_top"
TABLE_HALF_EXTENTS = (0.4, 0.5)  # x, y around TABLE_CENTER_XY, m
TABLE_CENTER_XY = (0.25, 0.0)


def joint_limits() -> JointLimits:
    """The arm's :class:`JointLimits` for the safety filter, from its description."""
    limits = DESCRIPTION.joint_limits()
    if limits is None:
        raise ValueError(f"{DESCRIPTION.source} describes no arm joints")
    return limits
