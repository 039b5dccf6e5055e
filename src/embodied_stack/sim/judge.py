"""Task success from ground truth (ROS-free), shared by the tabletop world and the
demo/evaluation tooling that only sees ``/sim/ground_truth/objects``.

Why separate: the env's ``info["is_success"]`` and an external judge watching the
ground-truth topic must agree on what "in the bowl" means, so the geometry lives once, and
on how long it must last (:class:`LastingSuccess`): an object dropped or knocked out right
after it first lands in the container is not a success.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from embodied_stack.sim.world import GroundTruthObject

#: s the task's condition must last before evaluation and the demo's judge call it a success
SUCCESS_HOLD_S = 1.0


def inside_container(obj_position: np.ndarray, container: GroundTruthObject) -> bool:
    """Object centre within the container's inner footprint (a circle for a bowl, a
    square otherwise; ``size`` = inner width, width, wall height) and below its rim."""
    half, height = float(container.size[0]) / 2.0, float(container.size[2])
    d = np.asarray(obj_position[:2], dtype=np.float64) - np.asarray(container.position[:2], dtype=np.float64)
    inside = np.linalg.norm(d) < half if container.label == "bowl" else bool(np.all(np.abs(d) < half))
    return bool(inside and obj_position[2] < container.position[2] + height)


def pick_place_success(objects: list[GroundTruthObject], target: str, container: str) -> bool:
    """True when object ``target`` lies inside ``container`` (both by ground-truth name)."""
    by_name = {o.name: o for o in objects}
    missing = [n for n in (target, container) if n not in by_name]
    if missing:
        raise KeyError(f"unknown object(s) {missing}; ground truth has {sorted(by_name)}")
    return inside_container(by_name[target].position, by_name[container])


@dataclass
class LastingSuccess:
    """Success that lasts: the task's condition (e.g. object in the container and released) must hold
    without a break for ``hold_s`` seconds of the caller's clock (sim time in the env, ROS time in the
    demo's judge). ``hold_s`` 0 is success the moment the condition first holds."""

    hold_s: float = 0.0
    _since: float | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not self.hold_s >= 0.0:
            raise ValueError(f"hold_s must be >= 0 s, got {self.hold_s}")

    def reset(self) -> None:
        self._since = None

    def update(self, t: float, holds: bool) -> bool:
        """Feed the condition at time ``t``; True once it has held for ``hold_s``."""
        if not holds:
            self._since = None
            return False
        if self._since is None:
            self._since = t
        return t - self._since >= self.hold_s - 1e-9
