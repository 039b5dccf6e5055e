"""Aligning asynchronous sensor/command streams onto the dataset's fixed-rate frames.

Why timestamps and not arrival order: cameras, joint states and teleop commands arrive
at their own rates with their own delays; a training frame must pair each camera image
with the state and action *at the same instant*. Frame k of an episode stands for time
``t0 + k / fps``; for each stream the aligner takes the latest sample stamped at or
before that time, if it is no older than the stream's ``max_age_s``. A frame is
written only when every stream has such a sample: repeating an old image would be
silent corruption. Frames that cannot be filled are counted as dropped, per stream.

Frames are evaluated ``delay_s`` behind the clock so that samples still in transit
(camera pipelines, DDS) arrive before their frame is decided; a frame that cannot be filled
yet waits up to ``max_wait_s`` for its samples, so on a loaded machine whose transit exceeds
``delay_s`` frames are decided later instead of being dropped.
"""

from __future__ import annotations

import bisect
from collections import deque
from dataclasses import dataclass, field
from typing import Any


@dataclass
class StreamStats:
    """Per-stream counts for one episode: samples received, frames where it was missing."""

    received: int = 0
    missing: int = 0
    rejected: int = 0


@dataclass
class _Stream:
    max_age_s: float
    stamps: deque = field(default_factory=deque)
    values: deque = field(default_factory=deque)
    stats: StreamStats = field(default_factory=StreamStats)


class StreamAligner:
    """Turns pushed ``(stream, stamp, value)`` samples into aligned frames at ``fps``.

    Args:
        fps: dataset frame rate (Hz).
        max_age_s: per stream, the oldest a sample may be (s) to fill a frame. Sensors:
            about 1.5 / fps (one period plus jitter). Commands: longer, since a command
            stays in effect until the next one (a 10 Hz teleop in a 30 fps dataset).
        delay_s: how far behind ``now`` frames are decided (s); covers transport delay.
        history_s: how long samples are kept (s); older ones are dropped.
        max_wait_s: the longest a frame waits for a stream to move past it (s), beyond ``delay_s``.
    """

    def __init__(self, fps: float, max_age_s: dict[str, float], delay_s: float = 0.1,
                 history_s: float = 2.0, max_wait_s: float = 1.0) -> None:
        if fps <= 0:
            raise ValueError(f"fps must be > 0, got {fps}")
        for name, age in max_age_s.items():
            if age <= 0:
                raise ValueError(f"max_age_s[{name!r}] must be > 0 s, got {age}")
        self.fps = float(fps)
        self.delay_s = float(delay_s)
        self.max_wait_s = float(max_wait_s)
        oldest_needed = max(self.delay_s, self.max_wait_s) + max(max_age_s.values(), default=0) + 1.0 / fps
        self.history_s = max(float(history_s), oldest_needed)
        self._streams = {name: _Stream(age) for name, age in max_age_s.items()}
        self._t0: float | None = None
        self._next = 0  # next frame index to decide
        self.frames_expected = 0

    @property
    def names(self) -> list[str]:
        return list(self._streams)

    def push(self, name: str, stamp: float, value: Any) -> None:
        """Add a sample stamped ``stamp`` (s, sensor time). Out-of-order samples are placed by stamp."""
        s = self._streams.get(name)
        if s is None:
            raise KeyError(f"unknown stream {name!r}; configured: {self.names}")
        s.stats.received += 1
        if s.stamps and stamp < s.stamps[-1]:
            i = bisect.bisect_right(s.stamps, stamp)
            s.stamps.insert(i, stamp)
            s.values.insert(i, value)
        else:
            s.stamps.append(stamp)
            s.values.append(value)
        while s.stamps and s.stamps[0] < stamp - self.history_s:
            s.stamps.popleft()
            s.values.popleft()

    def reject(self, name: str) -> None:
        """Count a sample that arrived but could not be used (wrong shape, undecodable)."""
        self._streams[name].stats.received += 1
        self._streams[name].stats.rejected += 1

    def start(self, t0: float) -> None:
        """Begin an episode whose frame 0 stands for time ``t0``; resets the counters."""
        self._t0 = float(t0)
        self._next = 0
        self.frames_expected = 0
        for s in self._streams.values():
            s.stats = StreamStats()

    def stop(self) -> None:
        self._t0 = None

    @property
    def running(self) -> bool:
        return self._t0 is not None

    def stream_stats(self) -> dict[str, StreamStats]:
        return {name: s.stats for name, s in self._streams.items()}

    def poll(self, now: float, final: bool = False) -> list[tuple[int, float, dict[str, Any] | None]]:
        """Decide every frame whose time is at or before ``now - delay_s`` (``final``: every frame up
        to ``now``, without waiting for streams: the episode ends).

        Returns ``(frame_number, frame_time, values)`` per decided frame; ``values`` is
        None when some stream had no fresh sample (the frame is dropped and the
        missing streams are counted).
        """
        if self._t0 is None:
            return []
        out = []
        horizon = now if final else now - self.delay_s
        while True:
            t = self._t0 + self._next / self.fps
            if t > horizon + 1e-9:
                break
            values: dict[str, Any] = {}
            complete = True
            for name, s in self._streams.items():
                i = bisect.bisect_right(s.stamps, t + 1e-9) - 1
                if i >= 0 and t - s.stamps[i] <= s.max_age_s:
                    values[name] = s.values[i]
                else:
                    complete = False
            if not complete and not final and t > now - self.max_wait_s:
                break  # its samples may still be on their way: decide it later
            if not complete:
                for name, s in self._streams.items():
                    if name not in values:
                        s.stats.missing += 1
            out.append((self._next, t, values if complete else None))
            self._next += 1
            self.frames_expected += 1
        return out
