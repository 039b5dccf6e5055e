"""Feature statistics (``meta/stats.json`` and the ``stats/*`` episode columns).

Why running sums instead of LeRobot's post-hoc sampling: the recorder streams frames
to the encoder and never holds an episode of images in memory, so statistics must be
accumulated as frames arrive. The stored values follow LeRobot's layout: per feature
``min``, ``max``, ``mean``, ``std`` with the feature's shape and ``count`` = [frames];
images are per channel in [0, 1] with shape (3, 1, 1).
"""

from __future__ import annotations

from typing import Any

import numpy as np

IMAGE_STRIDE = 4


class RunningStats:
    """Mean/std/min/max over frames of one feature, element-wise (per channel for images)."""

    def __init__(self, is_image: bool) -> None:
        self.is_image = is_image
        self.count = 0  # frames seen
        self._n = 0  # values per element (pixels for images)
        self._sum: np.ndarray | None = None
        self._sumsq: np.ndarray | None = None
        self._min: np.ndarray | None = None
        self._max: np.ndarray | None = None

    def add(self, value: np.ndarray) -> None:
        if self.is_image:
            # Every 4th pixel per axis: 16x cheaper, and image statistics barely change
            # (LeRobot also estimates them from downsampled frames).
            px = value[::IMAGE_STRIDE, ::IMAGE_STRIDE].reshape(-1, value.shape[-1]).astype(np.float32) / 255.0
            s, sq = px.sum(0, dtype=np.float64), np.einsum("ij,ij->j", px, px).astype(np.float64)
            lo, hi = px.min(0).astype(np.float64), px.max(0).astype(np.float64)
            n = px.shape[0]
        else:
            v = np.asarray(value, dtype=np.float64)
            s, sq, lo, hi, n = v, v * v, v, v, 1
        if self._sum is None:
            self._sum, self._sumsq, self._min, self._max = s.copy(), sq.copy(), lo.copy(), hi.copy()
        else:
            self._sum += s
            self._sumsq += sq
            np.minimum(self._min, lo, out=self._min)
            np.maximum(self._max, hi, out=self._max)
        self._n += n
        self.count += 1

    def result(self) -> dict[str, np.ndarray] | None:
        if self._sum is None:
            return None
        mean = self._sum / self._n
        std = np.sqrt(np.maximum(self._sumsq / self._n - mean * mean, 0.0))
        out = {"min": self._min, "max": self._max, "mean": mean, "std": std}
        if self.is_image:
            out = {k: v.reshape(-1, 1, 1) for k, v in out.items()}
        out["count"] = np.array([self.count])
        return out


def aggregate(stats_list: list[dict[str, dict[str, np.ndarray]]]) -> dict[str, dict[str, np.ndarray]]:
    """Combine per-episode stats (pooled mean and variance weighted by ``count``)."""
    keys: dict[str, None] = {}
    for s in stats_list:
        keys.update(dict.fromkeys(s))
    out: dict[str, dict[str, np.ndarray]] = {}
    for key in keys:
        parts = [s[key] for s in stats_list if key in s]
        counts = np.array([float(np.asarray(p["count"]).reshape(-1)[0]) for p in parts])
        total = counts.sum()
        w = counts / total
        means = np.stack([np.asarray(p["mean"], np.float64) for p in parts])
        stds = np.stack([np.asarray(p["std"], np.float64) for p in parts])
        wshape = (-1,) + (1,) * (means.ndim - 1)
        mean = (means * w.reshape(wshape)).sum(0)
        var = ((stds**2 + (means - mean) ** 2) * w.reshape(wshape)).sum(0)
        out[key] = {
            "min": np.min(np.stack([np.asarray(p["min"]) for p in parts]), axis=0),
            "max": np.max(np.stack([np.asarray(p["max"]) for p in parts]), axis=0),
            "mean": mean,
            "std": np.sqrt(var),
            "count": np.array([int(total)]),
        }
    return out


def to_json(stats: dict[str, dict[str, np.ndarray]]) -> dict[str, dict[str, Any]]:
    return {k: {s: np.asarray(v).tolist() for s, v in d.items()} for k, d in stats.items()}


def from_json(obj: dict[str, dict[str, Any]]) -> dict[str, dict[str, np.ndarray]]:
    return {k: {s: np.asarray(v) for s, v in d.items()} for k, d in obj.items()}
