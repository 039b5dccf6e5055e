"""Referring phrases in English and Chinese -> one object, or ambiguous / not found."""

from __future__ import annotations

import numpy as np
import pytest

from embodied_stack.perception.describe import ObjectObservation
from embodied_stack.perception.grounding import Grounder, Status, parse
from embodied_stack.perception.tracking import TrackedObject


def _obj(i, color, shape, xy, size=0.04) -> TrackedObject:
    obs = ObjectObservation(
        np.array([*xy, size / 2]),
        np.full(3, size),
        np.array([0, 0, 0, 1.0]),
        color,
        1.0,
        shape,
        200,
        1.0,
        shape,
        {"color": color, "shape": shape},
    )
    return TrackedObject(f"obj_{i}", obs, 0.0, 0.0)


SCENE = [
    _obj(1, "red", "cylinder", (0.2, 0.1)),
    _obj(2, "blue", "cube", (0.25, 0.15), size=0.03),
    _obj(3, "blue", "cube", (0.3, -0.15), size=0.06),
    _obj(4, "green", "sphere", (0.15, -0.05)),
    _obj(5, "white", "bowl", (0.3, 0.0), size=0.12),
]


@pytest.mark.parametrize(
    "phrase,expected",
    [
        ("the red cup", "obj_1"),
        ("桌上的红色杯子", "obj_1"),
        ("the small blue block", "obj_2"),
        ("the big blue cube", "obj_3"),
        ("左边的蓝色方块", "obj_2"),
        ("the blue block on the right", "obj_3"),
        ("pick up the green ball", "obj_4"),
        ("绿色的小球", "obj_4"),
        ("the bowl", "obj_5"),
        ("白色的碗", "obj_5"),
        ("the nearest blue cube", "obj_2"),
    ],
)
def test_found(phrase, expected):
    r = Grounder().ground(phrase, SCENE)
    assert r.status == Status.FOUND, r.message
    assert r.object_id == expected and 0.5 <= r.score <= 1.0


@pytest.mark.parametrize("phrase", ["the blue cube", "蓝色的方块", "the block"])
def test_ambiguous_lists_candidates(phrase):
    r = Grounder().ground(phrase, SCENE)
    assert r.status == Status.AMBIGUOUS
    assert sorted(c for c, _ in r.candidates) == ["obj_2", "obj_3"]
    assert "left" in r.message or "size" in r.message or "position" in r.message


@pytest.mark.parametrize("phrase", ["the yellow ball", "紫色的碗", "the red banana", "hello there"])
def test_not_found_says_why(phrase):
    r = Grounder().ground(phrase, SCENE)
    assert r.status == Status.NOT_FOUND and r.message


def test_relation_too_close_to_call_is_ambiguous():
    close = [_obj(1, "red", "cube", (0.2, 0.01)), _obj(2, "red", "cube", (0.2, 0.0))]
    assert Grounder().ground("the red cube on the left", close).status == Status.AMBIGUOUS


def test_parse_chinese_shape_before_size():
    q = parse("离我最近的绿色小球")
    assert q.shapes == {"sphere"} and q.colors == {"green"} and q.size is None and q.relation == "nearest"
