"""Grounding a planned step to what a skill server needs: object ids -> current positions.

Why here, once: the planner already resolved the user's words to perception's object ids (its world
model is fed from perception's tracks), so servers never parse language. What is left is *where* those
objects are when the step starts - perception's current position, not the one remembered at planning
time - and, when perception has since re-tracked an object under a new id, finding it again by its
description through perception's grounding (GroundObject). A step whose object cannot be located fails
with the reason before any server is asked to move.

Argument contract of ``ExecuteSkill`` goals (what the VLA policy node reads): the planner's arguments as
they are (``object=obj_1``, ``target=obj_5``), plus ``target_position`` for the object to manipulate and
``place_position`` for where it goes, each "x,y,z" in m in perception's frame (the arm's base frame on
the tabletop). The names follow the policy's goal input (target = what it grasps, place = where it puts
it), not the planner's (where ``target`` is the destination).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from embodied_stack.planner.types import PlanStep
from embodied_stack.planner.world import WorldModel

Position = tuple[float, float, float]
#: planner argument -> the position argument sent with it
POSITION_KEYS = {"object": "target_position", "target": "place_position", "person": "person_position"}


class GroundingError(RuntimeError):
    """The step names something the executive cannot locate now; the message says what and why."""


def format_position(position: Position) -> str:
    """ "x,y,z" in m, 0.1 mm resolution (the ExecuteSkill argument format)."""
    if len(position) != 3 or not all(math.isfinite(v) for v in position):
        raise GroundingError(f"position {position!r} is not three finite numbers (m)")
    return ",".join(f"{v:.4f}" for v in position)


def locate(
    ident: str,
    world: WorldModel,
    current: Callable[[str], Position | None],
    reground: Callable[[str], tuple[str | None, str]] | None = None,
) -> tuple[str, Position]:
    """(object id, position now) of ``ident``, a world-model object id.

    ``current(id)`` is perception's position of a visible track (None when it is not in view);
    ``reground(phrase)`` asks perception for the track matching the object's description and returns
    (id or None, perception's message). Raises ``GroundingError`` naming the object and the reason.
    """
    obj = world.objects.get(ident)
    if obj is None:
        raise GroundingError(f"'{ident}' is not an object of the world model; replan with what is seen")
    position = current(ident)
    if position is not None:
        return ident, position
    if reground is None:
        raise GroundingError(f"{ident} ({obj.describe()}) is not in view")
    new_id, message = reground(obj.describe())
    if new_id is None:
        raise GroundingError(
            f"{ident} ({obj.describe()}) is not in view and perception cannot find it: {message}"
        )
    position = current(new_id)
    if position is None:
        raise GroundingError(f"perception grounded '{obj.describe()}' to {new_id}, which is not in view")
    return new_id, position


def skill_arguments(
    step: PlanStep,
    world: WorldModel,
    current: Callable[[str], Position | None],
    reground: Callable[[str], tuple[str | None, str]] | None = None,
) -> dict[str, str]:
    """The ExecuteSkill arguments for ``step``: its own, plus the current position of every object it
    names (see the module docstring); objects re-found under a new id are sent under that id."""
    out = dict(step.arguments)
    for arg, key in POSITION_KEYS.items():
        value = step.arguments.get(arg)
        if not value:
            continue
        ident = value[5:] if value.startswith("near:") else value
        if ident in world.objects:
            found, position = locate(ident, world, current, reground)
            out[arg] = f"near:{found}" if value.startswith("near:") else found
            out[key] = format_position(position)
            if value.startswith("near:"):
                out["place_relation"] = "near"
        elif ident in world.people and world.people[ident].position is not None:
            out[key] = format_position(world.people[ident].position)
    return out


@dataclass(frozen=True)
class PoseTarget:
    """A navigation goal: x, y (m) and yaw (rad) in ``frame``."""

    frame: str
    x: float
    y: float
    yaw: float = 0.0


def pose_target(
    step: PlanStep,
    world: WorldModel,
    map_frame: str,
    objects_frame: str,
    people_frame: str,
    current: Callable[[str], Position | None],
) -> PoseTarget:
    """Where ``navigate_to(target)`` drives: a place's pose (``map_frame``), an object's current or last
    known position (``objects_frame``) or a person's (``people_frame``), facing +x there (yaw 0) unless
    the place has a yaw. Raises ``GroundingError`` when the target has no position."""
    target = step.arguments.get("target", "")
    place = world.places.get(target)
    if place is not None:
        if not place.has_pose:
            raise GroundingError(f"place '{target}' has no pose; add x, y, yaw to config/places.yaml")
        return PoseTarget(map_frame, float(place.x), float(place.y), float(place.yaw or 0.0))
    obj = world.objects.get(target)
    if obj is not None:
        position = current(target) or obj.position
        if position is None:
            raise GroundingError(f"{target} ({obj.describe()}) has no known position to drive to")
        return PoseTarget(objects_frame, position[0], position[1])
    person = world.people.get(target)
    if person is not None:
        if person.position is None:
            raise GroundingError(f"{target} has no tracked position to drive to")
        return PoseTarget(people_frame, person.position[0], person.position[1])
    raise GroundingError(f"navigate_to target '{target}' is not a place, object or person of the world model")
