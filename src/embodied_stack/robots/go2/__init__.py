"""Unitree Go2 in sport mode through Unitree's Python SDK (``unitree_sdk2py``, Cyclone DDS), run in its
own process (:mod:`~embodied_stack.robots.go2.sdk_bridge`) so it never shares one with the Fast DDS
ROS graph: stand up / down, damp, recovery, ``Move`` from ``cmd_vel``, StopMove on stop, sport-mode
state as odometry, IMU and joints, battery and falls in words for /diagnostics."""

from embodied_stack.robots.go2.config import Go2Config
from embodied_stack.robots.go2.robot import (
    GO2_JOINTS,
    SPORT_MODES,
    DeviceDisconnectedError,
    DeviceFaultError,
    Go2Robot,
    describe_code,
    make_robot,
)

__all__ = ["GO2_JOINTS", "SPORT_MODES", "DeviceDisconnectedError", "DeviceFaultError", "Go2Config",
           "Go2Robot", "describe_code", "make_robot"]
