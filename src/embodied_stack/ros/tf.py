"""/tf and /tf_static without tf2_ros: broadcasters, a listener and message conversions.

Why here: tf2_ros has no PyPI wheel. ``tf2_msgs/TFMessage`` does exist (the real package from apt,
or our field-for-field copy built by scripts/build_interfaces.sh), so these speak the same wire
protocol as tf2_ros, RViz and Foxglove, with the same QoS:
- /tf: reliable, volatile, keep-last 100 (tf2_ros ``DynamicBroadcasterQoS``/``DynamicListenerQoS``);
- /tf_static: reliable, transient-local, keep-last 1 on the publisher, so late joiners get it. A
  static broadcaster always publishes *all* its static transforms in one message and re-publishes
  the union when one is added or changed (as tf2_ros does): a latched topic keeps one message per
  publisher, so anything not in the last message would be lost to late joiners. The listener
  keeps 100 so one latched message from each of many publishers fits.
The transforms themselves are the ROS-free :class:`embodied_stack.tf.Transform`; lookups go through
:class:`embodied_stack.tf.TransformBuffer`.
"""

from __future__ import annotations

import time as _time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from geometry_msgs.msg import TransformStamped
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
from tf2_msgs.msg import TFMessage

from embodied_stack.ros.time import from_sec, to_sec
from embodied_stack.tf import Transform, TransformBuffer, TransformError

TF_TOPIC = "/tf"
TF_STATIC_TOPIC = "/tf_static"

DYNAMIC_QOS = QoSProfile(depth=100, history=HistoryPolicy.KEEP_LAST, reliability=ReliabilityPolicy.RELIABLE,
                         durability=DurabilityPolicy.VOLATILE)
STATIC_BROADCASTER_QOS = QoSProfile(depth=1, history=HistoryPolicy.KEEP_LAST,
                                    reliability=ReliabilityPolicy.RELIABLE,
                                    durability=DurabilityPolicy.TRANSIENT_LOCAL)
STATIC_LISTENER_QOS = QoSProfile(depth=100, history=HistoryPolicy.KEEP_LAST,
                                 reliability=ReliabilityPolicy.RELIABLE,
                                 durability=DurabilityPolicy.TRANSIENT_LOCAL)


# --- conversions ----------------------------------------------------------------------------------
def to_msg(transform: Transform, stamp: float | None = None) -> TransformStamped:
    """``TransformStamped`` of ``transform``; the header stamp is ``stamp``, else the transform's own,
    else 0 (static transforms are valid at all times; tf2 ignores their stamp)."""
    msg = TransformStamped()
    t = stamp if stamp is not None else transform.stamp
    msg.header.stamp = from_sec(t if t is not None else 0.0)
    msg.header.frame_id = transform.parent
    msg.child_frame_id = transform.child
    tr, q = msg.transform.translation, msg.transform.rotation
    tr.x, tr.y, tr.z = transform.xyz
    q.x, q.y, q.z, q.w = transform.quat_xyzw
    return msg


def from_msg(msg: TransformStamped, static: bool = False) -> Transform:
    """The :class:`Transform` in ``msg`` (stamp None when ``static``). Raises ValueError for an
    empty frame id, NaN values or a zero quaternion, naming the frames."""
    tr, q = msg.transform.translation, msg.transform.rotation
    return Transform(msg.header.frame_id, msg.child_frame_id, (tr.x, tr.y, tr.z), (q.x, q.y, q.z, q.w),
                     None if static else to_sec(msg.header.stamp))


def to_tf_message(transforms: Iterable[Transform], stamp: float | None = None) -> TFMessage:
    return TFMessage(transforms=[to_msg(t, stamp) for t in transforms])


def from_tf_message(msg: TFMessage, static: bool = False) -> list[Transform]:
    """Every transform in ``msg``; raises ValueError on the first invalid one (see :func:`from_msg`)."""
    return [from_msg(m, static) for m in msg.transforms]


# --- broadcasters ---------------------------------------------------------------------------------
class TransformBroadcaster:
    """Publishes moving transforms on /tf (tf2_ros ``TransformBroadcaster``)."""

    def __init__(self, node: Node, topic: str = TF_TOPIC, qos: QoSProfile = DYNAMIC_QOS) -> None:
        self._node = node
        self._pub = node.create_publisher(TFMessage, topic, qos)

    def send(self, transforms: Transform | Iterable[Transform], stamp: float | None = None) -> None:
        """Publish in one message. Each header stamp is ``stamp``, else the transform's own, else the
        node clock's now (the sensor time, not publish time, is right: pass it when you have it)."""
        items = [transforms] if isinstance(transforms, Transform) else list(transforms)
        if not items:
            return
        if stamp is None and any(t.stamp is None for t in items):
            now = self._node.get_clock().now().nanoseconds * 1e-9
            items = [t if t.stamp is not None else t.with_stamp(now) for t in items]
        self._pub.publish(TFMessage(transforms=[to_msg(t, stamp) for t in items]))

    def destroy(self) -> None:
        self._node.destroy_publisher(self._pub)


