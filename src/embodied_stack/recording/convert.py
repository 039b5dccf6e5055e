"""Message payloads -> the numpy values the recorder stores (ROS-free: duck-typed on fields).

Why by field names and not by importing message classes: the node, the tests and the
browser console feed the same converters, and joint selection by name (``names``)
must behave identically everywhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

#: Message types a stream may use, and what becomes the feature vector.
MSG_TYPES = {
    "sensor_msgs/msg/Image": "RGB image (H, W, 3) uint8 (rgb8/bgr8/rgba8/bgra8)",
    "sensor_msgs/msg/JointState": "position of the joints listed in `names` (all, in order, if empty)",
    "trajectory_msgs/msg/JointTrajectory": "positions of the first point, for the joints in `names`",
    "std_msgs/msg/Float64MultiArray": "data",
    "std_msgs/msg/Float32MultiArray": "data",
    "geometry_msgs/msg/Twist": "[linear.x, linear.y, linear.z, angular.x, angular.y, angular.z]",
}


def select_joints(msg_names: Sequence[str], values: Sequence[float], wanted: Sequence[str]) -> np.ndarray:
    """Values of ``wanted`` joints from a named message; all values when ``wanted`` is empty.

    Raises ``ValueError`` naming missing joints (a message for another robot must not be
    recorded as if it were this one).
    """
    values = np.asarray(values, dtype=np.float64)
    if not wanted:
        return values
    index = {n: i for i, n in enumerate(msg_names)}
    missing = [n for n in wanted if n not in index]
    if missing:
        raise ValueError(f"message lacks joints {missing} (it has {list(msg_names)})")
    return values[[index[n] for n in wanted]]


def vector_from_message(msg_type: str, msg: Any, names: Sequence[str]) -> np.ndarray:
    if msg_type == "sensor_msgs/msg/JointState":
        return select_joints(msg.name, msg.position, names)
    if msg_type == "trajectory_msgs/msg/JointTrajectory":
        if not msg.points:
            raise ValueError("JointTrajectory without points")
        return select_joints(msg.joint_names, msg.points[0].positions, names)
    if msg_type in ("std_msgs/msg/Float64MultiArray", "std_msgs/msg/Float32MultiArray"):
        return np.asarray(msg.data, dtype=np.float64)
    if msg_type == "geometry_msgs/msg/Twist":
        lin, ang = msg.linear, msg.angular
        return np.array([lin.x, lin.y, lin.z, ang.x, ang.y, ang.z])
    raise ValueError(f"unsupported message type {msg_type!r}; supported: {sorted(MSG_TYPES)}")
