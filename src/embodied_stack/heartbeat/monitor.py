"""Liveness of peers that publish heartbeats (ROS-free core of the heartbeat node).

Each node in a stack can publish a heartbeat; a monitor that watches them tells
whether every peer is alive, at what rate, and with what end-to-end latency
(stamp at the sender vs arrival here). That latency is the transport latency
between the two processes, which makes this node a permanent in-situ DDS probe.
"""

from __future__ import annotations

from dataclasses import dataclass

from embodied_stack.common.rate_meter import RateMeter


@dataclass
class PeerHealth:
    name: str
    alive: bool
    rate_hz: float
    latency_p50_s: float
    latency_p99_s: float
    age_s: float
    count: int


class HeartbeatMonitor:
    """Tracks heartbeats of named peers.

    A peer is alive when its last beat is younger than ``timeout_s``; the default
    timeout in the node is three beat periods, the usual watchdog choice (one lost
    beat is not a failure, three are).
    """

    def __init__(self, peers: list[str], timeout_s: float, window: int = 50) -> None:
        if not timeout_s > 0:
            raise ValueError(f"timeout_s must be > 0, got {timeout_s}")
        self.timeout_s = timeout_s
        self._meters = {p: RateMeter(window) for p in peers}

    @property
    def peers(self) -> list[str]:
        return list(self._meters)

    def beat(self, peer: str, arrival: float, stamp: float) -> None:
        """Record a beat; beats from peers we don't watch are ignored (returns quietly),
        since several monitors share one heartbeat topic namespace."""
        meter = self._meters.get(peer)
        if meter is not None:
            meter.record(arrival, stamp)

    def health(self, now: float) -> list[PeerHealth]:
        out = []
        for name, m in self._meters.items():
            p50, p99 = m.latency_percentiles(50, 99)
            age = m.age(now)
            out.append(PeerHealth(name, age <= self.timeout_s, m.rate_hz(now), p50, p99, age, m.count))
        return out

    def all_alive(self, now: float) -> bool:
        return all(h.alive for h in self.health(now))
