"""What the sim bridge and the Gymnasium envs need from a simulated world.

A :class:`SimWorld` owns one MuJoCo model/data pair and the simulated robots that
act in it (each a :class:`~embodied_stack.hardware.Robot`). Envs step it from
``env.step``; the sim bridge steps it against the wall clock. Ground truth is
exposed separately so evaluation can read it while the stack under test cannot
(it only sees what real drivers would publish).
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field

import numpy as np

from embodied_stack.hardware import Robot


@dataclass
class GroundTruthObject:
    """An object's true state, for evaluation only (never fed to the stack)."""

    name: str  # unique body name in the world, e.g. "red_cube"
    label: str  # shape class, e.g. "cube", "cylinder", "bowl"
    color: str  # colour name from embodied_stack.language.vocab.COLORS
    position: np.ndarray  # m, in the world frame (= odom for fixed-base scenes)
    quaternion_xyzw: np.ndarray
    size: np.ndarray  # full box extents, m
    attributes: dict[str, str] = field(default_factory=dict)


@dataclass
class GroundTruthPerson:
    id: int
    position: np.ndarray  # x, y (m) in the world frame
    velocity: np.ndarray  # vx, vy (m/s)


class SimWorld(abc.ABC):
    """A MuJoCo world stepped at a fixed control period ``control_dt`` (s)."""

    name: str = "world"

    @property
    @abc.abstractmethod
    def control_dt(self) -> float:
        """Seconds of simulated time advanced by one :meth:`step`."""

    @property
    @abc.abstractmethod
    def time(self) -> float:
        """Simulated time since reset, s."""

    @property
    @abc.abstractmethod
    def robots(self) -> dict[str, Robot]:
        """The robots acting in this world, by name (already connected)."""

    @abc.abstractmethod
    def reset(self, seed: int | None = None) -> None:
        """Restore the initial state, re-randomising what the world's config randomises."""

    @abc.abstractmethod
    def step(self) -> None:
        """Advance physics by ``control_dt`` holding the robots' latest commands."""

    def ground_truth_objects(self) -> list[GroundTruthObject]:
        return []

    def ground_truth_people(self) -> list[GroundTruthPerson]:
        return []

    def close(self) -> None:  # noqa: B027 - optional hook: a no-op unless the world holds native resources
        """Free renderers and other native resources."""
