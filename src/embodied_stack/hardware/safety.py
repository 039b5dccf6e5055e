"""Command safety shared by every robot: limits, max step, NaN rejection, watchdog.

Why one module: the rule "a robot never moves on stale or invalid commands" must
hold identically for the simulator and real drivers, so it lives below both.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from embodied_stack.hardware.robot import BaseVelocity, JointCommand

log = logging.getLogger(__name__)


class CommandRejected(ValueError):
    """A command was invalid (NaN, wrong length, stale); nothing was applied."""


@dataclass(frozen=True)
class JointLimits:
    """Per-joint position limits (rad) and the largest change one command may ask for
    relative to the measured position (rad), which bounds how far a single bad
    command can move the arm."""

    names: Sequence[str]
    lower: np.ndarray
    upper: np.ndarray
    max_step: float = 0.25
    #: rad/s per joint; the driver limits how fast its target moves (None = no velocity limit)
    max_velocity: np.ndarray | None = None

    def __post_init__(self) -> None:
        n = len(self.names)
        if self.lower.shape != (n,) or self.upper.shape != (n,):
            raise ValueError(f"JointLimits: lower/upper must have shape ({n},)")
        if np.any(self.lower > self.upper):
            raise ValueError("JointLimits: lower > upper for some joint")
        if not self.max_step > 0:
            raise ValueError(f"JointLimits: max_step must be > 0 rad, got {self.max_step}")
        bad_velocity = self.max_velocity is not None and (
            self.max_velocity.shape != (n,) or np.any(self.max_velocity <= 0))
        if bad_velocity:
            raise ValueError(f"JointLimits: max_velocity must be ({n},) values > 0 rad/s")

    def explain(self, asked: np.ndarray, sent: np.ndarray, current: np.ndarray) -> list[str]:
        """Why each joint of ``sent`` differs from ``asked``, in words (for logs and /diagnostics)."""
        out = []
        for i, name in enumerate(self.names):
            if abs(asked[i] - sent[i]) <= 1e-9:
                continue
            if asked[i] > self.upper[i] or asked[i] < self.lower[i]:
                why = f"position limit [{self.lower[i]:.3f}, {self.upper[i]:.3f}]"
            elif abs(sent[i] - current[i]) >= self.max_step - 1e-9:
                why = f"max step {self.max_step} rad from measured {current[i]:.3f}"
            else:
                why = "velocity limit"
            out.append(f"{name} asked {asked[i]:.3f} sent {sent[i]:.3f} ({why})")
        return out

    def limit_velocity(self, target: np.ndarray, previous: np.ndarray, dt: float) -> np.ndarray:
        """Move at most ``max_velocity * dt`` from the previous target (no-op without velocity limits)."""
        if self.max_velocity is None or dt <= 0:
            return target
        step = self.max_velocity * dt
        return np.clip(target, previous - step, previous + step)

    def filter(self, command: JointCommand, current: np.ndarray) -> JointCommand:
        from embodied_stack.hardware.robot import JointCommand

        target = np.asarray(command.positions, dtype=np.float64)
        n = len(self.names)
        if target.shape != (n,):
            raise CommandRejected(
                f"joint command has {target.size} values, robot has {n} joints {list(self.names)}"
            )
        if not np.all(np.isfinite(target)):
            raise CommandRejected(f"joint command contains NaN/inf: {target.tolist()}")
        gripper = command.gripper
        if gripper is not None:
            if not math.isfinite(gripper):
                raise CommandRejected(f"gripper command is not finite: {gripper}")
            gripper = float(min(max(gripper, 0.0), 1.0))
        clamped = np.clip(target, self.lower, self.upper)
        clamped = np.clip(clamped, current - self.max_step, current + self.max_step)
        if not np.allclose(clamped, target):
            log.debug("joint command clamped: asked %s, sent %s", target, clamped)
        return JointCommand(positions=clamped, gripper=gripper)


@dataclass(frozen=True)
class BaseLimits:
    """Body velocity limits: |vx|, |vy| (m/s), |wz| (rad/s)."""

    max_vx: float = 1.0
    max_vy: float = 0.5
    max_wz: float = 1.5

    def filter(self, command: BaseVelocity) -> BaseVelocity:
        from embodied_stack.hardware.robot import BaseVelocity

        v = command.as_array()
        if not np.all(np.isfinite(v)):
            raise CommandRejected(f"base velocity contains NaN/inf: {v.tolist()}")
        lim = np.array([self.max_vx, self.max_vy, self.max_wz])
        c = np.clip(v, -lim, lim)
        return BaseVelocity(float(c[0]), float(c[1]), float(c[2]))


class CommandWatchdog:
    """Calls ``on_timeout`` once when no command was fed for ``timeout_s``.

    Drivers call :meth:`feed` on each valid command and :meth:`check` from their
    control loop; a stopped stream of commands therefore stops the robot instead of
    letting it continue the last velocity forever.
    """

    def __init__(self, timeout_s: float, on_timeout: Callable[[], None],
                 clock: Callable[[], float] = time.monotonic) -> None:
        if not timeout_s > 0:
            raise ValueError(f"watchdog timeout must be > 0 s, got {timeout_s}")
        self.timeout_s = timeout_s
        self._on_timeout = on_timeout
        self._clock = clock
        self._last: float | None = None
        self._tripped = True  # nothing commanded yet: nothing to stop
        self.trips = 0

    def feed(self) -> None:
        self._last = self._clock()
        self._tripped = False

    def check(self) -> bool:
        """Returns True while commands are fresh."""
        if self._tripped or self._last is None:
            return False
        if self._clock() - self._last > self.timeout_s:
            self._tripped = True
            self.trips += 1
            self._on_timeout()
            return False
        return True
