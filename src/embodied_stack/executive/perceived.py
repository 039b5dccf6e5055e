"""Perception's latest view, kept for the planner's world model and for grounding skill goals.

Why a separate store and not the world model itself: perception publishes from its own thread while a
plan runs in another; the planner and the executor must see a world that changes only when they ask
(``observe``), while a manipulation step must use the positions perception reports *now*. So the node
writes plain records here under a lock, and each task copies them into its own ``WorldModel``.

Units: positions in m in ``objects_frame`` / ``people_frame`` (perception's headers), times in s on the
caller's clock.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from embodied_stack.planner.world import WorldModel

Position = tuple[float, float, float]


@dataclass(frozen=True)
class PerceivedObject:
    """One tracked object as perception describes it (DetectedObject without ROS types)."""

    id: str
    label: str
    attributes: Mapping[str, str]
    position: Position  # m, objects_frame
    size: Position  # m, box extents
    visible: bool = True

    def world_dict(self, place: str = "") -> dict[str, Any]:
        """The ``WorldModel.update`` record: colour and shape from the attributes (the shape falls back to
        the label), ``size`` = the largest extent (for "the big one")."""
        record: dict[str, Any] = {
            "id": self.id,
            "color": self.attributes.get("color", ""),
            "shape": self.attributes.get("shape", self.label),
            "position": self.position,
            "size": max(self.size) if self.size else None,
            "visible": self.visible,
        }
        if self.attributes.get("name"):
            record["name"] = self.attributes["name"]
        if place:
            record["place"] = place
        return record


def person_dict(track_id: int | str, position: Position | None) -> dict[str, Any]:
    """A tracked person as the world model names people: ``person_<track id>``."""
    return {"id": f"person_{track_id}", "position": position}


class WorldFeed:
    """The latest objects and people from perception, thread-safe.

    Args:
        object_place: place id given to every perceived object ('' = none); on the tabletop "table",
            so the planner knows the objects are where the arm is and adds no navigation.
    """

    def __init__(self, object_place: str = "") -> None:
        self.object_place = object_place
        self._lock = threading.Lock()
        self._first = threading.Event()
        self._objects: list[PerceivedObject] = []
        self._people: list[dict[str, Any]] | None = None  # None: never received (keep the world's)
        self._stamp = 0.0
        self.objects_frame = ""
        self.people_frame = ""

    def set_objects(self, objects: Sequence[PerceivedObject], frame: str, now: float) -> None:
        with self._lock:
            self._objects = list(objects)
            self.objects_frame = frame
            self._stamp = float(now)
        self._first.set()

    def set_people(self, people: Iterable[Mapping[str, Any]], frame: str) -> None:
        with self._lock:
            self._people = [dict(p) for p in people]
            self.people_frame = frame

    def wait_first(self, timeout_s: float) -> bool:
        """True once perception has published at least once (waits up to ``timeout_s``)."""
        return self._first.wait(timeout_s)

    @property
    def has_objects(self) -> bool:
        return self._first.is_set()

    def objects(self) -> list[PerceivedObject]:
        with self._lock:
            return list(self._objects)

    def position(self, object_id: str) -> Position | None:
        """Where perception sees ``object_id`` now; None when it is not tracked or out of view (a
        remembered position is not good enough to grasp at)."""
        with self._lock:
            for obj in self._objects:
                if obj.id == object_id:
                    return obj.position if obj.visible else None
        return None

    def observe(self, world: WorldModel) -> None:
        """Copy the latest view into ``world`` (the ``PlanExecutor``'s ``observe`` hook)."""
        with self._lock:
            records = [o.world_dict(self.object_place) for o in self._objects]
            people, stamp = self._people, self._stamp
        world.update(records, max(stamp, world.now))
        if people is not None:
            world.update_people(people, max(stamp, world.now))
