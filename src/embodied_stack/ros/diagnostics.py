"""Building ``diagnostic_msgs`` from :class:`~embodied_stack.common.rate_meter.RateMeter`s.

Nodes publish a ``DiagnosticArray`` on ``/diagnostics`` with one status per stream
they care about: rate vs the expected rate, latency p50/p99 and age of the last
message, so ``rqt_robot_monitor`` or a test can tell a starving node at a glance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue

from embodied_stack.common.rate_meter import RateMeter

OK, WARN, ERROR, STALE = (DiagnosticStatus.OK, DiagnosticStatus.WARN, DiagnosticStatus.ERROR,
                          DiagnosticStatus.STALE)


@dataclass
class StreamExpectation:
    """What 'healthy' means for one stream: minimum rate (Hz; 0 = don't care), and
    how old the last message may be before the stream counts as stale (s)."""

    min_rate_hz: float = 0.0
    stale_after_s: float = 1.0


def stream_status(name: str, hardware_id: str, meter: RateMeter, now: float,
                  expect: StreamExpectation, extra: dict[str, str] | None = None) -> DiagnosticStatus:
    rate = meter.rate_hz(now)
    p50, p99 = meter.latency_percentiles(50, 99)
    age = meter.age(now)
    if meter.count == 0:
        level, message = STALE, "no messages yet"
    elif age > expect.stale_after_s:
        level, message = STALE, f"last message {age:.2f} s ago"
    elif expect.min_rate_hz > 0 and rate < expect.min_rate_hz:
        level, message = WARN, f"rate {rate:.1f} Hz below {expect.min_rate_hz:.1f} Hz"
    else:
        level, message = OK, f"{rate:.1f} Hz"
    values = {
        "rate_hz": f"{rate:.2f}",
        "latency_p50_ms": "nan" if math.isnan(p50) else f"{p50 * 1e3:.2f}",
        "latency_p99_ms": "nan" if math.isnan(p99) else f"{p99 * 1e3:.2f}",
        "age_s": f"{age:.3f}",
        "count": str(meter.count),
        **(extra or {}),
    }
    return DiagnosticStatus(level=level, name=name, message=message, hardware_id=hardware_id,
                            values=[KeyValue(key=k, value=v) for k, v in values.items()])


def status(name: str, hardware_id: str, level: int, message: str,
           values: dict[str, str] | None = None) -> DiagnosticStatus:
    return DiagnosticStatus(level=level, name=name, message=message, hardware_id=hardware_id,
                            values=[KeyValue(key=k, value=str(v)) for k, v in (values or {}).items()])


def array(node_clock, statuses: list[DiagnosticStatus]) -> DiagnosticArray:
    msg = DiagnosticArray(status=statuses)
    msg.header.stamp = node_clock.now().to_msg()
    return msg
