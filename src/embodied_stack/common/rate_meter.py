"""Rate, latency and staleness of a stream, for diagnostics.

Why ROS-free: every node reports the same three numbers about its inputs and
outputs (how often, how late, how long since the last), and the cores' tests and
benchmarks compute them the same way without a ROS graph.
"""

from __future__ import annotations

from collections import deque

import numpy as np


class RateMeter:
    """Sliding-window statistics over the last ``window`` events.

    ``record(arrival, stamp)``: ``arrival`` is when we saw the message (s, any
    monotonic-ish clock shared with ``now`` in queries), ``stamp`` the time the data
    was produced (same clock), if known; latency = arrival - stamp.
    """

    def __init__(self, window: int = 100) -> None:
        if window < 2:
            raise ValueError(f"RateMeter window must be >= 2 events, got {window}")
        self._arrivals: deque[float] = deque(maxlen=window)
        self._latencies: deque[float] = deque(maxlen=window)
        self.count = 0

    def record(self, arrival: float, stamp: float | None = None) -> None:
        self._arrivals.append(arrival)
        if stamp is not None:
            self._latencies.append(arrival - stamp)
        self.count += 1

    def rate_hz(self, now: float | None = None) -> float:
        """Events per second over the window; decays to 0 when the stream stops
        (the gap to ``now`` counts as one more interval)."""
        if len(self._arrivals) < 2:
            return 0.0
        span = self._arrivals[-1] - self._arrivals[0]
        n = len(self._arrivals) - 1
        if now is not None and now - self._arrivals[-1] > span / n:
            span = now - self._arrivals[0]
        return n / span if span > 0 else 0.0

    def latency_percentiles(self, *qs: float) -> list[float]:
        """Latency percentiles in seconds (NaN if no stamped events)."""
        if not self._latencies:
            return [float("nan")] * len(qs)
        return [float(v) for v in np.percentile(np.fromiter(self._latencies, float), qs)]

    def age(self, now: float) -> float:
        """Seconds since the last event (inf if none)."""
        return now - self._arrivals[-1] if self._arrivals else float("inf")
