"""Constants of the Go2-class quadruped model (``sim/robots/quadruped/``).

Why a constants module (as MuJoCo Playground's ``go1/go1_constants.py``): the locomotion env, the indoor
world and the sim bridge all name the same joints, sites and sensors; spelling them once here keeps the
MJCF and the Python in step, and a renamed joint fails loudly in one place.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from embodied_stack import paths

LEGS: tuple[str, ...] = ("FL", "FR", "RL", "RR")
JOINTS_PER_LEG: tuple[str, ...] = ("hip", "thigh", "calf")
#: Actuated joints in actuator order (hip abduction, hip flexion, knee per leg), like the real robot's SDK.
JOINT_NAMES: tuple[str, ...] = tuple(f"{leg}_{j}_joint" for leg in LEGS for j in JOINTS_PER_LEG)
ACTUATOR_NAMES: tuple[str, ...] = tuple(f"{leg}_{j}" for leg in LEGS for j in JOINTS_PER_LEG)
FOOT_GEOMS: tuple[str, ...] = tuple(f"{leg}_foot" for leg in LEGS)
FOOT_SITES: tuple[str, ...] = FOOT_GEOMS

#: Standing pose (rad): abduction 0, hip 0.9, knee -1.8 for every leg (the real robot's stand-up pose).
DEFAULT_POSE: np.ndarray = np.tile(np.array([0.0, 0.9, -1.8]), 4)
#: Trunk height (m) of the keyframe "home"; the PD gains settle it about 3 cm lower.
STAND_HEIGHT: float = 0.29

ROOT_BODY = "trunk"
TRUNK_GEOM = "trunk"
IMU_SITE = "imu"
LASER_SITE = "laser"
FRONT_CAMERA = "front_camera"
SENSOR_QUAT = "imu_quat"
SENSOR_GYRO = "imu_gyro"
SENSOR_ACCEL = "imu_accel"
SENSOR_LOCAL_LINVEL = "local_linvel"

#: Trunk box extents (m) and total mass (kg), for checks and for worlds that draw the robot as a base.
TRUNK_SIZE: tuple[float, float, float] = (0.376, 0.094, 0.114)
TOTAL_MASS: float = 15.0


def robot_xml() -> Path:
    """The robot alone (no floor, no keyframe): include it from a scene."""
    return paths.sim_dir() / "robots" / "quadruped" / "quadruped.xml"


def scene_xml() -> Path:
    """The robot on flat ground with keyframe ``home``: the locomotion env's world."""
    return paths.sim_dir() / "robots" / "quadruped" / "scene.xml"
