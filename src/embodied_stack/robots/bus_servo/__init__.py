"""SO-100/SO-101 (Feetech) and Koch (Dynamixel) arms: follower ``Robot``, calibration, motor set-up."""

from embodied_stack.robots.bus_servo.arm import (
    BusServoArm,
    BusServoSettings,
    make_dynamixel_arm,
    make_feetech_arm,
)

__all__ = ["BusServoArm", "BusServoSettings", "make_dynamixel_arm", "make_feetech_arm"]
