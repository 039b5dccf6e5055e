"""One hardware interface for real and simulated robots (ROS-free).

Real drivers (bus-servo arms, UR-class arms, Go2-class quadrupeds) and the MuJoCo
robots in :mod:`embodied_stack.sim` implement :class:`Robot`; the ROS side
(sim bridge, driver nodes) only ever talks to this interface, which is why the
stack runs unchanged on either.
"""

from embodied_stack.hardware.robot import (
    BaseVelocity,
    CameraFrame,
    DeviceDisconnectedError,
    DeviceFaultError,
    ImuReading,
    JointCommand,
    LaserScanReading,
    Robot,
    RobotNotConnectedError,
    RobotState,
)
from embodied_stack.hardware.safety import (
    BaseLimits,
    CommandRejected,
    CommandWatchdog,
    JointLimits,
)

__all__ = [
    "BaseLimits",
    "BaseVelocity",
    "CameraFrame",
    "CommandRejected",
    "CommandWatchdog",
    "DeviceDisconnectedError",
    "DeviceFaultError",
    "ImuReading",
    "JointCommand",
    "JointLimits",
    "LaserScanReading",
    "Robot",
    "RobotNotConnectedError",
    "RobotState",
]
