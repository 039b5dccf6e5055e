"""The world model: scenes, perception updates, memory of unseen objects, and places on the real map."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from embodied_stack import paths
from embodied_stack.config import ConfigError
from embodied_stack.planner.world import WorldModel, load_scene

ROBOT_RADIUS_M = 0.35  # the Go2-class base's half-length (sim/worlds/indoor.xml base_collision 0.33 m)


def test_places_have_english_and_chinese_names(places):
    for pid in ("kitchen", "living_room", "bedroom", "table", "door", "charging_station"):
        place = places[pid]
        assert place.has_pose and any(a.isascii() for a in place.aliases), place
        assert any(not a.isascii() for a in place.aliases), f"{pid} has no Chinese name"


def test_places_are_free_space_in_the_indoor_world(places):
    """Every place pose is inside the outer walls and a robot there touches no wall or furniture."""
    root = ET.parse(paths.sim_dir() / "worlds" / "indoor.xml").getroot()
    boxes = []
    for geom in root.iter("geom"):
        name = geom.get("name", "")
        if name.startswith(("wall_", "furniture_")):
            x, y, _ = (float(v) for v in geom.get("pos").split())
            hx, hy, _ = (float(v) for v in geom.get("size").split())
            boxes.append((name, x, y, hx, hy))
    assert len(boxes) >= 8
    for place in places.values():
        assert -5.0 < place.x < 5.0 and -4.0 < place.y < 4.0, place
        for name, x, y, hx, hy in boxes:
            dx = max(abs(place.x - x) - hx, 0.0)
            dy = max(abs(place.y - y) - hy, 0.0)
            assert (dx * dx + dy * dy) ** 0.5 >= ROBOT_RADIUS_M, (
                f"{place.id} is {(dx * dx + dy * dy) ** 0.5:.2f} m from {name}"
            )


def test_scene_resolves_place_aliases_and_rejects_duplicates(places, tmp_path):
    world = load_scene(
        {
            "objects": [{"id": "o1", "color": "red", "shape": "cube"}],
            "places": ["Living Room", "厨房", "attic"],
            "people": ["bob"],
        },
        places,
    )
    assert set(world.places) == {"living_room", "kitchen", "attic"}
    assert world.places["living_room"].has_pose and not world.places["attic"].has_pose
    assert world.kind_of("o1") == "object" and world.kind_of("bob") == "person"
    with pytest.raises(ConfigError, match="appears twice"):
        load_scene({"objects": [{"id": "o1"}, {"id": "o1"}]}, places)
    with pytest.raises(ConfigError, match="needs|must be a mapping with an 'id'"):
        load_scene({"objects": [{"color": "red"}]}, places)
    with pytest.raises(ConfigError, match="unknown scene key"):
        load_scene({"things": []}, places)


def test_update_remembers_objects_out_of_view():
    world = WorldModel()
    world.update(
        [
            {"id": "obj_1", "color": "red", "shape": "cube", "position": [1, 2, 0]},
            {"id": "obj_2", "color": "blue", "shape": "cylinder"},
        ],
        now=10.0,
    )
    world.update([{"id": "obj_2", "color": "blue", "shape": "cylinder"}], now=25.0)
    keys = world.objects["obj_1"]
    assert not keys.visible and keys.last_seen == 10.0 and keys.position == (1.0, 2.0, 0.0)
    assert world.age("obj_1") == pytest.approx(15.0) and world.age("obj_2") == 0.0
    world.update([{"id": "obj_1", "color": "red", "shape": "cube"}], now=30.0)
    assert world.objects["obj_1"].visible and world.objects["obj_1"].position == (1.0, 2.0, 0.0)
    with pytest.raises(ValueError, match="position must be 2 or 3 numbers"):
        world.update([{"id": "obj_3", "position": "here"}], now=31.0)


def test_update_people_replaces_the_tracked_people():
    world = WorldModel()
    world.update_people([{"id": "person_1", "position": [1.0, 0.0]}], now=1.0)
    world.update_people([{"id": "person_2"}], now=2.0)
    assert list(world.people) == ["person_2"]
