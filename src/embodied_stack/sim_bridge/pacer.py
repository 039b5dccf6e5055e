"""Keeping simulated time in step with wall time (ROS-free).

``real_time_factor`` 1.0 runs the world like hardware; 2.0 twice as fast (consumers
must then use ``/clock``); 0 as fast as the CPU allows. When a step overruns (the
machine is slower than real time) the pacer does not try to catch up in a burst --
that would deliver stale sensor data in clumps -- it records the overrun and
re-anchors, so the achieved factor is reported honestly in diagnostics.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class RealTimePacer:
    def __init__(self, control_dt: float, real_time_factor: float = 1.0,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if control_dt <= 0:
            raise ValueError(f"control_dt must be > 0 s, got {control_dt}")
        if real_time_factor < 0:
            raise ValueError(f"real_time_factor must be >= 0 (0 = unpaced), got {real_time_factor}")
        self.control_dt = control_dt
        self.real_time_factor = real_time_factor
        self._clock, self._sleep = clock, sleep
        self._anchor_wall = clock()
        self._steps_since_anchor = 0
        self._start_wall = self._anchor_wall
        self.steps = 0
        self.overruns = 0

    def wait(self) -> None:
        """Call once after each step: sleeps until that step's wall-clock deadline."""
        self.steps += 1
        self._steps_since_anchor += 1
        if self.real_time_factor == 0:
            return
        deadline = self._anchor_wall + self._steps_since_anchor * self.control_dt / self.real_time_factor
        now = self._clock()
        if now < deadline:
            self._sleep(deadline - now)
        elif now - deadline > self.control_dt / self.real_time_factor:
            self.overruns += 1
            self._anchor_wall, self._steps_since_anchor = now, 0

    def achieved_factor(self) -> float:
        """Simulated seconds per wall second since start."""
        elapsed = self._clock() - self._start_wall
        return self.steps * self.control_dt / elapsed if elapsed > 0 else 0.0
