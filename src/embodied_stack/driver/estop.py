"""The one e-stop latch every driver obeys (ROS-free).

Why a latch with an explicit reset: an e-stop that any ``false`` clears is an e-stop a node
restarting in the background can cancel. Any source (the browser console, a gamepad, a
planner, a service call, ``/estop``) may *engage* it; only an explicit reset clears it, and
the reset names who did it, so the log tells the story afterwards.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class EStopState:
    engaged: bool
    source: str = ""  # who engaged (or last reset) it
    reason: str = ""
    since: float = 0.0  # monotonic seconds of the last change


class EStopLatch:
    """Thread-safe: engaged by anyone, cleared only by :meth:`reset`."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._state = EStopState(engaged=False, since=clock())
        self.engagements = 0

    @property
    def engaged(self) -> bool:
        return self._state.engaged

    @property
    def state(self) -> EStopState:
        return self._state

    def engage(self, source: str, reason: str = "") -> bool:
        """Latch the e-stop; returns True if this call changed the state."""
        with self._lock:
            if self._state.engaged:
                return False
            self._state = EStopState(True, source, reason, self._clock())
            self.engagements += 1
            return True

    def reset(self, source: str) -> bool:
        """Clear the latch (an explicit operator action); returns True if it was engaged."""
        with self._lock:
            if not self._state.engaged:
                return False
            self._state = EStopState(False, source, "reset", self._clock())
            return True
