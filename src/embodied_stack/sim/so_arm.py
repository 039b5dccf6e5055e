"""Constants of the SO-arm model and the tabletop world (names, limits, paths).

Why a module of constants: the MJCF files, the SimArm driver, the IK, the envs and
the experts all refer to the same joints, sites and bodies; naming them once here
(as MuJoCo Playground's ``go1/go1_constants.py`` does) keeps a rename in the XML
from silently breaking one of them. Change ``sim/robots/so_arm/so_arm.xml`` and
this file together.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from embodied_stack import paths
from embodied_stack.hardware import JointLimits

ARM_XML = Path("robots/so_arm/so_arm.xml")  # relative to sim_dir()
TABLETOP_XML = Path("worlds/tabletop.xml")


def arm_xml_path() -> Path:
    return paths.sim_dir() / ARM_XML


def tabletop_xml_path() -> Path:
    return paths.sim_dir() / TABLETOP_XML


ROBOT_NAME = "so_arm"

#: Arm joints in command/state order (the order of ``JointCommand.positions``).
JOINT_NAMES: tuple[str, ...] = ("shoulder_pan", "shoulder_lift", "elbow_flex", "wrist_flex", "wrist_roll")
#: Position actuators, same order as JOINT_NAMES, then the gripper.
ACTUATOR_NAMES: tuple[str, ...] = JOINT_NAMES + ("gripper",)
GRIPPER_ACTUATOR = "gripper"
FINGER_JOINTS: tuple[str, str] = ("finger_left", "finger_right")
#: Finger slide travel (m per finger): opening 1.0 = 35 mm per jaw = 72 mm between pads.
FINGER_TRAVEL = 0.035
FINGER_PADS: tuple[str, str] = ("finger_left_pad", "finger_right_pad")
GRIPPER_BODIES: tuple[str, ...] = ("gripper_link", "finger_left", "finger_right")

#: Joint position limits (rad), identical to the MJCF ranges.
JOINT_LOWER = np.array([-2.0, -1.75, -1.7, -1.8, -2.8])
JOINT_UPPER = np.array([2.0, 1.75, 2.6, 1.8, 2.8])

#: Largest change one command may ask for relative to the measured position (rad).
MAX_STEP = 0.25

#: Ready pose: gripper above the workspace pointing down, jaws open.
HOME_QPOS = np.array([0.0, -0.3, 1.9, 1.54, 0.0])

EE_SITE = "ee"  # between the finger pads, z axis = approach direction, x = jaw opening axis
WRIST_CAMERA = "wrist"
SCENE_CAMERA = "scene"
CAMERAS: tuple[str, ...] = (WRIST_CAMERA, SCENE_CAMERA)

# --- tabletop world ---------------------------------------------------------------------
#: Graspable objects: body name -> (shape label from vocab.SHAPES, full extents in m).
TABLETOP_OBJECTS: dict[str, tuple[str, tuple[float, float, float]]] = {
    "cube_a": ("cube", (0.032, 0.032, 0.032)),
    "cube_b": ("cube", (0.032, 0.032, 0.032)),
    "cylinder_a": ("cylinder", (0.032, 0.032, 0.044)),
    "sphere_a": ("sphere", (0.036, 0.036, 0.036)),
}
#: Containers: body name -> (label, inner half-width in m (radius for the bowl), wall height in m).
TABLETOP_CONTAINERS: dict[str, tuple[str, float, float]] = {
    "bowl": ("bowl", 0.054, 0.04),
    "bin": ("bin", 0.051, 0.036),
}
GOAL_MARKER = "goal_marker"
TABLE_TOP_GEOM = "table_top"
TABLE_HALF_EXTENTS = (0.4, 0.5)  # x, y around TABLE_CENTER_XY, m
TABLE_CENTER_XY = (0.25, 0.0)


def joint_limits(max_step: float = MAX_STEP) -> JointLimits:
    """The arm's :class:`JointLimits` for the safety filter."""
    return JointLimits(names=JOINT_NAMES, lower=JOINT_LOWER.copy(), upper=JOINT_UPPER.copy(),
                       max_step=max_step)
