"""Universal Robots arms (UR3e/5e/10e/16e/20/30, CB3) through ``ur_rtde``: servoJ streaming,
safety state for /diagnostics, recovery from protective and emergency stops."""

from embodied_stack.robots.ur.config import URConfig
from embodied_stack.robots.ur.robot import DeviceDisconnectedError, DeviceFaultError, URRobot, make_robot

__all__ = ["DeviceDisconnectedError", "DeviceFaultError", "URConfig", "URRobot", "make_robot"]
