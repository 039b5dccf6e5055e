"""The tests' view of a running robot_driver node (its topics, services and driver diagnostics),
shared by the node tests of the arms in tests/driver/."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from builtin_interfaces.msg import Duration
from diagnostic_msgs.msg import DiagnosticArray
from sensor_msgs.msg import JointState
from std_msgs.msg import Bool
from std_srvs.srv import SetBool, Trigger
from trajectory_msgs.msg import JointTrajectory, JointTrajectoryPoint

from embodied_stack.ros import qos
from ros_testing import RosHarness


class Driver:
    """The test's view of the robot_driver process: its topics, services and driver diagnostics."""

    def __init__(self, h: RosHarness) -> None:
        self.h = h
        self.joints: list[JointState] = []
        self.diag: dict[str, str] = {}
        self.level = -1
        self.message = ""
        h.node.create_subscription(JointState, "/joint_states", self.joints.append, qos.SENSOR)
        h.node.create_subscription(DiagnosticArray, "/diagnostics", self._on_diag, qos.EVENTS)
        self.traj = h.node.create_publisher(JointTrajectory, "/arm_controller/joint_trajectory", qos.COMMAND)
        self.estop = h.node.create_publisher(Bool, "/estop", qos.LATCHED)
        self.estop_srv = h.node.create_client(SetBool, "/robot_driver/estop")
        self.clear_srv = h.node.create_client(Trigger, "/robot_driver/clear_errors")

    def _on_diag(self, msg: DiagnosticArray) -> None:
        for s in msg.status:
            if s.name == "robot_driver: driver":
                self.diag = {kv.key: kv.value for kv in s.values}
                level = s.level  # a byte in Python messages (b'\x00' = OK)
                self.level, self.message = (level[0] if isinstance(level, bytes) else int(level)), s.message

    @property
    def q(self) -> np.ndarray:
        return np.asarray(self.joints[-1].position)

    def count(self, key: str) -> int:
        return int(self.diag.get(key, 0))

    def send(self, positions, seconds: float) -> None:
        """One JointTrajectory point, ``seconds`` from now."""
        msg = JointTrajectory(joint_names=list(self.joints[-1].name))
        msg.header.stamp = self.h.node.get_clock().now().to_msg()
        msg.points = [JointTrajectoryPoint(positions=[float(v) for v in positions],
                                           time_from_start=Duration(sec=int(seconds),
                                                                    nanosec=int(seconds % 1 * 1e9)))]
        self.traj.publish(msg)

    def until(self, what: Callable[[], bool], timeout: float = 15.0, message: str = "timed out") -> None:
        assert self.h.spin_until(what, timeout=timeout), f"{message}; now: {self.message!r} {self.diag}"

    def stream_until(self, positions, what: Callable[[], bool], timeout: float = 15.0) -> None:
        """Keep commanding ``positions`` (a new trajectory each spin, like a policy) until ``what()``."""
        def streamed() -> bool:
            self.send(positions, 0.2)
            return what()
        self.until(streamed, timeout)

    def call(self, client, request):
        self.until(client.service_is_ready, message=f"{client.srv_name} not available")
        future = client.call_async(request)
        self.until(future.done, timeout=20.0, message=f"{client.srv_name} did not answer")
        return future.result()