class StaticTransformBroadcaster:
    """Publishes fixed transforms on /tf_static, latched (tf2_ros ``StaticTransformBroadcaster``).

    Keeps every transform sent so far (one per child frame; a later one for the same child
    replaces it) and publishes the whole set each time, so a late joiner gets all of them.
    """

    def __init__(self, node: Node, topic: str = TF_STATIC_TOPIC) -> None:
        self._node = node
        self._pub = node.create_publisher(TFMessage, topic, STATIC_BROADCASTER_QOS)
        self._by_child: dict[str, TransformStamped] = {}

    def send(self, transforms: Transform | Iterable[Transform]) -> None:
        items = [transforms] if isinstance(transforms, Transform) else list(transforms)
        now = self._node.get_clock().now().nanoseconds * 1e-9
        for t in items:
            self._by_child[t.child] = to_msg(t, now)
        self._pub.publish(TFMessage(transforms=list(self._by_child.values())))

    @property
    def child_frames(self) -> list[str]:
        return list(self._by_child)

    def destroy(self) -> None:
        self._node.destroy_publisher(self._pub)


# --- listener -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ResolvedTransform:
    """A transform and where it came from: ``"tf"`` (published) or ``"config"`` (the fallback)."""

    transform: Transform
    used: Literal["tf", "config"]
    detail: str  # why: the frames found, or the lookup error that made it fall back


class TransformListener:
    """Fills a :class:`TransformBuffer` from /tf and /tf_static (tf2_ros ``TransformListener``).

    Callbacks run in whatever executor spins ``node``; read the buffer from any thread.
    A message with an invalid transform (empty frame id, NaN, zero quaternion) is dropped with a
    warning naming the frames, and the rest of the message is kept.
    """

    def __init__(self, node: Node, buffer: TransformBuffer | None = None, tf_topic: str = TF_TOPIC,
                 tf_static_topic: str = TF_STATIC_TOPIC) -> None:
        self.node = node
        self.buffer = buffer if buffer is not None else TransformBuffer()
        self._subs = [
            node.create_subscription(TFMessage, tf_topic, lambda m: self._on_message(m, False), DYNAMIC_QOS),
            node.create_subscription(TFMessage, tf_static_topic, lambda m: self._on_message(m, True),
                                     STATIC_LISTENER_QOS),
        ]

    def _on_message(self, msg: TFMessage, static: bool) -> None:
        for m in msg.transforms:
            try:
                t = from_msg(m, static)
            except ValueError as e:
                self.node.get_logger().warning(
                    f"dropping transform {m.header.frame_id!r} -> {m.child_frame_id!r}: {e}",
                    throttle_duration_sec=5.0)
                continue
            self.buffer.set_transform(t, static=static)

    def lookup_or_fallback(self, target: str, source: str, fallback: Transform,
                           timeout_s: float) -> ResolvedTransform:
        """The pose of ``source`` in ``target`` from TF if it arrives within ``timeout_s``, else ``fallback``
        (the value from config); the result says which was used and why, and it is logged.

        If ``node`` is not in an executor yet (a node resolving its extrinsics in its constructor),
        it is spun here with a private executor until then, running its other callbacks too;
        otherwise this waits for the executor spinning it (do not call it from a callback of a
        single-threaded executor: nothing would fill the buffer while it waits).
        """
        if (fallback.parent, fallback.child) != (target, source):
            raise ValueError(f"fallback is {fallback.parent} -> {fallback.child} but the lookup is {target} "
                             f"-> {source}: give the fallback as the pose of '{source}' in '{target}'")
        log = self.node.get_logger()
        try:
            found = self._wait(target, source, timeout_s)
        except TransformError as e:
            detail = f"no TF {target} -> {source} within {timeout_s} s ({e}); using the configured extrinsics"
            log.warning(detail)
            return ResolvedTransform(fallback, "config", detail)
        detail = f"{target} -> {source} from TF (xyz {[round(v, 4) for v in found.xyz]} m)"
        log.info(detail)
        return ResolvedTransform(found, "tf", detail)

    def _wait(self, target: str, source: str, timeout_s: float) -> Transform:
        if self.node.executor is not None:
            return self.buffer.wait_for_transform(target, source, timeout_s)
        executor = SingleThreadedExecutor(context=self.node.context)
        executor.add_node(self.node)
        deadline = _time.monotonic() + timeout_s
        try:
            while True:
                try:
                    return self.buffer.lookup(target, source)
                except TransformError:
                    remaining = deadline - _time.monotonic()
                    if remaining <= 0:
                        raise
                    executor.spin_once(timeout_sec=min(0.05, remaining))
        finally:
            self.node.executor = None  # hands the node back, free to join the process's executor
            executor.shutdown()

    def destroy(self) -> None:
        for sub in self._subs:
            self.node.destroy_subscription(sub)
        self._subs = []
