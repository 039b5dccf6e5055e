"""A generic ``cmd_vel`` base: any wheeled robot whose own ROS 2 driver takes a Twist and publishes
odometry (TurtleBot 4 / Create 3, Clearpath, a ``diff_drive_controller``), behind robot_driver's limits,
watchdog, e-stop and diagnostics. ROS-free: the topics are reached through an injected
:class:`TwistLink` (robot_driver's is :class:`embodied_stack.ros.twist_link.RosTwistLink`)."""

from embodied_stack.robots.twist_base.config import TwistBaseConfig
from embodied_stack.robots.twist_base.robot import (
    ZERO_REPEATS,
    OdometrySample,
    TwistBase,
    TwistLink,
    make_robot,
)

__all__ = ["ZERO_REPEATS", "OdometrySample", "TwistBase", "TwistBaseConfig", "TwistLink", "make_robot"]
