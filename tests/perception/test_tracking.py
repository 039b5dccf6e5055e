"""Object tracks keep their ids, remember what is out of view, forget what vanished in view."""

from __future__ import annotations

import numpy as np

from embodied_stack.perception.config import TrackingConfig
from embodied_stack.perception.describe import ObjectObservation
from embodied_stack.perception.tracking import ObjectTracker


def _obs(color, xy, shape="cube") -> ObjectObservation:
    return ObjectObservation(
        np.array([*xy, 0.02]),
        np.full(3, 0.04),
        np.array([0, 0, 0, 1.0]),
        color,
        1.0,
        shape,
        100,
        1.0,
        shape,
        {"color": color, "shape": shape},
    )


def test_ids_stable_memory_and_forgetting():
    tr = ObjectTracker(TrackingConfig(confirm_hits=2, max_missed_in_view=2, memory_s=5.0))
    assert tr.update([_obs("red", (0.2, 0.0)), _obs("blue", (0.2, 0.05))], 0.0) == []  # tentative
    tracks = tr.update([_obs("red", (0.201, 0.0)), _obs("blue", (0.2, 0.051))], 0.1)
    ids = {t.observation.color: t.id for t in tracks}
    assert len(ids) == 2
    # objects swap places slightly: colour gating keeps ids on their objects
    tracks = tr.update([_obs("blue", (0.205, 0.02)), _obs("red", (0.205, 0.03))], 0.2)
    assert {t.observation.color: t.id for t in tracks} == ids
    # red leaves the field of view: remembered, not visible
    tracks = tr.update([_obs("blue", (0.205, 0.02))], 0.3, in_view=lambda p: np.zeros(len(p), bool))
    red = next(t for t in tracks if t.id == ids["red"])
    assert not red.visible
    # blue vanishes while in view: dropped after max_missed_in_view frames
    for k in range(3):
        tracks = tr.update([], 0.4 + 0.1 * k, in_view=lambda p: np.ones(len(p), bool))
    assert ids["blue"] not in {t.id for t in tracks}
    # memory expires
    tr2 = ObjectTracker(TrackingConfig(confirm_hits=1, memory_s=1.0))
    tr2.update([_obs("red", (0.2, 0.0))], 0.0)
    assert tr2.update([], 0.5, in_view=lambda p: np.zeros(len(p), bool))
    assert tr2.update([], 2.0, in_view=lambda p: np.zeros(len(p), bool)) == []


def test_shape_flicker_does_not_change_the_class():
    tr = ObjectTracker(TrackingConfig(confirm_hits=1))
    for t in range(3):
        tr.update([_obs("red", (0.2, 0.0), "cube")], t * 0.1)
    tracks = tr.update([_obs("red", (0.2, 0.0), "cylinder")], 0.3)
    assert tracks[0].observation.shape == "cube"
