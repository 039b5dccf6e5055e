"""Object tracks with stable ids across frames, and a memory of objects out of view.

Why gate on appearance as well as position: two objects can pass within a few
centimetres (a gripper moving a cube next to another); requiring the same colour keeps
each id on its object. An object whose remembered position projects outside the image
(or is behind something closer) is kept for ``memory_s`` with ``visible=False`` so the
planner can still refer to it; one that should be visible but is not seen for
``max_missed_in_view`` frames is dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment

from embodied_stack.perception.config import TrackingConfig
from embodied_stack.perception.describe import ObjectObservation

_FAR = 1e6


@dataclass
class TrackedObject:
    id: str  # "obj_<n>", never reused within one tracker
    observation: ObjectObservation  # latest (smoothed) description
    first_seen: float  # s
    last_seen: float  # s
    hits: int = 1
    missed_in_view: int = 0
    visible: bool = True
    shape_votes: dict[str, int] = field(default_factory=dict)  # shape class seen per frame, counted


class ObjectTracker:
    def __init__(self, config: TrackingConfig | None = None) -> None:
        self.config = config or TrackingConfig()
        self._tracks: list[TrackedObject] = []
        self._next_id = 1

    def reset(self) -> None:
        self._tracks.clear()
        self._next_id = 1

    @property
    def tracks(self) -> list[TrackedObject]:
        """Confirmed tracks, visible and remembered."""
        return [t for t in self._tracks if t.hits >= self.config.confirm_hits]

    def update(
        self,
        observations: list[ObjectObservation],
        stamp: float,
        in_view: Callable[[np.ndarray], np.ndarray] | None = None,
    ) -> list[TrackedObject]:
        """Associate this frame's observations with tracks and return the confirmed tracks.

        ``in_view(points (N,3)) -> bool (N,)`` says which remembered positions the camera
        could see this frame; without it every unmatched track counts as missed in view.
        """
        c = self.config
        tracks = self._tracks
        cost = np.full((len(tracks), len(observations)), _FAR)
        for i, t in enumerate(tracks):
            for j, o in enumerate(observations):
                d = float(np.linalg.norm(t.observation.centroid - o.centroid))
                if d <= c.gate_m and t.observation.color == o.color:
                    cost[i, j] = d
        rows, cols = linear_sum_assignment(cost) if cost.size else (np.zeros(0, int), np.zeros(0, int))
        matched_t, matched_o = set(), set()
        for i, j in zip(rows, cols, strict=True):
            if cost[i, j] >= _FAR:
                continue
            matched_t.add(i)
            matched_o.add(j)
            self._merge(tracks[i], observations[j], stamp)
        unmatched = [i for i in range(len(tracks)) if i not in matched_t]
        if unmatched:
            centroids = np.array([tracks[i].observation.centroid for i in unmatched])
            visible = in_view(centroids) if in_view is not None else np.ones(len(unmatched), bool)
            for i, vis in zip(unmatched, visible, strict=True):
                t = tracks[i]
                t.visible = False
                if vis:
                    t.missed_in_view += 1
        self._tracks = [
            t
            for t in tracks
            if t.missed_in_view <= c.max_missed_in_view
            and stamp - t.last_seen <= c.memory_s
            and (t.hits >= c.confirm_hits or t.last_seen == stamp)
        ]
        for j, o in enumerate(observations):
            if j not in matched_o:
                self._tracks.append(
                    TrackedObject(f"obj_{self._next_id}", o, stamp, stamp, shape_votes={o.shape: 1})
                )
                self._next_id += 1
        return self.tracks

    def _merge(self, track: TrackedObject, obs: ObjectObservation, stamp: float) -> None:
        a = self.config.smoothing
        prev = track.observation
        obs.centroid = a * prev.centroid + (1 - a) * obs.centroid
        obs.size = a * prev.size + (1 - a) * obs.size
        track.shape_votes[obs.shape] = track.shape_votes.get(obs.shape, 0) + 1
        shape = max(track.shape_votes, key=track.shape_votes.__getitem__)  # a one-frame flicker loses
        if shape != obs.shape and obs.label == obs.shape:
            obs.label = shape
        obs.shape = shape
        obs.attributes = {**obs.attributes, "shape": shape}
        track.observation = obs
        track.last_seen = stamp
        track.hits += 1
        track.missed_in_view = 0
        track.visible = True
