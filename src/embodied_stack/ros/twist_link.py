"""The ROS 2 side of :class:`~embodied_stack.robots.twist_base.TwistBase`: a Twist (or TwistStamped)
publisher on the base driver's command topic and a subscription to its ``nav_msgs/Odometry``.

Why a node and an executor of its own (``<driver>_twist_link``, in the driver's namespace): robot_driver
connects during its autostart configure, inside the node's constructor, before any executor spins it, and
reconnects from its loop thread; the odometry must arrive in both cases. So the link spins its own node in
its own thread, like the Go2 driver's SDK bridge has its own process. The node takes the process's global
arguments (the driver's namespace and topic remappings apply) except the node name. It is destroyed when
the ROS context shuts down (the end of ``run_node``), after robot_driver's last stop went out.

QoS: commands reliable, depth 1 (:data:`~embodied_stack.ros.qos.COMMAND`, compatible with reliable and
best-effort subscribers); odometry best-effort (:data:`~embodied_stack.ros.qos.SENSOR`, compatible with
either kind of publisher: base drivers differ).
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
import weakref
from collections.abc import Callable

from geometry_msgs.msg import Twist, TwistStamped
from nav_msgs.msg import Odometry
from rclpy.executors import ExternalShutdownException, ShutdownException, SingleThreadedExecutor
from rclpy.node import Node

from embodied_stack.config import ConfigError
from embodied_stack.hardware.robot import DeviceDisconnectedError
from embodied_stack.robots.twist_base import OdometrySample, TwistBaseConfig
from embodied_stack.ros import qos
from embodied_stack.ros.time import to_sec

#: frame a TwistStamped command is expressed in (REP-105)
COMMAND_FRAME = "base_link"
#: s: longest wait of the link's executor, so closing it takes at most this long
SPIN_WAIT_S = 0.1


def yaw_of(x: float, y: float, z: float, w: float) -> float:
    """Heading (rad) of a quaternion: its rotation about z."""
    return math.atan2(2.0 * (w * z + x * y), 1.0 - 2.0 * (y * y + z * z))


class RosTwistLink:
    """A :class:`~embodied_stack.robots.twist_base.TwistLink` over ROS 2 topics, for robot_driver.

    Args:
        driver: the node that owns the link (robot_driver): its context, name and namespace are used,
            and its own topics ``driver_topics`` (input ``cmd_vel``, output ``odom``) are refused as the
            base's, which would make the driver command itself or read its own output.
        driver_topics: robot_driver's velocity input and odometry output, as it names them.
        clock: monotonic clock stamped on every odometry as ``received`` (the TwistBase's clock).
    """

    def __init__(self, driver: Node, driver_topics: tuple[str, str] = ("cmd_vel", "odom"),
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._driver = driver
        self._driver_topics = driver_topics
        self._clock = clock
        self._node: Node | None = None
        self._executor: SingleThreadedExecutor | None = None
        self._thread: threading.Thread | None = None
        self._pub = None
        self._stamped = False
        self._latest: OdometrySample | None = None
        self._closed = False
        self._stop: threading.Event | None = None  # ends the current link thread
        self.received = 0
        self.cmd_vel_topic = ""
        self.odom_topic = ""
        self._config: TwistBaseConfig | None = None
        self._shutdown_hooked = False

    @classmethod
    def of(cls, driver: Node) -> RosTwistLink:
        """The one link of ``driver``, made on first use: a lifecycle cleanup + configure builds the robot
        again and must not start a second link node under the same name."""
        link = _LINKS.get(driver)
        if link is None or link._closed:
            link = _LINKS[driver] = cls(driver)
        return link

    # --- TwistLink ------------------------------------------------------------------------------------
    def configure(self, config: TwistBaseConfig) -> None:
        """Make the link node, its publisher and subscription. Again with the same config (a lifecycle
        re-configure): nothing to do; with another: the old node goes first."""
        if self._node is not None:
            if config == self._config:
                return
            self._teardown()
        name = f"{self._driver.get_name()}_twist_link"
        node = Node(name, namespace=self._driver.get_namespace(), context=self._driver.context,
                    cli_args=["--ros-args", "-r", f"__node:={name}"],  # local: wins over the global __node
                    start_parameter_services=False)
        try:
            cmd_vel = node.resolve_topic_name(config.cmd_vel_topic)
            odom = node.resolve_topic_name(config.odom_topic)
            own = dict(zip((self._driver.resolve_topic_name(t) for t in self._driver_topics),
                           ("velocity input", "odometry output"), strict=True))
            for key, topic in (("cmd_vel_topic", cmd_vel), ("odom_topic", odom)):
                if topic in own:
                    raise ConfigError(
                        f"backends.twist.{key} {getattr(config, key)!r} resolves to {topic}, robot_driver's "
                        f"own {own[topic]}: the driver would talk to itself. Run the base's driver in a "
                        f"namespace (e.g. /base) and point {key} there, or remap robot_driver's topics")
        except BaseException:
            node.destroy_node()
            raise
        self._stamped = config.stamped
        self._pub = node.create_publisher(TwistStamped if config.stamped else Twist, config.cmd_vel_topic,
                                          qos.COMMAND)
        node.create_subscription(Odometry, config.odom_topic, self._on_odometry, qos.SENSOR)
        self.cmd_vel_topic, self.odom_topic = cmd_vel, odom
        self._config, self._latest = config, None
        self._node = node
        self._executor = SingleThreadedExecutor(context=self._driver.context)
        self._executor.add_node(node)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._spin, args=(node, self._executor, self._stop),
                                        name="twist_link")
        self._thread.start()
        if not self._shutdown_hooked:
            self._driver.context.on_shutdown(self._on_context_shutdown)
            self._shutdown_hooked = True

    def send(self, vx: float, vy: float, wz: float) -> None:
        node, pub = self._node, self._pub
        if node is None or pub is None or self._closed or not node.context.ok():
            raise DeviceDisconnectedError(f"twist link to {self.cmd_vel_topic or 'the base'} is closed "
                                          "(ROS shut down)")
        if self._stamped:
            msg = TwistStamped()
            msg.header.stamp = node.get_clock().now().to_msg()
            msg.header.frame_id = COMMAND_FRAME
            twist = msg.twist
        else:
            msg = twist = Twist()
        twist.linear.x, twist.linear.y, twist.angular.z = float(vx), float(vy), float(wz)
        try:
            pub.publish(msg)
        except Exception as e:  # noqa: BLE001 - any publish failure is a link that cannot send
            raise DeviceDisconnectedError(f"twist link: publishing on {self.cmd_vel_topic} failed: "
                                          f"{e!r}") from e

    def latest_odometry(self) -> OdometrySample | None:
        return self._latest

    def status(self) -> dict[str, str]:
        """Resolved topics and matched endpoints (``cmd_vel_subscribers`` 0: nobody hears the commands)."""
        out = {"cmd_vel_resolved": self.cmd_vel_topic, "odom_resolved": self.odom_topic,
               "odometry_received": str(self.received)}
        node, pub = self._node, self._pub
        if node is not None and pub is not None and not self._closed:
            with contextlib.suppress(Exception):  # the context may be going down under a status read
                out["cmd_vel_subscribers"] = str(pub.get_subscription_count())
                out["odom_publishers"] = str(node.count_publishers(self.odom_topic))
        return out

    # --- internals ------------------------------------------------------------------------------------
    def _on_odometry(self, msg: Odometry) -> None:
        p, o = msg.pose.pose.position, msg.pose.pose.orientation
        t = msg.twist.twist
        self._latest = OdometrySample(received=self._clock(), stamp=to_sec(msg.header.stamp), x=p.x, y=p.y,
                                      yaw=yaw_of(o.x, o.y, o.z, o.w), vx=t.linear.x, vy=t.linear.y,
                                      wz=t.angular.z)
        self.received += 1

    def _spin(self, node: Node, executor: SingleThreadedExecutor, stop: threading.Event) -> None:
        """The link thread: spin in short waits until ``stop`` or the end of the context, then destroy the
        node and the executor here, so no other thread has to wait for this one under rclpy's context lock
        (the shutdown callback holds it). A non-daemon thread: the interpreter lets it finish before it
        exits, since a thread left inside rclpy's C++ at exit aborts the process ("terminate called
        without an active exception")."""
        try:
            while not stop.is_set() and node.context.ok():
                executor.spin_once(timeout_sec=SPIN_WAIT_S)
        except (ExternalShutdownException, ShutdownException):
            pass  # the context is shutting down
        except Exception as e:  # noqa: BLE001 - reported, never a crash of the driver
            if not stop.is_set() and node.context.ok():
                node.get_logger().error(f"twist link executor stopped: {e!r}")
        finally:
            with contextlib.suppress(Exception):  # after a context shutdown these may refuse; nothing to keep
                executor.shutdown(timeout_sec=1.0)
            with contextlib.suppress(Exception):
                node.destroy_node()

    def _on_context_shutdown(self) -> None:
        """Called by rclpy under its context lock: only flag; the link thread ends and cleans up itself."""
        self._closed = True
        if self._stop is not None:
            self._stop.set()

    def close(self) -> None:
        """Stop the link thread and destroy its node (idempotent; the context's shutdown does it too)."""
        self._closed = True
        self._teardown()

    def _teardown(self) -> None:
        stop, thread = self._stop, self._thread
        self._node = self._executor = self._thread = self._pub = self._stop = None
        if stop is not None:
            stop.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5.0)  # out of its wait within SPIN_WAIT_S


#: driver node -> its link (RosTwistLink.of)
_LINKS: weakref.WeakKeyDictionary[Node, RosTwistLink] = weakref.WeakKeyDictionary()
