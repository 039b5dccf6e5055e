"""Robot descriptions (``config/robots/<name>.yaml``) and the registry that builds a robot by name.

Per robot family a sub-package holds its real implementations (``bus_servo`` for SO-101 and
Koch, ``ur``, ``xarm``); simulated robots live with their worlds in :mod:`embodied_stack.sim`.
"""

from embodied_stack.robots.description import (
    CameraSpec,
    GripperSpec,
    JointSpec,
    RobotDescription,
    available_robots,
    load_description,
)
from embodied_stack.robots.registry import BACKENDS, make_robot

__all__ = ["BACKENDS", "CameraSpec", "GripperSpec", "JointSpec", "RobotDescription", "available_robots",
           "load_description", "make_robot"]
