"""Heartbeat node: publishes ``heartbeat`` and watches the heartbeats of peers.

Topics
  publishes  ``~/heartbeat`` (std_msgs/Header; stamp = send time, frame_id = node name), COMMAND QoS
  subscribes ``<peer>/heartbeat`` for each name in ``peers``
  publishes  ``/diagnostics`` (diagnostic_msgs/DiagnosticArray): own loop rate, each peer's
             rate / latency p50, p99 / age; ERROR for a dead peer
Parameters (config/nodes/heartbeat.yaml)
  rate_hz (0.1..200), peers (string[]), peer_timeout_s (> 0), diagnostics_period_s (0.1..10)
"""

from __future__ import annotations

import time

from diagnostic_msgs.msg import DiagnosticArray
from rclpy.node import Node
from std_msgs.msg import Header

from embodied_stack.common.rate_meter import RateMeter
from embodied_stack.heartbeat.monitor import HeartbeatMonitor
from embodied_stack.ros import diagnostics, qos
from embodied_stack.ros.node_main import run_node
from embodied_stack.ros.params import Parameters, ParamSpec
from embodied_stack.ros.time import to_sec

SPECS = [
    ParamSpec("rate_hz", 10.0, "heartbeat publish rate, Hz", min=0.1, max=200.0),
    ParamSpec("peers", [""], "names of peer nodes whose <peer>/heartbeat to watch ('' = none)"),
    ParamSpec("peer_timeout_s", 0.5, "a peer is dead after this long without a beat, s", min=0.001, max=60.0),
    ParamSpec("diagnostics_period_s", 1.0, "period of /diagnostics publication, s", min=0.1, max=10.0),
]


class HeartbeatNode(Node):
    def __init__(self) -> None:
        super().__init__("heartbeat")
        self.params = Parameters(self, SPECS, on_change=self._on_param_change)
        peers = [p for p in self.params["peers"] if p]
        self.monitor = HeartbeatMonitor(peers, self.params["peer_timeout_s"])
        self.own_rate = RateMeter(window=50)
        self.pub = self.create_publisher(Header, "~/heartbeat", qos.COMMAND)
        self.diag_pub = self.create_publisher(DiagnosticArray, "/diagnostics", qos.EVENTS)
        for peer in peers:
            self.create_subscription(Header, f"{peer}/heartbeat", self._on_beat, qos.COMMAND)
        self.beat_timer = self.create_timer(1.0 / self.params["rate_hz"], self._beat)
        self.diag_timer = self.create_timer(self.params["diagnostics_period_s"], self._publish_diagnostics)
        self.get_logger().info(f"beating at {self.params['rate_hz']} Hz, watching {peers or 'no peers'}")

    def _on_param_change(self, name: str, value: object) -> None:
        if name == "rate_hz":
            self.beat_timer.cancel()
            self.destroy_timer(self.beat_timer)
            self.beat_timer = self.create_timer(1.0 / float(value), self._beat)
            self.get_logger().info(f"heartbeat rate changed to {value} Hz")

    def _beat(self) -> None:
        now = time.time()
        self.own_rate.record(time.monotonic())
        msg = Header(frame_id=self.get_name())
        msg.stamp.sec, msg.stamp.nanosec = int(now), int((now % 1) * 1e9)
        self.pub.publish(msg)

    def _on_beat(self, msg: Header) -> None:
        # Stamps are wall-clock at the sender; both processes share this machine's clock.
        self.monitor.beat(msg.frame_id, time.time(), to_sec(msg.stamp))

    def _publish_diagnostics(self) -> None:
        hw = self.get_fully_qualified_name()
        statuses = [diagnostics.stream_status(
            f"{self.get_name()}: heartbeat out", hw, self.own_rate, time.monotonic(),
            diagnostics.StreamExpectation(min_rate_hz=0.8 * self.params["rate_hz"],
                                          stale_after_s=3.0 / self.params["rate_hz"]))]
        for h in self.monitor.health(time.time()):
            level = diagnostics.OK if h.alive else diagnostics.ERROR
            msg = f"alive, {h.rate_hz:.1f} Hz" if h.alive else f"no heartbeat for {h.age_s:.2f} s"
            statuses.append(diagnostics.status(
                f"{self.get_name()}: peer {h.name}", hw, level, msg,
                {"rate_hz": f"{h.rate_hz:.2f}", "latency_p50_ms": f"{h.latency_p50_s * 1e3:.3f}",
                 "latency_p99_ms": f"{h.latency_p99_s * 1e3:.3f}", "age_s": f"{h.age_s:.3f}",
                 "count": str(h.count)}))
        self.diag_pub.publish(diagnostics.array(self.get_clock(), statuses))


def main(args: list[str] | None = None) -> int:
    return run_node(HeartbeatNode, args)


if __name__ == "__main__":
    raise SystemExit(main())
