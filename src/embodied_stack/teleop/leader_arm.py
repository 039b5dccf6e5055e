"""Leader arm: a second, unpowered copy of the robot arm that the operator moves by hand.

How most LeRobot users collect data: the leader's servos run with torque off and are only
read; its calibrated joint angles (rad, same convention as the follower's, so a joint mounted
mirror-wise is fixed by its drive mode, not by code) become the follower's joint targets.
There is no dead-man button on a leader: the action is enabled while the bus answers; when
the leader stops answering the device fails like any other (disabled + e-stop).
"""

from __future__ import annotations

import numpy as np

from embodied_stack.motors.bus import MotorBusError
from embodied_stack.teleop.base import TeleopAction, Teleoperator


class LeaderArmTeleop(Teleoperator):
    """Reads a leader arm described in ``config/robots/<robot>.yaml`` under ``backends.<backend>``."""

    name = "leader_arm"

    def __init__(self, robot: str = "so101", backend: str = "feetech_leader", path: str = "") -> None:
        super().__init__()
        from embodied_stack.robots import load_description
        from embodied_stack.robots.bus_servo.arm import make_bus

        self.description = load_description(robot)
        settings = self.description.backend(backend)
        if path:
            settings["port"] = path
        self.bus, _ = make_bus(backend.split("_")[0], self.description, settings)
        self.joint_names = self.description.joint_names
        self.gripper_name = self.description.gripper.name if self.description.gripper else None

    def _connect(self) -> None:
        try:
            self.bus.connect(handshake=True)
            self.bus.sync_write("Torque_Enable", dict.fromkeys(self.bus.motors, 0))  # moved by hand
        except MotorBusError as e:
            self.bus.disconnect()
            raise OSError(f"leader arm on {self.bus.port}: {e}") from e

    def _disconnect(self) -> None:
        self.bus.disconnect()

    def _read(self, now: float) -> TeleopAction:
        try:
            ticks = self.bus.sync_read("Present_Position")
        except MotorBusError as e:
            raise OSError(f"leader arm on {self.bus.port} stopped answering: {e}") from e
        q = np.array([self.bus.to_radians(n, ticks[n]) for n in self.joint_names])
        opening = None
        if self.gripper_name:
            cal = self.bus.calibration[self.gripper_name]
            frac = (ticks[self.gripper_name] - cal.range_min) / max(cal.range_max - cal.range_min, 1)
            opening = float(np.clip(1.0 - frac if cal.drive_mode else frac, 0.0, 1.0))
        return TeleopAction(enabled=True, joint_positions=q, gripper_opening=opening)
