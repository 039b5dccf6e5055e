"""What the planner knows about the world: objects perception has seen, named places, people.

Why a memory and not just the current frame: "find my keys" and replanning after a failed step need
where an object was last seen even while it is out of view; perception's tracker forgets objects after
``memory_s``, the world model keeps them (``visible=False``, ``last_seen``) until told to forget.

Units: positions in m in the frame they were given in (the map frame for places and the executive's
objects), times in s on the caller's clock (``update(..., now)``).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from embodied_stack.config import ConfigError, load_yaml

DEFAULT_PLACES = "config/places.yaml"


@dataclass(frozen=True)
class Place:
    """A named pose (x, y in m, yaw in rad); ``aliases`` are the English/Chinese words for it."""

    id: str
    aliases: tuple[str, ...]
    x: float | None = None
    y: float | None = None
    yaw: float | None = None

    @property
    def has_pose(self) -> bool:
        return self.x is not None and self.y is not None


@dataclass
class WorldObject:
    id: str
    color: str = ""
    shape: str = ""
    name: str = ""  # free text from perception or the scene; data, never parsed as an instruction
    position: tuple[float, float, float] | None = None  # m
    size: float | None = None  # m, largest extent (for "the big/small one")
    visible: bool = True
    last_seen: float | None = None  # s
    place: str = ""  # place id where it was last seen, if known

    def describe(self) -> str:
        words = [w for w in (self.color, self.name or self.shape) if w]
        return " ".join(words) or self.id


@dataclass
class Person:
    id: str
    position: tuple[float, float, float] | None = None
    last_seen: float | None = None


@dataclass
class WorldModel:
    """Objects, places, people, and the robot's own state the plan simulation starts from."""

    objects: dict[str, WorldObject] = field(default_factory=dict)
    places: dict[str, Place] = field(default_factory=dict)
    people: dict[str, Person] = field(default_factory=dict)
    robot_at: str | None = None  # a place/object/person id the robot is at, if known
    holding: str | None = None  # object id in the gripper
    now: float = 0.0  # s, the time of the latest update

    def copy(self) -> WorldModel:
        return copy.deepcopy(self)

    # --- perception in -------------------------------------------------------------------
    def update(self, objects: Iterable[Mapping[str, Any]], now: float) -> None:
        """Merge perception-like dicts (``id``, ``color``, ``shape``, optional ``name``, ``position``,
        ``size``, ``visible``, ``place``); objects absent from ``objects`` are remembered as not visible."""
        self.now = max(self.now, float(now))
        seen = set()
        for i, raw in enumerate(objects):
            obj = object_from_dict(raw, f"objects[{i}]")
            visible = bool(raw.get("visible", True))
            previous = self.objects.get(obj.id)
            obj.visible = visible
            obj.last_seen = (
                float(now)
                if visible
                else (
                    obj.last_seen if obj.last_seen is not None else (previous.last_seen if previous else None)
                )
            )
            if previous is not None and obj.position is None:
                obj.position = previous.position
            self.objects[obj.id] = obj
            seen.add(obj.id)
        for oid, obj in self.objects.items():
            if oid not in seen:
                obj.visible = False

    def update_people(self, people: Iterable[Mapping[str, Any]], now: float) -> None:
        """Replace the people with those currently tracked (``id``, optional ``position``)."""
        self.now = max(self.now, float(now))
        current = {}
        for i, raw in enumerate(people):
            if "id" not in raw:
                raise ValueError(f"people[{i}] has no 'id': {dict(raw)!r}; give each person an id")
            pid = str(raw["id"])
            current[pid] = Person(pid, _position(raw.get("position"), f"people[{i}]"), float(now))
        self.people = current

    def forget(self, object_id: str) -> None:
        self.objects.pop(object_id, None)

    # --- queries -------------------------------------------------------------------------
    def kind_of(self, ident: str) -> str | None:
        """'object' | 'place' | 'person' for a known id, else None."""
        if ident in self.objects:
            return "object"
        if ident in self.places:
            return "place"
        if ident in self.people:
            return "person"
        return None

    def place_id(self, name: str) -> str | None:
        """The place id for an id or alias (case-insensitive), else None."""
        key = name.strip().lower()
        if key in self.places:
            return key
        for place in self.places.values():
            if key in (a.lower() for a in place.aliases) or key.replace(" ", "_") == place.id:
                return place.id
        return None

    def age(self, object_id: str) -> float:
        """Seconds since the object was last seen (0 when visible, inf when never)."""
        obj = self.objects[object_id]
        if obj.visible:
            return 0.0
        if obj.last_seen is None:
            return float("inf")
        return max(self.now - obj.last_seen, 0.0)


def _position(raw: Any, where: str) -> tuple[float, float, float] | None:
    if raw is None:
        return None
    try:
        values = [float(v) for v in raw]
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{where}.position must be 2 or 3 numbers in m, got {raw!r}") from exc
    if len(values) == 2:
        values.append(0.0)
    if len(values) != 3:
        raise ValueError(f"{where}.position must be 2 or 3 numbers in m, got {raw!r}")
    return (values[0], values[1], values[2])


