"""UFactory xArm 5/6/7 through ``xarm-python-sdk``: servo-mode joint streaming, controller error
and warning codes in words for /diagnostics, error clearing and reconnection."""

from embodied_stack.robots.xarm.config import XArmConfig
from embodied_stack.robots.xarm.robot import (
    DeviceDisconnectedError,
    DeviceFaultError,
    XArmRobot,
    describe_error,
    describe_warning,
    make_robot,
)

__all__ = ["DeviceDisconnectedError", "DeviceFaultError", "XArmConfig", "XArmRobot", "describe_error",
           "describe_warning", "make_robot"]
