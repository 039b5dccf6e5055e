"""A 2D range scan against circles (people) and line segments (walls), vectorised over beams.

Why analytic ray casting: the crowd world is 2D shapes, so an exact scan costs microseconds and needs no
physics engine; the learned policy uses it to see walls (doorway, intersection) the people list lacks.
"""

from __future__ import annotations

import numpy as np


def ray_scan(origin: np.ndarray, yaw: float, num_beams: int, max_range: float, centres: np.ndarray,
             radii: np.ndarray, segments: np.ndarray) -> np.ndarray:
    """Ranges (m) of ``num_beams`` beams evenly over 360 deg starting at ``yaw``; ``max_range`` on no hit."""
    angles = yaw + 2 * np.pi * np.arange(num_beams) / num_beams
    d = np.c_[np.cos(angles), np.sin(angles)]  # (b, 2)
    ranges = np.full(num_beams, float(max_range))
    if len(centres):
        oc = centres - origin  # (n, 2)
        proj = d @ oc.T  # (b, n)
        perp2 = np.sum(oc * oc, axis=1)[None, :] - proj**2
        half = np.sqrt(np.maximum(radii[None, :] ** 2 - perp2, 0.0))
        t = np.where((perp2 <= radii[None, :] ** 2) & (proj + half > 0), proj - half, np.inf)
        t = np.where(t < 0, 0.0, t)  # origin inside a circle: range 0
        ranges = np.minimum(ranges, t.min(axis=1))
    if len(segments):
        a, e = segments[:, :2], segments[:, 2:] - segments[:, :2]  # (m, 2)
        denom = d[:, None, 0] * e[None, :, 1] - d[:, None, 1] * e[None, :, 0]  # cross(d, e)
        ao = a - origin
        with np.errstate(divide="ignore", invalid="ignore"):
            t = (ao[None, :, 0] * e[None, :, 1] - ao[None, :, 1] * e[None, :, 0]) / denom
            u = (ao[None, :, 0] * d[:, None, 1] - ao[None, :, 1] * d[:, None, 0]) / denom
        hit = (np.abs(denom) > 1e-12) & (t >= 0) & (u >= 0) & (u <= 1)
        ranges = np.minimum(ranges, np.where(hit, t, np.inf).min(axis=1))
    return ranges
