"""Approximate-time alignment of sensor streams (like message_filters' ApproximateTime,
which has no PyPI wheel), with counters of what was dropped and why.

Required streams (colour, depth, camera info) must all have a message within ``slop`` of
each other for a set to be emitted; optional streams (scan, IMU: other rates) are attached
when one lies within ``optional_slop`` of the set's stamp and are None otherwise, so a
slow or missing scan never stalls object perception.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from embodied_stack.perception.validation import InputRejected


@dataclass
class SyncedSet:
    stamp: float  # s, of the first required stream
    messages: dict[str, Any]  # stream -> message (None for an optional stream without a match)
    stamps: dict[str, float | None] = field(default_factory=dict)


class ApproxTimeSync:
    def __init__(
        self,
        required: Sequence[str],
        optional: Sequence[str] = (),
        slop: float = 0.02,
        optional_slop: float = 0.05,
        queue_size: int = 10,
    ) -> None:
        if not required:
            raise ValueError("ApproxTimeSync needs at least one required stream")
        if slop < 0 or optional_slop < 0 or queue_size < 1:
            raise ValueError(
                f"slop {slop} s and optional_slop {optional_slop} s must be >= 0, queue_size "
                f"{queue_size} >= 1"
            )
        self.required = list(required)
        self.optional = list(optional)
        self.slop, self.optional_slop, self.queue_size = slop, optional_slop, queue_size
        self._queues: dict[str, deque[tuple[float, Any]]] = {s: deque() for s in self.required}
        self._optional: dict[str, deque[tuple[float, Any]]] = {s: deque(maxlen=64) for s in self.optional}
        self._last: dict[str, float] = {}
        self.received = {s: 0 for s in [*self.required, *self.optional]}
        self.dropped = {s: 0 for s in [*self.required, *self.optional]}
        self.out_of_order = {s: 0 for s in [*self.required, *self.optional]}
        self.emitted = 0

    def add(self, stream: str, stamp: float, message: Any) -> list[SyncedSet]:
        """Queue one message; return the sets it completed (usually zero or one).

        Raises ``InputRejected('out_of_order')`` for a stamp older than the stream's last one
        (a replayed bag, a clock jump): the message is counted and not queued.
        """
        if stream not in self.received:
            raise ValueError(f"unknown stream '{stream}'; streams: {list(self.received)}")
        self.received[stream] += 1
        last = self._last.get(stream)
        if last is not None and stamp < last:
            self.out_of_order[stream] += 1
            raise InputRejected(
                "out_of_order",
                f"{stream} stamp {stamp:.6f} s is older than the previous "
                f"{last:.6f} s; the stream went back in time (bag loop or clock jump?)",
            )
        self._last[stream] = stamp
        if stream in self._optional:
            self._optional[stream].append((stamp, message))
            return []
        q = self._queues[stream]
        q.append((stamp, message))
        if len(q) > self.queue_size:
            q.popleft()
            self.dropped[stream] += 1
        return self._match()

    def _match(self) -> list[SyncedSet]:
        out = []
        pivot_name = self.required[0]
        while all(self._queues[s] for s in self.required):
            pivot_stamp, pivot_msg = self._queues[pivot_name][0]
            chosen: dict[str, tuple[float, Any]] = {pivot_name: (pivot_stamp, pivot_msg)}
            drop_pivot = False
            for s in self.required[1:]:
                q = self._queues[s]
                while q and q[0][0] < pivot_stamp - self.slop:  # too old for this or any later pivot
                    q.popleft()
                    self.dropped[s] += 1
                if not q:
                    break
                best = min(q, key=lambda m: abs(m[0] - pivot_stamp))
                if abs(best[0] - pivot_stamp) <= self.slop:
                    chosen[s] = best
                elif q[-1][0] > pivot_stamp + self.slop:
                    drop_pivot = True  # this stream has moved past the pivot: it will never match
                    break
            if drop_pivot:
                self._queues[pivot_name].popleft()
                self.dropped[pivot_name] += 1
                continue
            if len(chosen) < len(self.required):
                break  # wait for more messages
            for s, (stamp, _) in chosen.items():
                q = self._queues[s]
                while q and q[0][0] <= stamp:
                    if q[0][0] < stamp:
                        self.dropped[s] += 1
                    q.popleft()
            messages = {s: m for s, (_, m) in chosen.items()}
            stamps: dict[str, float | None] = {s: t for s, (t, _) in chosen.items()}
            for s, oq in self._optional.items():
                near = min(oq, key=lambda m: abs(m[0] - pivot_stamp), default=None)
                ok = near is not None and abs(near[0] - pivot_stamp) <= self.optional_slop
                messages[s] = near[1] if ok else None
                stamps[s] = near[0] if ok else None
            self.emitted += 1
            out.append(SyncedSet(pivot_stamp, messages, stamps))
        return out
