"""What perception would report about the people: noise, missed detections, late confirmation, coasting.

Why imitate rather than run the real tracker: the LiDAR detector + Kalman tracker
(:mod:`embodied_stack.perception.people`) needs a simulated scan at 10 Hz and costs milliseconds per
step; RL needs thousands of steps per second. This model reproduces the tracker's observable behaviour
with the tracker's own parameters (:class:`~embodied_stack.perception.config.PeopleConfig`): a person
appears only after ``confirm_hits`` detections, stays (predicted at constant velocity) for ``max_coast_s``
without one, is seen only within ``max_range_m``, and is reported with ``measurement_std_m`` noise.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from embodied_stack.perception.config import PeopleConfig


@dataclass(frozen=True)
class PerceptionNoiseConfig:
    """enabled=False gives ground truth (for debugging and upper-bound baselines).

    detection_probability: chance a person in range is detected in one control step (missed returns,
    partial occlusion). velocity_std: m/s, error of the tracker's velocity estimate.
    """

    enabled: bool = True
    detection_probability: float = 0.9
    velocity_std: float = 0.1  # m/s
    tracker: PeopleConfig = field(default_factory=PeopleConfig)

    def __post_init__(self) -> None:
        if not 0 < self.detection_probability <= 1:
            raise ValueError(f"detection_probability={self.detection_probability} must be in (0, 1]")


class PerceivedPeople:
    """Per-person track state mirroring :class:`~embodied_stack.perception.people.PeopleTracker`."""

    def __init__(self, config: PerceptionNoiseConfig | None = None) -> None:
        self.config = config or PerceptionNoiseConfig()
        self._hits = np.zeros(0, dtype=int)
        self._unseen = np.zeros(0)
        self._position = np.zeros((0, 2))
        self._velocity = np.zeros((0, 2))

    def reset(self, n: int) -> None:
        self._hits = np.zeros(n, dtype=int)
        self._unseen = np.full(n, np.inf)
        self._position = np.zeros((n, 2))
        self._velocity = np.zeros((n, 2))

    def update(self, robot_xy: np.ndarray, position: np.ndarray, velocity: np.ndarray, dt: float,
               rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return (indices, positions, velocities) of the people perception reports this step."""
        n = len(position)
        if len(self._hits) != n:
            self.reset(n)
        if not self.config.enabled:
            return np.arange(n), position.copy(), velocity.copy()
        t = self.config.tracker
        in_range = np.linalg.norm(position - robot_xy, axis=1) <= t.max_range_m
        detected = in_range & (rng.random(n) < self.config.detection_probability)
        noise_p = rng.normal(0.0, t.measurement_std_m, (n, 2))
        noise_v = rng.normal(0.0, self.config.velocity_std, (n, 2))
        self._position += dt * self._velocity  # coast everyone, then correct the detected
        self._unseen += dt
        self._position[detected] = position[detected] + noise_p[detected]
        self._velocity[detected] = velocity[detected] + noise_v[detected]
        self._unseen[detected] = 0.0
        self._hits[detected] += 1
        lost = self._unseen > t.max_coast_s
        self._hits[lost] = 0
        shown = np.flatnonzero((self._hits >= t.confirm_hits) & ~lost)
        return shown, self._position[shown].copy(), self._velocity[shown].copy()