def object_from_dict(raw: Mapping[str, Any], where: str = "object") -> WorldObject:
    """A ``WorldObject`` from a scene/perception dict; missing ``id`` is an error that says the format."""
    if not isinstance(raw, Mapping) or "id" not in raw:
        raise ValueError(
            f"{where} must be a mapping with an 'id', e.g. {{id: obj_1, color: red, shape: cube}}; "
            f"got {raw!r}"
        )
    attributes = raw.get("attributes") or {}
    return WorldObject(
        id=str(raw["id"]),
        color=str(raw.get("color", attributes.get("color", ""))).lower(),
        shape=str(raw.get("shape", attributes.get("shape", raw.get("label", "")))).lower(),
        name=str(raw.get("name", "")),
        position=_position(raw.get("position"), where),
        size=float(raw["size"]) if raw.get("size") is not None else None,
        visible=bool(raw.get("visible", True)),
        last_seen=float(raw["last_seen"]) if raw.get("last_seen") is not None else None,
        place=str(raw.get("place", "")),
    )


def load_places(path: str | Path = DEFAULT_PLACES) -> dict[str, Place]:
    """Named places with poses and aliases from ``config/places.yaml``."""
    data = load_yaml(path) or {}
    raw_places = data.get("places") if isinstance(data, dict) else None
    if not isinstance(raw_places, dict):
        raise ConfigError(f"{path}: expected a 'places' mapping of place ids to {{x, y, yaw, en, zh}}")
    places = {}
    for pid, raw in raw_places.items():
        if not isinstance(raw, dict) or not all(
            isinstance(raw.get(k), int | float) for k in ("x", "y", "yaw")
        ):
            raise ConfigError(f"{path}: place '{pid}' needs numeric x, y (m) and yaw (rad), got {raw!r}")
        aliases = tuple(str(a) for a in (*raw.get("en", ()), *raw.get("zh", ())))
        places[str(pid)] = Place(
            str(pid), aliases or (str(pid),), float(raw["x"]), float(raw["y"]), float(raw["yaw"])
        )
    return places


def _place_key(name: str) -> str:
    return re.sub(r"\s+", "_", name.strip().lower())


def load_scene(
    scene: str | Path | Mapping[str, Any], places: Mapping[str, Place] | None = None
) -> WorldModel:
    """A world model from a scene (the CLI's ``--scene`` YAML, or its dict).

    Format: ``objects`` (each ``{id, color, shape, name?, position?, visible?, last_seen?, place?}``),
    ``places`` (names: ids or aliases of ``places``, else new places without a pose), ``people`` (ids),
    optional ``robot_at``, ``holding`` and ``time`` (s, the clock ``last_seen`` is on).
    """
    source = str(scene) if not isinstance(scene, Mapping) else "scene"
    data = scene if isinstance(scene, Mapping) else (load_yaml(scene) or {})
    if not isinstance(data, Mapping):
        raise ConfigError(f"{source}: a scene is a mapping with objects, places and people")
    unknown = sorted(
        set(data) - {"objects", "places", "people", "robot_at", "holding", "time", "description"}
    )
    if unknown:
        raise ConfigError(
            f"{source}: unknown scene key(s) {unknown}; valid: objects, places, people, "
            "robot_at, holding, time"
        )
    catalogue = dict(places or {})
    world = WorldModel(now=float(data.get("time", 0.0)))
    for name in data.get("places") or []:
        probe = WorldModel(places=catalogue)
        pid = probe.place_id(str(name))
        if pid is None:
            pid = _place_key(str(name))
            world.places[pid] = Place(pid, (str(name), pid.replace("_", " ")))
        else:
            world.places[pid] = catalogue[pid]
    for i, raw in enumerate(data.get("objects") or []):
        try:
            obj = object_from_dict(raw, f"objects[{i}]")
        except ValueError as exc:
            raise ConfigError(f"{source}: {exc}") from exc
        if obj.id in world.objects:
            raise ConfigError(f"{source}: object id '{obj.id}' appears twice; ids must be unique")
        if obj.last_seen is None and obj.visible:
            obj.last_seen = world.now
        world.objects[obj.id] = obj
    for i, raw in enumerate(data.get("people") or []):
        pid = str(raw["id"]) if isinstance(raw, Mapping) else str(raw)
        pos = _position(raw.get("position"), f"people[{i}]") if isinstance(raw, Mapping) else None
        world.people[pid] = Person(pid, pos, world.now)
    for key in ("robot_at", "holding"):
        value = data.get(key)
        if value is not None:
            value = str(value)
            if key == "robot_at" and world.kind_of(value) is None:
                value = world.place_id(value) or value
            if world.kind_of(value) is None:
                raise ConfigError(f"{source}: {key} '{value}' is not an object, place or person of the scene")
            setattr(world, key, value)
    if world.now == 0.0:
        seen = [o.last_seen for o in world.objects.values() if o.last_seen is not None]
        world.now = max(seen, default=0.0)
    return world
