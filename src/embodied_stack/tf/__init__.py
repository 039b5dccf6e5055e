"""Frames without ROS: transforms, a robot_state_publisher equivalent and a TF buffer.

:class:`KinematicTree` turns joint positions into the robot's link transforms (from its MJCF
model), :class:`TransformBuffer` answers frame lookups from what was published; the ROS side
(:mod:`embodied_stack.ros.tf`) moves them over /tf and /tf_static as ``tf2_msgs/TFMessage``.
"""

from embodied_stack.tf.buffer import (
    ConnectivityError,
    ExtrapolationError,
    FrameNotFoundError,
    TransformBuffer,
    TransformError,
    TransformTimeoutError,
)
from embodied_stack.tf.kinematic_tree import KinematicTree
from embodied_stack.tf.transform import Transform

__all__ = [
    "ConnectivityError",
    "ExtrapolationError",
    "FrameNotFoundError",
    "KinematicTree",
    "Transform",
    "TransformBuffer",
    "TransformError",
    "TransformTimeoutError",
]
