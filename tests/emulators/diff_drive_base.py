"""A wheeled base with its own ROS 2 velocity driver, for tests: behaves like ros2_control's
``diff_drive_controller`` seen from its topics.

A real rclpy node (``diff_drive_base``) in a context and executor thread of its own, so a test process
can hold it beside its own harness and switch it off and on:

    with DiffDriveBase() as base:               # Twist in on /base/cmd_vel, Odometry out on /base/odom
        ...                                     # robot_driver with backend twist in front of it
        base.commands()                         # [Command(t, vx, vy, wz, frame_id), ...] as received
        base.state()                            # {"x", "y", "yaw", "vx", "wz", "cmd": (vx, wz)}
        base.silence(); base.resume()           # a cut link: no odometry out, commands not received
        base.close()                            # the base's driver gone (a new DiffDriveBase comes back)

Run alone (``python tests/emulators/diff_drive_base.py [--stamped]``) it serves until Ctrl-C, e.g. for
``embodied-stack launch wheeled_base``.

Reproduced from diff_drive_controller (ros2_controllers, Jazzy) as seen from outside:

* ``cmd_vel`` as ``geometry_msgs/Twist`` (or ``TwistStamped`` with ``stamped=True``, as Jazzy's controller
  requires); a differential drive uses ``linear.x`` and ``angular.z`` only (``linear.y`` is recorded, not
  driven);
* its own command timeout (``cmd_vel_timeout``, 0.5 s): a command older than that is a zero target;
* acceleration limits on the linear and angular velocity (``linear.x.max_acceleration``,
  ``angular.z.max_acceleration``), the wheels following the limited velocity exactly;
* unicycle odometry integrated at ``rate_hz`` (``publish_rate``, 50 Hz) and published as
  ``nav_msgs/Odometry``: ``odom`` -> ``base_link``, pose in odom, twist in ``base_link``.

Not reproduced: wheel separation/radius and encoder noise, velocity and jerk limits, the odom -> base_link
/tf (``enable_odom_tf``), covariances, the controller's lifecycle.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import signal
import threading
import time
from dataclasses import dataclass

import rclpy
from geometry_msgs.msg import Twist, TwistStamped
from nav_msgs.msg import Odometry
from rclpy.context import Context
from rclpy.executors import ExternalShutdownException, ShutdownException, SingleThreadedExecutor
from rclpy.node import Node
from rclpy.qos import QoSProfile, ReliabilityPolicy

CMD_TIMEOUT_S = 0.5  # diff_drive_controller's cmd_vel_timeout default
RATE_HZ = 50.0  # its publish_rate default
MAX_LINEAR_ACCEL = 1.0  # m/s^2
MAX_ANGULAR_ACCEL = 4.0  # rad/s^2


@dataclass(frozen=True)
class Command:
    """One velocity command as the base received it (``t``: time.monotonic(), one clock for every process
    on Linux)."""

    t: float
    vx: float
    vy: float
    wz: float
    frame_id: str = ""

    @property
    def is_zero(self) -> bool:
        return self.vx == 0.0 and self.vy == 0.0 and self.wz == 0.0


class DiffDriveModel:
    """The emulated base, ROS-free and thread-safe: the newest command, its timeout, acceleration-limited
    velocity and unicycle odometry."""

    def __init__(self, cmd_timeout_s: float = CMD_TIMEOUT_S, max_linear_accel: float = MAX_LINEAR_ACCEL,
                 max_angular_accel: float = MAX_ANGULAR_ACCEL) -> None:
        self.lock = threading.Lock()
        self.cmd_timeout_s = cmd_timeout_s
        self.max_linear_accel, self.max_angular_accel = max_linear_accel, max_angular_accel
        self.x = self.y = self.yaw = 0.0
        self.vx = self.wz = 0.0
        self.cmd = (0.0, 0.0)  # vx, wz of the newest command
        self.last_cmd = -math.inf
        self.last_step: float | None = None
        self.log: list[Command] = []

    def command(self, c: Command) -> None:
        with self.lock:
            self.log.append(c)
            self.cmd, self.last_cmd = (c.vx, c.wz), c.t

    def step(self, now: float) -> None:
        """Advance to ``now`` (monotonic s): velocity toward the command (zero once it timed out), limited
        by the accelerations; pose integrated with the mean velocity of the step."""
        with self.lock:
            dt = 0.0 if self.last_step is None else max(0.0, now - self.last_step)
            self.last_step = now
            fresh = now - self.last_cmd <= self.cmd_timeout_s
            target_vx, target_wz = self.cmd if fresh else (0.0, 0.0)
            vx0, wz0 = self.vx, self.wz
            dv, dw = self.max_linear_accel * dt, self.max_angular_accel * dt
            self.vx = vx0 + max(-dv, min(dv, target_vx - vx0))
            self.wz = wz0 + max(-dw, min(dw, target_wz - wz0))
            v, w = 0.5 * (vx0 + self.vx), 0.5 * (wz0 + self.wz)
            heading = self.yaw + 0.5 * w * dt
            self.x += v * math.cos(heading) * dt
            self.y += v * math.sin(heading) * dt
            self.yaw = math.atan2(math.sin(self.yaw + w * dt), math.cos(self.yaw + w * dt))

    def state(self) -> dict:
        with self.lock:
            return {"x": self.x, "y": self.y, "yaw": self.yaw, "vx": self.vx, "wz": self.wz, "cmd": self.cmd}


class DiffDriveBase:
    """The emulated base's driver as a ROS 2 node in its own context and executor thread.

    Args:
        cmd_vel_topic, odom_topic: its topics (absolute: a base driver in the namespace /base).
        stamped: take ``TwistStamped`` (Jazzy's diff_drive_controller) instead of ``Twist``.
        rate_hz: odometry rate (Hz); cmd_timeout_s, max_linear_accel, max_angular_accel: see the model.
        odom_reliable: publish odometry reliable (diff_drive_controller) instead of best-effort.
    """

    def __init__(self, cmd_vel_topic: str = "/base/cmd_vel", odom_topic: str = "/base/odom",
                 stamped: bool = False, rate_hz: float = RATE_HZ, cmd_timeout_s: float = CMD_TIMEOUT_S,
                 max_linear_accel: float = MAX_LINEAR_ACCEL, max_angular_accel: float = MAX_ANGULAR_ACCEL,
                 odom_reliable: bool = True, name: str = "diff_drive_base") -> None:
        self.cmd_vel_topic, self.odom_topic, self.stamped = cmd_vel_topic, odom_topic, stamped
        self.rate_hz, self.odom_reliable, self.name = rate_hz, odom_reliable, name
        self.model = DiffDriveModel(cmd_timeout_s, max_linear_accel, max_angular_accel)
        self.silent = False
        self.published = 0
        self._stopping = False
        self._context: Context | None = None
        self._node: Node | None = None
        self._executor: SingleThreadedExecutor | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> DiffDriveBase:
        self._stopping = False
        self._context = Context()
        rclpy.init(context=self._context)
        node = self._node = Node(self.name, context=self._context, start_parameter_services=False)
        reliability = ReliabilityPolicy.RELIABLE if self.odom_reliable else ReliabilityPolicy.BEST_EFFORT
        self._pub = node.create_publisher(Odometry, self.odom_topic,
                                          QoSProfile(depth=10, reliability=reliability))
        command_qos = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
        command_type = TwistStamped if self.stamped else Twist
        node.create_subscription(command_type, self.cmd_vel_topic, self._on_cmd_vel, command_qos)
        node.create_timer(1.0 / self.rate_hz, self._tick)
        self._executor = SingleThreadedExecutor(context=self._context)
        self._executor.add_node(node)
        self._thread = threading.Thread(target=self._spin, name=f"{self.name}_spin", daemon=True)
        self._thread.start()
        return self

    def __enter__(self) -> DiffDriveBase:
        return self.start() if self._node is None else self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- test controls -----------------------------------------------------------------------------------
    def commands(self) -> list[Command]:
        with self.model.lock:
            return list(self.model.log)

    def state(self) -> dict:
        return self.model.state()

    def silence(self) -> None:
        """Cut the link: no odometry goes out and commands are not received (the base keeps integrating)."""
        self.silent = True

    def resume(self) -> None:
        self.silent = False

    def close(self) -> None:
        """The base's driver goes away: node destroyed, context shut down."""
        executor, node, context, thread = self._executor, self._node, self._context, self._thread
        self._stopping = True
        if thread is not None:
            thread.join(timeout=5.0)  # out of its wait within 0.1 s; then nothing else touches the executor
        self._executor = self._node = self._context = self._thread = None
        if executor is not None:
            executor.shutdown(timeout_sec=2.0)
        if node is not None:
            node.destroy_node()
        if context is not None:
            rclpy.try_shutdown(context=context)

    # --- node --------------------------------------------------------------------------------------------
    def _spin(self) -> None:
        executor, context = self._executor, self._context
        if executor is None or context is None:
            return
        with contextlib.suppress(ExternalShutdownException, ShutdownException):  # closing
            while not self._stopping and context.ok():
                executor.spin_once(timeout_sec=0.1)

    def _on_cmd_vel(self, msg: Twist | TwistStamped) -> None:
        if self.silent:
            return
        frame = msg.header.frame_id if isinstance(msg, TwistStamped) else ""
        twist = msg.twist if isinstance(msg, TwistStamped) else msg
        self.model.command(Command(time.monotonic(), twist.linear.x, twist.linear.y, twist.angular.z, frame))

    def _tick(self) -> None:
        node = self._node
        if node is None:
            return
        self.model.step(time.monotonic())
        if self.silent:
            return
        s = self.model.state()
        odom = Odometry()
        odom.header.stamp = node.get_clock().now().to_msg()
        odom.header.frame_id, odom.child_frame_id = "odom", "base_link"
        odom.pose.pose.position.x, odom.pose.pose.position.y = s["x"], s["y"]
        q = odom.pose.pose.orientation
        q.z, q.w = math.sin(s["yaw"] / 2), math.cos(s["yaw"] / 2)
        odom.twist.twist.linear.x, odom.twist.twist.angular.z = s["vx"], s["wz"]
        self._pub.publish(odom)
        self.published += 1


def main() -> int:
    parser = argparse.ArgumentParser(description="an emulated diff-drive base (Twist in, Odometry out)")
    parser.add_argument("--cmd-vel-topic", default="/base/cmd_vel")
    parser.add_argument("--odom-topic", default="/base/odom")
    parser.add_argument("--stamped", action="store_true",
                        help="take TwistStamped (Jazzy diff_drive_controller)")
    parser.add_argument("--rate-hz", type=float, default=RATE_HZ)
    args = parser.parse_args()
    base = DiffDriveBase(args.cmd_vel_topic, args.odom_topic, args.stamped, args.rate_hz).start()
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):  # after rclpy.init, which installs its own
        signal.signal(sig, lambda *_: stop.set())
    kind = "TwistStamped" if args.stamped else "Twist"
    print(f"diff_drive_base: {kind} on {args.cmd_vel_topic}, Odometry on {args.odom_topic} at "
          f"{args.rate_hz:g} Hz; Ctrl-C stops", flush=True)
    try:
        stop.wait()
    finally:
        base.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
